package gitopspr

import (
	"cmp"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gitship/gitship/shared/markdown"
)

// markerName and sourceDir are what the managed path holds besides the
// resources: render.WriteTree's marker, and the chart and values copied
// by --include-source.
const (
	markerName = ".gitship-rendered"
	sourceDir  = ".source"
)

// Deploy describes one deployment for the commit message and the pull
// request.
type Deploy struct {
	App, Environment string
	Path             string   // the managed path in the GitOps repository
	Images           []string // the pins, REPOSITORY@sha256:...
	SourceRepo       string   // the app repository's URL
	SourceCommit     string
	RunURL, RunID    string
	Change           Change
	// Signed are the images --require-signature verified.
	Signed []Signed
}

func (d Deploy) shortSHA() string { return d.SourceCommit[:min(7, len(d.SourceCommit))] }

// Message is the commit message: a subject, what was rendered, and
// trailers (git interpret-trailers format) that tools and reviewers can
// query: Source-Commit, Image-Digest, Pipeline-Run.
func (d Deploy) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deploy(%s): %s", d.App, d.Environment)
	if len(d.Images) > 0 {
		fmt.Fprintf(&b, " to %s", shortImage(d.Images[0]))
	} else if d.SourceCommit != "" {
		fmt.Fprintf(&b, " at %s", d.shortSHA())
	}
	// The files changed are in the commit itself; the message is written
	// before they are, and stays the same on a retry.
	fmt.Fprintf(&b, "\n\nRendered by gitship for %s into %s.\n", d.Environment, d.Path)
	var trailers []string
	if d.SourceCommit != "" {
		trailers = append(trailers, "Source-Commit: "+oneLine(d.SourceCommit))
	}
	for _, img := range d.Images {
		trailers = append(trailers, "Image-Digest: "+oneLine(img))
	}
	if run := cmp.Or(d.RunURL, d.RunID); run != "" {
		trailers = append(trailers, "Pipeline-Run: "+oneLine(run))
	}
	if len(trailers) > 0 {
		b.WriteString("\n" + strings.Join(trailers, "\n") + "\n")
	}
	return b.String()
}

// oneLine is a trailer's value kept to its line: the CI's environment
// gives some of them, and a line break there would add trailers (or
// end them) in the commit message.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// Title is the pull request's title.
func (d Deploy) Title() string {
	t := fmt.Sprintf("Deploy %s to %s", d.App, d.Environment)
	switch {
	case len(d.Images) > 0:
		t += ": " + shortImage(d.Images[0])
	case d.SourceCommit != "":
		t += " at " + d.shortSHA()
	}
	return t
}

// Body is the pull request's description, at most limit characters (0:
// no limit): what is deployed where, from which commit and run, the files
// added, changed and removed, and the unified diff, collapsed, truncated
// to fit.
func (d Deploy) Body(limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Deploy `%s` to `%s`\n\n| | |\n|---|---|\n", d.App, d.Environment)
	fmt.Fprintf(&b, "| Environment | `%s` |\n| App | `%s` |\n| Path | `%s` |\n", d.Environment, d.App, d.Path)
	for _, img := range d.Images {
		fmt.Fprintf(&b, "| Image | `%s` |\n", img)
	}
	for _, s := range d.Signed {
		fmt.Fprintf(&b, "| Signed by | %s (`%s`) |\n", markdown.Cell(s.Identity), shortImage(s.Image))
		if s.Commit != "" || s.Source != "" {
			built := "`" + markdown.Cell(s.Commit) + "`"
			if link := commitURL(s.Source, s.Commit); link != "" && s.Commit != "" {
				built = fmt.Sprintf("[`%s`](%s)", s.Commit[:min(7, len(s.Commit))], link)
			}
			fmt.Fprintf(&b, "| Built from | %s `%s` at %s (signed provenance) |\n", markdown.Cell(s.Source), markdown.Cell(s.Ref), built)
		}
	}
	if d.SourceCommit != "" {
		commit := "`" + d.SourceCommit + "`"
		if link := commitURL(d.SourceRepo, d.SourceCommit); link != "" {
			commit = fmt.Sprintf("[`%s`](%s)", d.shortSHA(), link)
		}
		fmt.Fprintf(&b, "| Source commit | %s |\n", commit)
	}
	if d.RunURL != "" {
		fmt.Fprintf(&b, "| Pipeline run | [%s](%s) |\n", cmp.Or(d.RunID, "run"), d.RunURL)
	}
	fmt.Fprintf(&b, "\n**Changes:** %s\n\n", d.Change.Summary())
	for _, list := range []struct {
		what  string
		files []string
	}{{"added", d.Change.Added}, {"changed", d.Change.Changed}, {"removed", d.Change.Removed}} {
		for _, f := range list.files {
			fmt.Fprintf(&b, "- %s `%s`\n", list.what, f)
		}
	}
	const footer = "\n<sub>Opened by gitship gitops-pr; a re-run for this app and environment updates this pull request.</sub>\n"
	head := b.String()
	if d.Change.Diff == "" {
		return fit(head+footer, limit)
	}
	open, closing := "\n<details><summary>Diff</summary>\n\n```diff\n", "```\n</details>\n"
	diff := d.Change.Diff
	if limit > 0 {
		room := limit - utf8.RuneCountInString(head+open+closing+footer)
		if room < 200 {
			return fit(head+footer, limit) // no room for a useful diff
		}
		diff = truncateLines(diff, room-80)
	}
	return fit(head+open+diff+closing+footer, limit)
}

// truncateLines keeps whole lines of s within n characters and says how
// many were cut.
func truncateLines(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	used := 0
	for i, l := range lines {
		c := utf8.RuneCountInString(l)
		if used+c > n {
			fmt.Fprintf(&b, "... %d more lines: see the commit\n", len(lines)-i)
			break
		}
		b.WriteString(l)
		used += c
	}
	return b.String()
}

// fit cuts s to limit characters, the last resort.
func fit(s string, limit int) string {
	if limit <= 0 || utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

// shortImage is "shop@sha256:3f1e5b2c0d9a" for a pin.
func shortImage(pin string) string {
	repo, digest, ok := strings.Cut(pin, "@")
	if !ok {
		return pin
	}
	repo = repo[strings.LastIndex(repo, "/")+1:]
	return repo + "@" + digest[:min(len(digest), len("sha256:")+12)]
}

// commitURL links a commit on GitHub and Azure DevOps (both /commit/SHA).
func commitURL(repo, sha string) string {
	if !strings.HasPrefix(repo, "https://") {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(repo, "/"), ".git") + "/commit/" + sha
}
