package signing

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	dir := t.TempDir()
	_, pub := cosignKey(t, "pw")
	pubFile := filepath.Join(dir, "cosign.pub")
	os.WriteFile(pubFile, pub, 0o644)
	os.WriteFile(filepath.Join(dir, "junk.pub"), []byte("junk"), 0o644)
	for _, tt := range []struct {
		name, sig, prov string
		err             string
		source, ref     string
	}{
		{"key", "key=" + pubFile, "", "", "", ""},
		{"key and provenance", "key=" + pubFile, "source=github.com/acme/shop, ref=main", "", "github.com/acme/shop", "main"},
		{"nothing", "", "", "", "", ""},
		{"missing key file", "key=" + filepath.Join(dir, "gone.pub"), "", "--require-signature key: open", "", ""},
		{"not a key", "key=" + filepath.Join(dir, "junk.pub"), "", "--require-signature key " + filepath.Join(dir, "junk.pub") + ": read public key", "", ""},
		{"bare path", pubFile, "", "want KEY=VALUE", "", ""},
		{"keyless without trusted root", "issuer=https://token.actions.githubusercontent.com,subject-regexp=^https://github.com/acme/", "", "needs trusted-root=PATH", "", ""},
		{"keyless without subject", "issuer=https://token.actions.githubusercontent.com,trusted-root=x.json", "", "needs issuer= and subject= or subject-regexp=", "", ""},
		{"key and keyless", "key=" + pubFile + ",issuer=x,subject=y,trusted-root=x.json", "", "not both", "", ""},
		{"bad regexp", "issuer=x,subject-regexp=(,trusted-root=x.json", "", "--require-signature subject-regexp: error parsing regexp", "", ""},
		{"missing trusted root", "issuer=x,subject-regexp=a{1,3},trusted-root=" + filepath.Join(dir, "gone.json"), "", "--require-signature trusted-root " + filepath.Join(dir, "gone.json"), "", ""},
		{"unknown key", "kee=" + pubFile, "", `unknown key "kee": want key, issuer`, "", ""},
		{"provenance without signature", "", "source=acme/shop", "--require-provenance needs --require-signature", "", ""},
		{"provenance unknown field", "key=" + pubFile, "repo=acme/shop", `--require-provenance "repo=acme/shop": unknown key "repo"`, "", ""},
		{"provenance twice", "key=" + pubFile, "ref=a,ref=b", "ref given twice", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.sig, tt.prov)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParsePolicy(%q, %q) = %v; want %q", tt.sig, tt.prov, err, tt.err)
				}
				return
			}
			if err != nil || p.Source != tt.source || p.Ref != tt.ref || (tt.sig != "") != (p.Key != nil) {
				t.Errorf("ParsePolicy(%q, %q) = %+v, %v", tt.sig, tt.prov, p, err)
			}
		})
	}
	if _, err := ParsePolicy("issuer=x,subject=y", ""); !errors.Is(err, ErrKeyless) {
		t.Errorf("keyless: %v", err)
	}
}
