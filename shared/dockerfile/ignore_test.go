package dockerfile

import (
	"slices"
	"strconv"
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

// ids lists "RULE@line" for each finding, in output order.
func ids(fs []finding.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+strconv.Itoa(f.Line))
	}
	slices.Sort(out)
	return out
}

func TestIgnores(t *testing.T) {
	tests := []struct {
		name string
		src  string
		cfg  Config
		want []string
	}{
		{
			name: "no pragma",
			src:  "FROM golang\nRUN cd /src\n",
			want: []string{"DL3003@2", "DL3006@1"},
		},
		{
			name: "hadolint inline ignore",
			src:  "# hadolint ignore=DL3006\nFROM golang\nRUN cd /src\n",
			want: []string{"DL3003@3"},
		},
		{
			name: "gitship inline ignore with several IDs and a reason",
			src:  "FROM golang:1.22\n# gitship ignore=DL3003, DL4006 upstream script needs it\nRUN cd /src && curl x | sh\n",
			want: nil,
		},
		{
			name: "inline ignore after other comments",
			src:  "FROM golang:1.22\n# install the tools\n# hadolint ignore=DL3003\nRUN cd /src\n",
			want: nil,
		},
		{
			name: "inline ignore covers one instruction only",
			src:  "FROM golang:1.22\n# hadolint ignore=DL3003\nRUN cd /a\nRUN cd /b\n",
			want: []string{"DL3003@4", "DL3059@4"},
		},
		{
			name: "inline ignore of another rule",
			src:  "FROM golang:1.22\n# hadolint ignore=DL3006\nRUN cd /a\n",
			want: []string{"DL3003@3"},
		},
		{
			name: "inline ignore on onbuild",
			src:  "FROM golang:1.22\n# hadolint ignore=DL3004\nONBUILD RUN sudo make\n",
			want: nil,
		},
		{
			name: "global ignore at the top",
			src:  "# hadolint global ignore=DL3003\nFROM golang:1.22\nRUN cd /a\nRUN cd /b\n",
			want: []string{"DL3059@4"},
		},
		{
			name: "global ignore at the end",
			src:  "FROM golang\nRUN cd /a\n# gitship global ignore=DL3006,DL3003\n",
			want: nil,
		},
		{
			name: "global ignore of a syntax error",
			src:  "# hadolint global ignore=DL1000\nFROM alpine:3.20\nRUN <<EOF\n",
			want: nil,
		},
		{
			name: "stage ignore above FROM covers that stage only",
			src:  "# hadolint stage ignore=DL3006,DL3003\nFROM golang\nRUN cd /a\nRUN cd /b\nFROM golang\nRUN cd /c\n",
			want: []string{"DL3003@6", "DL3006@5", "DL3059@4"},
		},
		{
			name: "stage ignore mid-stage covers the rest of the stage",
			src:  "FROM golang:1.22\nRUN cd /a\n# hadolint stage ignore=DL3003\nRUN cd /b\nONBUILD RUN cd /c\nFROM golang:1.22\nRUN cd /d\n",
			want: []string{"DL3003@2", "DL3003@7", "DL3059@4"},
		},
		{
			name: "stage ignore of a finding reported at the end",
			src:  "FROM debian:12\n# hadolint stage ignore=DL3009,DL3002\nRUN apt-get update\nUSER root\n",
			want: nil,
		},
		{
			name: "config ignored",
			src:  "FROM golang\nRUN cd /a\n",
			cfg:  Config{Ignored: []string{"DL3006"}},
			want: []string{"DL3003@2"},
		},
		{
			name: "config ignored is case-insensitive",
			src:  "FROM golang\n",
			cfg:  Config{Ignored: []string{"dl3006"}},
			want: nil,
		},
		{
			name: "pragma in a RUN heredoc is not an ignore for the next instruction",
			src:  "FROM golang:1.22\nRUN <<EOF\n# hadolint ignore=DL3003\nEOF\nRUN cd /a\n",
			want: []string{"DL3003@5", "DL3059@5"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(Lint("Dockerfile", []byte(tc.src), Options{Config: tc.cfg}))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	src := []byte("FROM golang\nRUN cd /a\nMAINTAINER me\n")
	cfg := Config{Override: map[string]finding.Severity{
		"DL3006": finding.Error,   // warning -> error
		"DL4000": finding.Info,    // error -> info
		"DL3003": finding.None,    // switched off
		"DL9999": finding.Warning, // unknown rules are harmless
	}}
	got := map[string]finding.Severity{}
	for _, f := range Lint("Dockerfile", src, Options{Config: cfg}) {
		got[f.RuleID] = f.Severity
	}
	want := map[string]finding.Severity{"DL3006": finding.Error, "DL4000": finding.Info}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, sev := range want {
		if got[id] != sev {
			t.Errorf("%s: severity %s, want %s", id, got[id], sev)
		}
	}
}

func TestParsePragma(t *testing.T) {
	tests := []struct {
		comment string
		ids     []string
		scope   string
		ok      bool
	}{
		{"hadolint ignore=DL3006", []string{"DL3006"}, scopeNext, true},
		{"hadolint ignore=DL3006,DL3008", []string{"DL3006", "DL3008"}, scopeNext, true},
		{"  hadolint ignore = dl3006 , DL3008 because", []string{"DL3006", "DL3008"}, scopeNext, true},
		{"gitship ignore=GS1001", []string{"GS1001"}, scopeNext, true},
		{"hadolint global ignore=DL3003", []string{"DL3003"}, scopeGlobal, true},
		{"Hadolint Global Ignore=DL3003", []string{"DL3003"}, scopeGlobal, true},
		{"hadolint stage ignore=DL3008,DL3015", []string{"DL3008", "DL3015"}, scopeStage, true},
		{"hadolint stages ignore=DL3008", nil, scopeNext, false},
		{"hadolint shell=powershell", nil, scopeNext, false},
		{"we ignore=DL3006 nothing", nil, scopeNext, false},
		{"hadolint ignore=", nil, scopeNext, false},
	}
	for _, tc := range tests {
		ids, scope, ok := parsePragma(tc.comment)
		if ok != tc.ok || scope != tc.scope || !slices.Equal(ids, tc.ids) {
			t.Errorf("parsePragma(%q) = %v, %q, %v; want %v, %q, %v", tc.comment, ids, scope, ok, tc.ids, tc.scope, tc.ok)
		}
	}
}
