package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// RedactedURL is what URL and URLsIn print for a URL they cannot take
// apart with certainty.
const RedactedURL = "<redacted URL>"

// minCredential is the shortest credential URLCredentials returns: a
// shorter one would mask common words all over the log, and no token is
// that short (URL still removes it from the URL).
const minCredential = 4

var (
	schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	digestRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+._-]*:[A-Fa-f0-9]{32,}$`)
	scpRE    = regexp.MustCompile(`^[^@:/\s]+@[^@:/\s]+:[^@\s]*$`)
)

// URL is raw without its user info, as a log, an output, a pull request
// or an image label may show it. It fails closed: a URL it cannot parse,
// or where an '@' is left that could end a password holding '/', '#', '?'
// or a space, comes back as RedactedURL, never unchanged. An scp-like git
// remote (user@host:path) loses its user. Text with no "scheme://" and no
// '@' (a path) cannot hold user info and is returned as it is, as is an
// image reference by digest (name@sha256:...).
func URL(raw string) string {
	if raw == "" {
		return raw
	}
	if m := schemeRE.FindStringIndex(raw); m != nil {
		rest := raw[m[1]:]
		if !strings.Contains(rest, "@") && !strings.ContainsFunc(rest, unicode.IsControl) {
			return raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			return RedactedURL
		}
		// The '@' the parser took must be the only one: another could be
		// the end of a password the parser cut short.
		if strings.Count(rest, "@") != 1 {
			return RedactedURL
		}
		u.User = nil
		// The parser re-encodes what it took apart: an '@' it gives back
		// (from a fragment or an empty host) is no URL worth printing.
		if out := u.String(); !strings.Contains(out, "@") {
			return out
		}
		return RedactedURL
	}
	at := strings.LastIndex(raw, "@")
	switch {
	case at < 0 && !strings.ContainsFunc(raw, unicode.IsControl):
		return raw
	case at > 0 && strings.Count(raw, "@") == 1 && digestRE.MatchString(raw[at+1:]) && !strings.ContainsFunc(raw, unicode.IsSpace):
		return raw // an image by digest
	case scpRE.MatchString(raw):
		return raw[at+1:]
	}
	return RedactedURL
}

// urlInTextRE is a "scheme://" URL in a text: within double quotes (Go's
// %q, as url.Error and go-git write it) up to the closing quote, so a
// password holding a space is taken whole; otherwise up to the next white
// space.
var urlInTextRE = regexp.MustCompile(`"[A-Za-z][A-Za-z0-9+.-]*://(?:[^"\\\n]|\\.)*"|[A-Za-z][A-Za-z0-9+.-]*://\S*`)

// trailing is the punctuation that ends a sentence or closes a quote
// after a URL in a text, and is not given to URL.
const trailing = `"'.,:;!?)>}`

// leading is the punctuation that opens a quote before a word.
const leading = `"'(<[{`

// tokenRE is a word of a text, for the user:password@host values that
// have no scheme.
var tokenRE = regexp.MustCompile(`\S*@\S*`)

// URLsIn is text with every "scheme://" URL in it as URL prints it: no
// user info, and RedactedURL for a URL that holds an '@' and does not
// parse, or holds more than one. A "user:password@host" word with no
// scheme is printed as RedactedURL (an scp-like remote, user@host:path,
// and an image by digest are left as they are). It reads an error message
// or a log line (go-git's and net/http's errors name the remote). Outside
// double quotes a URL ends at white space, so a password holding a space
// is only found whole in a quoted URL; the Redactor masks the
// URLCredentials of every input for the rest.
func URLsIn(text string) string {
	text = urlInTextRE.ReplaceAllStringFunc(text, func(m string) string {
		if strings.HasPrefix(m, `"`) {
			return `"` + urlInText(m[1:len(m)-1]) + `"`
		}
		return urlInText(m)
	})
	return tokenRE.ReplaceAllStringFunc(text, func(m string) string {
		core := strings.TrimLeft(m, leading)
		core = strings.TrimRight(core, trailing)
		if _, pass, ok := userinfo(core); !ok || pass == "" || schemeRE.MatchString(core) {
			return m
		}
		i := strings.Index(m, core)
		return m[:i] + RedactedURL + m[i+len(core):]
	})
}

// urlInText is URL of a URL found in a text, with the punctuation that
// follows it kept.
func urlInText(m string) string {
	core := strings.TrimRight(m, trailing)
	if core == "" || schemeRE.FindString(core) == core {
		return m // "https://" alone, or cut at white space: no URL left
	}
	return URL(core) + m[len(core):]
}

// URLCredentials returns the secrets in the user info of a URL-like
// value, in every form a log may show them: as given, percent-decoded,
// and as Go's URL encoder writes them. It reads what a user may pass as a
// URL input (--gitops-repo, --repository, --promote-from, a remote): a
// "scheme://user:password@host/..." URL even when it does not parse (the
// user info is taken up to the last '@', so a password holding '/', '#',
// '@' or a space is found whole), "user:password@host/..." with no
// scheme, and a token given as the user name alone
// ("https://TOKEN@host/...") when it has 16 characters or more or a known
// token prefix. A plain user name (git@host:path,
// https://acme@dev.azure.com/...) is not a secret.
func URLCredentials(raw string) []string {
	user, pass, ok := userinfo(raw)
	if !ok {
		return nil
	}
	secret := pass
	if pass == "" {
		if !tokenLike(user) {
			return nil
		}
		secret = user
	}
	var out []string
	add := func(v string) {
		if len(strings.TrimSpace(v)) < minCredential || slices.Contains(out, v) {
			return
		}
		out = append(out, v)
	}
	add(secret)
	if dec, err := url.PathUnescape(secret); err == nil {
		add(dec)
		// How net/url writes it back (url.URL.String, error texts).
		enc := url.UserPassword("u", dec).String()
		add(strings.TrimPrefix(enc, "u:"))
		add(url.QueryEscape(dec))
	}
	if dec, err := url.QueryUnescape(secret); err == nil {
		add(dec)
	}
	return out
}

// userinfo finds the user and password of a URL-like value; ok is false
// when it holds none.
func userinfo(raw string) (user, pass string, ok bool) {
	var info string
	if m := schemeRE.FindStringIndex(raw); m != nil {
		rest := raw[m[1]:]
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			return "", "", false
		}
		info = rest[:at]
	} else {
		if strings.ContainsAny(raw, "\r\n") {
			return "", "", false
		}
		s := raw
		if at := strings.LastIndex(s, "@"); at > 0 && digestRE.MatchString(s[at+1:]) {
			s = s[:at] // name@sha256:...: the digest is no host
		}
		at := strings.LastIndex(s, "@")
		if at <= 0 {
			return "", "", false
		}
		info = s[:at]
		u, _, hasPass := strings.Cut(info, ":")
		switch {
		case !hasPass:
			return "", "", false // git@host:path: a user name, no secret
		case strings.ContainsFunc(u, unicode.IsSpace) || strings.ContainsFunc(s[at+1:], unicode.IsSpace):
			return "", "", false // prose ("note: see a@b"), not user:password@host
		}
	}
	user, pass, _ = strings.Cut(info, ":")
	if user == "" && pass == "" {
		return "", "", false
	}
	return user, pass, true
}

// tokenLike tells a token passed as the user name from a user name. A
// "user" with a '/' is a path cut at an '@' further on, not a token.
func tokenLike(user string) bool {
	if strings.Contains(user, "/") {
		return false
	}
	for _, p := range []string{"ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "glpat-"} {
		if strings.HasPrefix(user, p) {
			return true
		}
	}
	return len(user) >= 16
}
