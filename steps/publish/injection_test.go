package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

// TestInjection: hostile --image, --repository and --promote-from values
// never become workflow or logging commands on GitHub or Azure; the error
// is on the CI's error channel, once.
func TestInjection(t *testing.T) {
	for _, kind := range []string{"github", "azure"} {
		for _, tt := range []struct {
			name string
			args []string
		}{
			{"image", []string{"--repository", "127.0.0.1:1/app", "--image", "oci:missing\n" + steptest.HostileText}},
			{"repository", []string{"--repository", "127.0.0.1:1/app\n" + steptest.HostileText, "--image", "oci:img"}},
			{"promote-from", []string{"--repository", "127.0.0.1:1/app", "--promote-from", "127.0.0.1:1/src:1\n" + steptest.HostileText}},
			{"tag", []string{"--repository", "127.0.0.1:1/app", "--image", "oci:img", "--tag", "x\n" + steptest.HostileText}},
		} {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				ws := t.TempDir()
				res := steptest.Run(t, binary, ws, steptest.CIEnv(kind, ws, t.TempDir()), tt.args...)
				if res.Code == 0 {
					t.Fatalf("exit 0 for a hostile --%s", tt.name)
				}
				steptest.NoInjection(t, kind, res)
				if errs := steptest.ErrorCommand(kind, res); len(errs) != 1 {
					t.Errorf("exit %d, error commands on stderr = %q, want the error once\n%s", res.Code, errs, res.Stderr)
				}
			})
		}
	}
}

// TestCredentialsInURLs: a password or token in --repository or
// --promote-from, whatever it holds and whether or not the value parses,
// is never printed, in errors too, and is masked on GitHub and Azure in
// its raw and decoded forms.
func TestCredentialsInURLs(t *testing.T) {
	for _, pass := range []string{"s3cret-Pa55", "p@ss/w#rd x", "p%40ss%2Fw%23rd"} {
		decoded, _ := url.PathUnescape(pass)
		for _, kind := range []string{"github", "azure", "local"} {
			for _, args := range [][]string{
				{"--repository", "bot:" + pass + "@127.0.0.1:1/app", "--image", "oci:img"},
				{"--repository", "https://bot:" + pass + "@127.0.0.1:1/app", "--image", "oci:img"},
				{"--repository", "127.0.0.1:1/app", "--promote-from", "https://bot:" + pass + "@127.0.0.1:1/src:1"},
				{"--repository", "127.0.0.1:1/app", "--promote-from", "bot:" + pass + "@127.0.0.1:1/src:1", "--insecure"},
			} {
				t.Run(kind+"/"+pass+"/"+args[0]+args[2], func(t *testing.T) {
					ws := t.TempDir()
					env := map[string]string{}
					if kind != "local" {
						env = steptest.CIEnv(kind, ws, t.TempDir())
					}
					res := steptest.Run(t, binary, ws, env, args...)
					if res.Code == 0 {
						t.Fatalf("exit 0:\n%s", res.Stdout)
					}
					steptest.NoSecret(t, res, nil, pass, decoded)
					if m := steptest.Masked(kind, res); kind != "local" && (!m[pass] || !m[decoded]) {
						t.Errorf("masked %v, want %q and %q", m, pass, decoded)
					}
					if !strings.Contains(res.Stderr, "gitship-publish: error: ") {
						t.Errorf("stderr has no error:\n%s", res.Stderr)
					}
				})
			}
		}
	}
}
