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
		return bad(parseReason(raw, err))
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

// userInfoHidden is parseReason's reason for a URL with user info.
const userInfoHidden = "it does not parse (user info hidden)"

// parseReason is why raw did not parse, without the URL, which url.Error
// repeats. When raw has an '@' (user info, which may be cut short by a
// '/', '#' or '?' in a password), the parser's own detail is not shown:
// it quotes a piece of the URL (invalid port ":pa55" after host,
// invalid URL escape "%zz"), which can be a part of the password that
// no redactor knows as a secret.
func parseReason(raw string, err error) string {
	if strings.Contains(raw, "@") {
		return userInfoHidden
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return redact.URLsIn(err.Error())
}

// urlError is newRemote's error for a URL that does not parse.
func urlError(raw string, err error) error {
	return fmt.Errorf("parse remote URL %s: %w: %s", safeURL(raw), ErrURL, parseReason(raw, err))
}
