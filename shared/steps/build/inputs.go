package build

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/client"

	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/redact"
	"github.com/gitship/gitship/shared/step"
)

// inputs are the settings resolved and checked before the engine is asked
// for anything, so a typo fails in a second, not after a build.
type inputs struct {
	buildArgs map[string]string
	labels    map[string]string // OCI labels, then --label
	tags      []string          // whole references, the SHA tag first
	docker    bool              // --output docker
	ociDir    string            // --output oci:DIR
	testCmd   []string          // nil: the stage's CMD
	testEnv   []string

	builder   string // "", "classic" or a BuildKit address
	tls       buildkit.TLS
	platforms []string // none: the builder's own
	secrets   []buildkit.Secret
	ssh       []buildkit.SSH
	contexts  map[string]string
	cacheFrom []client.CacheOptionsEntry
	cacheTo   []client.CacheOptionsEntry
	// engineCache are --cache-from images for the classic builder.
	engineCache []string
}

// lookupEnv reads the process environment; tests pass their own.
type lookupEnv func(string) (string, bool)

func resolve(s Settings, c ci.Context, env lookupEnv) (inputs, error) {
	var in inputs
	var err error
	if in.buildArgs, err = keyValues("build-arg", s.BuildArgs.Value(), env); err != nil {
		return in, err
	}
	user, err := keyValues("label", s.Labels.Value(), nil)
	if err != nil {
		return in, err
	}
	if in.labels, err = ociLabels(c, env); err != nil {
		return in, err
	}
	for k, v := range user {
		in.labels[k] = v
	}
	if in.tags, err = tags(s, c); err != nil {
		return in, err
	}
	for _, o := range s.Outputs.Value() {
		switch {
		case o == "docker":
			in.docker = true
		case strings.HasPrefix(o, "oci:") && len(o) > len("oci:"):
			if in.ociDir != "" {
				return in, step.Usagef("--output %s: only one oci: output", o)
			}
			in.ociDir = strings.TrimPrefix(o, "oci:")
		case o == "registry" || strings.HasPrefix(o, "type=registry") || strings.HasPrefix(o, "type=image"):
			return in, step.Usagef("--output %q: want docker or oci:DIR; pushing is the publish step's, which keeps the commit and release tags immutable: write oci:DIR and publish it", o)
		default:
			return in, step.Usagef("--output %q: want docker or oci:DIR", o)
		}
	}
	if err := resolveBuildKit(&in, s, env); err != nil {
		return in, err
	}
	if in.testCmd, err = testCommand(s.TestCommand); err != nil {
		return in, err
	}
	if s.TestCommand != "" && s.TestTarget == "" {
		return in, step.Usagef("--test-command needs --test-target, the stage it runs in")
	}
	if s.TestReport != "" && s.TestTarget == "" {
		return in, step.Usagef("--test-report needs --test-target, the stage the tests run in")
	}
	testEnv, err := keyValues("test-env", s.TestEnv.Value(), env)
	if err != nil {
		return in, err
	}
	for _, kv := range s.TestEnv.Value() { // in the order given
		k, _, _ := strings.Cut(kv, "=")
		in.testEnv = append(in.testEnv, k+"="+testEnv[k])
	}
	return in, nil
}

// keyValues parses KEY=VALUE items; a bare KEY takes its value from env,
// as docker build --build-arg does, and is an error when env lacks it.
func keyValues(flag string, items []string, env lookupEnv) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, step.Usagef("--%s %q: want KEY=VALUE", flag, item)
		}
		if !ok {
			if env == nil {
				return nil, step.Usagef("--%s %q: want KEY=VALUE", flag, item)
			}
			if v, ok = env(k); !ok {
				return nil, step.Usagef("--%s %s: no value given and no %s in the environment", flag, k, k)
			}
		}
		out[k] = v
	}
	return out, nil
}

// testCommand reads a JSON argv (the Dockerfile's exec form) or a shell
// string, run with /bin/sh -c as the shell form is.
func testCommand(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(s), &argv); err != nil {
			return nil, step.Usagef("--test-command %s: a command starting with [ is a JSON array of strings: %v", s, err)
		}
		if len(argv) == 0 || argv[0] == "" {
			return nil, step.Usagef("--test-command %s: the array is empty", s)
		}
		return argv, nil
	}
	return []string{"/bin/sh", "-c", s}, nil
}

// tags are the references the final image gets in the engine: --image at
// the full commit SHA, then each --tag.
func tags(s Settings, c ci.Context) ([]string, error) {
	repo := s.Image
	if repo == "" {
		repo = defaultImageName(c.RepositoryURL, s.Context)
	}
	if _, err := name.NewRepository(repo); err != nil {
		return nil, step.Usagef("--image %q: %v", repo, err)
	}
	var out []string
	if c.SHA != "" {
		out = append(out, repo+":"+c.SHA)
	}
	for _, t := range s.Tags.Value() {
		ref := t
		if !strings.ContainsAny(t, ":/@") {
			ref = repo + ":" + t
		}
		if _, err := name.NewTag(ref); err != nil {
			return nil, step.Usagef("--tag %q: %v", t, err)
		}
		out = append(out, ref)
	}
	return out, nil
}

var notNameChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// defaultImageName is the repository's name ("shop" for
// https://github.com/acme/shop.git), else the context directory's: also
// when the remote could only be shown as redact.RedactedURL.
func defaultImageName(repoURL, contextDir string) string {
	base := ""
	if repoURL != "" && repoURL != redact.RedactedURL {
		base = strings.TrimSuffix(repoURL[strings.LastIndexAny(repoURL, "/:")+1:], ".git")
	}
	if base == "" {
		if abs, err := filepath.Abs(contextDir); err == nil {
			base = filepath.Base(abs)
		}
	}
	base = strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(base), "-"), "._-")
	if base == "" {
		return "app"
	}
	return base
}

// resolveBuildKit reads the builder and BuildKit's own inputs: a file, an
// agent or a variable that is not there fails now, naming the flag.
func resolveBuildKit(in *inputs, s Settings, env lookupEnv) error {
	usage := func(err error) error { return step.Usagef("%w", err) }
	in.builder = strings.TrimSpace(s.Builder)
	in.tls = buildkit.TLS{CA: s.BuilderTLS.CA, Cert: s.BuilderTLS.Cert, Key: s.BuilderTLS.Key}
	switch in.builder {
	case "", "classic":
		if in.tls != (buildkit.TLS{}) {
			return step.Usagef("--builder-tls-*: TLS files are for a tcp:// --builder")
		}
	default:
		if err := buildkit.CheckAddress(in.builder, in.tls); err != nil {
			return step.Usagef("--builder: %w", err)
		}
	}
	for _, p := range strings.Split(s.Platform, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, err := platforms.Parse(p); err != nil {
				return step.Usagef("--platform %q: %v", p, err)
			}
			in.platforms = append(in.platforms, platforms.Format(platforms.MustParse(p)))
		}
	}
	for _, v := range s.Secrets.Value() {
		sec, err := buildkit.ParseSecret(v, env)
		if err != nil {
			return usage(err)
		}
		in.secrets = append(in.secrets, sec)
	}
	for _, v := range s.SSH.Value() {
		a, err := buildkit.ParseSSH(v, env)
		if err != nil {
			return usage(err)
		}
		in.ssh = append(in.ssh, a)
	}
	for _, v := range s.Contexts.Value() {
		name, src, err := buildkit.ParseBuildContext(v)
		if err != nil {
			return usage(err)
		}
		if in.contexts == nil {
			in.contexts = map[string]string{}
		}
		in.contexts[name] = src
	}
	for _, v := range s.CacheFrom.Value() {
		if !strings.Contains(v, "=") {
			in.engineCache = append(in.engineCache, v) // the classic builder's form too
		}
		e, err := buildkit.ParseCache("cache-from", v, env)
		if err != nil {
			return usage(err)
		}
		if e.Type != "" {
			in.cacheFrom = append(in.cacheFrom, e)
		}
	}
	for _, v := range s.CacheTo.Value() {
		e, err := buildkit.ParseCache("cache-to", v, env)
		if err != nil {
			return usage(err)
		}
		in.cacheTo = append(in.cacheTo, e)
	}
	if in.builder == "classic" {
		switch {
		case len(in.platforms) > 1:
			return step.Usagef("--platform %s: the classic builder builds one platform; several need BuildKit (leave --builder unset)", s.Platform)
		case len(in.secrets) > 0, len(in.ssh) > 0, len(in.contexts) > 0, len(in.cacheTo) > 0:
			return step.Usagef("--secret, --ssh, --build-context and --cache-to need BuildKit, not --builder classic")
		}
	}
	return nil
}
