package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

func TestAnnotate(t *testing.T) {
	f := finding.Finding{RuleID: "DL3006", Severity: finding.Warning, File: "app/Dockerfile", Line: 3, Column: 1,
		Message: "100% sure: line one\nline two"}
	info := finding.Finding{RuleID: "DL3015", Severity: finding.Info, File: "a,b:c", Line: 2, Message: "m"}
	tests := []struct {
		name string
		env  Env
		f    finding.Finding
		want string
	}{
		{"github warning", Env{"GITHUB_ACTIONS": "true"}, f,
			"::warning file=app/Dockerfile,line=3,col=1,title=DL3006::100%25 sure: line one%0Aline two\n"},
		{"github notice escapes properties", Env{"GITHUB_ACTIONS": "true"}, info,
			"::notice file=a%2Cb%3Ac,line=2,title=DL3015::m\n"},
		{"azure warning", Env{"TF_BUILD": "True"}, f,
			"##vso[task.logissue type=warning;sourcepath=app/Dockerfile;linenumber=3;columnnumber=1;code=DL3006;]100%AZP25 sure: line one%0Aline two\n"},
		{"azure info is a plain line", Env{"TF_BUILD": "True"}, info, "a,b:c:2: info: m [DL3015]\n"},
		{"local", Env{}, f, "app/Dockerfile:3:1: warning: 100% sure: line one\nline two [DL3006]\n"},
		{"cloud build", Env{"BUILD_ID": "1", "PROJECT_ID": "p"}, info, "a,b:c:2: info: m [DL3015]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Detect(tt.env, Options{Step: "lint", Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			p.Annotate(&sb, tt.f)
			if sb.String() != tt.want {
				t.Errorf("Annotate() printed\n%q\nwant\n%q", sb.String(), tt.want)
			}
		})
	}
}

func TestGitHubOutputs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "output")
	p, _ := Detect(Env{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out}, Options{Step: "lint", Dir: dir})
	var log strings.Builder
	if err := p.SetOutput(&log, Output{Name: "count", Value: "3"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetOutput(&log, Output{Name: "report", Value: "a\nb"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(string(data), "\n")
	if lines[0] != "count=3" {
		t.Errorf("first record = %q, want count=3", lines[0])
	}
	name, delim, ok := strings.Cut(lines[1], "<<")
	if !ok || name != "report" || !strings.HasPrefix(delim, "ghadelimiter_") {
		t.Fatalf("multi-line record header = %q, want report<<ghadelimiter_...", lines[1])
	}
	if lines[2] != "a" || lines[3] != "b" || lines[4] != delim {
		t.Errorf("multi-line record = %q", lines[1:])
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitship")); err == nil {
		t.Errorf("GitHub run wrote a JSON outputs file nobody asked for")
	}
}

func TestAzureOutputs(t *testing.T) {
	p, _ := Detect(Env{"TF_BUILD": "True"}, Options{Step: "lint", Dir: t.TempDir()})
	var log strings.Builder
	p.SetOutput(&log, Output{Name: "report", Value: "50%\nx;y]"})
	p.SetOutput(&log, Output{Name: "token", Value: "t", Secret: true})
	want := "##vso[task.setvariable variable=report;isOutput=true]50%AZP25%0Ax;y]\n" +
		"##vso[task.setvariable variable=token;isOutput=true;issecret=true]t\n"
	if log.String() != want {
		t.Errorf("SetOutput printed\n%q\nwant\n%q", log.String(), want)
	}
}

func TestJSONOutputsFile(t *testing.T) {
	dir := t.TempDir()
	p, _ := Detect(Env{"BUILD_ID": "1", "PROJECT_ID": "p"}, Options{Step: "lint", Dir: dir})
	p.SetOutput(nil, Output{Name: "findings", Value: "2"})
	p.SetOutput(nil, Output{Name: "token", Value: "hidden", Secret: true})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadOutputs(filepath.Join(dir, ".gitship", "lint.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got["findings"] != "2" || got["token"] != "" {
		t.Errorf("outputs file = %v, want findings=2 and no secret value", got)
	}
}

func TestSummaryPerPlatform(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	gh, _ := Detect(Env{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary}, Options{Step: "lint", Dir: dir})
	if err := gh.Summary(&strings.Builder{}, "# hi\n"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(summary); string(data) != "# hi\n" {
		t.Errorf("GitHub summary file = %q", data)
	}

	tmp := t.TempDir()
	az, _ := Detect(Env{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": tmp}, Options{Step: "lint", Dir: dir})
	var log strings.Builder
	if err := az.Summary(&log, "# az\n"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmp, "gitship-lint-summary.md")
	if log.String() != "##vso[task.uploadsummary]"+path+"\n" {
		t.Errorf("Azure summary command = %q", log.String())
	}
	if data, _ := os.ReadFile(path); string(data) != "# az\n" {
		t.Errorf("Azure summary file = %q", data)
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		env  Env
		want string
	}{
		{Env{"GITHUB_ACTIONS": "true"}, "::add-mask::a%25b\n::add-mask::c\n"},
		{Env{"TF_BUILD": "True"}, "##vso[task.setsecret]a%AZP25b\n##vso[task.setsecret]c\n"},
		{Env{}, ""},
	}
	for _, tt := range tests {
		p, _ := Detect(tt.env, Options{Step: "lint", Dir: t.TempDir()})
		var sb strings.Builder
		p.Mask(&sb, "a%b\nc")
		if sb.String() != tt.want {
			t.Errorf("%s Mask() = %q, want %q", p.Name(), sb.String(), tt.want)
		}
	}
}
