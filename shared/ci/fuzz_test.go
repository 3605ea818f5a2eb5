package ci

import (
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/citest"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/redact"
)

// FuzzNeutralize: whatever the text, what a Writer prints of it holds no
// command, keeps its lines, and an annotation of it is one line read as
// exactly the command gitship meant, with no command in its decoded text.
func FuzzNeutralize(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("plain text 100%")
	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []string{"github", "azure"} {
			out := Neutralize(kind, s)
			if cmds := citest.Commands(kind, out); len(cmds) > 0 {
				t.Fatalf("%s: Neutralize(%q) = %q is read as %q", kind, s, out, cmds[0].Name)
			}
			if strings.Count(out, "\n") != strings.Count(s, "\n") || strings.Count(out, "\r") != strings.Count(s, "\r") {
				t.Fatalf("%s: Neutralize(%q) = %q changed the lines", kind, s, out)
			}
			if title := oneLine(kind, s); strings.ContainsAny(title, "\r\n") || HasCommand(kind, title) {
				t.Fatalf("%s: oneLine(%q) = %q", kind, s, title)
			}
			var ann string
			switch kind {
			case "github":
				ann = githubAnnotation("error", "file="+githubProperty(s), s)
			case "azure":
				ann = azureAnnotation("type=error;sourcepath="+azureProperty(s), s)
			}
			if strings.ContainsAny(ann, "\r\n") {
				t.Fatalf("%s: annotation of %q spans lines: %q", kind, s, ann)
			}
			cmds := citest.Commands(kind, ann)
			if len(cmds) != 1 || (cmds[0].Name != "error" && cmds[0].Name != "task.logissue") {
				t.Fatalf("%s: annotation %q is read as %+v", kind, ann, cmds)
			}
			if bad := citest.Injected(kind, ann, "\x00never"); len(bad) > 0 {
				t.Fatalf("%s: annotation %q holds %+v", kind, ann, bad)
			}
		}
	})
}

// FuzzDetect: any environment gives a platform without a panic, a context
// with no credential in its URLs, and a Writer that prints no command.
func FuzzDetect(f *testing.F) {
	f.Add("GITHUB_ACTIONS=true\nGITHUB_SERVER_URL=https://github.com\nGITHUB_REPOSITORY=acme/app\nGITHUB_RUN_ID=1\nGITHUB_REF=refs/pull/7/merge\nGITHUB_SHA=abc")
	f.Add("TF_BUILD=True\nBUILD_REPOSITORY_URI=https://acme:pat0123456789@dev.azure.com/acme/app/_git/app\nSYSTEM_COLLECTIONURI=https://dev.azure.com/acme/\nSYSTEM_TEAMPROJECT=app\nBUILD_BUILDID=5\nSYSTEM_PULLREQUEST_SOURCEBRANCH=refs/heads/x")
	f.Add("BUILD_ID=1\nPROJECT_ID=p\n_REPOSITORY_URL=https://bot:p@ss@example.com/r\nTAG_NAME=v1\nLOCATION=eu")
	f.Add("GITHUB_ACTIONS=true\nGITHUB_REF=refs/pull/\nGITHUB_SHA=\n")
	dir := f.TempDir() // no repository: the context comes from env only
	f.Fuzz(func(t *testing.T, text string) {
		env := Env{}
		for _, line := range strings.Split(text, "\n") {
			k, v, _ := strings.Cut(line, "=")
			env[k] = v
		}
		p, err := Detect(env, Options{Step: "lint", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		c := p.Context()
		for _, u := range []string{c.RepositoryURL, c.RunURL} {
			if creds := redact.URLCredentials(u); len(creds) > 0 {
				t.Fatalf("context URL %q holds credentials %q", u, creds)
			}
		}
		var sb strings.Builder
		w := NewWriter(&sb, p.Name(), nil)
		w.Write([]byte(c.Branch + "\n" + c.Ref + "\n" + c.RunURL + "\n"))
		p.Group(w, c.Branch)
		p.Annotate(w, finding.Finding{Severity: finding.Error, File: c.Branch, Message: c.Tag})
		p.EndGroup(w)
		w.Flush()
		if bad := citest.Injected(p.Name(), sb.String(), "\x00never"); len(bad) > 0 {
			t.Fatalf("commands from the context %+v: %+v\n%s", c, bad, sb.String())
		}
	})
}
