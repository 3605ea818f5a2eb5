package gitopspr

import (
	"reflect"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/kubeoptions"
)

// TestResolve resolves one command line's settings into the options each
// part of the run gets: {environment} and {app} replaced, the app named
// by what holds the overlays, the branch, the provider detected from
// --pr-repository with its token and API URL beside it.
func TestResolve(t *testing.T) {
	s := Settings{GitOpsRepo: "https://git.example.com/gitops.git", GitOpsBranch: "main", Environment: "staging",
		Path: "clusters/{environment}/{app}", Provider: "auto", PRRepository: "https://github.com/acme/gitops",
		APIURL: "https://ghe.example.com/api/v3/", Token: "t", Username: "x-access-token",
		RenderFlags: kubeoptions.RenderFlags{PerEnvironment: true, Kustomizations: *cli.NewStringSlice("deploy/overlays/{environment}"),
			Values: *cli.NewStringSlice("v/{environment}.yaml"), Namespace: "default"},
		ValidationFlags: kubeoptions.ValidationFlags{KubernetesVersions: *cli.NewStringSlice("v1.34.0,1.37.0")},
		Images:          *cli.NewStringSlice("ghcr.io/acme/shop@" + digest),
		Labels:          *cli.NewStringSlice("deploy"), Title: "T", WaitMerged: time.Hour, WaitPoll: time.Second}
	for _, direct := range []bool{false, true} {
		s.Direct = direct
		o, err := resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		r, g, pr := o.render, o.git, o.pr
		if r.app != "deploy" || r.environment != "staging" || !reflect.DeepEqual(r.sources.Kustomize, []string{"deploy/overlays/staging"}) ||
			!reflect.DeepEqual(r.sources.Values, []string{"v/staging.yaml"}) || r.sources.ReleaseName != "deploy" ||
			!reflect.DeepEqual(r.validation.KubernetesVersions, []string{"1.34.0", "1.37.0"}) || len(r.images) != 1 {
			t.Errorf("render options %+v", r)
		}
		branch := "gitship/deploy/staging"
		if direct {
			branch = "main"
		}
		if g.path != "clusters/staging/deploy" || g.base != "main" || g.branch != branch || g.direct != direct || g.auth.Token != "t" {
			t.Errorf("--direct %t: git options %+v", direct, g)
		}
		if pr.provider != "github" || pr.repository != s.PRRepository || pr.forge.Token != "t" || pr.forge.APIURL != s.APIURL ||
			pr.title != "T" || !reflect.DeepEqual(pr.labels, []string{"deploy"}) {
			t.Errorf("pull request options %+v", pr)
		}
		if o.wait != (waitOptions{timeout: time.Hour, poll: time.Second}) {
			t.Errorf("wait options %+v", o.wait)
		}
	}
}
