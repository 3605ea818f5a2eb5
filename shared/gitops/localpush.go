package gitops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// The in-process file server. Without git, go-git serves file URLs
// itself (server.DefaultServer), and its receive-pack writes a ref in
// place, with no look at the value the pusher started from: ten runs that
// pushed to one branch at once each saw "pushed", and the updates that
// were overwritten were lost, dangling in the repository (issue 13). Or a
// reader caught the ref file truncated ("ref file is empty"). localServer
// keeps go-git's server for what it does well, serving packs and
// receiving them, and updates refs itself as git's receive-pack does: a
// lock file created exclusively next to the ref, the current value
// compared with the old value the pusher sent, the new value written to
// the lock and renamed over the ref. A lock another writer holds is
// waited for, about a second, as git waits core.filesRefLockTimeout. A
// push that lost the race (the lock still held, the ref not at the old
// value) comes back as "ng <ref> failed to update ref", as git
// http-backend reports it, and Apply retries it on the new base; any
// other failure to write the ref is an error of the push, not retried.
// The lock is git's own, so runs with
// and without git, and git itself, exclude each other too. Its reads of
// the refs skip lock files, which go-git's own listing reads as refs and
// fails on while they are empty ("ref file is empty").

// localServer is a transport.Transport for file URLs.
type localServer struct{ transport.Transport }

// newLocalServer is go-git's server over the repositories on disk, with
// localpush.go's refs.
func newLocalServer() localServer { return localServer{server.NewServer(refsLoader{})} }

// refsLoader loads a repository on disk as server.DefaultLoader does,
// with refsStorer's listing of refs.
type refsLoader struct{}

func (refsLoader) Load(ep *transport.Endpoint) (storer.Storer, error) {
	dir, err := gitDir(ep.Path)
	if err != nil {
		return nil, err
	}
	return refsStorer{filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault()), dir}, nil
}

// refsStorer is go-git's storage of the repository at gitDir, except for
// the listing of refs.
type refsStorer struct {
	*filesystem.Storage
	gitDir string
}

// IterReferences lists the refs that name a commit: loose ones under
// refs/, skipping lock files and anything else that is not a ref, then
// those of packed-refs that are not loose.
func (s refsStorer) IterReferences() (storer.ReferenceIter, error) {
	var refs []*plumbing.Reference
	seen := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(s.gitDir, "refs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(s.gitDir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if CheckRefName(name) != nil {
			return nil // a lock, a temporary file
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // renamed or deleted since the listing
		}
		if err != nil {
			return err
		}
		if v := strings.TrimSpace(string(data)); plumbing.IsHash(v) {
			seen[name] = true
			refs = append(refs, plumbing.NewHashReference(plumbing.ReferenceName(name), plumbing.NewHash(v)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	packed, err := os.ReadFile(filepath.Join(s.gitDir, "packed-refs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, line := range strings.Split(string(packed), "\n") {
		h, name, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && plumbing.IsHash(h) && !seen[name] && strings.HasPrefix(name, "refs/") {
			refs = append(refs, plumbing.NewHashReference(plumbing.ReferenceName(name), plumbing.NewHash(h)))
		}
	}
	return storer.NewReferenceSliceIter(refs), nil
}

func (s localServer) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	sess, err := s.Transport.NewReceivePackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	dir, err := gitDir(ep.Path)
	if err != nil {
		sess.Close()
		return nil, err
	}
	return &casSession{ReceivePackSession: sess, gitDir: dir}, nil
}

// gitDir is the repository directory at path: path itself when bare,
// else its .git.
func gitDir(path string) (string, error) {
	if _, err := os.Stat(filepath.Join(path, "config")); err == nil {
		return path, nil
	}
	dir := filepath.Join(path, ".git")
	if _, err := os.Stat(dir); err != nil {
		return "", transport.ErrRepositoryNotFound
	}
	return dir, nil
}

// casSession lets go-git's session store the pack, then updates the refs
// itself, each under its lock and against its old value.
type casSession struct {
	transport.ReceivePackSession
	gitDir string
}

func (s *casSession) ReceivePack(ctx context.Context, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	// The pack only: go-git's server would set the refs blindly.
	packOnly := *req
	packOnly.Commands = nil
	if _, err := s.ReceivePackSession.ReceivePack(ctx, &packOnly); err != nil {
		return nil, err
	}
	rs := packp.NewReportStatus()
	rs.UnpackStatus = "ok"
	for _, cmd := range req.Commands {
		status := "ok"
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cmd.Action() == packp.Delete {
			status = "deleting a ref is not supported by gitship's in-process file server"
		} else {
			if err := readable(s.gitDir, cmd.New, lockTimeout); err != nil {
				// Another push saving its pack at this moment (its .pack in
				// place, its .idx not yet) hides every pack from go-git's
				// listing: a race like a held lock, pushed again.
				status = "failed to update ref (the pushed objects are not readable: " + err.Error() + ")"
			} else if err := updateRef(s.gitDir, cmd.Name, cmd.Old, cmd.New); err != nil {
				var race *raceError
				if !errors.As(err, &race) {
					// Not a lost race but a failure of the disk or of
					// the repository: an error of the push, which
					// isRejection does not take for a race to retry.
					return nil, fmt.Errorf("update %s: %w", cmd.Name, err)
				}
				status = "failed to update ref (" + err.Error() + ")"
			}
		}
		rs.CommandStatuses = append(rs.CommandStatuses, &packp.CommandStatus{ReferenceName: cmd.Name, Status: status})
	}
	return rs, nil
}

// readable waits up to timeout for object h to be readable in the
// repository at gitDir, each try with a fresh listing of its packs.
func readable(gitDir string, h plumbing.Hash, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		sto := filesystem.NewStorage(osfs.New(gitDir), cache.NewObjectLRUDefault())
		_, err := sto.EncodedObject(plumbing.AnyObject, h)
		if err == nil {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return err
		}
		time.Sleep(min(wait/2+rand.N(wait), left))
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// raceError is an updateRef that another writer stopped: its lock held
// past lockTimeout, or the ref not at the old value. The push reports it
// as "failed to update ref", which Apply retries on the new value; any
// other error of updateRef is a failure (a disk full, a ref where a
// directory of refs is).
type raceError struct{ msg string }

func (e *raceError) Error() string { return e.msg }

// lockTimeout is how long updateRef waits for a ref's lock held by
// another writer: git's receive-pack waits core.filesRefLockTimeout
// (100 ms by default); a wait of about a second lets runs on one
// repository take turns without a fresh clone for each lost turn.
const lockTimeout = time.Second

// updateRef moves ref in the repository at gitDir from old (zero: it
// must not exist) to new, as git does: refs/heads/x.lock created with
// O_EXCL (waiting up to lockTimeout while another writer holds it), the
// value checked, written, synced and renamed over the ref. A lost race is
// a *raceError.
func updateRef(gitDir string, ref plumbing.ReferenceName, old, new plumbing.Hash) (err error) {
	name := ref.String()
	if !strings.HasPrefix(name, "refs/") || CheckRefName(name) != nil {
		return fmt.Errorf("%q is not a valid ref name", name)
	}
	path := filepath.Join(gitDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("create the directory of ref '%s': %w", name, err)
	}
	lock := path + ".lock"
	f, err := lockFile(lock, lockTimeout)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &raceError{fmt.Sprintf("cannot lock ref '%s': unable to create '%s': file exists: another push held it for %s, or a crashed one left it", name, lock, lockTimeout)}
		}
		return fmt.Errorf("lock ref '%s': %w", name, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(lock)
		}
	}()
	cur, err := readRef(gitDir, name)
	if err != nil {
		return fmt.Errorf("read ref '%s': %w", name, err)
	}
	if cur != old {
		if cur.IsZero() {
			return &raceError{fmt.Sprintf("cannot lock ref '%s': it is gone, expected %s", name, old)}
		}
		if old.IsZero() {
			return &raceError{fmt.Sprintf("cannot lock ref '%s': reference already exists", name)}
		}
		return &raceError{fmt.Sprintf("cannot lock ref '%s': is at %s but expected %s", name, cur, old)}
	}
	if _, err := f.WriteString(new.String() + "\n"); err != nil {
		return fmt.Errorf("write ref '%s': %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write ref '%s': %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write ref '%s': %w", name, err)
	}
	if err := os.Rename(lock, path); err != nil {
		return fmt.Errorf("write ref '%s': %w", name, err)
	}
	renamed = true
	return nil
}

// lockFile creates lock exclusively, trying again while it exists, with
// waits growing from 1 ms to 50 ms, each at random within half of its
// length either way so that writers that met do not meet again, until
// timeout has passed: what git's lock_file_timeout does. The error is
// the last attempt's: fs.ErrExist when the lock was held throughout.
func lockFile(lock string, timeout time.Duration) (*os.File, error) {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return f, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, err
		}
		time.Sleep(min(wait/2+rand.N(wait), left))
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// readRef is the commit ref names in the repository at gitDir: its loose
// file, else its line in packed-refs; zero when there is neither.
func readRef(gitDir, name string) (plumbing.Hash, error) {
	data, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(name)))
	if err == nil {
		v := strings.TrimSpace(string(data))
		if !plumbing.IsHash(v) {
			return plumbing.ZeroHash, fmt.Errorf("%s holds %q, not a commit id", name, v)
		}
		return plumbing.NewHash(v), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, err
	}
	f, err := os.Open(filepath.Join(gitDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if h, n, ok := strings.Cut(line, " "); ok && n == name && plumbing.IsHash(h) {
			return plumbing.NewHash(h), nil
		}
	}
	return plumbing.ZeroHash, sc.Err()
}
