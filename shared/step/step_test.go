package step

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/internal/citest"
	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/finding"
)

type settings struct {
	FailOn string
	Paths  cli.StringSlice
	Strict bool
	Token  string
}

// testStep records what it was given and can fail in the ways steps fail.
func testStep(s *settings, result error) Step {
	return Step{
		Name: "demo",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fail-on", Value: "error", Destination: &s.FailOn},
			&cli.StringSliceFlag{Name: "path", Destination: &s.Paths},
			&cli.BoolFlag{Name: "strict", Destination: &s.Strict},
			&cli.StringFlag{Name: "token", Destination: &s.Token},
		},
		Secrets: []string{"token"},
		Choices: map[string][]string{"fail-on": {"error", "warning", "info", "none"}},
		Action: func(ctx context.Context, r *Run) error {
			fmt.Fprintf(r.Stdout, "token is %s\n", s.Token)
			if err := r.SetOutput("echo", "got "+s.Token); err != nil {
				return err
			}
			if err := r.Summary("used " + s.Token); err != nil {
				return err
			}
			if result != nil {
				return fmt.Errorf("doing it with %s: %w", s.Token, result)
			}
			return nil
		},
	}
}

func TestInputsFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   ci.Env
		want  settings
		paths []string
	}{
		{"defaults", nil, ci.Env{}, settings{FailOn: "error"}, nil},
		{"github hyphen kept", nil, ci.Env{"INPUT_FAIL-ON": "warning", "INPUT_PATH": "a\nb, c\n"}, settings{FailOn: "warning"}, []string{"a", "b, c"}},
		{"azure camelCase", nil, ci.Env{"INPUT_FAILON": "info", "INPUT_STRICT": "true", "INPUT_PATH": "x,y"}, settings{FailOn: "info", Strict: true}, []string{"x", "y"}},
		{"gitship wins over input", nil, ci.Env{"GITSHIP_FAIL_ON": "none", "INPUT_FAIL-ON": "info"}, settings{FailOn: "none"}, nil},
		{"empty input is unset", nil, ci.Env{"INPUT_FAIL-ON": "", "INPUT_STRICT": ""}, settings{FailOn: "error"}, nil},
		{"command line wins", []string{"--fail-on", "warning", "--path", "cli"}, ci.Env{"GITSHIP_FAIL_ON": "none", "INPUT_PATH": "env"}, settings{FailOn: "warning"}, []string{"cli"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			dir := t.TempDir()
			tt.env["GITSHIP_OUTPUTS_FILE"] = filepath.Join(dir, "out.json")
			var out, errOut strings.Builder
			code := Execute(context.Background(), testStep(&s, nil), append([]string{"gitship-demo"}, tt.args...), tt.env, &out, &errOut)
			if code != 0 {
				t.Fatalf("Execute() = %d, stderr: %s", code, errOut.String())
			}
			got := s
			got.Paths = cli.StringSlice{}
			if got.FailOn != tt.want.FailOn || got.Strict != tt.want.Strict {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
			if paths := s.Paths.Value(); !slices.Equal(paths, tt.paths) {
				t.Errorf("paths = %q, want %q", paths, tt.paths)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		result  error
		code    int
		message string
	}{
		{"ok", nil, nil, 0, ""},
		{"check failed", nil, fmt.Errorf("2 findings: %w", ErrCheckFailed), 1, "gitship-demo: doing it with ***: 2 findings: check failed"},
		{"unknown error is a failure", nil, errors.New("disk on fire"), 1, "gitship-demo: error: doing it with ***: disk on fire"},
		{"exit code of a command the step ran", nil, &ExitError{Code: 3, Err: fmt.Errorf("tests exited with 3: %w", ErrCheckFailed)}, 3, "gitship-demo: doing it with ***: tests exited with 3: check failed"},
		{"out of range exit code", nil, &ExitError{Code: 300, Err: errors.New("odd")}, 1, "odd"},
		{"usage error from the step", nil, Usagef("--path %q: no such file", "x"), 2, `--path "x": no such file`},
		{"unknown flag", []string{"--nope"}, nil, 2, "flag provided but not defined: -nope"},
		{"bad choice", []string{"--fail-on", "sometimes"}, nil, 2, `invalid value "sometimes" for input fail-on: want one of error, warning, info, none`},
		{"stray argument", []string{"extra"}, nil, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			env := ci.Env{"GITSHIP_OUTPUTS_FILE": filepath.Join(t.TempDir(), "o.json"), "INPUT_TOKEN": "tok-123"}
			var out, errOut strings.Builder
			code := Execute(context.Background(), testStep(&s, tt.result), append([]string{"gitship-demo"}, tt.args...), env, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.message) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.message)
			}
			if strings.Contains(out.String()+errOut.String(), "tok-123") {
				t.Errorf("secret leaked: stdout %q stderr %q", out.String(), errOut.String())
			}
		})
	}
}

// TestSecretNeverPrinted runs the step as GitHub would and checks the secret
// appears only in the ::add-mask:: command, which the runner consumes.
func TestSecretNeverPrinted(t *testing.T) {
	const secret = "ghp_SuperSecretValue42"
	for _, env := range []ci.Env{
		{"GITHUB_ACTIONS": "true", "INPUT_TOKEN": secret},
		{"TF_BUILD": "True", "INPUT_TOKEN": secret},
		{"GITSHIP_TOKEN": secret},
	} {
		dir := t.TempDir()
		env["GITHUB_OUTPUT"] = filepath.Join(dir, "gh-output")
		env["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "gh-summary")
		env["AGENT_TEMPDIRECTORY"] = dir
		env["GITSHIP_OUTPUTS_FILE"] = filepath.Join(dir, "outputs.json")
		var s settings
		var out, errOut strings.Builder
		Execute(context.Background(), testStep(&s, errors.New("boom")), []string{"gitship-demo"}, env, &out, &errOut)
		lines := strings.Split(out.String(), "\n")
		for i, l := range lines {
			if strings.Contains(l, secret) && !(i == 0 && (l == "::add-mask::"+secret || l == "##vso[task.setsecret]"+secret)) {
				t.Errorf("stdout line %d shows the secret: %q", i, l)
			}
		}
		if strings.Contains(errOut.String(), secret) {
			t.Errorf("stderr shows the secret: %q", errOut.String())
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		summaries, _ := filepath.Glob(filepath.Join(dir, ".gitship", "*"))
		for _, f := range append(files, summaries...) {
			if data, _ := os.ReadFile(f); strings.Contains(string(data), secret) {
				t.Errorf("%s holds the secret: %q", filepath.Base(f), data)
			}
		}
	}
}

func TestEnvNames(t *testing.T) {
	got := EnvNames("fail-on")
	want := []string{"GITSHIP_FAIL_ON", "INPUT_FAIL-ON", "INPUT_FAILON", "INPUT_FAIL_ON"}
	if !slices.Equal(got, want) {
		t.Errorf("EnvNames(fail-on) = %q, want %q", got, want)
	}
	if got := AzureInputName("kubernetes-version"); got != "kubernetesVersion" {
		t.Errorf("AzureInputName = %q", got)
	}
}

// hostileStep prints what a hostile input would make a step print: in its
// log lines, a group title, an annotation and its error.
func hostileStep(repo *string, text string, result error) Step {
	return Step{
		Name:  "demo",
		Flags: []cli.Flag{&cli.StringFlag{Name: "repo", Destination: repo}},
		Action: func(ctx context.Context, r *Run) error {
			fmt.Fprintf(r.Stdout, "cloning %s\n%s\n", *repo, text)
			fmt.Fprintf(r.Stderr, "warning: %s", text) // no final newline: Execute flushes it
			err := r.Group("Render "+text, func() error {
				r.Platform.Annotate(r.Stdout, finding.Finding{Severity: finding.Error, File: text, Line: 1, Message: text + " " + *repo})
				return nil
			})
			if err != nil {
				return err
			}
			if result != nil {
				return fmt.Errorf("push to %s: %s: %w", *repo, text, result)
			}
			return nil
		},
	}
}

const hostileText = "fail:\n::error::INJECTED\r::set-output name=INJECTED::x\n\u200b::add-mask::INJECTED\n" +
	"##[group]INJECTED\nok ##vso[task.setvariable variable=INJECTED]x\n##[set-env name=INJECTED;]x"

// TestNoInjectedCommand: on GitHub and Azure, nothing a step prints from
// its inputs is read as a command, in its log, titles, annotations or its
// final error; the error is on the CI's own channel.
func TestNoInjectedCommand(t *testing.T) {
	for _, kind := range []string{"github", "azure"} {
		for _, result := range []error{nil, errors.New("boom"), Usagef("bad"), fmt.Errorf("x: %w", ErrCheckFailed)} {
			env := map[string]ci.Env{"github": {"GITHUB_ACTIONS": "true"}, "azure": {"TF_BUILD": "True"}}[kind]
			env["GITSHIP_OUTPUTS_FILE"] = filepath.Join(t.TempDir(), "o.json")
			env["GITSHIP_REPO"] = "https://example.com/" + hostileText
			var repo string
			var out, errOut strings.Builder
			code := Execute(context.Background(), hostileStep(&repo, hostileText, result), []string{"gitship-demo"}, env, &out, &errOut)
			for name, log := range map[string]string{"stdout": out.String(), "stderr": errOut.String()} {
				if bad := citest.Injected(kind, log, "INJECTED"); len(bad) > 0 {
					t.Errorf("%s, %v: %s holds injected commands %+v:\n%s", kind, result, name, bad, log)
				}
			}
			var errs []string
			for _, c := range citest.Commands(kind, errOut.String()) {
				if c.Name == "error" || c.Name == "task.logissue" {
					errs = append(errs, c.Data)
				}
			}
			switch {
			case code == ExitOK || code == ExitFailed && errors.Is(result, ErrCheckFailed):
				if len(errs) > 0 {
					t.Errorf("%s, %v: exit %d with error commands on stderr %q", kind, result, code, errs)
				}
			case len(errs) != 1 || !strings.HasPrefix(errs[0], "gitship-demo: error: "):
				t.Errorf("%s, %v: exit %d, error commands on stderr = %q, want the error once\n%s", kind, result, code, errs, errOut.String())
			case strings.Contains(errOut.String(), "\ngitship-demo: error:") || strings.HasPrefix(errOut.String(), "gitship-demo: error:"):
				t.Errorf("%s, %v: the error is also a plain line:\n%s", kind, result, errOut.String())
			}
		}
	}
}

// TestURLCredentialsRedacted: a password in a URL input is masked and
// redacted before anything is printed, whatever it holds and whether or
// not the URL parses, in the log, the error and the summary.
func TestURLCredentialsRedacted(t *testing.T) {
	for _, pass := range []string{"s3cret-token", "p@ss/w#rd x", "p%40ss%2Fword", "tok/en123", "ghp_0123456789abcdefABCDEF"} {
		for _, kind := range []string{"github", "azure", "local"} {
			url := "https://bot:" + pass + "@example.com/acme/gitops.git"
			if strings.HasPrefix(pass, "ghp_") {
				url = "https://" + pass + "@example.com/acme/gitops.git"
			}
			env := map[string]ci.Env{"github": {"GITHUB_ACTIONS": "true"}, "azure": {"TF_BUILD": "True"}, "local": {}}[kind]
			env["GITSHIP_OUTPUTS_FILE"] = filepath.Join(t.TempDir(), "o.json")
			var repo string
			var out, errOut strings.Builder
			Execute(context.Background(), hostileStep(&repo, "x", errors.New("refused")), []string{"gitship-demo", "--repo", url}, env, &out, &errOut)
			decoded := strings.NewReplacer("%40", "@", "%2F", "/").Replace(pass)
			masked := map[string]bool{}
			for _, c := range citest.Commands(kind, out.String()) {
				if c.Name == "add-mask" || c.Name == "task.setsecret" {
					masked[citest.Unescape(kind, c.Data)] = true
				}
			}
			if kind != "local" && (!masked[pass] || !masked[decoded]) {
				t.Errorf("%s %q: masks %v, want the raw and decoded password", kind, pass, masked)
			}
			for i, l := range strings.Split(out.String()+errOut.String(), "\n") {
				if strings.HasPrefix(l, "::add-mask::") || strings.HasPrefix(l, "##vso[task.setsecret]") {
					continue
				}
				if strings.Contains(l, pass) || strings.Contains(l, decoded) {
					t.Errorf("%s %q: line %d shows the password: %q", kind, pass, i, l)
				}
			}
			for _, c := range citest.Commands(kind, errOut.String()) {
				if d := citest.Unescape(kind, c.Data); strings.Contains(d, pass) || strings.Contains(d, decoded) {
					t.Errorf("%s %q: the decoded %s command shows the password: %q", kind, pass, c.Name, d)
				}
			}
		}
	}
}

// TestMaskedBeforeUsageError: a run that ends on bad input before the step
// starts still masks the credentials of its inputs first, so the CI hides
// them in whatever form the error shows them.
func TestMaskedBeforeUsageError(t *testing.T) {
	const pass = "p%ss/w#rd-t0ken"
	url := "https://bot:" + pass + "@example.com/acme/gitops.git"
	for _, kind := range []string{"github", "azure"} {
		env := map[string]ci.Env{"github": {"GITHUB_ACTIONS": "true"}, "azure": {"TF_BUILD": "True"}}[kind]
		var repo string
		var out, errOut strings.Builder
		// The extra argument is refused before the step runs.
		code := Execute(context.Background(), hostileStep(&repo, "x", nil), []string{"gitship-demo", "--repo", url, url}, env, &out, &errOut)
		if code != ExitUsage {
			t.Fatalf("%s: exit %d, want %d\n%s", kind, code, ExitUsage, errOut.String())
		}
		masked := false
		for _, c := range citest.Commands(kind, out.String()) {
			if (c.Name == "add-mask" || c.Name == "task.setsecret") && citest.Unescape(kind, c.Data) == pass {
				masked = true
			}
		}
		if !masked {
			t.Errorf("%s: the password is not masked before the usage error:\nstdout:\n%s\nstderr:\n%s", kind, out.String(), errOut.String())
		}
		for _, c := range citest.Commands(kind, errOut.String()) {
			if strings.Contains(citest.Unescape(kind, c.Data), pass) {
				t.Errorf("%s: the error command shows the password: %q", kind, c.Data)
			}
		}
	}
}

// A line list keeps the commas of its items: buildx's type=...,ref=...
// forms arrive from a workflow whole.
func TestLineListsFromEnv(t *testing.T) {
	var got []string
	var plain []string
	s := Step{Name: "demo",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "cache-to"},
			&cli.StringSliceFlag{Name: "path"},
		},
		LineLists: []string{"cache-to"},
	}
	s.Flags[0].(*cli.StringSliceFlag).Destination = &cli.StringSlice{}
	s.Action = func(ctx context.Context, r *Run) error {
		got = s.Flags[0].(*cli.StringSliceFlag).Destination.Value()
		plain = s.Flags[1].(*cli.StringSliceFlag).Destination.Value()
		return nil
	}
	s.Flags[1].(*cli.StringSliceFlag).Destination = &cli.StringSlice{}
	env := ci.Env{"INPUT_CACHE-TO": "type=registry,ref=r/app:cache,mode=max", "INPUT_PATH": "a,b"}
	if code := Execute(context.Background(), s, []string{"demo"}, env, new(strings.Builder), new(strings.Builder)); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(got) != 1 || got[0] != "type=registry,ref=r/app:cache,mode=max" {
		t.Errorf("cache-to = %q, want the one item whole", got)
	}
	if len(plain) != 2 {
		t.Errorf("path = %q, want a and b", plain)
	}
	env["INPUT_CACHE-TO"] = "type=local,dest=/c\ntype=inline\n"
	s.Flags[0].(*cli.StringSliceFlag).Destination = &cli.StringSlice{}
	Execute(context.Background(), s, []string{"demo"}, env, new(strings.Builder), new(strings.Builder))
	if len(got) != 2 || got[1] != "type=inline" {
		t.Errorf("cache-to over two lines = %q", got)
	}
}

// TestErrorChannelOnce: however a run fails, the CI's error channel
// (::error on GitHub, task.logissue on Azure) says why exactly once: a
// failed check that annotated its findings sums up in a plain line, one
// that annotated nothing (a registry refusing the credentials) and every
// other error end with the error command.
func TestErrorChannelOnce(t *testing.T) {
	tests := []struct {
		name     string
		annotate bool
		args     []string
		result   error
		code     int
	}{
		{"check failed with findings annotated", true, nil, fmt.Errorf("1 findings: %w", ErrCheckFailed), 1},
		{"check failed with nothing annotated", false, nil, fmt.Errorf("registry refused the credentials: %w", ErrCheckFailed), 1},
		{"runtime error", false, nil, errors.New("disk on fire"), 1},
		{"usage error from the step", false, nil, Usagef("--path %q: no such file", "x"), 2},
		{"unknown flag", false, []string{"--nope"}, nil, 2},
	}
	for _, kind := range []struct {
		env     ci.Env
		command string
	}{
		{ci.Env{"GITHUB_ACTIONS": "true"}, "::error"},
		{ci.Env{"TF_BUILD": "True"}, "##vso[task.logissue type=error"},
	} {
		for _, tt := range tests {
			t.Run(kind.command+" "+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				env := ci.Env{"GITHUB_OUTPUT": filepath.Join(dir, "gh-output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "gh-summary"),
					"AGENT_TEMPDIRECTORY": dir, "GITSHIP_OUTPUTS_FILE": filepath.Join(dir, "outputs.json")}
				for k, v := range kind.env {
					env[k] = v
				}
				var s settings
				st := testStep(&s, tt.result)
				action := st.Action
				st.Action = func(ctx context.Context, r *Run) error {
					if tt.annotate {
						r.Platform.Annotate(r.Stdout, finding.Finding{RuleID: "X1", Severity: finding.Error, File: "a.yaml", Line: 3, Message: "bad"})
					}
					return action(ctx, r)
				}
				var out, errOut strings.Builder
				code := Execute(context.Background(), st, append([]string{"gitship-demo"}, tt.args...), env, &out, &errOut)
				if code != tt.code {
					t.Errorf("exit code = %d, want %d", code, tt.code)
				}
				if n := strings.Count(out.String()+errOut.String(), kind.command); n != 1 {
					t.Errorf("%d %s commands, want 1\nstdout:\n%s\nstderr:\n%s", n, kind.command, out.String(), errOut.String())
				}
			})
		}
	}
}
