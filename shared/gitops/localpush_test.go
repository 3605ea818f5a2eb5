package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/go-git/go-billy/v5/osfs"

	"github.com/gitship/gitship/internal/gittest"
)

var (
	hashA = plumbing.NewHash("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	hashB = plumbing.NewHash("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	hashC = plumbing.NewHash("cccccccccccccccccccccccccccccccccccccccc")
)

func TestUpdateRef(t *testing.T) {
	const ref = "refs/heads/main"
	for _, tc := range []struct {
		name     string
		loose    string // the loose ref file's content, "" for none
		packed   string // packed-refs, "" for none
		locked   bool   // main.lock is held
		old      plumbing.Hash
		want     string // error text, "" for success
		race     bool   // the error is a lost race, which Apply retries
		wantHead plumbing.Hash
	}{
		{name: "from the old value", loose: hashA.String() + "\n", old: hashA, wantHead: hashB},
		{name: "moved since", loose: hashA.String() + "\n", old: hashC, want: "is at " + hashA.String() + " but expected " + hashC.String(), race: true, wantHead: hashA},
		{name: "held by another push", loose: hashA.String() + "\n", locked: true, old: hashA, want: "main.lock': file exists", race: true, wantHead: hashA},
		{name: "packed", packed: "# pack-refs with: peeled fully-peeled sorted \n" + hashA.String() + " " + ref + "\n", old: hashA, wantHead: hashB},
		{name: "packed, moved since", packed: hashA.String() + " " + ref + "\n", old: hashC, want: "is at " + hashA.String(), race: true, wantHead: hashA},
		{name: "loose over packed", loose: hashC.String() + "\n", packed: hashA.String() + " " + ref + "\n", old: hashA, want: "is at " + hashC.String(), race: true, wantHead: hashC},
		{name: "create", old: plumbing.ZeroHash, wantHead: hashB},
		{name: "create, made since", loose: hashA.String() + "\n", old: plumbing.ZeroHash, want: "reference already exists", race: true, wantHead: hashA},
		{name: "deleted since", old: hashA, want: "it is gone", race: true, wantHead: plumbing.ZeroHash},
		{name: "garbage in the ref", loose: "\n", old: hashA, want: "not a commit id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "refs", "heads", "main")
			os.MkdirAll(filepath.Dir(path), 0o755)
			if tc.loose != "" {
				os.WriteFile(path, []byte(tc.loose), 0o644)
			}
			if tc.packed != "" {
				os.WriteFile(filepath.Join(dir, "packed-refs"), []byte(tc.packed), 0o644)
			}
			if tc.locked {
				os.WriteFile(path+".lock", nil, 0o644)
			}
			err := updateRef(dir, ref, tc.old, hashB)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("updateRef() = %v, want %q", err, tc.want)
			}
			var race *raceError
			if tc.want != "" && errors.As(err, &race) != tc.race {
				t.Errorf("updateRef() = %v: a lost race %t, want %t", err, !tc.race, tc.race)
			}
			if tc.wantHead != (plumbing.Hash{}) || tc.want == "" {
				if got, _ := readRef(dir, ref); got != tc.wantHead {
					t.Errorf("ref = %s, want %s", got, tc.wantHead)
				}
			}
			if _, err := os.Stat(path + ".lock"); tc.locked != (err == nil) {
				t.Errorf("lock file left: %t, want %t (another holder's lock stays)", err == nil, tc.locked)
			}
		})
	}
}

// A lock another writer holds for a moment is waited for, as git's
// receive-pack waits core.filesRefLockTimeout: the update then goes
// ahead from the value the holder left, without a lost race.
func TestUpdateRefWaitsForLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "refs", "heads", "main")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(hashA.String()+"\n"), 0o644)
	os.WriteFile(path+".lock", nil, 0o644)
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(lockTimeout / 10)
		os.Remove(path + ".lock")
	}()
	err := updateRef(dir, "refs/heads/main", hashA, hashB)
	<-released
	if err != nil {
		t.Fatalf("updateRef() = %v, want it to wait for the lock", err)
	}
	if got, _ := readRef(dir, "refs/heads/main"); got != hashB {
		t.Errorf("ref = %s, want %s", got, hashB)
	}
}

// A failure that no other writer caused (a directory of refs where the
// ref is, a ref where its directory would be, a ref file that is a
// directory) is an error of the push, not a lost race: Apply fails at
// once instead of trying again, and says why.
func TestUpdateRefFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(gitDir string)
		ref   plumbing.ReferenceName
		want  string
	}{
		{"a ref where its directory would be", func(d string) {
			os.WriteFile(filepath.Join(d, "refs", "heads", "gitship"), []byte(hashA.String()+"\n"), 0o644)
		}, "refs/heads/gitship/web/dev", "create the directory of ref 'refs/heads/gitship/web/dev'"},
		{"a directory of refs where the ref is", func(d string) {
			os.MkdirAll(filepath.Join(d, "refs", "heads", "gitship", "web", "dev"), 0o755)
			os.WriteFile(filepath.Join(d, "refs", "heads", "gitship", "web", "dev", "x"), []byte(hashA.String()+"\n"), 0o644)
		}, "refs/heads/gitship/web/dev", "read ref 'refs/heads/gitship/web/dev'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o755)
			tc.setup(dir)
			err := updateRef(dir, tc.ref, plumbing.ZeroHash, hashB)
			var race *raceError
			if err == nil || errors.As(err, &race) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("updateRef() = %#v, want a failure (not a race) saying %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(tc.ref.String())+".lock")); err == nil {
				t.Error("lock file left behind")
			}

			// Through Apply to the in-process server: one attempt, the
			// reason shown, not ErrRejected after the retries.
			repo := gittest.Bare(t, map[string]string{"a": "b"}, "main")
			tc.setup(repo)
			n := &atomic.Int32{}
			proto := installLossy(t, lossy{localServer: newLocalServer(), lose: n})
			var log bytes.Buffer
			res, err := Apply(context.Background(), Update{
				URL: proto + "://" + repo, Base: "main", Branch: strings.TrimPrefix(tc.ref.String(), "refs/heads/"),
				Author: Author{Name: "t", Email: "t@example.com"}, Message: "m", Attempts: 3,
				Write: func(dir string) error { return os.WriteFile(filepath.Join(dir, "c"), []byte("d"), 0o644) },
			}, &log)
			if err == nil || errors.Is(err, ErrRejected) || errors.Is(err, ErrRefused) || res.Attempts != 1 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Apply() = %+v, %v; want a failure saying %q after 1 attempt\nlog:\n%s", res, err, tc.want, &log)
			}
		})
	}
}

// Many writers from one old value: exactly one wins, as under git.
func TestUpdateRefRace(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o755)
	os.WriteFile(filepath.Join(dir, "refs", "heads", "main"), []byte(hashA.String()+"\n"), 0o644)
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			// Each its own value, none the old one (a writer of "aaa…"
			// would have left the ref where it was, and a second win
			// counted): 00…01, 00…02, …
			h := plumbing.NewHash(fmt.Sprintf("%040x", i+1))
			for range 20 { // a writer that found the lock retries, as Apply does
				err := updateRef(dir, "refs/heads/main", hashA, h)
				if err == nil {
					won.Add(1)
					return
				}
				if !strings.Contains(err.Error(), "file exists") {
					return // lost: the ref moved
				}
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d writers moved the ref from its old value, want 1", won.Load())
	}
}

// go-git's own listing fails on a ref being written by git (an empty
// lock file); the in-process server's skips it.
func TestRefsStorerSkipsLocks(t *testing.T) {
	repo := gittest.Bare(t, map[string]string{"a": "b"}, "main")
	head := gittest.Head(t, repo, "main")
	os.WriteFile(filepath.Join(repo, "refs", "heads", "main.lock"), nil, 0o644)
	gittest.Git(t, repo, "pack-refs", "--all")
	gittest.Git(t, repo, "update-ref", "refs/heads/other", head)

	sto, err := refsLoader{}.Load(&transport.Endpoint{Protocol: "file", Path: repo})
	if err != nil {
		t.Fatal(err)
	}
	iter, err := sto.IterReferences()
	if err != nil {
		t.Fatalf("IterReferences() = %v", err)
	}
	got := map[string]string{}
	iter.ForEach(func(r *plumbing.Reference) error { got[r.Name().String()] = r.Hash().String(); return nil })
	want := map[string]string{"refs/heads/main": head, "refs/heads/other": head}
	if len(got) != len(want) || got["refs/heads/main"] != head || got["refs/heads/other"] != head {
		t.Errorf("refs = %v, want %v", got, want)
	}
	if _, err := filesystem.NewStorage(osfs.New(repo), cache.NewObjectLRUDefault()).IterReferences(); err == nil {
		t.Log("go-git's own listing no longer fails on a lock file")
	}
}

// lossy is the in-process server with a receive-pack that says yes and
// then loses the update, lose times: what go-git's own server did under
// concurrent pushes. With to set, the update is not lost but replaced
// right after by to: another run's push that lands between this run's
// push and its reading the branch back.
type lossy struct {
	localServer
	lose *atomic.Int32
	to   plumbing.Hash
}

func (l lossy) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	s, err := l.localServer.NewReceivePackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	return lossySession{s.(*casSession), l}, nil
}

type lossySession struct {
	*casSession
	l lossy
}

func (s lossySession) ReceivePack(ctx context.Context, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	rs, err := s.casSession.ReceivePack(ctx, req)
	if err == nil && s.l.lose.Add(-1) >= 0 {
		for _, c := range req.Commands {
			to := c.Old
			if !s.l.to.IsZero() {
				to = s.l.to
			}
			if err := updateRef(s.gitDir, c.Name, c.New, to); err != nil {
				return nil, err
			}
		}
	}
	return rs, err
}

// installLossy installs l as a protocol of its own for the test.
func installLossy(t *testing.T, l lossy) string {
	proto := "lossy" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, strings.ToLower(t.Name()))
	client.InstallProtocol(proto, l)
	inProcess[proto] = true
	t.Cleanup(func() { client.InstallProtocol(proto, nil); delete(inProcess, proto) })
	return proto
}

// A push the server reports done but that is not on the branch is found
// by reading the branch back, and made again.
func TestApplyConfirmsPush(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lose     int32
		attempts int
		wantErr  error
	}{
		{"lost once", 1, 2, nil},
		{"lost every time", 100, 3, ErrRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &atomic.Int32{}
			n.Store(tc.lose)
			proto := installLossy(t, lossy{localServer: newLocalServer(), lose: n})

			repo := gittest.Bare(t, map[string]string{"a": "b"}, "main")
			head := gittest.Head(t, repo, "main")
			var log bytes.Buffer
			res, err := Apply(context.Background(), Update{
				URL: proto + "://" + repo, Base: "main", Author: Author{Name: "t", Email: "t@example.com"}, Message: "m",
				Attempts: 3, Write: func(dir string) error { return os.WriteFile(filepath.Join(dir, "c"), []byte("d"), 0o644) },
			}, &log)
			if !errors.Is(err, tc.wantErr) || res.Attempts != tc.attempts {
				t.Fatalf("Apply() = %+v, %v; want %v after %d attempts\nlog:\n%s", res, err, tc.wantErr, tc.attempts, &log)
			}
			if !strings.Contains(log.String(), "was reported done, but refs/heads/main is at "+head[:12]+", which does not contain it") {
				t.Errorf("log does not show the lost push:\n%s", &log)
			}
			if got := gittest.Head(t, repo, "main"); tc.wantErr == nil && got != res.Commit || tc.wantErr != nil && got != head {
				t.Errorf("main = %s; Apply() = %+v", got, res)
			}
		})
	}
}

// The pull request branch is replaced by every run under a lease. A run
// whose push landed and was then replaced by a newer run's (before it read
// the branch back) has done its part: it must not take that for a lost
// push and force its older content over the newer run's. A push that the
// server reported done but that left the branch where it was is made
// again, as on Base.
func TestApplyConfirmsPRBranch(t *testing.T) {
	const branch = "gitship/web/dev"
	for _, tc := range []struct {
		name     string
		replaced bool // another run's push replaces the branch right after
		attempts int
		wantLog  string
	}{
		{"replaced since", true, 1, "refs/heads/" + branch + " was replaced since by "},
		{"lost", false, 2, "was reported done, but refs/heads/" + branch + " is still at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := gittest.Bare(t, map[string]string{"a": "b"}, "main")
			main := gittest.Head(t, repo, "main")
			u := Update{
				URL: repo, Base: "main", Branch: branch, Author: Author{Name: "t", Email: "t@example.com"}, Message: "m",
				Attempts: 3, Write: func(dir string) error { return os.WriteFile(filepath.Join(dir, "c"), []byte("1"), 0o644) },
			}
			if _, err := Apply(context.Background(), u, io.Discard); err != nil {
				t.Fatal(err)
			}
			old := gittest.Head(t, repo, branch)

			// The newer run's commit: any commit of the repository will do.
			n := &atomic.Int32{}
			n.Store(1)
			l := lossy{localServer: newLocalServer(), lose: n}
			if tc.replaced {
				l.to = plumbing.NewHash(main)
			}
			u.URL = installLossy(t, l) + "://" + repo
			u.Write = func(dir string) error { return os.WriteFile(filepath.Join(dir, "c"), []byte("2"), 0o644) }
			var log bytes.Buffer
			res, err := Apply(context.Background(), u, &log)
			if err != nil || !res.Changed || res.Attempts != tc.attempts {
				t.Fatalf("Apply() = %+v, %v; want a change after %d attempts\nlog:\n%s", res, err, tc.attempts, &log)
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log does not say %q:\n%s", tc.wantLog, &log)
			}
			got := gittest.Head(t, repo, branch)
			if tc.replaced && got != main {
				t.Errorf("%s = %s, want the newer run's %s left in place (it was at %s before this run)", branch, got, main, old)
			}
			if !tc.replaced && got != res.Commit {
				t.Errorf("%s = %s, want this run's %s", branch, got, res.Commit)
			}
		})
	}
}
