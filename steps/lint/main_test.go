package main

// End-to-end tests of the built gitship-lint binary, run the way each CI
// system runs it: its environment variables, its output files, its working
// directory. Golden files hold the exact lines each CI reads.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/sariftest"
	"github.com/gitship/gitship/internal/steptest"
)

var binary string

func TestMain(m *testing.M) { steptest.Main(m, "gitship-lint", &binary) }

func workspace(t *testing.T, example string) string {
	return steptest.Workspace(t, filepath.Join("..", "..", "examples", example))
}

func run(t *testing.T, dir string, env map[string]string, args ...string) steptest.Result {
	t.Helper()
	return steptest.Run(t, binary, dir, env, args...)
}

var golden = steptest.Golden

// The inputs every platform passes: the broken example with two
// environments' values.
const valuesInput = "values/dev.yaml\nvalues/production.yaml"

func TestPlatforms(t *testing.T) {
	tests := []struct {
		name string
		env  func(ws, tmp string) map[string]string
		args []string
	}{
		{
			name: "github",
			env: func(ws, tmp string) map[string]string {
				return map[string]string{
					"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
					"GITHUB_REF": "refs/pull/7/merge", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SERVER_URL": "https://github.com",
					"GITHUB_RUN_ID": "1", "GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
					// Docker actions get every declared input, given or not.
					"INPUT_VALUES": valuesInput, "INPUT_FAIL-ON": "error", "INPUT_FORMAT": "text", "INPUT_OUTPUT": "",
					"INPUT_KUBERNETES-VERSION": "1.31.0", "INPUT_EXCLUDE": "", "INPUT_PATH": ".",
				}
			},
		},
		{
			name: "azure",
			env: func(ws, tmp string) map[string]string {
				return map[string]string{
					"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws, "BUILD_SOURCEVERSION": "0123456789abcdef",
					"BUILD_SOURCEBRANCH": "refs/heads/main", "BUILD_BUILDID": "5", "AGENT_TEMPDIRECTORY": tmp,
					"SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "app",
					"INPUT_VALUES": valuesInput, "INPUT_FAILON": "error", "INPUT_KUBERNETESVERSION": "1.31.0",
				}
			},
		},
		{
			name: "cloudbuild",
			env: func(ws, tmp string) map[string]string {
				return map[string]string{"BUILD_ID": "b-1", "PROJECT_ID": "acme", "COMMIT_SHA": "0123456789abcdef", "BRANCH_NAME": "main"}
			},
			args: []string{"--values", "values/dev.yaml", "--values", "values/production.yaml"},
		},
		{
			name: "local",
			env: func(ws, tmp string) map[string]string {
				return map[string]string{"GITSHIP_VALUES": "values/dev.yaml,values/production.yaml"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := workspace(t, "broken")
			tmp := t.TempDir()
			res := run(t, ws, tt.env(ws, tmp), tt.args...)
			if res.Code != 1 {
				t.Errorf("exit code = %d, want 1 (findings at error)\nstderr: %s", res.Code, res.Stderr)
			}
			clean := strings.NewReplacer(ws, "$WORKSPACE", tmp, "$TMP").Replace(res.Stdout)
			golden(t, "broken."+tt.name+".stdout", clean)
			if want := "gitship-lint: 8 findings at or above error: check failed\n"; res.Stderr != want {
				t.Errorf("stderr = %q, want %q", res.Stderr, want)
			}

			switch tt.name {
			case "github":
				out, _ := os.ReadFile(filepath.Join(tmp, "output"))
				if got, want := string(out), "findings=19\nerrors=8\nwarnings=8\nreport=\n"; got != want {
					t.Errorf("GITHUB_OUTPUT = %q, want %q", got, want)
				}
				summary, _ := os.ReadFile(filepath.Join(tmp, "summary"))
				if !strings.Contains(string(summary), "| 8 | 8 | 3 |") || !strings.Contains(string(summary), "`Dockerfile:2:1`") {
					t.Errorf("step summary lacks the counts or a finding:\n%s", summary)
				}
			case "azure":
				summary, err := os.ReadFile(filepath.Join(tmp, "gitship-lint-summary.md"))
				if err != nil || !strings.Contains(string(summary), "| 8 | 8 | 3 |") {
					t.Errorf("uploaded summary = %q, %v", summary, err)
				}
			case "cloudbuild", "local":
				outputs := map[string]string{}
				data, err := os.ReadFile(filepath.Join(ws, ".gitship", "lint.json"))
				if err != nil {
					t.Fatalf("outputs file: %v", err)
				}
				json.Unmarshal(data, &outputs)
				if outputs["findings"] != "19" || outputs["errors"] != "8" || outputs["warnings"] != "8" {
					t.Errorf("outputs file = %v", outputs)
				}
			}
		})
	}
}

// TestCleanExample: the example app passes, and the README's main job
// (lint with every environment's values) exits 0.
func TestCleanExample(t *testing.T) {
	ws := workspace(t, "app")
	res := run(t, ws, nil, "--values", "deploy/values/dev.yaml", "--values", "deploy/values/staging.yaml",
		"--values", "deploy/values/production.yaml", "--target", "test", "--fail-on", "warning")
	if res.Code != 0 {
		t.Errorf("exit code = %d, want 0\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout, "Linting 1 Dockerfiles, 1 charts (3 values files)") {
		t.Errorf("stdout does not say what was linted:\n%s", res.Stdout)
	}
}

// TestChartFail: a template's `fail` is an error, reported with its text on
// the template line, for the environment whose values make it fail (helm
// lint only logs it and passes).
func TestChartFail(t *testing.T) {
	tests := []struct {
		name string
		env  func(ws, tmp string) map[string]string
		want string // the line reporting the fail
	}{
		{"local", func(ws, tmp string) map[string]string { return nil },
			"chart/templates/deployment.yaml:2:4: error: replicas: at most 5 (with values values/production.yaml) [HL1003]"},
		{"github", func(ws, tmp string) map[string]string {
			return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": filepath.Join(tmp, "output")}
		}, "::error file=chart/templates/deployment.yaml,line=2,col=4,title=HL1003::replicas: at most 5 (with values values/production.yaml)"},
		{"azure", func(ws, tmp string) map[string]string {
			return map[string]string{"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws, "AGENT_TEMPDIRECTORY": tmp}
		}, "##vso[task.logissue type=error;sourcepath=chart/templates/deployment.yaml;linenumber=2;columnnumber=4;code=HL1003;]replicas: at most 5 (with values values/production.yaml)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := steptest.Workspace(t, filepath.Join("testdata", "guard"))
			res := run(t, ws, tt.env(ws, t.TempDir()), "--values", "values/dev.yaml", "--values", "values/production.yaml")
			if res.Code != 1 {
				t.Errorf("exit code = %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			if !strings.Contains(res.Stdout, tt.want+"\n") {
				t.Errorf("stdout lacks %q:\n%s", tt.want, res.Stdout)
			}
			if strings.Count(res.Stdout, "at most 5") != 1 {
				t.Errorf("the fail is not reported once:\n%s", res.Stdout)
			}
		})
	}
	t.Run("values that do not fail pass", func(t *testing.T) {
		ws := steptest.Workspace(t, filepath.Join("testdata", "guard"))
		if res := run(t, ws, nil, "--values", "values/dev.yaml"); res.Code != 0 {
			t.Errorf("exit code = %d, want 0\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
	})
}

func TestReports(t *testing.T) {
	ws := workspace(t, "broken")
	t.Run("sarif file", func(t *testing.T) {
		res := run(t, ws, nil, "--format", "sarif", "--output", "out/lint.sarif", "--fail-on", "none")
		if res.Code != 0 {
			t.Fatalf("exit code = %d with --fail-on none; stderr %s", res.Code, res.Stderr)
		}
		var doc struct {
			Runs []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
				} `json:"results"`
			} `json:"runs"`
		}
		data, err := os.ReadFile(filepath.Join(ws, "out", "lint.sarif"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &doc); err != nil || len(doc.Runs) != 1 || len(doc.Runs[0].Results) != 19 {
			t.Errorf("lint.sarif: err %v, %+v", err, doc)
		}
		// What code scanning receives, rule metadata and locations included,
		// valid against the SARIF 2.1.0 schema.
		golden(t, "broken.sarif", string(data))
		if err := sariftest.Validate(data); err != nil {
			t.Errorf("lint.sarif does not match the SARIF 2.1.0 schema: %v", err)
		}
	})
	t.Run("json on stdout stays parseable", func(t *testing.T) {
		res := run(t, ws, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "o")},
			"--format", "json", "--path", "Dockerfile")
		var doc struct {
			Summary struct{ Findings int } `json:"summary"`
		}
		if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil || doc.Summary.Findings != 13 {
			t.Errorf("stdout is not the JSON report (%v): %q", err, res.Stdout)
		}
		if !strings.Contains(res.Stderr, "::error file=Dockerfile,line=2,col=1,title=DL4000::") {
			t.Errorf("annotations missing from stderr: %q", res.Stderr)
		}
	})
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(dir string)
		args   []string
		code   int
		stdout string // a line expected on stdout
		stderr string // text expected on stderr
	}{
		{"unknown flag", nil, []string{"--colour"}, 2, "", "flag provided but not defined: -colour"},
		{"missing path", nil, []string{"--path", "nope/Dockerfile"}, 2, "", `--path "nope/Dockerfile": no such file or directory`},
		{"missing values file", nil, []string{"--values", "prod.yaml"}, 2, "", `--values "prod.yaml": no such file or directory`},
		{"bad fail-on", nil, []string{"--fail-on", "sometimes"}, 2, "", `invalid value "sometimes" for input fail-on`},
		{"unreadable Dockerfile", func(dir string) {
			os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "Dockerfile"))
		}, nil, 2, "", "read Dockerfile: no such file or directory"},
		{"broken Dockerfile", func(dir string) {
			os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM alpine:3.20\nRUN echo hi \\\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "Dockerfile.bad"), []byte("FROM alpine:3.20\nFROM --platform=\n\x00\n"), 0o644)
		}, nil, 1, "", "check failed"},
		{"invalid YAML", func(dir string) {
			os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("a: [1\n"), 0o644)
		}, nil, 1, "a.yaml:2:1: error: invalid YAML: did not find expected ',' or ']' [YL001]", "check failed"},
		{"bad hadolint config", func(dir string) {
			os.WriteFile(filepath.Join(dir, ".hadolint.yaml"), []byte("ignored: [DL3006\n"), 0o644)
		}, nil, 2, "", ".hadolint.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(dir)
			}
			res := run(t, dir, nil, tt.args...)
			if res.Code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			if tt.stdout != "" && !strings.Contains(res.Stdout, tt.stdout+"\n") {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, res.Stdout)
			}
			if !strings.Contains(res.Stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.Stderr, tt.stderr)
			}
			if strings.Contains(res.Stderr, "panic") || strings.Contains(res.Stderr, "goroutine ") {
				t.Errorf("crashed: %s", res.Stderr)
			}
		})
	}
}
