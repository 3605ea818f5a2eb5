package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitship/gitship/shared/gitops/gittest"
	"github.com/gitship/gitship/shared/step/steptest"
)

// Ten --direct runs at once into one GitOps repository, as ten pipelines
// deploying at the same moment: for ten environments, and ten times to
// one environment with different content. Over a path and a file:// URL
// (served by git-receive-pack with git on PATH, by gitship's in-process
// server without: the step images have no git) and over smart HTTP (git
// http-backend). Every run exits 0, every commit a run reports is on main,
// main's history is linear with exactly one commit per run, and git fsck
// --strict finds nothing wrong. Before the in-process server compared and
// swapped the ref (issue 13), runs without git lost commits that they
// reported as pushed, or failed with "ref file is empty".
func TestConcurrentDirect(t *testing.T) {
	if testing.Short() {
		t.Skip("120 runs of the step")
	}
	ws, sha := app(t)
	const n = 10
	for _, transport := range []string{"path", "file", "http"} {
		for _, withGit := range []bool{true, false} {
			for _, sameEnv := range []bool{false, true} {
				name := fmt.Sprintf("%s/git=%t/same-env=%t", transport, withGit, sameEnv)
				t.Run(name, func(t *testing.T) {
					dir := gittest.Bare(t, map[string]string{"README.md": "# cluster state\n"}, "main")
					url := map[string]string{"path": dir, "file": "file://" + dir}[transport]
					if transport == "http" {
						url = gittest.Serve(t, filepath.Dir(dir), gittest.HTTPOptions{Token: token}).URL + "/" + gittest.RepoName
					}
					initial := gittest.Head(t, dir, "main")
					results := make([]steptest.Result, n)
					tmps := make([]string, n)
					var wg sync.WaitGroup
					for i := range n {
						tmps[i] = t.TempDir()
						e := env(ws, sha, tmps[i])
						if !withGit {
							e["PATH"] = "/nonexistent"
						}
						args := []string{"--gitops-repo", url, "--chart", "deploy/chart", "--image", image, "--direct"}
						if sameEnv {
							args = append(args, "--environment", "dev", "--values", "deploy/values/dev.yaml",
								"--set", fmt.Sprintf("replicaCount=%d", i+1))
						} else {
							args = append(args, "--environment", fmt.Sprintf("env%d", i))
						}
						wg.Go(func() { results[i] = steptest.Run(t, binary, ws, e, args...) })
					}
					wg.Wait()

					var commits []string
					retries := 0
					for i, res := range results {
						if res.Code != 0 {
							t.Errorf("run %d: exit %d\nstdout, the end:\n%s\nstderr:\n%s", i, res.Code, tail(res.Stdout, 8), res.Stderr)
							continue
						}
						retries += strings.Count(res.Stdout, "; retry ")
						out := outputs(t, tmps[i])
						if out["changed"] != "true" || out["commit"] == "" {
							t.Errorf("run %d: outputs %v, want a new commit\n%s", i, out, res.Stdout)
							continue
						}
						commits = append(commits, out["commit"])
						if !strings.Contains(res.Stdout, "pushed "+out["commit"][:12]+" to refs/heads/main") {
							t.Errorf("run %d: the log does not report the push of %s:\n%s", i, out["commit"], res.Stdout)
						}
					}
					// Linear: main is the initial commit and one commit per
					// run, each with one parent, the ones the runs reported.
					history := strings.Fields(gittest.Git(t, dir, "rev-list", "--first-parent", "main"))
					if got := strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--merges", "main")); got != "" {
						t.Errorf("merges on main: %s", got)
					}
					if len(history) != n+1 || history[n] != initial {
						t.Errorf("main has %d commits (want %d) down to %s (want the initial %s)", len(history), n+1, history[len(history)-1], initial)
					}
					for i, c := range commits {
						if !slices.Contains(history, c) {
							t.Errorf("run %d reported %s, which is not on main", i, c)
						}
					}
					fsckStrict(t, dir)
					if !sameEnv {
						files := gittest.Files(t, dir, "main")
						for i := range n {
							if _, ok := files[fmt.Sprintf("clusters/env%d/hello/deployment-hello.yaml", i)]; !ok {
								t.Errorf("env%d's manifests are not on main", i)
							}
						}
					}
					t.Logf("%d retries", retries)
				})
			}
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// fsckStrict fails t if git fsck --strict finds anything wrong in the
// repository at dir: a broken link, a missing object, a malformed commit
// header or tree. Objects of pushes that lost a race are dangling, which
// is no fault.
func fsckStrict(t *testing.T, dir string) {
	t.Helper()
	out, err := gittest.Command(dir, "fsck", "--strict", "--no-dangling", "--no-progress").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("git fsck --strict: %v\n%s", err, out)
	}
}
