package gitops_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
	fluxgit "github.com/fluxcd/pkg/git"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/shared/gitops"
)

var initialFiles = map[string]string{
	"README.md":                "gitops\n",
	"apps/web/dev/values.yaml": "image: web:1.0.0\n",
	"apps/web/prd/values.yaml": "image: web:0.9.0\n",
	"apps/api/dev/values.yaml": "image: api:2.0.0\n",
}

// write returns a Write func that sets files and removes the paths in rm
// (files or whole directories).
func write(files map[string]string, rm ...string) func(string) error {
	return func(dir string) error {
		for _, p := range rm {
			if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				return err
			}
		}
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

func update(url string, w func(string) error) gitops.Update {
	return gitops.Update{
		URL:     url,
		Base:    "main",
		Branch:  "main",
		Author:  gitops.Author{Name: "gitship", Email: "gitship@example.com"},
		Message: "web: deploy 1.1.0 to dev",
		Write:   w,
	}
}

// with returns files with the changes applied; an empty value removes.
func with(files map[string]string, changes map[string]string) map[string]string {
	out := maps.Clone(files)
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func assertFiles(t *testing.T, repo, branch string, want map[string]string) {
	t.Helper()
	if got := gittest.Files(t, repo, branch); !maps.Equal(got, want) {
		t.Errorf("files at %s = %v, want %v", branch, got, want)
	}
}

func TestApplyDirect(t *testing.T) {
	t.Parallel()
	const token = "ghs_s3cretT0ken"
	for _, tc := range []struct {
		name string
		url  func(t *testing.T, repo string) (string, gitops.Auth)
	}{
		{"path", func(t *testing.T, repo string) (string, gitops.Auth) { return repo, gitops.Auth{} }},
		{"file URL", func(t *testing.T, repo string) (string, gitops.Auth) { return "file://" + repo, gitops.Auth{} }},
		{"http token", func(t *testing.T, repo string) (string, gitops.Auth) {
			return gittest.HTTP(t, filepath.Dir(repo), token) + "/" + gittest.RepoName, gitops.Auth{Token: token}
		}},
		{"http token in URL", func(t *testing.T, repo string) (string, gitops.Auth) {
			u := gittest.HTTP(t, filepath.Dir(repo), token)
			return strings.Replace(u, "http://", "http://x-access-token:"+token+"@", 1) + "/" + gittest.RepoName, gitops.Auth{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.Bare(t, initialFiles, "main")
			base := gittest.Head(t, repo, "main")
			url, auth := tc.url(t, repo)
			changes := map[string]string{
				"apps/web/dev/values.yaml": "image: web:1.1.0\n",
				"apps/web/dev/extra.yaml":  "new: file\n",
			}
			u := update(url, write(changes))
			u.Auth = auth
			var log bytes.Buffer
			res, err := gitops.Apply(context.Background(), u, &log)
			if err != nil {
				t.Fatalf("Apply() = %v\nlog:\n%s", err, &log)
			}
			head := gittest.Head(t, repo, "main")
			want := gitops.Result{Commit: head, Changed: true, BaseCommit: base, Attempts: 1}
			if res != want {
				t.Errorf("Apply() = %+v, want %+v", res, want)
			}
			assertFiles(t, repo, "main", with(initialFiles, changes))
			if got, want := gittest.Log(t, repo, "main"), []string{u.Message, "initial"}; !slices.Equal(got, want) {
				t.Errorf("log = %q, want %q", got, want)
			}
			author := gittest.Git(t, repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main")
			if want := "gitship <gitship@example.com>|gitship <gitship@example.com>\n"; author != want {
				t.Errorf("author|committer = %q, want %q", author, want)
			}
			for _, line := range []string{"gitops: clone ", "gitops: commit " + head, "gitops: pushed " + head[:12] + " to refs/heads/main"} {
				if !strings.Contains(log.String(), line) {
					t.Errorf("log lacks %q:\n%s", line, &log)
				}
			}
			if strings.Contains(log.String(), token) {
				t.Errorf("log shows the token:\n%s", &log)
			}
		})
	}
}

func TestApplyWrongToken(t *testing.T) {
	t.Parallel()
	const token, wrong = "ghs_rightToken1", "ghs_wr0ngT0ken"
	repo := gittest.Bare(t, initialFiles, "main")
	srv := gittest.Serve(t, filepath.Dir(repo), gittest.HTTPOptions{Token: token})
	for _, tc := range []struct {
		name string
		url  string
		auth gitops.Auth
	}{
		{"auth", srv.URL + "/repo.git", gitops.Auth{Token: wrong}},
		{"no token", srv.URL + "/repo.git", gitops.Auth{}},
		{"in URL", strings.Replace(srv.URL, "http://", "http://me:"+wrong+"@", 1) + "/repo.git", gitops.Auth{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := update(tc.url, write(map[string]string{"a": "b"}))
			u.Auth = tc.auth
			var log bytes.Buffer
			_, err := gitops.Apply(context.Background(), u, &log)
			if !errors.Is(err, gitops.ErrAuth) {
				t.Fatalf("Apply() = %v, want ErrAuth", err)
			}
			if !errors.Is(err, transport.ErrAuthenticationRequired) {
				t.Errorf("Apply() = %v, want it to wrap transport.ErrAuthenticationRequired", err)
			}
			msg := err.Error()
			if strings.Contains(msg, wrong) || strings.Contains(log.String(), wrong) {
				t.Errorf("the token shows:\nerror: %s\nlog:\n%s", msg, &log)
			}
			if !strings.Contains(msg, srv.URL+"/repo.git") {
				t.Errorf("Apply() = %q, want it to name %s", msg, srv.URL)
			}
		})
	}
	if got := gittest.Pushes(t, repo); got != 0 {
		t.Errorf("pushes = %d, want 0", got)
	}
	if srv.Unauthorized.Load() == 0 {
		t.Error("the server refused no request")
	}
}

func TestApplyNoChange(t *testing.T) {
	t.Parallel()
	repo := gittest.Bare(t, initialFiles, "main")
	head := gittest.Head(t, repo, "main")
	for _, branch := range []string{"main", "gitship/web/dev"} {
		t.Run(branch, func(t *testing.T) {
			u := update(repo, write(map[string]string{"apps/web/dev/values.yaml": initialFiles["apps/web/dev/values.yaml"]}))
			u.Branch = branch
			res, err := gitops.Apply(context.Background(), u, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := gitops.Result{Commit: head, BaseCommit: head, Attempts: 1}
			if res != want {
				t.Errorf("Apply() = %+v, want %+v", res, want)
			}
		})
	}
	if got := gittest.Head(t, repo, "main"); got != head {
		t.Errorf("main = %s, want unchanged %s", got, head)
	}
	if got := gittest.Head(t, repo, "gitship/web/dev"); got != "" {
		t.Errorf("gitship/web/dev = %s, want no branch", got)
	}
	if got := gittest.Pushes(t, repo); got != 0 {
		t.Errorf("pushes = %d, want 0", got)
	}
}

func TestApplyDeletes(t *testing.T) {
	t.Parallel()
	repo := gittest.Bare(t, initialFiles, "main")
	u := update(repo, write(map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"}, "apps/api", "README.md"))
	if _, err := gitops.Apply(context.Background(), u, nil); err != nil {
		t.Fatal(err)
	}
	assertFiles(t, repo, "main", map[string]string{
		"apps/web/dev/values.yaml": "image: web:1.1.0\n",
		"apps/web/prd/values.yaml": "image: web:0.9.0\n",
	})

	// A deletion alone is a change too.
	u = update(repo, write(nil, "apps/web/prd/values.yaml"))
	res, err := gitops.Apply(context.Background(), u, nil)
	if err != nil || !res.Changed {
		t.Fatalf("Apply() = %+v, %v; want a change", res, err)
	}
	assertFiles(t, repo, "main", map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"})
}

func TestApplyPRBranch(t *testing.T) {
	t.Parallel()
	const branch = "gitship/web/dev"
	repo := gittest.Bare(t, initialFiles, "main")
	base := gittest.Head(t, repo, "main")
	apply := func(t *testing.T, msg string, files map[string]string) gitops.Result {
		t.Helper()
		u := update(repo, write(files))
		u.Branch = branch
		u.Message = msg
		var log bytes.Buffer
		res, err := gitops.Apply(context.Background(), u, &log)
		if err != nil {
			t.Fatalf("Apply(%q) = %v\nlog:\n%s", msg, err, &log)
		}
		if got := gittest.Head(t, repo, "main"); got != res.BaseCommit {
			t.Errorf("main = %s, want untouched at %s", got, res.BaseCommit)
		}
		return res
	}
	v110 := map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"}
	v120 := map[string]string{"apps/web/dev/values.yaml": "image: web:1.2.0\n"}

	first := apply(t, "deploy 1.1.0", v110)
	if !first.Changed || first.BaseCommit != base || first.Commit != gittest.Head(t, repo, branch) {
		t.Fatalf("first Apply() = %+v, want a new branch on %s", first, base)
	}
	assertFiles(t, repo, branch, with(initialFiles, v110))
	if got, want := gittest.Log(t, repo, branch), []string{"deploy 1.1.0", "initial"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	pushes := gittest.Pushes(t, repo)

	// The same content again: nothing pushed, the existing commit reported.
	again := apply(t, "deploy 1.1.0 again", v110)
	if want := (gitops.Result{Commit: first.Commit, BaseCommit: base, Attempts: 1}); again != want {
		t.Errorf("same content: Apply() = %+v, want %+v", again, want)
	}
	if got := gittest.Pushes(t, repo); got != pushes {
		t.Errorf("same content: pushes = %d, want %d", got, pushes)
	}

	// Other content: the branch is replaced, still Base plus one commit.
	second := apply(t, "deploy 1.2.0", v120)
	if !second.Changed || second.Commit == first.Commit || gittest.Head(t, repo, branch) != second.Commit {
		t.Errorf("new content: Apply() = %+v, want the branch moved from %s", second, first.Commit)
	}
	assertFiles(t, repo, branch, with(initialFiles, v120))
	if got, want := gittest.Log(t, repo, branch), []string{"deploy 1.2.0", "initial"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}

	// Base moves on: the same content on the new base is a different tree,
	// so the branch is rebuilt on it.
	other := update(repo, write(map[string]string{"apps/api/dev/values.yaml": "image: api:2.1.0\n"}))
	other.Message = "api: deploy 2.1.0"
	if _, err := gitops.Apply(context.Background(), other, nil); err != nil {
		t.Fatal(err)
	}
	third := apply(t, "deploy 1.2.0", v120)
	if !third.Changed || third.BaseCommit != gittest.Head(t, repo, "main") {
		t.Errorf("after base moved: Apply() = %+v, want a commit on the new main", third)
	}
	if got, want := gittest.Log(t, repo, branch), []string{"deploy 1.2.0", "api: deploy 2.1.0", "initial"}; !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	assertFiles(t, repo, branch, with(initialFiles, map[string]string{
		"apps/web/dev/values.yaml": "image: web:1.2.0\n",
		"apps/api/dev/values.yaml": "image: api:2.1.0\n",
	}))
}

// Ten runs commit to one base at once over HTTP: every push but one per
// round is rejected and retried on the new base, and no update is lost.
func TestApplyConcurrent(t *testing.T) {
	t.Parallel()
	const n = 10
	repo := gittest.Bare(t, initialFiles, "main")
	url := gittest.HTTP(t, filepath.Dir(repo), "tok3n") + "/" + gittest.RepoName
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		logs bytes.Buffer
		// most is the most attempts any run took.
		most int
	)
	want := maps.Clone(initialFiles)
	for i := range n {
		name := fmt.Sprintf("apps/app%d/dev/values.yaml", i)
		content := fmt.Sprintf("image: app%d:1.0.0\n", i)
		want[name] = content
		wg.Go(func() {
			u := update(url, write(map[string]string{name: content}))
			u.Auth.Token = "tok3n"
			u.Message = fmt.Sprintf("app%d: deploy", i)
			// Ten writers on one branch of a small test machine race
			// harder than CI runs do; what is tested is that no update
			// is lost, not the default number of attempts.
			u.Attempts = 20
			var log bytes.Buffer
			res, err := gitops.Apply(context.Background(), u, &log)
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
			logs.Write(log.Bytes())
			most = max(most, res.Attempts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Apply() = %v\nlogs:\n%s", err, &logs)
	}
	assertFiles(t, repo, "main", want)
	subjects := gittest.Log(t, repo, "main")
	if len(subjects) != n+1 {
		t.Errorf("log = %q, want %d commits", subjects, n+1)
	}
	t.Logf("%d retries, at most %d attempts", strings.Count(logs.String(), "; retry "), most)
}

func TestApplyRetriesRejectedPush(t *testing.T) {
	t.Parallel()
	for _, branch := range []string{"main", "gitship/web/dev"} {
		t.Run(branch, func(t *testing.T) {
			t.Parallel()
			repo := gittest.Bare(t, initialFiles, "main")
			gittest.RacePushes(t, repo, 1)
			writes := 0
			u := update(repo, func(dir string) error {
				writes++
				return write(map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"})(dir)
			})
			u.Branch = branch
			var log bytes.Buffer
			res, err := gitops.Apply(context.Background(), u, &log)
			if err != nil {
				t.Fatalf("Apply() = %v\nlog:\n%s", err, &log)
			}
			if res.Attempts != 2 || writes != 2 || !res.Changed || res.Commit != gittest.Head(t, repo, branch) {
				t.Errorf("Apply() = %+v after %d writes, want it to land on attempt 2", res, writes)
			}
			if !strings.Contains(log.String(), "rejected") || !strings.Contains(log.String(), "retry 2/10 in ") {
				t.Errorf("log does not show the retry:\n%s", &log)
			}
			if got := gittest.Pushes(t, repo); got != 2 {
				t.Errorf("pushes = %d, want 2", got)
			}
			// The commit that won the race is kept, under this one.
			if got, want := gittest.Log(t, repo, branch), []string{u.Message, "gittest: a push that got there first", "initial"}; branch == "main" && !slices.Equal(got, want) {
				t.Errorf("log = %q, want %q", got, want)
			}
		})
	}
}

// Over smart HTTP a clone lists the refs in one request and asks for
// their objects in another; git http-backend refuses a commit that no ref
// reaches any more ("not our ref"). The pull request branch is replaced
// by every run, so another run's push landing between the two requests of
// the read of the branch is a lost race like a rejected push: the attempt
// is made again, on what that run pushed. (Base only moves forward: what
// the listing named stays reachable, and the push finds the race.)
func TestApplyBranchReplacedWhileRead(t *testing.T) {
	t.Parallel()
	const branch = "gitship/web/dev"
	repo := gittest.Bare(t, initialFiles, "main")
	// The pull request branch as a previous run left it, and the commit
	// another run replaces it with.
	for _, b := range []string{branch, "next"} {
		u := update(repo, write(map[string]string{"apps/api/dev/values.yaml": "image: api:" + b + "\n"}))
		u.Branch = b
		if _, err := gitops.Apply(context.Background(), u, nil); err != nil {
			t.Fatal(err)
		}
	}
	next := gittest.Head(t, repo, "next")
	// The second upload-pack request of the first attempt reads the pull
	// request branch (the first clones main).
	srv := gittest.Serve(t, filepath.Dir(repo), gittest.HTTPOptions{BeforeUploadPack: func(n int) {
		if n == 2 {
			gittest.Git(t, repo, "update-ref", "refs/heads/"+branch, next)
		}
	}})
	u := update(srv.URL+"/"+gittest.RepoName, write(map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"}))
	u.Branch = branch
	var log bytes.Buffer
	res, err := gitops.Apply(context.Background(), u, &log)
	if err != nil {
		t.Fatalf("Apply() = %v\nlog:\n%s", err, &log)
	}
	if res.Attempts != 2 || !res.Changed || res.Commit != gittest.Head(t, repo, branch) {
		t.Errorf("Apply() = %+v, want the commit on %s on attempt 2\nlog:\n%s", res, branch, &log)
	}
	if !strings.Contains(log.String(), branch+" moved on while it was read") {
		t.Errorf("log does not show the branch moving:\n%s", &log)
	}
}

func TestApplyGivesUp(t *testing.T) {
	t.Parallel()
	repo := gittest.Bare(t, initialFiles, "main")
	head := gittest.Head(t, repo, "main")
	gittest.RacePushes(t, repo, 100)
	u := update(repo, write(map[string]string{"a": "b"}))
	u.Attempts = 3
	res, err := gitops.Apply(context.Background(), u, nil)
	if !errors.Is(err, gitops.ErrRejected) || res.Attempts != 3 {
		t.Fatalf("Apply() = %+v, %v; want ErrRejected after 3 attempts", res, err)
	}
	if !strings.Contains(err.Error(), "failed to update ref") {
		t.Errorf("Apply() = %v, want the server's reason", err)
	}
	if got := gittest.Pushes(t, repo); got != 3 {
		t.Errorf("pushes = %d, want 3", got)
	}
	// Only the three commits of the racing hook landed.
	if got := gittest.Git(t, repo, "rev-list", "--count", head+"..main"); got != "3\n" {
		t.Errorf("main moved by %q commits, want the hook's 3", got)
	}
}

// A push the server refuses by policy (a pre-receive hook, branch
// protection) is not retried: a retry is refused the same way. The error
// carries the server's own text.
func TestApplyRefused(t *testing.T) {
	t.Parallel()
	repo := gittest.Bare(t, initialFiles, "main")
	head := gittest.Head(t, repo, "main")
	url := gittest.HTTP(t, filepath.Dir(repo), "") + "/" + gittest.RepoName
	for _, tc := range []struct{ name, url, branch string }{
		{"path", repo, "main"},
		{"file", "file://" + repo, "gitship/web/dev"},
		{"http", url, "main"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := gittest.Pushes(t, repo)
			gittest.RejectPushes(t, repo, 100, "policy: main is protected", "policy: open a pull request")
			u := update(tc.url, write(map[string]string{"a": "b"}))
			u.Branch = tc.branch
			var log bytes.Buffer
			res, err := gitops.Apply(context.Background(), u, &log)
			if !errors.Is(err, gitops.ErrRefused) || errors.Is(err, gitops.ErrRejected) || res.Attempts != 1 {
				t.Fatalf("Apply() = %+v, %v; want ErrRefused after 1 attempt\nlog:\n%s", res, err, &log)
			}
			for _, want := range []string{"pre-receive hook declined", "\nremote: policy: main is protected\nremote: policy: open a pull request"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Apply() = %v, want %q", err, want)
				}
			}
			if got := gittest.Pushes(t, repo) - before; got != 1 {
				t.Errorf("pushes = %d, want 1", got)
			}
		})
	}
	if got := gittest.Head(t, repo, "main"); got != head {
		t.Errorf("main = %s, want unchanged %s", got, head)
	}
}

// cancelOn cancels when a log line contains substr.
type cancelOn struct {
	substr string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.substr) {
		c.cancel()
	}
	return len(p), nil
}

func TestApplyCanceled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, at string }{
		{"during the wait", "; retry 2/"},
		{"before the push", "gitops: commit "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.Bare(t, initialFiles, "main")
			gittest.RacePushes(t, repo, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			u := update(repo, write(map[string]string{"a": "b"}))
			res, err := gitops.Apply(ctx, u, cancelOn{tc.at, cancel})
			if !errors.Is(err, context.Canceled) || res.Changed {
				t.Fatalf("Apply() = %+v, %v; want context.Canceled", res, err)
			}
			// Main has what the racing push left there, nothing of this run.
			assertFiles(t, repo, "main", initialFiles)
		})
	}
}

func TestApplyWriteError(t *testing.T) {
	t.Parallel()
	repo := gittest.Bare(t, initialFiles, "main")
	boom := errors.New("boom")
	u := update(repo, func(string) error { return boom })
	if _, err := gitops.Apply(context.Background(), u, nil); !errors.Is(err, boom) {
		t.Errorf("Apply() = %v, want %v", err, boom)
	}
}

func TestApplyInvalid(t *testing.T) {
	t.Parallel()
	repo := gittest.Bare(t, initialFiles, "main")
	for _, tc := range []struct {
		name   string
		change func(*gitops.Update)
		want   string
	}{
		{"no author", func(u *gitops.Update) { u.Author = gitops.Author{} }, "missing Author.Name, Author.Email"},
		{"no message", func(u *gitops.Update) { u.Message = " " }, "missing Message"},
		{"bad branch", func(u *gitops.Update) { u.Branch = "gitship/../x" }, `"refs/heads/gitship/../x" is not a valid git ref name: it contains ".."`},
		{"branch component .lock", func(u *gitops.Update) { u.Branch = "gitship/web.lock/dev" }, `component "web.lock" ends with ".lock"`},
		{"author name with a newline", func(u *gitops.Update) { u.Author.Name = "x\ncommitter evil <e@x> 0 +0000" }, "Author.Name"},
		{"author email with >", func(u *gitops.Update) { u.Author.Email = "a@b> 0 +0000" }, "Author.Email"},
		{"no base", func(u *gitops.Update) { u.Base = "nope" }, `couldn't find remote ref "refs/heads/nope"`},
		{"both keys", func(u *gitops.Update) { u.Signing = &gitops.Signing{OpenPGPKey: []byte("x"), SSHKey: []byte("y")} }, "not both"},
		{"ssh without known hosts", func(u *gitops.Update) {
			u.URL = "git@github.com:org/repo.git"
			u.Auth = gitops.Auth{SSHKey: []byte("key")}
		}, "KnownHostsFile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := update(repo, write(nil))
			tc.change(&u)
			if _, err := gitops.Apply(context.Background(), u, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Apply() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// Azure Repos refuses clients that do not ask for multi_ack; the fake
// server does the same. Not parallel: it flips go-git's capability list.
func TestAzureMultiAck(t *testing.T) {
	repo := gittest.Bare(t, initialFiles, "main")
	srv := gittest.Serve(t, filepath.Dir(repo), gittest.HTTPOptions{Token: "pat", RequireMultiAck: true})
	url := srv.URL + "/" + gittest.RepoName

	t.Run("fake refuses go-git's default", func(t *testing.T) {
		saved := transport.UnsupportedCapabilities
		t.Cleanup(func() { transport.UnsupportedCapabilities = saved })
		transport.UnsupportedCapabilities = []capability.Capability{
			capability.MultiACK, capability.MultiACKDetailed, capability.ThinPack,
		}
		_, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{
			URL: url, Auth: &githttp.BasicAuth{Username: "x", Password: "pat"}, Depth: 1,
		})
		if err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("clone without multi_ack = %v, want the fake's 400", err)
		}
	})
	t.Run("apply", func(t *testing.T) {
		for _, branch := range []string{"gitship/web/dev", "gitship/web/dev", "main"} {
			u := update(url, write(map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"}))
			u.Branch = branch
			u.Auth = gitops.Auth{Token: "pat"}
			if _, err := gitops.Apply(context.Background(), u, nil); err != nil {
				t.Fatalf("Apply(%s) = %v", branch, err)
			}
		}
		assertFiles(t, repo, "main", with(initialFiles, map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"}))
	})
}

func TestApplySigned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  func(t *testing.T, dir, passphrase string) (*gitops.Signing, []string)
	}{
		{"openpgp", openPGPKey},
		{"ssh", sshKey},
	} {
		for _, passphrase := range []string{"", "correct horse"} {
			t.Run(fmt.Sprintf("%s passphrase=%t", tc.name, passphrase != ""), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				signing, verifyConfig := tc.key(t, dir, passphrase)
				repo := gittest.Bare(t, initialFiles, "main")
				u := update(repo, write(map[string]string{"apps/web/dev/values.yaml": "image: web:1.1.0\n"}))
				u.Signing = signing
				res, err := gitops.Apply(context.Background(), u, nil)
				if err != nil {
					t.Fatal(err)
				}
				args := append(verifyConfig, "verify-commit", "-v", res.Commit)
				cmd := gittest.Command(repo, args...)
				cmd.Env = append(cmd.Env, "GNUPGHOME="+dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("git verify-commit = %v\n%s", err, out)
				}
				if pub, err := os.ReadFile(filepath.Join(dir, fluxKeyFile)); err == nil {
					fluxVerify(t, repo, res.Commit, string(pub))
				}

				if passphrase != "" {
					pushes := gittest.Pushes(t, repo)
					u.Signing.Passphrase = "wrong passphrase"
					if _, err := gitops.Apply(context.Background(), u, nil); err == nil || !strings.Contains(err.Error(), "signing") {
						t.Errorf("Apply() with a wrong passphrase = %v, want a signing error", err)
					}
					if got := gittest.Pushes(t, repo); got != pushes {
						t.Errorf("pushes = %d after a bad key, want %d", got, pushes)
					}
				}
			})
		}
	}
}

// openPGPKey makes a signing key, imports its public half into a GnuPG
// home at dir, and returns the Signing and no extra git configuration.
func openPGPKey(t *testing.T, dir, passphrase string) (*gitops.Signing, []string) {
	e, err := openpgp.NewEntity("gitship", "", "gitship@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if passphrase != "" {
		// The default S2K takes seconds under the race detector.
		cfg := &packet.Config{S2KConfig: &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, S2KCount: 65536}}
		if err := e.EncryptPrivateKeys([]byte(passphrase), cfg); err != nil {
			t.Fatal(err)
		}
	}
	var priv bytes.Buffer
	w, err = armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()

	if err := os.WriteFile(filepath.Join(dir, fluxKeyFile), pub.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Skip("gpg is not installed")
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gpg, "--batch", "--quiet", "--import")
	cmd.Env = append(os.Environ(), "GNUPGHOME="+dir)
	cmd.Stdin = &pub
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg --import = %v\n%s", err, out)
	}
	return &gitops.Signing{OpenPGPKey: priv.Bytes(), Passphrase: passphrase}, nil
}

// fluxKeyFile is where openPGPKey leaves the armored public key, which a
// Flux GitRepository's spec.verify secret holds.
const fluxKeyFile = "flux-public.asc"

// fluxVerify checks commit in repo as Flux's source-controller does for a
// GitRepository with spec.verify (provider pgp, mode HEAD): fluxcd/pkg/git's
// Commit.Verify over the commit encoded without its signature, which is
// how fluxcd/pkg/git/gogit builds it (buildCommitWithRef). The key of
// another identity must not verify it.
func fluxVerify(t *testing.T, repo, commit, armoredPublicKey string) {
	t.Helper()
	r, err := git.PlainOpen(repo)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		t.Fatal(err)
	}
	encoded := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(encoded); err != nil {
		t.Fatal(err)
	}
	rd, err := encoded.Reader()
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	fc := fluxgit.Commit{Hash: fluxgit.Hash(c.Hash.String()), Signature: c.PGPSignature, Encoded: payload}
	if _, err := fc.Verify(armoredPublicKey); err != nil {
		t.Errorf("Flux's commit verification refuses the signed commit: %v", err)
	}
	other, err := openpgp.NewEntity("someone else", "", "else@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	other.Serialize(w)
	w.Close()
	if _, err := fc.Verify(buf.String()); err == nil {
		t.Error("Flux's commit verification accepts the commit with another identity's key")
	}
}

// sshKey makes an ed25519 key with ssh-keygen and an allowed signers file
// for it in dir, and returns the Signing and the git configuration that
// verifies it.
func sshKey(t *testing.T, dir, passphrase string) (*gitops.Signing, []string) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	key := filepath.Join(dir, "id_ed25519")
	// One KDF round: the default 16 take seconds to parse under -race.
	out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-a", "1", "-N", passphrase, "-C", "gitship", "-f", key).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen = %v\n%s", err, out)
	}
	priv, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	allowed := filepath.Join(dir, "allowed_signers")
	line := `gitship@example.com namespaces="git" ` + string(pub)
	if err := os.WriteFile(allowed, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return &gitops.Signing{SSHKey: priv, Passphrase: passphrase},
		[]string{"-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=" + allowed}
}

// A GitOps repository just created, with no commit: a direct commit
// starts its base branch; a pull request says it needs one first.
func TestApplyEmptyRepository(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "empty.git")
	gittest.Git(t, filepath.Dir(repo), "init", "--quiet", "--bare", "--initial-branch=main", repo)

	pr := update(repo, write(map[string]string{"clusters/dev/web/deployment.yaml": "kind: Deployment\n"}))
	pr.Branch = "gitship/web/dev"
	if _, err := gitops.Apply(context.Background(), pr, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "is empty: a pull request needs its base branch main") {
		t.Errorf("pull request into an empty repository: %v", err)
	}

	res, err := gitops.Apply(context.Background(), update(repo, write(map[string]string{"clusters/dev/web/deployment.yaml": "kind: Deployment\n"})), &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || gittest.Head(t, repo, "main") != res.Commit {
		t.Errorf("result %+v, main at %s", res, gittest.Head(t, repo, "main"))
	}
	if got := gittest.Files(t, repo, "main")["clusters/dev/web/deployment.yaml"]; got != "kind: Deployment\n" {
		t.Errorf("main holds %q", got)
	}
}

// With Paths, only they change: the clone is not checked out, Write sees
// the base's files under them, and a file written elsewhere is not
// committed.
func TestApplyPaths(t *testing.T) {
	repo := gittest.Bare(t, map[string]string{
		"clusters/dev/web/deployment.yaml": "replicas: 1\n", "clusters/dev/web/old.yaml": "old\n",
		"clusters/prod/web/deployment.yaml": "replicas: 3\n", "README.md": "# state\n",
	}, "main")
	var seen []string
	u := update(repo, func(dir string) error {
		entries, _ := os.ReadDir(filepath.Join(dir, "clusters", "dev", "web"))
		for _, e := range entries {
			seen = append(seen, e.Name())
		}
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err == nil {
			return fmt.Errorf("a file outside Paths was checked out")
		}
		return write(map[string]string{
			"clusters/dev/web/deployment.yaml":  "replicas: 2\n",
			"clusters/dev/web/new/service.yaml": "kind: Service\n",
			"stray.txt":                         "not in Paths\n",
		}, "clusters/dev/web/old.yaml")(dir)
	})
	u.Paths = []string{"clusters/dev/web"}
	res, err := gitops.Apply(context.Background(), u, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "deployment.yaml,old.yaml" {
		t.Errorf("Write saw %v under the path, want the base's files", seen)
	}
	want := map[string]string{
		"clusters/dev/web/deployment.yaml": "replicas: 2\n", "clusters/dev/web/new/service.yaml": "kind: Service\n",
		"clusters/prod/web/deployment.yaml": "replicas: 3\n", "README.md": "# state\n",
	}
	got := gittest.Files(t, repo, "main")
	if !res.Changed || len(got) != len(want) {
		t.Errorf("result %+v, files %v", res, got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// The same again: nothing to commit.
	again, err := gitops.Apply(context.Background(), u, &strings.Builder{})
	if err != nil || again.Changed || again.Commit != res.Commit {
		t.Errorf("second run: %+v, %v", again, err)
	}
}
