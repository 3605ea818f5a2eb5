package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/steptest"
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
					results, tmps := runConcurrently(t, n, ws, sha, withGit, func(i int) []string {
						args := []string{"--gitops-repo", url, "--chart", "deploy/chart", "--image", image, "--direct"}
						if sameEnv {
							return append(args, "--environment", "dev", "--values", "deploy/values/dev.yaml",
								"--set", fmt.Sprintf("replicaCount=%d", i+1))
						}
						return append(args, "--environment", fmt.Sprintf("env%d", i))
					})

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

// Runs at once for one environment in pull request mode (no --direct,
// --provider none), as pipelines of several commits deploying to one
// environment: each force-pushes the branch gitship/hello/dev under a
// lease. Over a path (with git on PATH and without) and smart HTTP.
// Every run exits 0 and pushes exactly once; the branch ends at one of
// the commits the runs reported, one commit on the untouched main. With
// git, its reflog is the proof that every commit a run reports was on the
// branch: one update per run, each to a commit a run reported. Before the
// confirmation trusted the lease (issue 13), a run whose push was
// replaced by a newer run's before it read the branch back took that for
// a lost push, and pushed its older content over the newer run's.
func TestConcurrentPullRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("24 runs of the step")
	}
	ws, sha := app(t)
	const n = 6
	const branch = "gitship/hello/dev"
	for _, tc := range []struct {
		transport string
		withGit   bool
		// pushDelay holds the server's answer to a push: a newer run's push
		// lands before the older run hears of its own and reads the branch
		// back, the race of issue 13 that ended with the older content.
		pushDelay time.Duration
	}{{"path", true, 0}, {"path", false, 0}, {"http", true, 0}, {"http", true, 300 * time.Millisecond}} {
		t.Run(fmt.Sprintf("%s/git=%t/push-delay=%s", tc.transport, tc.withGit, tc.pushDelay), func(t *testing.T) {
			dir := gittest.Bare(t, map[string]string{"README.md": "# cluster state\n"}, "main")
			// git's receive-pack (not gitship's in-process server) logs
			// every update of the branch.
			gittest.Git(t, dir, "config", "core.logAllRefUpdates", "always")
			url := dir
			if tc.transport == "http" {
				url = gittest.Serve(t, filepath.Dir(dir), gittest.HTTPOptions{Token: token, PushDelay: tc.pushDelay}).URL + "/" + gittest.RepoName
			}
			main := gittest.Head(t, dir, "main")
			results, tmps := runConcurrently(t, n, ws, sha, tc.withGit, func(i int) []string {
				return []string{"--gitops-repo", url, "--provider", "none", "--chart", "deploy/chart", "--image", image,
					"--environment", "dev", "--values", "deploy/values/dev.yaml", "--set", fmt.Sprintf("replicaCount=%d", i+1)}
			})

			reported := map[string]int{} // commit: run
			replaced := 0
			for i, res := range results {
				replaced += strings.Count(res.Stdout, " was replaced since by ")
				if res.Code != 0 {
					t.Errorf("run %d: exit %d\nstdout, the end:\n%s\nstderr:\n%s", i, res.Code, tail(res.Stdout, 8), res.Stderr)
					continue
				}
				out := outputs(t, tmps[i])
				if out["changed"] != "true" || out["commit"] == "" || out["branch"] != branch {
					t.Errorf("run %d: outputs %v, want a new commit on %s\n%s", i, out, branch, res.Stdout)
					continue
				}
				reported[out["commit"]] = i
				if got := strings.Count(res.Stdout, "gitops: pushed "); got != 1 {
					t.Errorf("run %d: %d pushes reported, want 1:\n%s", i, got, res.Stdout)
				}
				if !strings.Contains(res.Stdout, "pushed "+out["commit"][:12]+" to refs/heads/"+branch) {
					t.Errorf("run %d: the log does not report the push of %s:\n%s", i, out["commit"], res.Stdout)
				}
			}
			if len(reported) != n {
				t.Errorf("%d distinct commits reported, want %d", len(reported), n)
			}
			if got := gittest.Head(t, dir, "main"); got != main {
				t.Errorf("main moved to %s from %s", got, main)
			}
			// The branch: one commit on main, one a run reported, with its
			// content.
			head := gittest.Head(t, dir, branch)
			i, ok := reported[head]
			if !ok {
				t.Errorf("%s is at %s, which no run reported (%v)", branch, head, reported)
			}
			if got := strings.Fields(gittest.Git(t, dir, "rev-list", "main.."+branch)); len(got) != 1 {
				t.Errorf("%s is %d commits on main, want 1", branch, len(got))
			}
			if parent := strings.TrimSpace(gittest.Git(t, dir, "rev-parse", branch+"^")); parent != main {
				t.Errorf("%s's parent is %s, want main's %s", branch, parent, main)
			}
			if ok {
				deployment := gittest.Files(t, dir, branch)["clusters/dev/hello/deployment-hello.yaml"]
				if want := fmt.Sprintf("replicas: %d\n", i+1); !strings.Contains(deployment, want) {
					t.Errorf("%s holds run %d's commit but not its content (%q):\n%s", branch, i, want, deployment)
				}
			}
			fsckStrict(t, dir)
			t.Logf("%d runs found the branch replaced since their push", replaced)
			if !tc.withGit {
				return // gitship's in-process server keeps no reflog
			}
			logged := strings.Fields(gittest.Git(t, dir, "log", "-g", "--format=%H", "refs/heads/"+branch))
			seen := map[string]bool{}
			for _, c := range logged {
				if _, ok := reported[c]; !ok {
					t.Errorf("%s was at %s, which no run reported (reflog %q)", branch, c, logged)
				}
				seen[c] = true
			}
			for c, i := range reported {
				if !seen[c] {
					t.Errorf("run %d reported %s, which was never on %s (reflog %q)", i, c, branch, logged)
				}
			}
			if len(logged) != n {
				t.Errorf("%s was updated %d times, want once per run (%d): %q", branch, len(logged), n, logged)
			}
		})
	}
}

// runConcurrently starts n runs of the step at once, as n pipelines would,
// run i with args(i), each with its own outputs directory (tmps[i]); with
// withGit false, git is not on their PATH, as in the step's image.
func runConcurrently(t *testing.T, n int, ws, sha string, withGit bool, args func(i int) []string) (results []steptest.Result, tmps []string) {
	t.Helper()
	results, tmps = make([]steptest.Result, n), make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		tmps[i] = t.TempDir()
		e := env(ws, sha, tmps[i])
		if !withGit {
			e["PATH"] = "/nonexistent"
		}
		a := args(i)
		wg.Go(func() { results[i] = steptest.Run(t, binary, ws, e, a...) })
	}
	wg.Wait()
	return results, tmps
}
