package registry

import (
	"bytes"
	"context"
	"errors"

	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gitship/gitship/internal/registrytest"
)

// flavours are the registries publish is held to: Debian's docker-registry
// (distribution 2.8), distribution v3 (tools/registry3), both of which
// ignore If-None-Match and If-Match on a manifest PUT, and 2.8 behind a
// proxy that honours them as RFC 9110 defines, standing for the
// registries that do.
var flavours = []struct {
	name        string
	v3          bool
	conditional bool
}{
	{"distribution 2.8", false, false},
	{"distribution 3", true, false},
	{"conditional writes", false, true},
}

// What each registry does with "If-None-Match: *" on a PUT of a tag that
// exists: 2.8 and v3 ignore it and move the tag; the conditional one
// answers 412 and keeps it.
func TestConditionalPut(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			reg := registrytest.Start(t, registrytest.Options{V3: f.v3})
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Conditional: f.conditional})
			c := client(Options{Insecure: true})
			r := repo(t, c, proxy.Host+"/cond")
			first, second := image(t, nil), image(t, nil)
			d1, _ := first.Digest()
			if _, err := c.Push(context.Background(), Artifact{Image: first}, r, []Tag{{Name: "v1"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Push(context.Background(), Artifact{Image: second}, r, nil); err != nil {
				t.Fatal(err)
			}
			raw, _ := second.RawManifest()
			mt, _ := second.MediaType()
			req, _ := http.NewRequest(http.MethodPut, "http://"+proxy.Host+"/v2/cond/manifests/v1", bytes.NewReader(raw))
			req.Header.Set("Content-Type", string(mt))
			req.Header.Set("If-None-Match", "*")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want, kept := http.StatusCreated, false
			if f.conditional {
				want, kept = http.StatusPreconditionFailed, true
			}
			now := registrytest.Digest(t, reg.Host+"/cond:v1")
			if resp.StatusCode != want || (now == d1.String()) != kept {
				t.Errorf("PUT with If-None-Match: * over an existing tag = %d, tag now %s (first %s); want %d, kept %v",
					resp.StatusCode, now, d1, want, kept)
			}
		})
	}
}

// Two pushes of different images of one commit to one empty repository,
// at once. In the Together interleaving (both checked, both wrote, then
// both read back) exactly one succeeds on every registry, the other fails
// with both digests named, and every tag names the winner's image: the
// loser set none of its own. In the After interleaving a registry with
// conditional writes refuses the late writer; one without lets it
// overwrite: the documented window between its check and its write.
func TestImmutableTagRace(t *testing.T) {
	for _, f := range flavours {
		for _, after := range []bool{false, true} {
			name := f.name + "/together"
			if after {
				name = f.name + "/after"
			}
			t.Run(name, func(t *testing.T) {
				reg := registrytest.Start(t, registrytest.Options{V3: f.v3})
				race := registrytest.NewTagRace(sha, after)
				proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Conditional: f.conditional, Hold: race.Hold})
				tags := []Tag{{Name: sha, Immutable: true}, {Name: sha[:7], Immutable: true}, {Name: "main"}}
				imgs := []Artifact{{Image: image(t, nil)}, {Image: image(t, nil)}}
				errs := make([]error, 2)
				push := func(i int) {
					c := client(Options{Insecure: true})
					_, errs[i] = c.Push(context.Background(), imgs[i], repo(t, c, proxy.Host+"/race"), tags)
				}
				var wg sync.WaitGroup
				if after {
					wg.Go(func() { push(0) })
					<-race.Held
					push(1)
					race.Release()
					wg.Wait()
				} else {
					wg.Go(func() { push(0) })
					wg.Go(func() { push(1) })
					wg.Wait()
				}
				digests := make([]string, 2)
				for i, a := range imgs {
					d, _ := a.Digest()
					digests[i] = d.String()
				}
				winner := registrytest.Digest(t, reg.Host+"/race:"+sha)
				w := slices.Index(digests, winner)
				if w < 0 {
					t.Fatalf("%s names %q, neither image (%v)", sha, winner, errs)
				}
				loser := 1 - w
				if after && !f.conditional {
					// The documented window: the held run overwrote a tag
					// the other had set and read back.
					if errs[0] != nil || errs[1] != nil || w != 0 {
						t.Errorf("after, without conditional writes: %v; tag names image %d; want both to succeed and the held run's image", errs, w)
					}
					return
				}
				if errs[w] != nil {
					t.Errorf("the winner failed: %v", errs[w])
				}
				err := errs[loser]
				if !errors.Is(err, ErrTagConflict) || !strings.Contains(err.Error(), sha+" is "+winner) ||
					!strings.Contains(err.Error(), " to "+digests[loser]) {
					t.Errorf("the loser: %v\nwant a conflict naming %s and %s", err, winner, digests[loser])
				}
				for _, tag := range tags {
					if got := registrytest.Digest(t, reg.Host+"/race:"+tag.Name); got != winner {
						t.Errorf("%s names %s, want the winner's %s", tag.Name, got, winner)
					}
				}
			})
		}
	}
}

// A tag whose every write fails: the other tags of its kind are still
// written, the movable ones only when every immutable one is set, always
// after them, and the error lists which tags are set and which are not.
func TestHalfSetTags(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	tags := []Tag{{Name: sha, Immutable: true}, {Name: sha[:7], Immutable: true}, {Name: "1.2.3", Immutable: true},
		{Name: "main"}, {Name: "1.2"}, {Name: "latest"}}
	for _, tt := range []struct {
		failing string
		set     []string
		notSet  []string
	}{
		{"1.2.3", []string{sha, sha[:7]}, []string{"1.2.3 (tag ", "main (not written: the commit and release tags are not all set)", "1.2 (not written", "latest (not written"}},
		{"1.2", []string{sha, sha[:7], "1.2.3", "main", "latest"}, []string{"1.2 (tag "}},
	} {
		t.Run("failing "+tt.failing, func(t *testing.T) {
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: 1, Status: http.StatusServiceUnavailable,
				Match: func(r *http.Request) bool {
					return r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/manifests/"+tt.failing)
				}})
			c := client(Options{Insecure: true})
			path := "/half/" + strings.ReplaceAll(tt.failing, ".", "-")
			img := image(t, nil)
			d, _ := img.Digest()
			_, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, proxy.Host+path), tags)
			var te *TagError
			if !errors.As(err, &te) {
				t.Fatalf("Push = %v, want a *TagError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "set: "+strings.Join(tt.set, ", ")+"; not set: ") {
				t.Errorf("error does not list the set tags %v:\n%s", tt.set, msg)
			}
			for _, n := range tt.notSet {
				if !strings.Contains(msg, n) {
					t.Errorf("error lacks %q:\n%s", n, msg)
				}
			}
			for _, tag := range tags {
				got := registrytest.Digest(t, reg.Host+path+":"+tag.Name)
				if want := slices.Contains(tt.set, tag.Name); (got == d.String()) != want {
					t.Errorf("%s names %q; set: %v", tag.Name, got, want)
				}
			}
			assertMovableLast(t, proxy.Requests(), tags)
		})
	}
}

// assertMovableLast checks that no movable tag was written before the last
// write of an immutable one.
func assertMovableLast(t *testing.T, requests []string, tags []Tag) {
	t.Helper()
	lastImmutable, firstMovable := -1, len(requests)
	for i, r := range requests {
		for _, tag := range tags {
			if !strings.HasPrefix(r, "PUT ") || !strings.HasSuffix(r, "/manifests/"+tag.Name) {
				continue
			}
			if tag.Immutable {
				lastImmutable = i
			} else {
				firstMovable = min(firstMovable, i)
			}
		}
	}
	if firstMovable < lastImmutable {
		t.Errorf("a movable tag was written (request %d) before an immutable one (request %d):\n%s",
			firstMovable, lastImmutable, strings.Join(requests, "\n"))
	}
}
