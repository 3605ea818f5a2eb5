package gitopspr

import (
	"cmp"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/forge"
	"github.com/gitship/gitship/shared/gitops"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/validation"
)

// options are gitops-pr's inputs, resolved and checked once, before
// anything runs. Each part goes only to the code that uses it.
type options struct {
	render renderOptions
	git    gitOptions
	pr     prOptions
	wait   waitOptions
}

// renderOptions say what is rendered, pinned, validated and committed.
type renderOptions struct {
	app, environment string
	sources          render.Sources // {environment} replaced
	images           []string       // the pins, REPOSITORY@sha256:...
	// validation's KubernetesVersions are cleaned, never empty: the
	// first renders. Root and Log are the run's, set by check.
	validation    validation.Options
	includeSource bool // also commit sources' files under the managed path
}

// gitOptions say where the result is committed, and as whom.
type gitOptions struct {
	url          string // --gitops-repo
	base, branch string // branch is the pull request's, or base with --direct
	direct       bool
	path         string // the managed path, {environment} and {app} replaced
	// auth is --username, --token, --ssh-key-passphrase and
	// --known-hosts; credentials adds the key read from sshKeyFile.
	auth                              gitops.Auth
	sshKeyFile                        string
	signingKeyFile, signingPassphrase string
	authorName, authorEmail           string // "": the run's actor, else gitship
}

// prOptions say which pull request is opened, where.
type prOptions struct {
	provider        string // github, azure or none: --provider, detected for auto
	repository      string // the repository on the provider: --pr-repository, else --gitops-repo
	forge           forge.Options
	title           string // "": Deploy.Title
	labels          []string
	reviewers       []string
	draft           bool
	autoMerge       bool
	descriptionFile string
}

// waitOptions say how long to wait for the pull request to be merged (0:
// not at all) and how often to ask.
type waitOptions struct{ timeout, poll time.Duration }

var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

// resolve checks the settings, in the order their errors are reported,
// and resolves them into options. Key files are read later, by
// gitOptions.credentials, after the render and validation.
func resolve(s Settings) (options, error) {
	var o options
	switch {
	case s.GitOpsRepo == "":
		return o, step.Usagef("--gitops-repo is required: the repository Flux or Argo CD deploys from")
	case s.Environment == "":
		return o, step.Usagef("--environment is required, e.g. dev, staging or production")
	case !validName.MatchString(s.Environment):
		return o, step.Usagef("--environment %q: lowercase letters, digits, '.', '_' and '-' only (it names a branch and a path)", s.Environment)
	}
	// Nothing is cloned or pushed before these hold.
	if err := gitops.CheckURL(s.GitOpsRepo); err != nil {
		return o, step.Usagef("--gitops-repo: %v", err)
	}
	if err := gitops.CheckBranch(s.GitOpsBranch); err != nil {
		return o, step.Usagef("--gitops-branch: %v", err)
	}
	for _, img := range s.Images.Value() {
		if _, err := name.NewDigest(img, name.WeakValidation); err != nil {
			return o, step.Usagef("--image %q: want REPOSITORY@sha256:<digest>, the image output of publish: %v", img, err)
		}
	}
	// They go into the commit header, "author NAME <EMAIL> TIME".
	for _, f := range []struct{ flag, value string }{{"--author-name", s.AuthorName}, {"--author-email", s.AuthorEmail}} {
		if err := gitops.CheckIdent(f.value); err != nil {
			return o, step.Usagef("%s: %v", f.flag, err)
		}
	}
	chart, kustomize, err := s.RenderFlags.One()
	if err != nil {
		return o, err
	}
	n := 0
	for _, set := range []bool{chart != "", kustomize != "", len(s.Manifests.Value()) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return o, step.Usagef("give one of --chart, --kustomize or --manifests")
	}
	env := func(p string) string { return strings.ReplaceAll(p, "{environment}", s.Environment) }

	app := s.App
	if app == "" && chart != "" {
		app = chartName(chart)
	}
	if app == "" {
		app = strings.ToLower(filepath.Base(filepath.Clean(cmp.Or(chart, env(kustomize)))))
		if kustomize != "" && strings.Contains(kustomize, "{environment}") {
			// deploy/overlays/{environment}: the app is what holds the overlays.
			app = strings.ToLower(filepath.Base(filepath.Dir(filepath.Dir(filepath.Clean(env(kustomize))))))
		}
	}
	if !validName.MatchString(app) {
		return o, step.Usagef("--app %q: lowercase letters, digits, '.', '_' and '-' only (it names a branch and a path); set --app", app)
	}
	if err := gitops.CheckBranch(prBranch(app, s.Environment)); err != nil {
		return o, step.Usagef("--app %q and --environment %q name the pull request's branch, which git refuses: %v", app, s.Environment, err)
	}
	p := strings.NewReplacer("{environment}", s.Environment, "{app}", app).Replace(s.Path)
	p = path.Clean(filepath.ToSlash(p))
	if strings.ContainsFunc(p, unicode.IsControl) {
		return o, step.Usagef("--path %q: a line break or control character in a path", s.Path)
	}
	if p == "." || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || p == ".git" || strings.HasPrefix(p, ".git/") {
		return o, step.Usagef("--path %q: want a directory inside the GitOps repository, e.g. clusters/{environment}/{app}", s.Path)
	}

	var values, manifests []string
	for _, v := range s.Values.Value() {
		values = append(values, env(v))
	}
	for _, m := range s.Manifests.Value() {
		manifests = append(manifests, env(m))
	}
	o.render = renderOptions{app: app, environment: s.Environment,
		sources: render.Sources{Values: values, Set: s.Set.Value(), ReleaseName: cmp.Or(s.ReleaseName, app),
			Namespace: s.Namespace, Manifests: manifests, DependencyUpdate: s.DependencyUpdate, DependencyTimeout: s.DependencyTimeout},
		images: s.Images.Value(), validation: s.ValidationFlags.Options(), includeSource: s.IncludeSource}
	if chart != "" {
		o.render.sources.Charts = []string{chart}
	}
	if kustomize != "" {
		o.render.sources.Kustomize = []string{env(kustomize)}
	}

	o.git = gitOptions{url: s.GitOpsRepo, base: s.GitOpsBranch, branch: s.GitOpsBranch, direct: s.Direct, path: p,
		auth:       gitops.Auth{Username: s.Username, Token: s.Token, SSHKeyPassphrase: s.SSHPassphrase, KnownHostsFile: s.KnownHosts},
		sshKeyFile: s.SSHKeyFile, signingKeyFile: s.SigningKeyFile, signingPassphrase: s.SigningPassphrase,
		authorName: s.AuthorName, authorEmail: s.AuthorEmail}
	if !s.Direct {
		o.git.branch = prBranch(app, s.Environment)
	}

	o.pr = prOptions{provider: s.Provider, repository: cmp.Or(s.PRRepository, s.GitOpsRepo),
		forge: forge.Options{Token: s.Token, APIURL: s.APIURL}, title: s.Title,
		labels: s.Labels.Value(), reviewers: s.Reviewers.Value(), draft: s.Draft, autoMerge: s.AutoMerge,
		descriptionFile: s.DescriptionFile}
	if o.pr.provider == "auto" || o.pr.provider == "" {
		o.pr.provider = forge.Detect(o.pr.repository)
	}
	if !s.Direct && o.pr.provider != "none" && s.Token == "" {
		return o, step.Usagef("--token is required to open a pull request on %s (or use --direct, or --provider none to push the branch only)", o.pr.provider)
	}
	o.wait = waitOptions{timeout: s.WaitMerged, poll: s.WaitPoll}
	return o, nil
}

// prBranch is the branch a pull request for app and env comes from.
func prBranch(app, env string) string { return "gitship/" + app + "/" + env }

// chartName is the name in the chart's Chart.yaml, "" if unreadable (the
// render reports that).
func chartName(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return ""
	}
	var c struct {
		Name string `yaml:"name"`
	}
	if yaml.Unmarshal(data, &c) != nil {
		return ""
	}
	return strings.ToLower(c.Name)
}

// credentials reads the key files g names: the SSH key added to g.auth,
// and the signing key, nil without --signing-key-file.
func (g gitOptions) credentials() (gitops.Auth, *gitops.Signing, error) {
	auth := g.auth
	if g.sshKeyFile != "" {
		key, err := os.ReadFile(g.sshKeyFile)
		if err != nil {
			return auth, nil, step.Usagef("--ssh-key-file: %v", err)
		}
		if auth.KnownHostsFile == "" {
			return auth, nil, step.Usagef("--ssh-key-file needs --known-hosts: the host key is always checked")
		}
		auth.SSHKey = key
	}
	if g.signingKeyFile == "" {
		return auth, nil, nil
	}
	key, err := os.ReadFile(g.signingKeyFile)
	if err != nil {
		return auth, nil, step.Usagef("--signing-key-file: %v", err)
	}
	sign := &gitops.Signing{Passphrase: g.signingPassphrase}
	switch {
	case strings.Contains(string(key), "BEGIN PGP PRIVATE KEY BLOCK"):
		sign.OpenPGPKey = key
	case strings.Contains(string(key), "PRIVATE KEY"):
		sign.SSHKey = key
	default:
		return auth, nil, step.Usagef("--signing-key-file %s: neither an armored OpenPGP private key nor an SSH private key", g.signingKeyFile)
	}
	return auth, sign, nil
}

// author is who the commit is by: --author-name and --author-email, else
// the run's actor c names, else gitship.
func (g gitOptions) author(c ci.Context) gitops.Author {
	return gitops.Author{Name: cmp.Or(g.authorName, c.Actor, "gitship"),
		Email: cmp.Or(g.authorEmail, c.ActorEmail, "gitship@users.noreply.github.com")}
}
