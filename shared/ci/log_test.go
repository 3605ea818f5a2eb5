package ci

import (
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/citest"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/redact"
)

// hostile are texts that a CI would read as a command if printed raw:
// what a chart's fail message, a file name or an input may hold.
var hostile = []string{
	"::error::INJECTED",
	"::set-output name=INJECTED::x",
	"::add-mask::INJECTED",
	"::stop-commands::INJECTED",
	"  \t::warning::INJECTED",
	"\u00a0::warning::INJECTED",      // no-break space: .NET TrimStart removes it
	"\u200b::error::INJECTED",        // zero-width space: a culture-aware StartsWith skips it
	":\u200b:error::INJECTED",        // between the colons
	"\x00::error::INJECTED",          // a control character
	"\xff::error::INJECTED",          // invalid UTF-8
	":\u0301:error::INJECTED",        // a combining mark
	"##[set-output name=INJECTED;]x", // GitHub's older form, read anywhere in a line
	"text ##[error]INJECTED",
	"##[group]INJECTED",
	"##vso[task.setvariable variable=INJECTED]x",
	"build ok ##vso[task.complete result=Failed;]INJECTED",
	"##VSO[task.setvariable variable=INJECTED]x",
	"#\u200b#vso[task.setvariable variable=INJECTED]x",
	"###vso[task.setsecret]INJECTED",
	"##[##[endgroup]INJECTED",
	"line one\n::error::INJECTED",
	"line one\r::error::INJECTED", // a bare CR ends a line for the runner and the agent
	"line one\r\n##vso[task.setvariable variable=INJECTED]x",
	"a\n\n  ::error file=x,line=1::INJECTED\n##[group]INJECTED\n",
}

func TestNeutralize(t *testing.T) {
	for _, kind := range []string{"github", "azure"} {
		for _, s := range hostile {
			out := Neutralize(kind, s)
			if cmds := citest.Commands(kind, out); len(cmds) > 0 {
				t.Errorf("%s: Neutralize(%q) = %q, still read as %q", kind, s, out, cmds[0].Name)
			}
			if strings.Count(out, "\n") != strings.Count(s, "\n") || strings.Count(out, "\r") != strings.Count(s, "\r") {
				t.Errorf("%s: Neutralize(%q) = %q changed the lines", kind, s, out)
			}
			if again := Neutralize(kind, out); again != out {
				t.Errorf("%s: Neutralize twice = %q, once = %q", kind, again, out)
			}
		}
	}
}

func TestNeutralizeForm(t *testing.T) {
	tests := []struct {
		kind, in, want string
	}{
		{"github", "::error::x", "%3A:error::x"},
		{"github", "  ::set-output name=a::b", "  %3A:set-output name=a::b"},
		{"github", "plain text: with ::colons:: inside", "plain text: with ::colons:: inside"},
		{"github", `  "text": "##[error]x",`, `  "text": "**[error]x",`}, // a JSON report stays JSON
		{"github", "##vso[task.setvariable variable=x]y", "##vso[task.setvariable variable=x]y"},
		{"azure", "##vso[task.setvariable variable=x]y", "**vso[task.setvariable variable=x]y"},
		{"azure", "::error::x", "::error::x"},
		{"azure", "###[group]x", "#**[group]x"},
		{"local", "::error::x ##vso[x]", "::error::x ##vso[x]"},
		{"cloudbuild", "##[group]x", "##[group]x"},
	}
	for _, tt := range tests {
		if got := Neutralize(tt.kind, tt.in); got != tt.want {
			t.Errorf("Neutralize(%s, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
		if HasCommand(tt.kind, tt.in) != (tt.in != tt.want) {
			t.Errorf("HasCommand(%s, %q) = %t", tt.kind, tt.in, !(tt.in != tt.want))
		}
	}
}

// TestWriter: text written by a step never commands; the Platform's
// commands do, and only those.
func TestWriter(t *testing.T) {
	for _, kind := range []string{"github", "azure"} {
		t.Run(kind, func(t *testing.T) {
			env := map[string]Env{"github": {"GITHUB_ACTIONS": "true"}, "azure": {"TF_BUILD": "True"}}[kind]
			p, err := Detect(env, Options{Step: "lint", Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			w := NewWriter(&sb, kind, func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") })
			for _, s := range hostile {
				w.Write([]byte(s + "\n"))
			}
			// A partial line, then commands: each command starts its line.
			w.Write([]byte("partial ::error::INJECTED"))
			p.Group(w, "Render "+strings.Join(hostile, " "))
			p.Annotate(w, finding.Finding{Severity: finding.Error, File: "templates/a\n::error::x.yaml", Line: 3, RuleID: "HL1000",
				Message: "render failed: s3cret " + strings.Join(hostile, "\n")})
			p.Annotate(w, finding.Finding{Severity: finding.Info, Message: strings.Join(hostile, "\n")})
			p.Mask(w, "s3cret")
			p.EndGroup(w)
			w.Fail("gitship-lint: error: " + strings.Join(hostile, "\n"))
			w.Write([]byte("tail ##vso[task.setvariable variable=INJECTED]x"))
			w.Flush()
			log := sb.String()

			if bad := citest.Injected(kind, log, "INJECTED"); len(bad) > 0 {
				t.Errorf("injected commands: %+v\nlog:\n%s", bad, log)
			}
			var names []string
			for _, c := range citest.Commands(kind, log) {
				names = append(names, c.Name)
			}
			want := map[string]string{
				"github": "group error notice add-mask endgroup error",
				"azure":  "##[group] task.logissue task.setsecret ##[endgroup] task.logissue",
			}[kind]
			if got := strings.Join(names, " "); got != want {
				t.Errorf("commands = %s, want %s\nlog:\n%s", got, want, log)
			}
			if !strings.Contains(log, "partial ::error::INJECTED\n") {
				t.Errorf("the partial line was not ended before the command:\n%s", log)
			}
			if strings.Count(log, "s3cret") != 1 {
				t.Errorf("the secret is printed outside its mask command:\n%s", log)
			}
		})
	}
}

// TestWriterSecretSplitAcrossWrites: a secret cut between two writes, as a
// stream from a container cuts it, is still masked.
func TestWriterSecretSplitAcrossWrites(t *testing.T) {
	for _, kind := range []string{"github", "azure", "local"} {
		var r redact.Redactor
		r.Add("hunter2")
		var sb strings.Builder
		w := NewWriter(&sb, kind, r.String)
		for _, part := range []string{"pass: hun", "ter2\nnext hunt", "er2"} {
			if _, err := w.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, want := sb.String(), "pass: ***\nnext ***"; got != want {
			t.Errorf("%s: redacted stream = %q, want %q", kind, got, want)
		}
	}
}

func TestFail(t *testing.T) {
	tests := []struct {
		kind, want string
	}{
		{"github", "::error::gitship-x: error: 100%25 bad%0A%253A:error::x\n"},
		{"azure", "##vso[task.logissue type=error;]gitship-x: error: 100%AZP25 bad%0A::error::x\n"},
		{"local", "gitship-x: error: 100% bad\n::error::x\n"},
		{"cloudbuild", "gitship-x: error: 100% bad\n::error::x\n"},
	}
	for _, tt := range tests {
		var sb strings.Builder
		w := NewWriter(&sb, tt.kind, nil)
		w.Fail("gitship-x: error: 100% bad\n::error::x")
		if sb.String() != tt.want {
			t.Errorf("%s: Fail() wrote %q, want %q", tt.kind, sb.String(), tt.want)
		}
	}
}

// TestFailRedactsBeforeEscaping: a secret holding '%' or a line break is
// masked in the error command, not escaped out of the redactor's reach
// (GitHub and Azure decode the escape and would show the secret).
func TestFailRedactsBeforeEscaping(t *testing.T) {
	for _, secret := range []string{"ab%cdSECRET", "ab\rcdSECRET", "ab%0AcdSECRET"} {
		for _, kind := range []string{"github", "azure", "local"} {
			var r redact.Redactor
			r.Add(secret)
			var sb strings.Builder
			NewWriter(&sb, kind, r.String).Fail("gitship-x: error: bad value " + secret)
			for _, c := range citest.Commands(kind, sb.String()) {
				if strings.Contains(citest.Unescape(kind, c.Data), "SECRET") {
					t.Errorf("%s %q: the decoded error command shows the secret: %q", kind, secret, sb.String())
				}
			}
			if strings.Contains(sb.String(), "SECRET") {
				t.Errorf("%s %q: the secret is printed: %q", kind, secret, sb.String())
			}
		}
	}
}

func TestGroupTitle(t *testing.T) {
	tests := []struct {
		env  Env
		want string
	}{
		{Env{"GITHUB_ACTIONS": "true"}, "::group::Push a %253A:error::x to 50%25\n"},
		{Env{"TF_BUILD": "True"}, "##[group]Push a **vso[task.setvariable variable=x]y to 50%\n"},
	}
	titles := map[string]string{"github": "Push a\n::error::x to 50%", "azure": "Push a\n##vso[task.setvariable variable=x]y to 50%"}
	for _, tt := range tests {
		p, _ := Detect(tt.env, Options{Step: "lint", Dir: t.TempDir()})
		var sb strings.Builder
		p.Group(NewWriter(&sb, p.Name(), nil), titles[p.Name()])
		if sb.String() != tt.want {
			t.Errorf("%s Group() = %q, want %q", p.Name(), sb.String(), tt.want)
		}
	}
}
