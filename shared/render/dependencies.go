package render

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

// DefaultDependencyTimeout bounds each request --dependency-update makes
// to a chart repository when Chart.DependencyTimeout is 0.
const DefaultDependencyTimeout = time.Minute

// maxIndexSize caps a repository's index.yaml (the largest public ones
// are tens of MB); maxArchiveSize a chart archive.
const (
	maxIndexSize   = 256 << 20
	maxArchiveSize = MaxFileSize
)

// dependencyFetch holds what Chart.DependencyUpdate fetched, shared by the
// copies of a Chart, so that a chart loaded again (once per Kubernetes
// version) downloads nothing twice and says so once.
type dependencyFetch struct {
	mu       sync.Mutex
	indexes  map[string]*repoIndex // by repository URL
	archives map[string][]byte     // by archive URL
	// from maps a dependency's name to where its archive came from, for
	// errors that name a template inside it.
	from map[string]string
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

// updateDependencies does for the chart ch, loaded from c.Dir, what helm
// dependency build does (with a Chart.lock: the versions it pins, once its
// digest shows it matches Chart.yaml) or helm dependency update (without:
// the newest version each constraint allows), except that the charts go
// into ch, in memory, not into c.Dir/charts: nothing is written.
// Dependencies on a chart repository (http, https, or a file:// directory
// holding index.yaml) are downloaded and replace a copy of the same name
// in charts/; a file:// chart replaces it too (resolveFileDependencies
// loads it then). A dependency without a repository stays the one in
// charts/, as with helm.
func (c Chart) updateDependencies(ctx context.Context, ch *chart.Chart) error {
	reqs := ch.Metadata.Dependencies
	if len(reqs) == 0 {
		return nil
	}
	want, lock := reqs, ""
	if ch.Lock != nil {
		if err := checkLock(ch); err != nil {
			return asInput(fmt.Errorf("chart %q: %w", c.Dir, err))
		}
		want, lock = ch.Lock.Dependencies, " (Chart.lock)"
	}
	f := c.fetch
	if f == nil {
		f = &dependencyFetch{}
	}
	type got struct {
		name, version, from string
		data                []byte
	}
	var fetched []got
	replaced := map[string]bool{}
	for _, d := range want {
		switch repo := d.Repository; {
		case repo == "":
			continue // in charts/, as helm leaves it
		case strings.HasPrefix(repo, "file://"):
			p := fileDependency(c.Dir, d)
			if !isRepositoryDir(p) {
				replaced[d.Name] = true // resolveFileDependencies loads it from p
				continue
			}
		case strings.HasPrefix(repo, "http://"), strings.HasPrefix(repo, "https://"):
		case strings.HasPrefix(repo, "oci://"):
			return asInput(fmt.Errorf("chart %q: dependency %s from %s: --dependency-update does not fetch from OCI registries; run helm dependency build %s before gitship and keep charts/ (or point the dependency at a chart repository)",
				c.Dir, d.Name, redact(repo), c.Dir))
		case strings.HasPrefix(repo, "@"), strings.HasPrefix(repo, "alias:"):
			return asInput(fmt.Errorf("chart %q: dependency %s from %s: that names a repository registered with helm repo add, which gitship does not read; write the repository's URL in Chart.yaml",
				c.Dir, d.Name, repo))
		default:
			return asInput(fmt.Errorf("chart %q: dependency %s: repository %q is neither http(s)://, file:// nor oci://", c.Dir, d.Name, redact(repo)))
		}
		version := d.Version
		if version == "" {
			version = "*"
		}
		from, data, err := f.download(ctx, c.Dir, d.Repository, d.Name, version, lock != "", c.timeout())
		if err != nil {
			return asInput(fmt.Errorf("chart %q: dependency %s %s from %s: %w", c.Dir, d.Name, version, redact(d.Repository), err))
		}
		replaced[d.Name] = true
		if !slices.ContainsFunc(fetched, func(g got) bool { return g.from == from }) {
			fetched = append(fetched, got{d.Name, version, from, data})
		}
	}
	if len(replaced) == 0 {
		return nil
	}
	keep := slices.DeleteFunc(slices.Clone(ch.Dependencies()), func(d *chart.Chart) bool { return replaced[d.Name()] })
	for _, g := range fetched {
		sub, err := loader.LoadArchive(bytes.NewReader(g.data))
		if err != nil {
			return asInput(fmt.Errorf("chart %q: dependency %s from %s: %w", c.Dir, g.name, g.from, err))
		}
		if sub.Name() != g.name {
			return asInput(fmt.Errorf("chart %q: dependency %s from %s: the archive holds chart %q", c.Dir, g.name, g.from, sub.Name()))
		}
		keep = append(keep, sub)
		if f.note(g.name, g.from) && c.Log != nil {
			fmt.Fprintf(c.Log, "chart %s: dependency %s %s from %s%s, in memory (%s unchanged)\n",
				c.Dir, g.name, sub.Metadata.Version, g.from, lock, filepath.Join(c.Dir, "charts"))
		}
	}
	ch.SetDependencies(keep...)
	return nil
}

// timeout is c.DependencyTimeout or its default.
func (c Chart) timeout() time.Duration {
	if c.DependencyTimeout > 0 {
		return c.DependencyTimeout
	}
	return DefaultDependencyTimeout
}

// checkLock fails, as helm dependency build does, when ch's Chart.lock was
// not written for the dependencies its Chart.yaml lists now: its digest
// is helm's (resolver.HashReq) over both lists.
func checkLock(ch *chart.Chart) error {
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

// isRepositoryDir says whether p is a directory holding a chart
// repository's index.yaml rather than a chart.
func isRepositoryDir(p string) bool {
	if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err == nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(p, "index.yaml"))
	return err == nil && fi.Mode().IsRegular()
}

// note records that name came from from, and says whether that is new.
func (f *dependencyFetch) note(name, from string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.from == nil {
		f.from = map[string]string{}
	}
	old, ok := f.from[name]
	f.from[name] = from
	return !ok || old != from
}

// source is where the archive of the dependency name came from, "" when
// it was not fetched.
func (f *dependencyFetch) source(name string) string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.from[name]
}

// download finds the version of chart name in the repository repo that
// constraint allows (exact: only that version, as Chart.lock pins it; else
// the exact string first, then the newest allowed, as helm's
// IndexFile.Get) and returns its archive and where it came from. It checks
// the archive against the index's digest when the index has one.
func (f *dependencyFetch) download(ctx context.Context, chartDir, repo, name, constraint string, exact bool, timeout time.Duration) (string, []byte, error) {
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
func (f *dependencyFetch) index(ctx context.Context, base *url.URL, timeout time.Duration) (*repoIndex, error) {
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
