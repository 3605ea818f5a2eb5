package gitops

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/gitship/gitship/shared/redact"
)

// ErrURL is returned (wrapped) for a remote URL Apply cannot use.
var ErrURL = errors.New("not a git URL")

// CheckURL checks that raw is a remote Apply can reach, without reaching
// it: https:// or http:// with a host, ssh:// or git@host:path with a host
// and a path, git:// with a host, file:// or a path. The error shows the
// URL without its credentials.
func CheckURL(raw string) error {
	bad := func(why string) error { return fmt.Errorf("%s is %w: %s", safeURL(raw), ErrURL, why) }
	if strings.TrimSpace(raw) == "" {
		return bad("it is empty")
	}
	if strings.ContainsFunc(raw, unicode.IsControl) {
		return bad("it contains a line break or control character")
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return bad(parseReason(err))
	}
	switch ep.Protocol {
	case "http", "https", "ssh", "git":
		if ep.Host == "" {
			return bad("no host")
		}
		if strings.HasPrefix(ep.Host, "-") {
			return bad(`the host starts with "-"`)
		}
		if strings.ContainsAny(ep.Host, " \\") {
			return bad("the host contains a space or a backslash")
		}
		if ep.Protocol == "ssh" && strings.Trim(ep.Path, "/") == "" {
			return bad("no repository path")
		}
	case "file":
		if strings.Trim(ep.Path, "/") == "" {
			return bad("no repository path")
		}
	default:
		return bad(fmt.Sprintf("the scheme %q is not one of https, http, ssh, git, file", ep.Protocol))
	}
	return nil
}

// safeURL is raw as an error shows it: quoted, without its credentials,
// or redact.RedactedURL (unquoted) when it does not parse and may hold
// some (a password with a space, a bad percent-escape).
func safeURL(raw string) string {
	if s := redact.URL(raw); s != redact.RedactedURL {
		return strconv.Quote(s)
	}
	return redact.RedactedURL
}

// parseReason is why a URL did not parse, without the URL, which
// url.Error repeats.
func parseReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return redact.URLsIn(err.Error())
}

// urlError is newRemote's error for a URL that does not parse.
func urlError(raw string, err error) error {
	return fmt.Errorf("parse remote URL %s: %w: %s", safeURL(raw), ErrURL, parseReason(err))
}
