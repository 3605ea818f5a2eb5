package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// oldestMinor is the oldest minor gitship embeds: what EKS extended
// support, AKS LTS and OpenShift 4.16 still run.
const oldestMinor = 29

// TestEveryMinorEmbedded: one release of every minor from 1.29 to the
// newest, none missing in between, each the one release of its minor.
func TestEveryMinorEmbedded(t *testing.T) {
	rs, err := releases()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 || rs[0].major != 1 || rs[0].minor != oldestMinor {
		t.Fatalf("Versions() = %q, want 1.%d first", Versions(), oldestMinor)
	}
	for i, r := range rs {
		if r.major != 1 || r.minor != oldestMinor+i {
			t.Errorf("Versions() = %q: release %d is %s, want 1.%d", Versions(), i, r.version, oldestMinor+i)
		}
	}
}

// TestStore reads the embedded files as they are stored: every definition
// an index names is in the store under the hash of its bytes, the store
// holds nothing no index names, and a definition most releases share is
// stored once.
func TestStore(t *testing.T) {
	r, err := open(storeFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	r.Close()
	for h, b := range raw {
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:])[:len(h)]; got != h || len(h) != 12 {
			t.Errorf("%s: entry %s hashes to %s", storeFile, h, got)
		}
	}
	files, err := fs.Glob(data, "data/v*.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	refs := 0
	for _, f := range files {
		r, err := open(f)
		if err != nil {
			t.Fatal(err)
		}
		var idx index
		if err := json.NewDecoder(r).Decode(&idx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r.Close()
		for name, h := range idx.Definitions {
			if _, ok := raw[h]; !ok {
				t.Errorf("%s: %s is %s, not in the store", f, name, h)
			}
			used[h] = true
			refs++
		}
	}
	for h := range raw {
		if !used[h] {
			t.Errorf("%s: %s is in no index: run go generate ./shared/schema", storeFile, h)
		}
	}
	// Most kinds are the same from one minor to the next.
	if len(raw)*3 > refs {
		t.Errorf("the store holds %d definitions for %d references from %d releases: want a third or fewer", len(raw), refs, len(files))
	}
	t.Logf("%d releases, %d definition references, %d stored", len(files), refs, len(raw))
}

// TestServedByVersion: kinds that the API server stopped (or started)
// serving within the embedded range have a schema in exactly the releases
// that serve them, as the Kubernetes deprecation guide lists them.
func TestServedByVersion(t *testing.T) {
	tests := []struct {
		apiVersion, kind string
		from, to         int // minors serving it; to 0: still served
	}{
		{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 29, 31},
		{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", 29, 31},
		{"flowcontrol.apiserver.k8s.io/v1", "FlowSchema", 29, 0},
		{"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", 30, 0},
		{"apps/v1", "Deployment", 29, 0},
	}
	for _, tt := range tests {
		for _, v := range Versions() {
			_, minor, _ := parseMinor(v)
			want := minor >= tt.from && (tt.to == 0 || minor <= tt.to)
			c, err := Lookup(v)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := c.Schema(tt.apiVersion, tt.kind, true); ok != want || err != nil {
				t.Errorf("%s: Schema(%s, %s) found %t (%v), want %t", v, tt.apiVersion, tt.kind, ok, err, want)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	vs := Versions()
	oldest, newest := vs[0], vs[len(vs)-1]
	minor := func(v string) string { return v[:strings.LastIndex(v, ".")] }
	patch0 := minor(newest) + ".0"
	tests := []struct {
		name, version string
		nearest       bool
		want          string // the embedded release; "" for an error
		note          string // in the note; "" for none
	}{
		{name: "minor", version: minor(oldest), want: oldest},
		{name: "exact", version: "v" + newest, want: newest},
		{name: "other patch", version: patch0, want: newest,
			note: fmt.Sprintf("Kubernetes %s: validating against %s, the %s patch gitship embeds", patch0, newest, minor(newest))},
		{name: "newer refused", version: "1.99.0"},
		{name: "older refused", version: "1.20.1"},
		{name: "newer, nearest", version: "1.99.0", nearest: true, want: newest,
			note: "Kubernetes 1.99.0: no embedded schemas, using the nearest embedded release, " + newest},
		{name: "older, nearest", version: "1.20", nearest: true, want: oldest,
			note: "Kubernetes 1.20: no embedded schemas, using the nearest embedded release, " + oldest},
		{name: "not a version, nearest", version: "latest", nearest: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Resolve(tt.version, tt.nearest)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Resolve(%q) = %+v, want an error", tt.version, m)
				}
				// The error gives the range and every embedded release.
				want := fmt.Sprintf("embedded: %s to %s, the latest patch of each: %s", minor(oldest), minor(newest), strings.Join(vs, ", "))
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Resolve(%q) = %v, want it to name %q", tt.version, err, want)
				}
				return
			}
			if err != nil || m.Embedded != tt.want || m.Note() != tt.note {
				t.Errorf("Resolve(%q, %t) = %+v (note %q), %v; want %s, note %q", tt.version, tt.nearest, m, m.Note(), err, tt.want, tt.note)
			}
			c, err := LookupMatch(m)
			if err != nil || c.Version() != tt.want {
				t.Errorf("LookupMatch(%+v) = %v", m, err)
			}
		})
	}
	if _, err := Resolve("1.99", false); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("Resolve(1.99) = %v, want ErrUnknownVersion", err)
	}
}
