package markdown

import "testing"

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"a|b":            `a\|b`,
		"two\nlines\r\n": "two<br>lines<br>",
		"<step> & co":    "&lt;step&gt; &amp; co",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}
