package gitopspr

import (
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/render"
)

const digest = "sha256:3f1e5b2c0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"

func TestPin(t *testing.T) {
	pin := "ghcr.io/acme/shop@" + digest
	for _, tt := range []struct {
		name, in, want string
	}{
		{"deployment with a tag",
			"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: ghcr.io/acme/shop:1.0 # the app\n          ports: [{containerPort: 8080}]\n",
			"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: " + pin + " # the app\n          ports: [{containerPort: 8080}]\n"},
		{"quoted, init container, and a sidecar left alone",
			"kind: Pod\nspec:\n  initContainers:\n  - image: \"ghcr.io/acme/shop:migrate\"\n  containers:\n  - image: 'docker.io/envoyproxy/envoy:v1.30'\n  - {name: x, image: ghcr.io/acme/shop@sha256:0000000000000000000000000000000000000000000000000000000000000000}\n",
			"kind: Pod\nspec:\n  initContainers:\n  - image: \"" + pin + "\"\n  containers:\n  - image: 'docker.io/envoyproxy/envoy:v1.30'\n  - {name: x, image: " + pin + "}\n"},
		{"cronjob, deep",
			"kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - image: ghcr.io/acme/shop\n",
			"kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - image: " + pin + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, counts, err := Pin([]render.Resource{{Kind: "X", Data: []byte(tt.in)}}, []string{pin})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(out[0].Data); got != tt.want {
				t.Errorf("pinned:\n%s\nwant:\n%s", got, tt.want)
			}
			if counts[pin] == 0 {
				t.Errorf("counts = %v", counts)
			}
		})
	}
}

func TestPinErrors(t *testing.T) {
	rs := []render.Resource{{Kind: "Deployment", Data: []byte("spec:\n  containers:\n  - image: nginx:1.27\n")}}
	for pin, want := range map[string]string{
		"ghcr.io/acme/shop:1.0":             "want REPOSITORY@sha256",
		"ghcr.io/acme/shop@" + digest:       "matched no container image (the rendered images are: nginx:1.27)",
		"docker.io/library/nginx@" + digest: "",
	} {
		_, _, err := Pin(rs, []string{pin})
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("Pin(%s) = %v, want %q", pin, err, want)
		}
	}
}
