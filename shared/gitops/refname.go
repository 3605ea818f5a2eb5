package gitops

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRefName is returned (wrapped) for a name git refuses as a ref.
var ErrRefName = errors.New("not a valid git ref name")

// CheckRefName checks a full ref name (refs/heads/main) by the rules of
// git check-ref-format: no component that starts with "." or ends with
// ".lock", no "..", "//", "@{", control characters, space, ~ ^ : ? * [ or
// \, not ending in "/" or ".", not "@". The error says which rule.
func CheckRefName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%q is %w: %s", name, ErrRefName, why) }
	switch {
	case name == "":
		return bad("it is empty")
	case name == "@":
		return bad(`"@" alone is not allowed`)
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return bad(`it starts or ends with "/"`)
	case strings.HasSuffix(name, "."):
		return bad(`it ends with "."`)
	}
	for _, s := range []string{"..", "//", "@{"} {
		if strings.Contains(name, s) {
			return bad(fmt.Sprintf("it contains %q", s))
		}
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return bad("it contains a control character")
		}
		if strings.ContainsRune(" ~^:?*[\\", r) {
			return bad(fmt.Sprintf("it contains %q", r))
		}
	}
	for _, c := range strings.Split(name, "/") {
		if strings.HasPrefix(c, ".") {
			return bad(fmt.Sprintf("component %q starts with \".\"", c))
		}
		if strings.HasSuffix(c, ".lock") {
			return bad(fmt.Sprintf("component %q ends with \".lock\"", c))
		}
	}
	return nil
}

// CheckBranch checks a branch name given without refs/heads/, as git
// check-ref-format --branch does: a valid ref name under refs/heads/, not
// starting with "-", not HEAD, not itself starting with refs/.
func CheckBranch(b string) error {
	switch {
	case b == "":
		return fmt.Errorf("the branch name is empty: %w", ErrRefName)
	case strings.HasPrefix(b, "-"):
		return fmt.Errorf("branch %q is %w: it starts with \"-\"", b, ErrRefName)
	case b == "HEAD":
		return fmt.Errorf("branch %q is %w: HEAD is not a branch", b, ErrRefName)
	case strings.HasPrefix(b, "refs/"):
		return fmt.Errorf("branch %q: give it without refs/heads/: %w", b, ErrRefName)
	}
	if err := CheckRefName("refs/heads/" + b); err != nil {
		return fmt.Errorf("branch %q: %w", b, err)
	}
	return nil
}

// ErrIdent is returned (wrapped) for an author name or email git cannot
// carry in a commit header.
var ErrIdent = errors.New("not allowed in a commit's author")

// CheckIdent checks an author name or email for what would break out of
// the commit header "author NAME <EMAIL> TIME": a line break or another
// control character, "<" or ">".
func CheckIdent(s string) error {
	for _, r := range s {
		switch {
		case r < ' ' || r == 0x7f:
			return fmt.Errorf("%q: a line break or control character is %w", s, ErrIdent)
		case r == '<' || r == '>':
			return fmt.Errorf("%q: %q is %w", s, r, ErrIdent)
		}
	}
	return nil
}
