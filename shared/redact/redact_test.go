package redact

import (
	"testing"
)

func TestString(t *testing.T) {
	var r Redactor
	r.Add("s3cret", "multi\nline-secret", "  ")
	tests := []struct{ name, in, want string }{
		{"plain", "token=s3cret!", "token=***!"},
		{"twice", "s3cret s3cret", "*** ***"},
		{"multiline whole", "x multi\nline-secret y", "x *** y"},
		{"one line of multiline", "got line-secret", "got ***"},
		{"blank secret ignored", "a  b", "a  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
