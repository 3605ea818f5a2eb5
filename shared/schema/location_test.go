package schema

import (
	"path/filepath"
	"testing"
)

func TestLocationPath(t *testing.T) {
	for _, tt := range []struct {
		apiVersion, kind string
		strict           bool
		want             string
	}{
		{"apps/v1", "Deployment", true, "r/v1.37.2/apps/v1/deployment-strict.json"},
		{"v1", "Service", false, "r/v1.37.2/v1/v1/service.json"},
		{"networking.k8s.io/v1", "Ingress", false, "r/v1.37.2/networking.k8s.io/v1/ingress.json"},
	} {
		if got := LocationPath("r", "1.37.2", tt.apiVersion, tt.kind, tt.strict); got != filepath.FromSlash(tt.want) {
			t.Errorf("LocationPath(%s %s) = %s, want %s", tt.apiVersion, tt.kind, got, tt.want)
		}
	}
}
