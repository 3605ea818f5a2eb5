package buildkit

import (
	"errors"
	"strings"
	"testing"
)

// FuzzOptions: whatever a user writes in buildx's CSV forms, the parsers
// either accept it or say which flag is wrong; they never panic.
func FuzzOptions(f *testing.F) {
	for _, s := range []string{"type=registry,ref=r/app:c,mode=max", "id=npmrc,src=/etc/hostname", "default",
		"type=gha,scope=x", `type=local,"dest=a,b"`, "name=docker-image://alpine", "=,=,", "type=env,id=PATH"} {
		f.Add(s)
	}
	env := func(k string) (string, bool) { return "v", k == "PATH" || k == "SSH_AUTH_SOCK" }
	f.Fuzz(func(t *testing.T, s string) {
		check := func(flag string, err error) {
			var oe *OptionError
			if err != nil && (!errors.As(err, &oe) || !strings.Contains(err.Error(), "--"+flag)) {
				t.Errorf("%s %q: error %q does not name the flag", flag, s, err)
			}
		}
		_, err := ParseCache("cache-from", s, env)
		check("cache-from", err)
		_, err = ParseCache("cache-to", s, env)
		check("cache-to", err)
		_, err = ParseSecret(s, env)
		check("secret", err)
		_, err = ParseSSH(s, env)
		check("ssh", err)
		_, _, err = ParseBuildContext(s)
		check("build-context", err)
	})
}
