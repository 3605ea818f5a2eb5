package steptest

import (
	"slices"
	"testing"
)

// A secret is also looked for in the pieces a URL parser quotes when it
// cuts a password short: those of 4 or more characters.
func TestWithFragments(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want []string
	}{
		{[]string{"s3cret-Pa55"}, []string{"s3cret-Pa55"}},
		{[]string{"pa55/word"}, []string{"pa55/word", "pa55", "word"}},
		{[]string{"ghs_ab#cd", "p@ss/w#rd x"}, []string{"ghs_ab#cd", "p@ss/w#rd x", "ghs_ab"}},
		{[]string{"p%40ss%2Fw%23rd%20x", "tok/en:123"}, []string{"p%40ss%2Fw%23rd%20x", "tok/en:123", "40ss", "23rd"}},
		{[]string{"ab%zzsecret", "ab%zzsecret"}, []string{"ab%zzsecret", "zzsecret"}},
	} {
		if got := withFragments(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("withFragments(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
