package validation

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFieldPath(t *testing.T) {
	for _, tc := range []struct {
		pointer, want string
	}{
		{"", ""},
		{"/spec/template/spec/containers/0/ports/0/containerPort", "spec.template.spec.containers[0].ports[0].containerPort"},
		{"/metadata/labels/app.kubernetes.io~1name", `metadata.labels["app.kubernetes.io/name"]`},
		{"/data/tilde~0key", `data["tilde~key"]`},
		{"/items/10", "items[10]"},
	} {
		if got := FieldPath(splitPointer(tc.pointer)); got != tc.want {
			t.Errorf("FieldPath(%q) = %q, want %q", tc.pointer, got, tc.want)
		}
	}
}

const deployment = `# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  labels:
    app.kubernetes.io/name: hello
spec:
  template:
    spec:
      containers:
        - name: a
        - name: hello
          ports:
            - containerPort: "80"
`

func TestLocate(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(deployment), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pointer   string
		line, col int
	}{
		{"/spec/template/spec/containers/1/ports/0/containerPort", 15, 15},
		{"/metadata/labels/app.kubernetes.io~1name", 7, 5},
		{"/spec/template/spec/containers/1", 13, 11},
		// Missing fields point at the deepest parent that exists.
		{"/spec/selector", 8, 1},
		{"/spec/template/spec/containers/7/name", 11, 7},
		{"", 2, 1},
	} {
		line, col := locate(&doc, splitPointer(tc.pointer))
		if line != tc.line || col != tc.col {
			t.Errorf("locate(%q) = %d:%d, want %d:%d", tc.pointer, line, col, tc.line, tc.col)
		}
	}
}
