package pipelines_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// TestDockerLoginUnderAct: publish, a container action, picks up the
// login a step on the runner made when DOCKER_CONFIG is relative to the
// workspace, and says what is wrong when it is not (the login went to a
// directory the action does not see).
func TestDockerLoginUnderAct(t *testing.T) {
	withImage := func(t *testing.T, dir string) {
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		p, err := layout.Write(filepath.Join(dir, "image"), empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, dockerConfig string
		want               []string
		code               int
	}{
		{"relative to the workspace", ".gitship/docker", []string{"published 127.0.0.1:"}, 0},
		{"outside the workspace", "/tmp/runner-docker", []string{
			"refused the credentials from no credentials (anonymous): none in the inputs or /tmp/runner-docker/config.json " +
				"(DOCKER_CONFIG=/tmp/runner-docker is not there: a login on the runner does not reach a container action",
		}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := runWorkflow(t, actSetup{workflow: "docker-login.yml", prepare: withImage,
				vars: map[string]string{"DOCKER_CONFIG": tt.dockerConfig}})
			if (run.Code == 0) != (tt.code == 0) {
				t.Fatalf("act exited %d, want %d", run.Code, tt.code)
			}
			if !strings.Contains(run.Output, "Login Succeeded") {
				t.Errorf("the login step did not log in")
			}
			for _, w := range tt.want {
				if !strings.Contains(run.Output, w) {
					t.Errorf("act's log has no %q", w)
				}
			}
			if tt.code != 0 {
				// The error channel says why, once (shared/step: a failed
				// check with nothing annotated ends with ::error).
				if n := strings.Count(run.Output, "::error::gitship-publish"); n != 1 {
					t.Errorf("%d ::error lines from gitship-publish, want 1", n)
				}
			}
		})
	}
}
