package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/steptest"
)

const injDigest = "sha256:3f1e5b2c0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"

// TestInjection: a chart's fail text and hostile --gitops-repo, --image
// and --environment values never become workflow or logging commands on
// GitHub or Azure; the error is on the CI's error channel, once.
func TestInjection(t *testing.T) {
	ws, _ := steptest.Checkout(t, steptest.Repo{From: filepath.Join("..", "..", "examples", "app"), Files: map[string]string{
		"hostile/Chart.yaml":          "apiVersion: v2\nname: hostile\nversion: 0.1.0\n",
		"hostile/templates/fail.yaml": "{{ fail " + strconv.Quote("render: "+steptest.HostileText) + " }}\n",
	}})
	gitops := gittest.Bare(t, map[string]string{"README.md": "# cluster state\n"}, "main")
	img := "registry.example.com/hello@" + injDigest
	for _, kind := range []string{"github", "azure"} {
		for _, tt := range []struct {
			name string
			args []string
		}{
			{"chart fail", []string{"--gitops-repo", gitops, "--direct", "--environment", "dev", "--chart", "hostile", "--image", img}},
			{"gitops-repo", []string{"--gitops-repo", "https://127.0.0.1:1/x.git\n" + steptest.HostileText, "--direct", "--environment", "dev",
				"--chart", "deploy/chart", "--values", "deploy/values/dev.yaml", "--image", img}},
			{"image", []string{"--gitops-repo", gitops, "--direct", "--environment", "dev", "--chart", "deploy/chart",
				"--values", "deploy/values/dev.yaml", "--image", "registry.example.com/hello\n" + steptest.HostileText + "@" + injDigest}},
			{"environment", []string{"--gitops-repo", gitops, "--direct", "--environment", "dev\n" + steptest.HostileText, "--chart", "deploy/chart", "--image", img}},
			{"set", []string{"--gitops-repo", gitops, "--direct", "--environment", "dev", "--chart", "deploy/chart",
				"--values", "deploy/values/dev.yaml", "--image", img, "--set", "replicaCount=" + strings.ReplaceAll(steptest.HostileText, "\n", " ")}},
		} {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				res := steptest.Run(t, binary, ws, steptest.CIEnv(kind, ws, t.TempDir()), tt.args...)
				if res.Code == 0 {
					t.Fatalf("exit 0 with a hostile --%s:\n%s", tt.name, res.Stdout)
				}
				steptest.NoInjection(t, kind, res)
			})
		}
	}
}

// TestCredentialsInURLs: a token in --gitops-repo, whatever its password
// holds ('/', '@', '#', a space, percent-escapes) and whether or not the
// URL parses, and a token in the app checkout's origin remote, are never
// printed (log, errors, summary, pull request text) and are masked on
// GitHub and Azure in their raw and decoded forms.
func TestCredentialsInURLs(t *testing.T) {
	const originToken = "origin-T0ken-abcdef"
	ws, _ := steptest.Checkout(t, steptest.Repo{From: filepath.Join("..", "..", "examples", "app"),
		Remote: "https://ci-bot:" + originToken + "@github.com/acme/shop.git"})
	gitops := gittest.Bare(t, map[string]string{"README.md": "# cluster state\n"}, "main")
	img := "registry.example.com/hello@" + injDigest
	chart := []string{"--environment", "dev", "--chart", "deploy/chart", "--values", "deploy/values/dev.yaml", "--image", img, "--direct"}
	for _, kind := range []string{"github", "azure", "local"} {
		env := func(tmp string) map[string]string {
			if kind == "local" {
				return map[string]string{}
			}
			return steptest.CIEnv(kind, ws, tmp)
		}
		// A run that commits: the origin's token is in no output, summary
		// or description.
		t.Run(kind+"/origin", func(t *testing.T) {
			tmp := t.TempDir()
			desc := filepath.Join(tmp, "pr.md")
			res := steptest.Run(t, binary, ws, env(tmp), append([]string{"--gitops-repo", gitops, "--description-file", desc,
				"--environment", kind}, chart[2:]...)...)
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
			}
			files := map[string]string{}
			for _, p := range []string{desc, filepath.Join(tmp, "summary"), filepath.Join(tmp, "gitship-gitops-pr-summary.md"),
				filepath.Join(ws, ".gitship", "gitops-pr-summary.md"), filepath.Join(ws, ".gitship", "gitops-pr.json")} {
				if data, err := os.ReadFile(p); err == nil {
					files[p] = string(data)
				}
			}
			if len(files) < 2 {
				t.Errorf("no summary or description to check: %v", files)
			}
			files["commit message"] = strings.Join(gittest.Log(t, gitops, "main"), "\n")
			steptest.NoSecret(t, res, files, originToken)
			// Azure gives no repository URL here, so the origin is read
			// (GitHub's GITHUB_REPOSITORY spares reading it).
			if m := steptest.Masked(kind, res); kind == "azure" && !m[originToken] {
				t.Errorf("masked %v, want the origin's token", m)
			}
		})
		// A password the URL parser cuts short ("pa55/word", "ghs_ab#cd")
		// or cannot decode ("s3cr%zzet") must not show in part either, as
		// the parser's reason would quote it.
		for _, pass := range []string{"gitops-T0ken-s3cret", "p@ss/w#rd x", "p%40ss%2Fw%23rd%20x", "tok/en:123", "pa55/word", "ghs_ab#cd", "s3cr%zzet"} {
			decoded, err := url.PathUnescape(pass)
			if err != nil {
				decoded = pass
			}
			for _, u := range []string{
				"https://x-access-token:" + pass + "@127.0.0.1:1/acme/gitops.git",
				"http://bot:" + pass + "@localhost:1/acme/gitops.git",
			} {
				t.Run(kind+"/"+u, func(t *testing.T) {
					res := steptest.Run(t, binary, ws, env(t.TempDir()), append([]string{"--gitops-repo", u}, chart...)...)
					if res.Code == 0 {
						t.Fatalf("exit 0 pushing to an unreachable repository")
					}
					steptest.NoSecret(t, res, nil, pass, decoded, originToken)
					if m := steptest.Masked(kind, res); kind != "local" && (!m[pass] || !m[decoded]) {
						t.Errorf("masked %v, want %q and %q", m, pass, decoded)
					}
				})
			}
		}
	}
}
