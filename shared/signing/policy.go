package signing

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrKeyless is returned by ParsePolicy for a keyless identity (issuer,
// subject-regexp): verifying Fulcio certificates needs Sigstore's trusted
// root, which this version does not fetch.
var ErrKeyless = errors.New("keyless verification (issuer=, subject-regexp=) is not supported yet: verify with key=PATH to the public key")

// ParsePolicy reads the --require-signature and --require-provenance
// inputs: "key=PATH" (a PEM public key, cosign.pub) and
// "source=REPOSITORY,ref=REF" (either may be left out). Errors name the
// part of the input at fault; the caller names the flag.
func ParsePolicy(requireSignature, requireProvenance string) (Policy, error) {
	var p Policy
	sig, err := fields(requireSignature, "key", "issuer", "subject-regexp", "subject")
	if err != nil {
		return p, fmt.Errorf("--require-signature %q: %w", requireSignature, err)
	}
	switch {
	case sig["issuer"] != "" || sig["subject-regexp"] != "" || sig["subject"] != "":
		return p, fmt.Errorf("--require-signature %q: %w", requireSignature, ErrKeyless)
	case sig["key"] != "":
		data, err := os.ReadFile(sig["key"])
		if err != nil {
			return p, fmt.Errorf("--require-signature key: %w", err)
		}
		if p.Key, err = LoadPublicKey(data); err != nil {
			return p, fmt.Errorf("--require-signature key %s: %w", sig["key"], err)
		}
		p.KeyName = sig["key"]
	case requireSignature != "":
		return p, fmt.Errorf("--require-signature %q: want key=PATH", requireSignature)
	}
	prov, err := fields(requireProvenance, "source", "ref")
	if err != nil {
		return p, fmt.Errorf("--require-provenance %q: %w", requireProvenance, err)
	}
	p.Source, p.Ref = prov["source"], prov["ref"]
	if requireProvenance != "" && p.Source == "" && p.Ref == "" {
		return p, fmt.Errorf("--require-provenance %q: want source=REPOSITORY,ref=REF", requireProvenance)
	}
	if (p.Source != "" || p.Ref != "") && p.Key == nil {
		return p, errors.New("--require-provenance needs --require-signature: the provenance is trusted for the key that signed it")
	}
	return p, nil
}

// fields reads "k=v,k=v" with keys from known.
func fields(s string, known ...string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE", part)
		}
		found := false
		for _, kk := range known {
			found = found || kk == k
		}
		if !found {
			return nil, fmt.Errorf("unknown key %q: want %s", k, strings.Join(known, ", "))
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}
