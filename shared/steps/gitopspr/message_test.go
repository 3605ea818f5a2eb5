package gitopspr

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gitship/gitship/internal/steptest"
)

func sample() Deploy {
	before := map[string]string{
		"deployment-shop.yaml": "# Source: chart/templates/deployment.yaml\nkind: Deployment\nspec:\n  replicas: 1\n  image: ghcr.io/acme/shop@sha256:0000\n",
		"configmap-old.yaml":   "kind: ConfigMap\n",
	}
	after := map[string]string{
		"deployment-shop.yaml": "# Source: chart/templates/deployment.yaml\nkind: Deployment\nspec:\n  replicas: 3\n  image: ghcr.io/acme/shop@" + digest + "\n",
		"service-shop.yaml":    "kind: Service\n",
	}
	return Deploy{App: "shop", Environment: "staging", Path: "clusters/staging/shop",
		Images:     []string{"ghcr.io/acme/shop@" + digest},
		SourceRepo: "https://github.com/acme/shop", SourceCommit: "0123456789abcdef0123456789abcdef01234567",
		RunURL: "https://github.com/acme/shop/actions/runs/42", RunID: "42",
		Change: diffTrees(before, after, "clusters/staging/shop")}
}

func TestDiffTrees(t *testing.T) {
	c := sample().Change
	if strings.Join(c.Added, ",") != "service-shop.yaml" || strings.Join(c.Changed, ",") != "deployment-shop.yaml" ||
		strings.Join(c.Removed, ",") != "configmap-old.yaml" {
		t.Errorf("change = %+v", c)
	}
	for _, want := range []string{"--- a/clusters/staging/shop/deployment-shop.yaml", "-  replicas: 1", "+  replicas: 3",
		"--- /dev/null\n+++ b/clusters/staging/shop/service-shop.yaml", "--- a/clusters/staging/shop/configmap-old.yaml\n+++ /dev/null"} {
		if !strings.Contains(c.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, c.Diff)
		}
	}
	if same := diffTrees(map[string]string{"a": "x"}, map[string]string{"a": "x"}, "p"); !same.Empty() || same.Diff != "" {
		t.Errorf("identical trees: %+v", same)
	}
}

func TestMessageAndBody(t *testing.T) {
	d := sample()
	steptest.Golden(t, "message", d.Message())
	steptest.Golden(t, "title", d.Title()+"\n")
	steptest.Golden(t, "body", d.Body(65536))
}

// The body fits the provider's limit: the diff is cut at a line and says
// so; the table and the file list stay.
func TestBodyLimit(t *testing.T) {
	d := sample()
	d.Change.Diff = strings.Repeat("+ a line of a long diff, é\n", 1000)
	for _, limit := range []int{4000, 65536} {
		body := d.Body(limit)
		if n := utf8.RuneCountInString(body); n > limit {
			t.Errorf("limit %d: body has %d characters", limit, n)
		}
		for _, want := range []string{"| Image | `ghcr.io/acme/shop@" + digest + "` |", "- changed `deployment-shop.yaml`"} {
			if !strings.Contains(body, want) {
				t.Errorf("limit %d: body lacks %q", limit, want)
			}
		}
		if limit == 4000 && !strings.Contains(body, "more lines: see the commit") {
			t.Errorf("limit %d: the cut is not said", limit)
		}
	}
	if b := d.Body(300); utf8.RuneCountInString(b) > 300 {
		t.Errorf("tiny limit: %d characters", utf8.RuneCountInString(b))
	}
}

// Trailer values from the CI's environment stay on their line: a line
// break there cannot add a trailer or a header-looking line.
func TestMessageTrailersOneLine(t *testing.T) {
	d := sample()
	d.SourceCommit = "0123456\nSigned-off-by: evil <e@example.com>"
	d.RunURL = "https://ci.example.com/run/1\r\nCo-authored-by: x <x@example.com>"
	msg := d.Message()
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, "Signed-off-by:") || strings.HasPrefix(line, "Co-authored-by:") || strings.Contains(line, "\r") {
			t.Errorf("a trailer value made its own line %q:\n%s", line, msg)
		}
	}
	if !strings.Contains(msg, "Source-Commit: 0123456 Signed-off-by: evil <e@example.com>\n") {
		t.Errorf("message:\n%s", msg)
	}
}
