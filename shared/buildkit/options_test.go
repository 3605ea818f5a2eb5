package buildkit

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseCache(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	gh := env(map[string]string{"ACTIONS_CACHE_URL": "https://cache/", "ACTIONS_RUNTIME_TOKEN": "tok"})
	for _, tc := range []struct {
		flag, value string
		env         func(string) (string, bool)
		want        client.CacheOptionsEntry
		err         string
	}{
		{"cache-from", "reg:5000/app:buildcache", nil, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "reg:5000/app:buildcache"}}, ""},
		{"cache-to", "type=registry,ref=reg/app:c,mode=max", nil, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "reg/app:c", "mode": "max"}}, ""},
		{"cache-to", "type=local,dest=" + dir, nil, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"dest": dir}}, ""},
		{"cache-from", "type=local,src=" + dir, nil, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"src": dir}}, ""},
		{"cache-from", "type=local,src=" + filepath.Join(dir, "none"), nil, client.CacheOptionsEntry{}, ""}, // first run: nothing yet
		{"cache-to", "type=inline", nil, client.CacheOptionsEntry{Type: "inline", Attrs: map[string]string{}}, ""},
		{"cache-to", "type=gha,mode=max", gh, client.CacheOptionsEntry{Type: "gha", Attrs: map[string]string{"mode": "max", "url": "https://cache/", "token": "tok"}}, ""},
		{"cache-from", "type=gha", env(nil), client.CacheOptionsEntry{}, "ACTIONS_RUNTIME_TOKEN"},
		{"cache-from", "type=registry", nil, client.CacheOptionsEntry{}, "ref="},
		{"cache-to", "type=local", nil, client.CacheOptionsEntry{}, "dest=DIR"},
		{"cache-to", "type=floppy,ref=x", nil, client.CacheOptionsEntry{}, `unknown cache type "floppy"`},
		{"cache-to", "type=registry,\"ref", nil, client.CacheOptionsEntry{}, "comma-separated"},
	} {
		got, err := ParseCache(tc.flag, tc.value, tc.env)
		if tc.err != "" {
			var oe *OptionError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--"+tc.flag) {
				t.Errorf("ParseCache(%s %q) error = %v, want an *OptionError naming the flag and %q", tc.flag, tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCache(%s %q) = %+v, %v; want %+v", tc.flag, tc.value, got, err, tc.want)
		}
	}
}

func TestParseSecretAndSSH(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "npmrc")
	if err := os.WriteFile(file, []byte("//registry/:_authToken=x"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := env(map[string]string{"TOKEN": "s3cret", "SSH_AUTH_SOCK": file})
	for _, tc := range []struct {
		value string
		want  Secret
		err   string
	}{
		{"id=npmrc,src=" + file, Secret{ID: "npmrc", FilePath: file}, ""},
		{"id=npmrc,source=" + file + ",type=file", Secret{ID: "npmrc", FilePath: file}, ""},
		{"src=" + file, Secret{ID: "npmrc", FilePath: file}, ""},
		{"id=token,env=TOKEN", Secret{ID: "token", Env: "TOKEN"}, ""},
		{"id=TOKEN,type=env", Secret{ID: "TOKEN", Env: "TOKEN"}, ""},
		{"id=npmrc,src=" + filepath.Join(dir, "missing"), Secret{}, "no such file"},
		{"id=npmrc,src=" + dir, Secret{}, "is a directory"},
		{"id=token,env=NOPE", Secret{}, "no NOPE in the environment"},
		{"id=x", Secret{}, "want src=FILE or env=VARIABLE"},
		{"id=x,type=vault", Secret{}, `unknown type "vault"`},
	} {
		got, err := ParseSecret(tc.value, e)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--secret") {
				t.Errorf("ParseSecret(%q) error = %v, want %q naming --secret", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSecret(%q) = %+v, %v; want %+v", tc.value, got, err, tc.want)
		}
	}

	if got, err := ParseSSH("default", e); err != nil || got.ID != "default" || !reflect.DeepEqual(got.Paths, []string{file}) {
		t.Errorf("ParseSSH(default) = %+v, %v", got, err)
	}
	if got, err := ParseSSH("deploy="+file, env(nil)); err != nil || got.ID != "deploy" || got.Paths[0] != file {
		t.Errorf("ParseSSH(deploy=FILE) = %+v, %v", got, err)
	}
	if _, err := ParseSSH("default", env(nil)); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Errorf("ParseSSH(default) without an agent: %v, want the missing SSH_AUTH_SOCK named", err)
	}
}

func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct {
		addr string
		tls  TLS
		err  string
	}{
		{"unix:///run/buildkit/buildkitd.sock", TLS{}, ""},
		{"tcp://buildkit:1234", TLS{}, ""},
		{"docker-container://buildx_buildkit_default", TLS{}, ""},
		{"ssh://host", TLS{}, `unknown scheme "ssh"`},
		{"buildkitd.sock", TLS{}, "no scheme"},
		{"unix://", TLS{}, "no socket path"},
		{"tcp://", TLS{}, "no host:port"},
		{"unix:///s.sock", TLS{CA: "/ca.pem"}, "tcp:// builders only"},
		{"tcp://h:1", TLS{Cert: "/c.pem"}, "needs its key"},
		{"tcp://h:1", TLS{CA: "/nonexistent/ca.pem"}, "no such file"},
	} {
		err := CheckAddress(tc.addr, tc.tls)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckAddress(%q, %+v) = %v, want %q", tc.addr, tc.tls, err, tc.err)
		}
	}
}
