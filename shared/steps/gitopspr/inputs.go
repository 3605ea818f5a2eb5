package gitopspr

import (
	"cmp"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/forge"
	"github.com/gitship/gitship/shared/gitops"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/validation"
)

// inputs are the settings resolved and checked before anything runs.
type inputs struct {
	app, path    string
	provider     string
	sources      render.Sources
	kubeVersions []string
}

var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

func resolve(s Settings) (inputs, error) {
	var in inputs
	switch {
	case s.GitOpsRepo == "":
		return in, step.Usagef("--gitops-repo is required: the repository Flux or Argo CD deploys from")
	case s.Environment == "":
		return in, step.Usagef("--environment is required, e.g. dev, staging or production")
	case !validName.MatchString(s.Environment):
		return in, step.Usagef("--environment %q: lowercase letters, digits, '.', '_' and '-' only (it names a branch and a path)", s.Environment)
	}
	// Nothing is cloned or pushed before these hold.
	if err := gitops.CheckURL(s.GitOpsRepo); err != nil {
		return in, step.Usagef("--gitops-repo: %v", err)
	}
	if err := gitops.CheckBranch(s.GitOpsBranch); err != nil {
		return in, step.Usagef("--gitops-branch: %v", err)
	}
	for _, img := range s.Images.Value() {
		if _, err := name.NewDigest(img, name.WeakValidation); err != nil {
			return in, step.Usagef("--image %q: want REPOSITORY@sha256:<digest>, the image output of publish: %v", img, err)
		}
	}
	// They go into the commit header, "author NAME <EMAIL> TIME".
	for _, f := range []struct{ flag, value string }{{"--author-name", s.AuthorName}, {"--author-email", s.AuthorEmail}} {
		if err := gitops.CheckIdent(f.value); err != nil {
			return in, step.Usagef("%s: %v", f.flag, err)
		}
	}
	n := 0
	for _, set := range []bool{s.Chart != "", s.Kustomize != "", len(s.Manifests.Value()) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return in, step.Usagef("give one of --chart, --kustomize or --manifests")
	}
	env := func(p string) string { return strings.ReplaceAll(p, "{environment}", s.Environment) }

	in.app = s.App
	if in.app == "" && s.Chart != "" {
		in.app = chartName(s.Chart)
	}
	if in.app == "" {
		in.app = strings.ToLower(filepath.Base(filepath.Clean(cmp.Or(s.Chart, env(s.Kustomize)))))
		if s.Kustomize != "" && strings.Contains(s.Kustomize, "{environment}") {
			// deploy/overlays/{environment}: the app is what holds the overlays.
			in.app = strings.ToLower(filepath.Base(filepath.Dir(filepath.Dir(filepath.Clean(env(s.Kustomize))))))
		}
	}
	if !validName.MatchString(in.app) {
		return in, step.Usagef("--app %q: lowercase letters, digits, '.', '_' and '-' only (it names a branch and a path); set --app", in.app)
	}
	if err := gitops.CheckBranch(prBranch(in.app, s.Environment)); err != nil {
		return in, step.Usagef("--app %q and --environment %q name the pull request's branch, which git refuses: %v", in.app, s.Environment, err)
	}
	p := strings.NewReplacer("{environment}", s.Environment, "{app}", in.app).Replace(s.Path)
	p = path.Clean(filepath.ToSlash(p))
	if strings.ContainsFunc(p, unicode.IsControl) {
		return in, step.Usagef("--path %q: a line break or control character in a path", s.Path)
	}
	if p == "." || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || p == ".git" || strings.HasPrefix(p, ".git/") {
		return in, step.Usagef("--path %q: want a directory inside the GitOps repository, e.g. clusters/{environment}/{app}", s.Path)
	}
	in.path = p

	var values, manifests []string
	for _, v := range s.Values.Value() {
		values = append(values, env(v))
	}
	for _, m := range s.Manifests.Value() {
		manifests = append(manifests, env(m))
	}
	in.sources = render.Sources{Values: values, Set: s.Set.Value(), ReleaseName: cmp.Or(s.ReleaseName, in.app),
		Namespace: s.Namespace, Manifests: manifests}
	if s.Chart != "" {
		in.sources.Charts = []string{s.Chart}
	}
	if s.Kustomize != "" {
		in.sources.Kustomize = []string{env(s.Kustomize)}
	}
	in.kubeVersions = validation.KubernetesVersions(s.KubernetesVersions.Value())

	in.provider = s.Provider
	if in.provider == "auto" || in.provider == "" {
		in.provider = forge.Detect(cmp.Or(s.PRRepository, s.GitOpsRepo))
	}
	if !s.Direct && in.provider != "none" && s.Token == "" {
		return in, step.Usagef("--token is required to open a pull request on %s (or use --direct, or --provider none to push the branch only)", in.provider)
	}
	return in, nil
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

// credentials reads the key files the settings name.
func credentials(s Settings) (gitops.Auth, *gitops.Signing, error) {
	auth := gitops.Auth{Username: s.Username, Token: s.Token, SSHKeyPassphrase: s.SSHPassphrase, KnownHostsFile: s.KnownHosts}
	if s.SSHKeyFile != "" {
		key, err := os.ReadFile(s.SSHKeyFile)
		if err != nil {
			return auth, nil, step.Usagef("--ssh-key-file: %v", err)
		}
		if s.KnownHosts == "" {
			return auth, nil, step.Usagef("--ssh-key-file needs --known-hosts: the host key is always checked")
		}
		auth.SSHKey = key
	}
	if s.SigningKeyFile == "" {
		return auth, nil, nil
	}
	key, err := os.ReadFile(s.SigningKeyFile)
	if err != nil {
		return auth, nil, step.Usagef("--signing-key-file: %v", err)
	}
	sign := &gitops.Signing{Passphrase: s.SigningPassphrase}
	switch {
	case strings.Contains(string(key), "BEGIN PGP PRIVATE KEY BLOCK"):
		sign.OpenPGPKey = key
	case strings.Contains(string(key), "PRIVATE KEY"):
		sign.SSHKey = key
	default:
		return auth, nil, step.Usagef("--signing-key-file %s: neither an armored OpenPGP private key nor an SSH private key", s.SigningKeyFile)
	}
	return auth, sign, nil
}
