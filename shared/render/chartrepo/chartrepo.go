// Package chartrepo fetches the dependencies of a Helm chart as helm
// dependency build and helm dependency update do, without Helm's
// downloader, getter and repo packages (they link the Kubernetes client,
// kubectl and OCI registries): from http(s) chart repositories
// (index.yaml and the archives it names), and from file:// directories
// holding index.yaml. It writes nothing: the caller gets the archives.
// shared/render renders with them (validate, gitops-pr), shared/chartlint
// lints with them.
package chartrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"
)

// DefaultTimeout bounds each request to a chart repository when Update is
// given none.
const DefaultTimeout = time.Minute

// maxIndexSize caps a repository's index.yaml (the largest public ones
// are tens of MB); maxArchiveSize a chart archive.
const (
	maxIndexSize   = 256 << 20
	maxArchiveSize = 64 << 20
)

// Fetcher downloads each index and archive once; its zero value is ready,
// and it may be used by several goroutines.
type Fetcher struct {
	mu       sync.Mutex
	indexes  map[string]*repoIndex // by repository URL
	archives map[string][]byte     // by archive URL
}

// repoIndex is the part of a chart repository's index.yaml
// (helm's repo.IndexFile) a download needs.
type repoIndex struct {
	APIVersion string                  `json:"apiVersion"`
	Entries    map[string][]indexEntry `json:"entries"`
}

type indexEntry struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest"`
}

// Fetched is a dependency's chart as downloaded.
type Fetched struct {
	Name  string       // the dependency's (and the chart's) name
	From  string       // the archive's URL without a password, or its path
	Data  []byte       // the archive
	Chart *chart.Chart // loaded from Data, anew on every Update
}

// FileName is the name helm dependency build saves the archive under in
// charts/: the last element of its URL.
func (f Fetched) FileName() string {
	return filepath.Base(strings.ReplaceAll(strings.SplitN(f.From, "?", 2)[0], "\\", "/"))
}

// Result is what Update did.
type Result struct {
	Fetched []Fetched
	// Replaced names the dependencies whose copy in charts/, if any, is
	// to be replaced: the fetched ones and the file:// charts (helm
	// dependency build copies those from where they point; Update does
	// not load them).
	Replaced map[string]bool
	// Lock says the versions are Chart.lock's.
	Lock bool
}

// Error is a dependency Update could not fetch; its message names the
// dependency, the repository and what to do.
type Error struct {
	Dependency string
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Update fetches, for the chart ch loaded from dir, what helm dependency
// build fetches (with a Chart.lock: the versions it pins, once its digest
// shows it was written for Chart.yaml's dependencies) or helm dependency
// update (without: the newest version each constraint allows). Only
// dependencies on a chart repository are fetched: http(s) URLs and
// file:// directories holding index.yaml. A dependency without a
// repository stays the one in charts/, as with helm; oci:// and helm repo
// add names are refused. timeout bounds each request (0: DefaultTimeout).
func (f *Fetcher) Update(ctx context.Context, dir string, ch *chart.Chart, timeout time.Duration) (Result, error) {
	res := Result{Replaced: map[string]bool{}}
	reqs := ch.Metadata.Dependencies
	if len(reqs) == 0 {
		return res, nil
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	want := reqs
	if ch.Lock != nil {
		if err := CheckLock(ch); err != nil {
			return res, err
		}
		want, res.Lock = ch.Lock.Dependencies, true
	}
	for _, d := range want {
		fail := func(format string, args ...any) (Result, error) {
			return res, &Error{d.Name, fmt.Errorf(format, args...)}
		}
		switch repo := d.Repository; {
		case repo == "":
			continue // in charts/, as helm leaves it
		case strings.HasPrefix(repo, "file://"):
			if !IsRepositoryDir(LocalPath(dir, repo)) {
				res.Replaced[d.Name] = true // a chart: the caller loads it from there
				continue
			}
		case strings.HasPrefix(repo, "http://"), strings.HasPrefix(repo, "https://"):
		case strings.HasPrefix(repo, "oci://"):
			return fail("dependency %s from %s: --dependency-update does not fetch from OCI registries; run helm dependency build %s before gitship and keep charts/ (or point the dependency at a chart repository)",
				d.Name, redact(repo), dir)
		case strings.HasPrefix(repo, "@"), strings.HasPrefix(repo, "alias:"):
			return fail("dependency %s from %s: that names a repository registered with helm repo add, which gitship does not read; write the repository's URL in Chart.yaml",
				d.Name, repo)
		default:
			return fail("dependency %s: repository %q is neither http(s)://, file:// nor oci://", d.Name, redact(repo))
		}
		version := d.Version
		if version == "" {
			version = "*"
		}
		from, data, err := f.download(ctx, dir, d.Repository, d.Name, version, res.Lock, timeout)
		if err != nil {
			return fail("dependency %s %s from %s: %w", d.Name, version, redact(d.Repository), err)
		}
		res.Replaced[d.Name] = true
		if slices.ContainsFunc(res.Fetched, func(g Fetched) bool { return g.From == from }) {
			continue // the same archive for two aliases
		}
		sub, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			return fail("dependency %s from %s: %w", d.Name, from, err)
		}
		if sub.Name() != d.Name {
			return fail("dependency %s from %s: the archive holds chart %q", d.Name, from, sub.Name())
		}
		res.Fetched = append(res.Fetched, Fetched{Name: d.Name, From: from, Data: data, Chart: sub})
	}
	return res, nil
}

// LocalPath is where a file:// repository of the chart in dir points:
// relative to dir unless absolute, as helm reads it.
func LocalPath(dir, repo string) string {
	p := strings.TrimPrefix(repo, "file://")
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p
}

// IsRepositoryDir says whether p is a directory holding a chart
// repository's index.yaml rather than a chart.
func IsRepositoryDir(p string) bool {
	if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(p, "index.yaml"))
	return err == nil && fi.Mode().IsRegular()
}

// CheckLock fails, as helm dependency build does, when ch's Chart.lock was
// not written for the dependencies its Chart.yaml lists now: its digest
// is helm's (resolver.HashReq) over both lists.
func CheckLock(ch *chart.Chart) error {
	sum, err := hashJSON([2][]*chart.Dependency{ch.Metadata.Dependencies, ch.Lock.Dependencies})
	if err == nil && sum == ch.Lock.Digest {
		return nil
	}
	if ch.Metadata.APIVersion == chart.APIVersionV1 { // a requirements.lock of Helm 2 (resolver.HashV2Req)
		if sum, err := hashJSON(map[string][]*chart.Dependency{"dependencies": ch.Metadata.Dependencies}); err == nil && sum == ch.Lock.Digest {
			return nil
		}
		return errors.New("requirements.lock is out of sync with requirements.yaml: run helm dependency update and commit requirements.lock (or remove it), as helm dependency build requires")
	}
	return errors.New("Chart.lock is out of sync with the dependencies of Chart.yaml: run helm dependency update and commit Chart.lock (or remove it), as helm dependency build requires")
}

func hashJSON(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// download finds the version of chart name in the repository repo that
// constraint allows (exact: only that version, as Chart.lock pins it; else
// the exact string first, then the newest allowed, as helm's
// IndexFile.Get) and returns its archive and where it came from. It checks
// the archive against the index's digest when the index has one.
func (f *Fetcher) download(ctx context.Context, chartDir, repo, name, constraint string, exact bool, timeout time.Duration) (string, []byte, error) {
	base, err := repositoryBase(chartDir, repo)
	if err != nil {
		return "", nil, err
	}
	idx, err := f.index(ctx, base, timeout)
	if err != nil {
		return "", nil, err
	}
	e, err := idx.find(name, constraint, exact)
	if err != nil {
		return "", nil, err
	}
	ref, err := url.Parse(e.URLs[0])
	if err != nil {
		return "", nil, fmt.Errorf("index.yaml: URL %q of %s %s: %w", e.URLs[0], name, e.Version, err)
	}
	u := base.ResolveReference(ref)
	key := u.String()
	f.mu.Lock()
	data, ok := f.archives[key]
	f.mu.Unlock()
	if !ok {
		if data, err = get(ctx, u, maxArchiveSize, timeout); err != nil {
			return "", nil, err
		}
		if e.Digest != "" {
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, strings.TrimPrefix(e.Digest, "sha256:")) {
				return "", nil, fmt.Errorf("%s: its sha256 is %s, index.yaml says %s: the repository is inconsistent or the download was altered", redactURL(u), got, e.Digest)
			}
		}
		f.mu.Lock()
		if f.archives == nil {
			f.archives = map[string][]byte{}
		}
		f.archives[key] = data
		f.mu.Unlock()
	}
	return redactURL(u), data, nil
}

// repositoryBase is the URL of the repository repo, with a trailing slash
// so that relative archive URLs resolve under it (helm's
// repo.ResolveReferenceURL): http(s) as given, a file:// directory made
// absolute (relative to the chart, as helm reads file:// paths).
func repositoryBase(chartDir, repo string) (*url.URL, error) {
	if p, ok := strings.CutPrefix(repo, "file://"); ok {
		if !filepath.IsAbs(p) {
			p = filepath.Join(chartDir, p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		return &url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/"}, nil
	}
	u, err := url.Parse(repo)
	if err != nil {
		return nil, fmt.Errorf("repository URL: %w", err)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// index returns the repository's index.yaml, read once per run.
func (f *Fetcher) index(ctx context.Context, base *url.URL, timeout time.Duration) (*repoIndex, error) {
	key := base.String()
	f.mu.Lock()
	idx := f.indexes[key]
	f.mu.Unlock()
	if idx != nil {
		return idx, nil
	}
	u := base.ResolveReference(&url.URL{Path: "index.yaml"})
	data, err := get(ctx, u, maxIndexSize, timeout)
	if err != nil {
		return nil, err
	}
	idx = &repoIndex{}
	if err := yaml.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("%s: not a chart repository index: %w", redactURL(u), err)
	}
	if idx.APIVersion == "" {
		return nil, fmt.Errorf("%s: not a chart repository index: no apiVersion", redactURL(u))
	}
	for name, vs := range idx.Entries {
		// Newest first, as helm's IndexFile.SortEntries; versions that are
		// not semver last (find skips them, as helm does).
		slices.SortStableFunc(vs, func(a, b indexEntry) int {
			va, erra := semver.NewVersion(a.Version)
			vb, errb := semver.NewVersion(b.Version)
			switch {
			case erra != nil && errb != nil:
				return 0
			case erra != nil:
				return 1
			case errb != nil:
				return -1
			}
			return vb.Compare(va)
		})
		idx.Entries[name] = vs
	}
	f.mu.Lock()
	if f.indexes == nil {
		f.indexes = map[string]*repoIndex{}
	}
	f.indexes[key] = idx
	f.mu.Unlock()
	return idx, nil
}

// find picks the version of name constraint allows.
func (idx *repoIndex) find(name, constraint string, exact bool) (indexEntry, error) {
	vs := idx.Entries[name]
	if len(vs) == 0 {
		return indexEntry{}, fmt.Errorf("the repository's index.yaml has no chart %s", name)
	}
	var available []string
	for _, e := range vs {
		if e.Version == constraint && len(e.URLs) > 0 {
			return e, nil
		}
		available = append(available, e.Version)
	}
	if len(available) > 10 {
		available = append(available[:10], "…")
	}
	if exact {
		return indexEntry{}, fmt.Errorf("the repository's index.yaml has no version %s (Chart.lock pins it; it has %s): run helm dependency update and commit Chart.lock",
			constraint, strings.Join(available, ", "))
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return indexEntry{}, fmt.Errorf("version constraint %q: %w", constraint, err)
	}
	for _, e := range vs {
		v, err := semver.NewVersion(e.Version)
		if err == nil && len(e.URLs) > 0 && c.Check(v) {
			return e, nil
		}
	}
	return indexEntry{}, fmt.Errorf("no version in the repository's index.yaml satisfies %s (it has %s): change the constraint in Chart.yaml", constraint, strings.Join(available, ", "))
}

// get reads u, a file:// or http(s) URL, up to limit bytes, each HTTP
// request within timeout.
func get(ctx context.Context, u *url.URL, limit int64, timeout time.Duration) ([]byte, error) {
	if u.Scheme == "file" {
		p := filepath.FromSlash(u.Path)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%s does not exist", p)
		case err != nil:
			return nil, err
		case fi.Size() > limit:
			return nil, fmt.Errorf("%s is larger than the %d MiB limit", p, limit>>20)
		}
		return os.ReadFile(p)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: only http, https and file URLs are fetched", redactURL(u))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "gitship (helm dependency fetch)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("GET %s: no answer within %s (--dependency-timeout): is the repository reachable from here?", redactURL(u), timeout)
		}
		return nil, fmt.Errorf("GET %s: cannot reach the repository: %w", redactURL(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("GET %s: %s: the repository wants credentials, which --dependency-update does not send; fetch the chart with helm (helm repo add --username …, helm dependency build) before gitship and keep charts/, or mirror the repository where CI can read it",
			redactURL(u), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", redactURL(u), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("GET %s: not read within %s (--dependency-timeout)", redactURL(u), timeout)
		}
		return nil, fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: larger than the %d MiB limit", redactURL(u), limit>>20)
	}
	return data, nil
}

// unwrapURLError drops the *url.Error around err: the caller names the
// URL already, without its password.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact is a repository string without a password in it.
func redact(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return repo
	}
	return u.Redacted()
}

func redactURL(u *url.URL) string {
	if u.Scheme == "file" {
		return filepath.FromSlash(u.Path)
	}
	return u.Redacted()
}
