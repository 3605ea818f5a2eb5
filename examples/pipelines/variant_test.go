package pipelines_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
	"gopkg.in/yaml.v3"
)

// actVariant is github-deploy.yml as act runs it offline: the same jobs,
// steps and inputs, with only what needs GitHub's own services or the
// internet swapped for local stand-ins, each by one of the rules below.
// A step that uses an action no rule knows is an error, so a change to
// the example either carries over or fails this test until a rule says
// what to do with it.
func actVariant(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("github-deploy.yml: %w", err)
	}
	root := doc.Content[0]
	jobs := get(root, "jobs")
	if jobs == nil {
		return nil, fmt.Errorf("github-deploy.yml: no jobs")
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		job := jobs.Content[i].Value
		if scalar(get(jobs.Content[i+1], "permissions"), "id-token") == "write" {
			// GitHub hands a job with id-token: write the URL and the
			// bearer token of its OIDC token endpoint in the environment
			// of every step, container actions too; act does not: the
			// test's endpoint (internal/sigstoretest), by var and secret.
			env := get(jobs.Content[i+1], "env")
			if env == nil {
				env = &yaml.Node{Kind: yaml.MappingNode}
				jobs.Content[i+1].Content = append(jobs.Content[i+1].Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "env"}, env)
			}
			set(env, "ACTIONS_ID_TOKEN_REQUEST_URL", "${{ vars.ACTIONS_ID_TOKEN_REQUEST_URL }}")
			set(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "${{ secrets.ACTIONS_ID_TOKEN_REQUEST_TOKEN }}")
		}
		steps := get(jobs.Content[i+1], "steps")
		if steps == nil {
			continue
		}
		var kept []*yaml.Node
		for _, step := range steps.Content {
			uses := scalar(step, "uses")
			action, _, _ := strings.Cut(uses, "@")
			switch {
			case uses == "" && strings.Contains(scalar(step, "run"), "gh attestation trusted-root"):
				// Sigstore's public-good trusted root, through TUF on
				// the internet: the test's Sigstore's instead, from
				// vars.SIGSTORE_TRUSTED_ROOT, in the same file.
				var err error
				if step, err = trustedRootStep(job, step); err != nil {
					return nil, err
				}
			case uses == "":
				// A run: step runs in the job container.
			case action == "actions/checkout":
				// act copies the repository it runs in into the job
				// container and skips a checkout of that repository.
			case action == "docker/setup-buildx-action":
				// It downloads buildx and pulls moby/buildkit, and the
				// build's type=gha cache needs GitHub's cache service:
				// the engine's own BuildKit builds instead, with no cache.
				continue
			case action == "docker/login-action":
				// A JavaScript action, which runs docker login: a run:
				// step does, with the same credentials, into the job's
				// DOCKER_CONFIG.
				var err error
				if step, err = loginStep(job, step); err != nil {
					return nil, err
				}
			case action == "actions/create-github-app-token":
				// An App token is minted by GitHub; the local GitOps
				// server takes the secret GITOPS_TOKEN instead.
				step = tokenStep(step)
			case action == "azure/k8s-set-context":
				// A JavaScript action: the job image has no Node, and
				// act would clone it from GitHub. With method kubeconfig
				// it writes the input to a file under RUNNER_TEMP
				// (kubeconfig_<ms>, mode 600) and exports KUBECONFIG
				// naming it; a run: step does the same.
				var err error
				if step, err = setContextStep(job, step); err != nil {
					return nil, err
				}
			case strings.HasPrefix(action, "gitship/gitship"):
				// gitship's actions, read from this repository
				// (act --local-repository) and run with the step images
				// built from it.
				if action == "gitship/gitship/steps/build" {
					with := get(step, "with")
					for _, k := range []string{"builder", "cache-from", "cache-to"} {
						del(with, k)
					}
					// The base images the Dockerfile names cannot be
					// pulled: local ones imported into the engine.
					set(with, "build-arg", "GO_IMAGE=${{ vars.GO_IMAGE }}\nRUNTIME_IMAGE=${{ vars.RUNTIME_IMAGE }}\n")
				}
				if action == "gitship/gitship/steps/publish" {
					with := get(step, "with")
					// The loopback registry serves plain HTTP.
					set(with, "insecure", "true")
					// Keyless signing: the test's Fulcio and Rekor on
					// loopback, not Sigstore's public ones.
					if scalar(with, "keyless") == "true" {
						set(with, "fulcio-url", "${{ vars.FULCIO_URL }}")
						set(with, "rekor-url", "${{ vars.REKOR_URL }}")
					}
				}
				if action == "gitship/gitship/steps/verify" {
					with := get(step, "with")
					// The application's URLs: a server on loopback
					// (vars.APP_URL) answers for every host, the host
					// the first element of the path.
					if url := scalar(with, "url"); url != "" {
						set(with, "url", appURL.ReplaceAllString(url, "$${{ vars.APP_URL }}/$1"))
					}
					// Minutes, not the example's 15: the test plays the
					// controllers at once, and a regression should
					// fail, not hang.
					if scalar(with, "timeout") != "" {
						set(with, "timeout", "3m")
					}
					// The test's server answers at once: probes every
					// 500ms (the back-off doubles it after a wrong
					// answer), not every 2s, keep the run short.
					set(with, "probe-interval", "500ms")
				}
			default:
				return nil, fmt.Errorf("github-deploy.yml: job %s uses %s, which the act variant has no rule for (examples/pipelines/variant_test.go)", job, uses)
			}
			kept = append(kept, step)
		}
		steps.Content = kept
	}
	// The registry and the GitOps repository: loopback servers the test
	// starts, named by vars.
	replaceScalars(root, strings.NewReplacer(
		"ghcr.io/acme/hello", "${{ vars.REGISTRY }}/acme/hello",
		"https://github.com/acme/gitops", "${{ vars.GITOPS_REPO }}",
	))
	// A pull request goes to a fake of GitHub's API on loopback, for the
	// repository the example names; the GitOps repository is reached by
	// its loopback URL, so the provider is named, and the test merges
	// each pull request as a reviewer would, so the wait is short and
	// polls often.
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		for _, step := range get(jobs.Content[i+1], "steps").Content {
			with := get(step, "with")
			uses := scalar(step, "uses")
			gitopsPR := strings.HasPrefix(uses, "gitship/gitship/steps/gitops-pr@") ||
				strings.HasPrefix(uses, "gitship/gitship@") && scalar(with, "step") == "gitops-pr"
			if !gitopsPR || scalar(with, "direct") == "true" {
				continue
			}
			set(with, "provider", "github")
			set(with, "pr-repository", "https://github.com/acme/gitops")
			set(with, "api-url", "${{ vars.GITHUB_API }}")
			if scalar(with, "wait-merged") != "" {
				// Minutes, not the example's 50: the test merges at
				// once, and a regression should fail, not hang.
				set(with, "wait-merged", "2m")
				set(with, "wait-poll", "1s")
			}
		}
	}
	var out bytes.Buffer
	out.WriteString("# Code generated from github-deploy.yml by examples/pipelines/variant_test.go\n" +
		"# (go test ./examples/pipelines -run TestActVariant -update); DO NOT EDIT.\n" +
		"# The example workflow as act runs it offline: see docs/github.md.\n")
	// The example's own opening comment is the document's head comment.
	doc.HeadComment, root.HeadComment = "", ""
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

// appURL is an https:// URL: its host and path.
var appURL = regexp.MustCompile(`https://([^\s]+)`)

// setContextStep replaces an azure/k8s-set-context step of method
// kubeconfig (the action's default) with a run: step that does what the
// action does: the kubeconfig input written to RUNNER_TEMP/kubeconfig_<ms>
// with mode 600, and KUBECONFIG exported to the job's later steps through
// GITHUB_ENV. The other methods need Azure (service-principal) or build
// the kubeconfig from a cluster URL and a service account's secret
// (service-account); a step with inputs the stand-in does not carry out
// is an error.
func setContextStep(job string, step *yaml.Node) (*yaml.Node, error) {
	with := get(step, "with")
	if with == nil || scalar(with, "kubeconfig") == "" {
		return nil, fmt.Errorf("github-deploy.yml: job %s: azure/k8s-set-context without a kubeconfig input, which the act variant has no rule for", job)
	}
	for i := 0; i+1 < len(with.Content); i += 2 {
		switch k, v := with.Content[i].Value, with.Content[i+1].Value; {
		case k == "kubeconfig":
		case k == "method" && v == "kubeconfig", k == "cluster-type" && v == "generic", k == "kubeconfig-encoding" && v == "plaintext":
			// The action's defaults.
		default:
			return nil, fmt.Errorf("github-deploy.yml: job %s: azure/k8s-set-context with %s: %s, which the act variant has no rule for", job, k, v)
		}
	}
	n := &yaml.Node{Kind: yaml.MappingNode, HeadComment: step.HeadComment}
	if id := scalar(step, "id"); id != "" {
		set(n, "id", id)
	}
	set(n, "name", "stand-in for "+scalar(step, "uses")+": KUBECONFIG names the kubeconfig input, written to a file")
	env := &yaml.Node{Kind: yaml.MappingNode}
	set(env, "KUBECONFIG_DATA", scalar(with, "kubeconfig"))
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "env"}, env)
	set(n, "run", `f="${RUNNER_TEMP:-/tmp}/kubeconfig_$(date +%s)000"
(umask 077 && printf '%s\n' "$KUBECONFIG_DATA" >"$f")
echo "KUBECONFIG=$f" >>"$GITHUB_ENV"
`)
	return n, nil
}

// loginStep replaces a docker/login-action step with a run: step that
// runs docker login as the action does (the password on stdin), into the
// job's DOCKER_CONFIG. The registry ghcr.io becomes the test's
// (vars.REGISTRY); any other registry, or an input the stand-in does not
// carry out, is an error.
func loginStep(job string, step *yaml.Node) (*yaml.Node, error) {
	with := get(step, "with")
	for i := 0; with != nil && i+1 < len(with.Content); i += 2 {
		switch k, v := with.Content[i].Value, with.Content[i+1].Value; {
		case k == "username", k == "password", k == "registry" && v == "ghcr.io":
		default:
			return nil, fmt.Errorf("github-deploy.yml: job %s: docker/login-action with %s: %s, which the act variant has no rule for", job, k, v)
		}
	}
	if scalar(with, "registry") == "" || scalar(with, "username") == "" || scalar(with, "password") == "" {
		return nil, fmt.Errorf("github-deploy.yml: job %s: docker/login-action without registry ghcr.io, username and password, which the act variant has no rule for", job)
	}
	n := &yaml.Node{Kind: yaml.MappingNode, HeadComment: step.HeadComment}
	if id := scalar(step, "id"); id != "" {
		set(n, "id", id)
	}
	set(n, "name", "stand-in for "+scalar(step, "uses")+": docker login to the test's registry")
	env := &yaml.Node{Kind: yaml.MappingNode}
	set(env, "USERNAME", scalar(with, "username"))
	set(env, "PASSWORD", scalar(with, "password"))
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "env"}, env)
	set(n, "run", `echo "$PASSWORD" | docker login --username "$USERNAME" --password-stdin ${{ vars.REGISTRY }}`)
	return n, nil
}

// redirect is a run: script's last output redirection, its file.
var redirect = regexp.MustCompile(`>\s*(\S+)\s*$`)

// trustedRootStep replaces a run: step that writes Sigstore's public-good
// trusted root with gh attestation trusted-root to a file with one that
// writes the test's trusted root (vars.SIGSTORE_TRUSTED_ROOT) to that
// file, keeping its id.
func trustedRootStep(job string, step *yaml.Node) (*yaml.Node, error) {
	m := redirect.FindStringSubmatch(strings.TrimSpace(scalar(step, "run")))
	if m == nil {
		return nil, fmt.Errorf("github-deploy.yml: job %s: gh attestation trusted-root written to no file (>FILE at the end), which the act variant has no rule for", job)
	}
	n := &yaml.Node{Kind: yaml.MappingNode, HeadComment: step.HeadComment}
	if id := scalar(step, "id"); id != "" {
		set(n, "id", id)
	}
	set(n, "name", "stand-in for gh attestation trusted-root: the test Sigstore's trusted root")
	env := &yaml.Node{Kind: yaml.MappingNode}
	set(env, "TRUSTED_ROOT", "${{ vars.SIGSTORE_TRUSTED_ROOT }}")
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "env"}, env)
	set(n, "run", fmt.Sprintf("mkdir -p \"$(dirname %[1]s)\"\nprintf '%%s\\n' \"$TRUSTED_ROOT\" >%[1]s\n", m[1]))
	return n, nil
}

// tokenStep replaces a create-github-app-token step, keeping its id.
func tokenStep(step *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if id := scalar(step, "id"); id != "" {
		set(n, "id", id)
	}
	set(n, "name", "stand-in for "+scalar(step, "uses")+": the local GitOps server's token")
	env := &yaml.Node{Kind: yaml.MappingNode}
	set(env, "TOKEN", "${{ secrets.GITOPS_TOKEN }}")
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "env"}, env)
	set(n, "run", `echo "token=$TOKEN" >>"$GITHUB_OUTPUT"`)
	return n
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if n := get(m, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

func del(m *yaml.Node, key string) {
	if m == nil {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

func set(m *yaml.Node, key, value string) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
	if strings.Contains(value, "\n") {
		v.Style = yaml.LiteralStyle
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func replaceScalars(n *yaml.Node, r *strings.Replacer) {
	if n.Kind == yaml.ScalarNode {
		n.Value = r.Replace(n.Value)
	}
	for _, c := range n.Content {
		replaceScalars(c, r)
	}
}

// TestActVariant keeps testdata/github-deploy.act.yml, what the act tests
// run, what actVariant makes of github-deploy.yml today.
func TestActVariant(t *testing.T) {
	src, err := os.ReadFile("github-deploy.yml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := actVariant(src)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "github-deploy.act.yml")
	if *steptest.Update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what github-deploy.yml makes: run go test ./examples/pipelines -run TestActVariant -update", golden)
	}
}

// TestActVariantIDToken: a job with permissions id-token: write gets the
// test's OIDC token endpoint in its environment, as GitHub gives it; a
// job without gets nothing.
func TestActVariantIDToken(t *testing.T) {
	out, err := actVariant([]byte("jobs:\n  build:\n    permissions:\n      id-token: write\n    steps:\n      - run: true\n" +
		"  dev:\n    steps:\n      - run: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Jobs map[string]struct {
			Env map[string]string `yaml:"env"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "${{ vars.ACTIONS_ID_TOKEN_REQUEST_URL }}",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "${{ secrets.ACTIONS_ID_TOKEN_REQUEST_TOKEN }}"}
	if got := doc.Jobs["build"].Env; !maps.Equal(got, want) {
		t.Errorf("job build's env = %v, want %v", got, want)
	}
	if got := doc.Jobs["dev"].Env; len(got) != 0 {
		t.Errorf("job dev (no id-token: write) has env %v", got)
	}
}

// TestActVariantRules: an action no rule knows, or an
// azure/k8s-set-context the stand-in cannot do, fails the generation,
// naming the job and the action; the rules that apply rewrite the step.
func TestActVariantRules(t *testing.T) {
	for _, tc := range []struct {
		name, steps string
		// err is in the error; else want and not are in and out of the
		// variant.
		err       string
		want, not []string
	}{{
		name:  "unknown action",
		steps: "      - uses: acme/unknown@v1\n",
		err:   "job build uses acme/unknown@v1",
	}, {
		name: "set-context with a kubeconfig",
		steps: "      - uses: azure/k8s-set-context@v4\n        id: ctx\n        with:\n          method: kubeconfig\n" +
			"          kubeconfig: ${{ secrets.KUBECONFIG }}\n",
		want: []string{"id: ctx", "KUBECONFIG_DATA: ${{ secrets.KUBECONFIG }}", `>>"$GITHUB_ENV"`, "RUNNER_TEMP"},
		not:  []string{"azure/k8s-set-context@v4\n"},
	}, {
		name:  "set-context of a service principal",
		steps: "      - uses: azure/k8s-set-context@v4\n        with:\n          method: service-principal\n          kubeconfig: x\n",
		err:   "job build: azure/k8s-set-context with method: service-principal",
	}, {
		name:  "set-context of an arc cluster",
		steps: "      - uses: azure/k8s-set-context@v4\n        with:\n          cluster-type: arc\n          kubeconfig: x\n",
		err:   "job build: azure/k8s-set-context with cluster-type: arc",
	}, {
		name:  "set-context without a kubeconfig",
		steps: "      - uses: azure/k8s-set-context@v4\n        with:\n          method: service-account\n",
		err:   "job build: azure/k8s-set-context without a kubeconfig input",
	}, {
		name: "verify",
		steps: "      - uses: gitship/gitship/steps/verify@v0\n        with:\n          timeout: 15m\n" +
			"          url: |\n            https://hello.dev.acme.example/healthz\n            https://api.dev.acme.example/ready\n",
		want: []string{"timeout: 3m", "probe-interval: 500ms", "${{ vars.APP_URL }}/hello.dev.acme.example/healthz\n", "${{ vars.APP_URL }}/api.dev.acme.example/ready\n"},
		not:  []string{"https://"},
	}, {
		name: "docker login to GHCR",
		steps: "      - uses: docker/login-action@v3\n        with:\n          registry: ghcr.io\n" +
			"          username: ${{ github.actor }}\n          password: ${{ secrets.GITHUB_TOKEN }}\n",
		want: []string{"PASSWORD: ${{ secrets.GITHUB_TOKEN }}", "USERNAME: ${{ github.actor }}", "--password-stdin ${{ vars.REGISTRY }}"},
		not:  []string{"docker/login-action@v3\n", "ghcr.io"},
	}, {
		name:  "docker login elsewhere",
		steps: "      - uses: docker/login-action@v3\n        with:\n          registry: quay.io\n          username: u\n          password: p\n",
		err:   "job build: docker/login-action with registry: quay.io",
	}, {
		name:  "docker login without a password",
		steps: "      - uses: docker/login-action@v3\n        with:\n          registry: ghcr.io\n          username: u\n",
		err:   "job build: docker/login-action without registry ghcr.io, username and password",
	}, {
		name: "public-good trusted root",
		steps: "      - id: root\n        run: |\n          gh attestation trusted-root |\n" +
			"            jq -c 'select(.x)' >.gitship/trusted_root.json\n",
		want: []string{"id: root", "TRUSTED_ROOT: ${{ vars.SIGSTORE_TRUSTED_ROOT }}", `"$TRUSTED_ROOT" >.gitship/trusted_root.json`},
		not:  []string{"gh attestation trusted-root |", "jq"},
	}, {
		name:  "trusted root to stdout",
		steps: "      - run: gh attestation trusted-root\n",
		err:   "job build: gh attestation trusted-root written to no file",
	}, {
		name:  "keyless publish",
		steps: "      - uses: gitship/gitship/steps/publish@v0\n        with:\n          keyless: true\n",
		want:  []string{"fulcio-url: ${{ vars.FULCIO_URL }}", "rekor-url: ${{ vars.REKOR_URL }}", "insecure: true"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := actVariant([]byte("jobs:\n  build:\n    steps:\n" + tc.steps))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the variant has no %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(out), n) {
					t.Errorf("the variant has %q:\n%s", n, out)
				}
			}
		})
	}
}
