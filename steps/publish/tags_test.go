package main

// End-to-end tests of how the built gitship-publish sets tags when runs
// race or a registry fails part way, and how often it retries: through
// registrytest.Proxy in front of a real registry.

import (
	"archive/tar"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarOf is a tar archive of files.
func tarOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for name, content := range files {
		w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))})
		w.Write([]byte(content))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Two gitship-publish runs of one commit with different images, at once,
// to one empty repository: exactly one exits 0; the other exits 1 naming
// the full-SHA tag, the winner's digest and its own; every tag, the
// branch's included, names the winner's image. "together": both checked,
// both wrote, the registry kept the second write (2.8 and v3) or refused
// it (conditional writes). "after": one run held between its check and its
// write while the other finishes; only a registry with conditional writes
// can refuse it (see docs/registries.md). With --overwrite on both runs
// the same holds, and the loser does not say --overwrite would move the
// tag: it did move it, and lost.
func TestImmutableTagRace(t *testing.T) {
	for _, tt := range []struct {
		name                       string
		v3, cond, after, overwrite bool
	}{
		{"distribution 2.8, together", false, false, false, false},
		{"distribution 3, together", true, false, false, false},
		{"conditional writes, together", false, true, false, false},
		{"conditional writes, after", false, true, true, false},
		{"distribution 2.8, together, --overwrite", false, false, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.Start(t, registrytest.Options{V3: tt.v3})
			ws, sha := checkout(t, "")
			race := registrytest.NewTagRace(sha, tt.after)
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Conditional: tt.cond, Hold: race.Hold})
			digests := []string{layout(t, filepath.Join(ws, "a"), nil).String(), layout(t, filepath.Join(ws, "b"), nil).String()}
			repo := proxy.Host + "/race"
			results := make([]steptest.Result, 2)
			args := []string{"--repository", repo, "--insecure"}
			if tt.overwrite {
				args = append(args, "--overwrite")
			}
			run := func(i int) {
				results[i] = steptest.Run(t, binary, ws, nil, append([]string{"--image", "oci:" + []string{"a", "b"}[i]}, args...)...)
			}
			var wg sync.WaitGroup
			wg.Go(func() { run(0) })
			if tt.after {
				<-race.Held
				run(1)
				race.Release()
			} else {
				wg.Go(func() { run(1) })
			}
			wg.Wait()

			winner := registrytest.Digest(t, reg.Host+"/race:"+sha)
			w := slices.Index(digests, winner)
			if w < 0 {
				t.Fatalf("%s names %q, neither image\n%+v", sha, winner, results)
			}
			loser := 1 - w
			if results[w].Code != 0 {
				t.Errorf("the winner exited %d:\n%s", results[w].Code, results[w].Stderr)
			}
			l := results[loser]
			if l.Code != 1 || !strings.Contains(l.Stderr, sha+" is "+winner) || !strings.Contains(l.Stderr, " to "+digests[loser]) {
				t.Errorf("the loser exited %d, want 1 naming %s and %s:\n%s", l.Code, winner, digests[loser], l.Stderr)
			}
			if tt.overwrite && (strings.Contains(l.Stderr, "--overwrite moves them") || !strings.Contains(l.Stderr, "written by another run at the same time")) {
				t.Errorf("the loser with --overwrite says --overwrite moves the tags, or not that another run wrote them:\n%s", l.Stderr)
			}
			for _, tag := range []string{sha, sha[:7], "main"} {
				if got := registrytest.Digest(t, reg.Host+"/race:"+tag); got != winner {
					t.Errorf("%s names %s, want the winner's %s", tag, got, winner)
				}
			}
		})
	}
}

// A registry that fails every write of one tag (503, after the documented
// 6 tries): the other tags of its kind are still written, the run exits 1
// and says which tags are set and which are not; the branch, minor, major
// and latest tags are written only once the commit and release tags are
// all set, and after them.
func TestHalfSetTags(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ws, sha := checkout(t, "v1.2.3")
	d := layout(t, filepath.Join(ws, "img"), nil).String()
	immutable := []string{sha, sha[:7], "1.2.3"}
	movable := []string{"main", "1.2", "1", "latest"}
	for _, tt := range []struct {
		failing string // "" fails nothing
		set     []string
		stderr  []string
	}{
		{"", append(slices.Clone(immutable), movable...), nil},
		{sha[:7], []string{sha, "1.2.3"}, []string{"not set: " + sha[:7] + " (tag ", "injected 503",
			"main (not written: the commit and release tags are not all set)", "latest (not written"}},
		{"main", []string{sha, sha[:7], "1.2.3", "1.2", "1", "latest"}, []string{"not set: main (tag ", "injected 503", "running again sets the tags that are not set"}},
	} {
		t.Run("failing "+tt.failing, func(t *testing.T) {
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: 1, Status: http.StatusServiceUnavailable,
				Match: func(r *http.Request) bool {
					return tt.failing != "" && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/"+tt.failing)
				}})
			repo := proxy.Host + "/half/" + strings.ReplaceAll(tt.failing, ".", "-")
			if tt.failing == "" {
				repo = proxy.Host + "/half/none"
			}
			res := steptest.Run(t, binary, ws, nil, "--image", "oci:img", "--repository", repo, "--insecure", "--latest")
			wantCode := 1
			if tt.failing == "" {
				wantCode = 0
			}
			if res.Code != wantCode {
				t.Errorf("exit %d, want %d:\n%s", res.Code, wantCode, res.Stderr)
			}
			if wantCode == 1 && !strings.Contains(res.Stderr, "set: "+strings.Join(tt.set, ", ")+"; not set: ") {
				t.Errorf("stderr does not list the set tags %v:\n%s", tt.set, res.Stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(res.Stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.Stderr)
				}
			}
			if tt.failing != "" {
				n := 0
				for _, r := range proxy.Requests() {
					if strings.HasPrefix(r, "PUT ") && strings.HasSuffix(r, "/manifests/"+tt.failing) {
						n++
					}
				}
				if n != 6 {
					t.Errorf("%d writes of the failing tag, want the documented 6", n)
				}
			}
			path := strings.TrimPrefix(repo, proxy.Host)
			for _, tag := range append(slices.Clone(immutable), movable...) {
				got := registrytest.Digest(t, reg.Host+path+":"+tag)
				if want := slices.Contains(tt.set, tag); (got == d) != want {
					t.Errorf("%s names %q; want set: %v", tag, got, want)
				}
			}
			// Order: every movable tag's write after the last immutable one's.
			lastImmutable, firstMovable := -1, 1<<30
			for i, r := range proxy.Requests() {
				for _, tag := range immutable {
					if strings.HasPrefix(r, "PUT ") && strings.HasSuffix(r, "/manifests/"+tag) {
						lastImmutable = i
					}
				}
				for _, tag := range movable {
					if strings.HasPrefix(r, "PUT ") && strings.HasSuffix(r, "/manifests/"+tag) {
						firstMovable = min(firstMovable, i)
					}
				}
			}
			if firstMovable < lastImmutable {
				t.Errorf("a movable tag was written before an immutable one:\n%s", strings.Join(proxy.Requests(), "\n"))
			}
		})
	}
}

// A registry that answers every manifest PUT 500: the run exits 1 after
// the documented 6 tries, not 36 (gitship's retries times
// go-containerregistry's, before).
func TestRetryCount(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ws, _ := checkout(t, "")
	layout(t, filepath.Join(ws, "img"), nil)
	for _, tt := range []struct {
		method, part string
		status       int
	}{
		{"PUT", "/manifests/", http.StatusInternalServerError},
		{"HEAD", "/manifests/", http.StatusServiceUnavailable},
	} {
		t.Run(tt.method, func(t *testing.T) {
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: 1, Status: tt.status,
				Match: func(r *http.Request) bool {
					return registrytest.Request(r, tt.method, tt.part) && !strings.Contains(r.URL.Path, "sha256:")
				}})
			res := steptest.Run(t, binary, ws, nil, "--image", "oci:img", "--repository", proxy.Host+"/retry/"+strings.ToLower(tt.method), "--insecure")
			if res.Code != 1 {
				t.Errorf("exit %d, want 1:\n%s", res.Code, res.Stderr)
			}
			counts := map[string]int{}
			for _, r := range proxy.Requests() {
				if strings.HasPrefix(r, tt.method+" ") && strings.Contains(r, tt.part) && !strings.Contains(r, "sha256:") {
					counts[r]++
				}
			}
			for r, n := range counts {
				if n != 6 {
					t.Errorf("%s sent %d times, want the documented 6\n%s", r, n, strings.Join(proxy.Requests(), "\n"))
				}
			}
			if len(counts) == 0 {
				t.Errorf("no %s request reached the proxy", tt.method)
			}
		})
	}
}
