package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

func TestParseConfig(t *testing.T) {
	data := []byte(`# a full hadolint config; gitship reads five keys of it
failure-threshold: warning
format: tty
no-color: true
trustedRegistries:
  - docker.io
  - ghcr.io
label-schema:
  author: text
strict-labels: false
ignored:
  - DL3008
  - dl3059
override:
  error:
    - DL3001
  warning:
    - DL3015
  info:
    - DL3002
  style:
    - DL3006
`)
	cfg, err := ParseConfig(".hadolint.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Ignored, ","); got != "DL3008,DL3059" {
		t.Errorf("Ignored = %s", got)
	}
	if got := strings.Join(cfg.TrustedRegistries, ","); got != "docker.io,ghcr.io" {
		t.Errorf("TrustedRegistries = %s", got)
	}
	if len(cfg.LabelSchema) != 1 || cfg.LabelSchema["author"] != "text" || cfg.StrictLabels {
		t.Errorf("LabelSchema = %v, StrictLabels = %v", cfg.LabelSchema, cfg.StrictLabels)
	}
	want := map[string]finding.Severity{
		"DL3001": finding.Error,
		"DL3015": finding.Warning,
		"DL3002": finding.Info,
		"DL3006": finding.Info,
	}
	if len(cfg.Override) != len(want) {
		t.Errorf("Override = %v, want %v", cfg.Override, want)
	}
	for id, sev := range want {
		if cfg.Override[id] != sev {
			t.Errorf("Override[%s] = %s, want %s", id, cfg.Override[id], sev)
		}
	}
}

func TestParseConfigEmpty(t *testing.T) {
	for _, data := range []string{"", "# nothing\n", "ignored:\noverride:\n", "override: {}\n"} {
		cfg, err := ParseConfig("x.yaml", []byte(data))
		if err != nil {
			t.Errorf("%q: %v", data, err)
		}
		if len(cfg.Ignored) != 0 || len(cfg.Override) != 0 {
			t.Errorf("%q: got %+v", data, cfg)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string // substrings of the error
	}{
		{"bad yaml", "failure-threshold: info\nignored:\n  - DL3006\n  - [\n", []string{"ci/.hadolint.yaml", "line 4"}},
		{"ignored not a list", "format: tty\nignored: 3\n", []string{"ci/.hadolint.yaml", "line 2"}},
		{"unknown severity", "override:\n  error: [DL3006]\n  fatal: [DL3007]\n", []string{"ci/.hadolint.yaml", "line 3", `"fatal"`}},
		{"override not a mapping", "override:\n  - DL3006\n", []string{"ci/.hadolint.yaml", "line 2"}},
		{"override list not a list", "override:\n  warning:\n    a: b\n", []string{"ci/.hadolint.yaml", "line 3"}},
		{"unknown label type", "label-schema:\n  author: text\n  url: link\n", []string{"ci/.hadolint.yaml", "line 3", `"link"`, "rfc3339"}},
		{"label-schema not a mapping", "label-schema: [a]\n", []string{"ci/.hadolint.yaml", "line 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("ci/.hadolint.yaml", []byte(tc.data))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig("testdata/hadolint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Ignored) != 1 || cfg.Ignored[0] != "DL3008" || cfg.Override["DL3006"] != finding.Error {
		t.Errorf("got %+v", cfg)
	}

	missing := filepath.Join(t.TempDir(), ".hadolint.yaml")
	_, err = LoadConfig(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: got %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}
