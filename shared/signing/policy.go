package signing

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// ErrKeyless is returned by ParsePolicy for a keyless identity without a
// trusted root: gitship does not fetch Sigstore's from its TUF repository.
var ErrKeyless = errors.New("a keyless identity (issuer=, subject= or subject-regexp=) needs trusted-root=PATH, Sigstore's trusted_root.json (cosign's TUF cache has it, or `cosign trusted-root create` for a private Sigstore)")

// ParsePolicy reads the --require-signature and --require-provenance
// inputs: "key=PATH" (a PEM public key, cosign.pub), or a keyless identity
// "issuer=URL,subject-regexp=RE,trusted-root=PATH" (or subject=EXACT; a
// regexp may hold commas), and "source=REPOSITORY,ref=REF" (either may be
// left out). Errors name the part of the input at fault.
func ParsePolicy(requireSignature, requireProvenance string) (Policy, error) {
	var p Policy
	sig, err := fields(requireSignature, "key", "issuer", "subject-regexp", "subject", "trusted-root")
	if err != nil {
		return p, fmt.Errorf("--require-signature %q: %w", requireSignature, err)
	}
	keyless := sig["issuer"] != "" || sig["subject-regexp"] != "" || sig["subject"] != "" || sig["trusted-root"] != ""
	switch {
	case keyless && sig["key"] != "":
		return p, fmt.Errorf("--require-signature %q: give key= or a keyless identity, not both", requireSignature)
	case keyless && (sig["issuer"] == "" || (sig["subject"] == "" && sig["subject-regexp"] == "")):
		return p, fmt.Errorf("--require-signature %q: a keyless identity needs issuer= and subject= or subject-regexp=", requireSignature)
	case keyless && sig["subject"] != "" && sig["subject-regexp"] != "":
		return p, fmt.Errorf("--require-signature %q: give subject= or subject-regexp=, not both", requireSignature)
	case keyless && sig["trusted-root"] == "":
		return p, fmt.Errorf("--require-signature %q: %w", requireSignature, ErrKeyless)
	case keyless:
		if _, err := regexp.Compile(sig["subject-regexp"]); err != nil {
			return p, fmt.Errorf("--require-signature subject-regexp: %w", err)
		}
		tr, err := root.NewTrustedRootFromPath(sig["trusted-root"])
		if err != nil {
			return p, fmt.Errorf("--require-signature trusted-root %s: %w", sig["trusted-root"], err)
		}
		p.Issuer, p.Subject, p.SubjectRegexp, p.TrustedRoot = sig["issuer"], sig["subject"], sig["subject-regexp"], tr
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
	if (p.Source != "" || p.Ref != "") && p.Key == nil && !p.keyless() {
		return p, errors.New("--require-provenance needs --require-signature: the provenance is trusted for the key that signed it")
	}
	return p, nil
}

// fields reads "k=v,k=v" with keys from known. A part that does not start
// with a known key and "=" goes on the value before it: a regexp's
// "{1,3}" stays whole.
func fields(s string, known ...string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	var parts []string
	for _, part := range strings.Split(s, ",") {
		k, _, ok := strings.Cut(strings.TrimSpace(part), "=")
		if len(parts) > 0 && (!ok || !slices.Contains(known, strings.TrimSpace(k))) && strings.HasPrefix(strings.TrimSpace(parts[len(parts)-1]), "subject-regexp=") {
			parts[len(parts)-1] += "," + part
			continue
		}
		parts = append(parts, part)
	}
	for _, part := range parts {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE", part)
		}
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("unknown key %q: want %s", k, strings.Join(known, ", "))
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}
