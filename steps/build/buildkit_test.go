package main

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/steptest"
)

// modernDockerfile is what teams write today: a cache mount, a secret
// from a file and one from a variable, a heredoc, COPY --link, a named
// context and TARGETPLATFORM, with a test stage. The classic builder
// builds none of it.
const modernDockerfile = `FROM gitship-test/busybox:1 AS base
ARG TARGETPLATFORM
WORKDIR /src
COPY --link . .
RUN --mount=type=cache,id=CACHEID,target=/cache sh -c 'n=$(cat /cache/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /cache/n; echo "cache mount run $n" > /builds'
RUN --mount=type=secret,id=npmrc --mount=type=secret,id=token \
    sh -c 'test -s /run/secrets/npmrc && echo "secrets seen: $(cat /run/secrets/token)" && cat /run/secrets/npmrc && wc -c < /run/secrets/npmrc > /npmrc.size'
RUN <<EOT
echo "built for $TARGETPLATFORM" > /platform
EOT
COPY --from=assets logo.txt /logo.txt

FROM base AS test
CMD ["sh", "-c", "cat /builds /platform /logo.txt && echo tests pass"]

FROM base
`

func TestBuildKitDockerfile(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	const fileSecret, envSecret = "//registry.npmjs.org/:_authToken=npm-s3cret-value", "tok-s3cret-value"
	// A cache mount of its own: the engine keeps cache mounts across runs.
	df := strings.ReplaceAll(modernDockerfile, "CACHEID", fmt.Sprintf("gitship-test-%d", time.Now().UnixNano()))
	ws, _ := repo(t, map[string]string{"Dockerfile": df, "main.go": "package main // v1\n"}, "")
	sha := steptest.CIEnv("github", ws, "")["GITHUB_SHA"]
	assets := t.TempDir()
	if err := os.WriteFile(filepath.Join(assets, "logo.txt"), []byte("logo from a named context\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "npmrc")
	if err := os.WriteFile(secretFile, []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	image := "gitship-test/modern-" + strings.ToLower(t.Name())
	removeImage(t, image+":"+sha)
	tmp := t.TempDir()
	e := steptest.CIEnv("github", ws, tmp)
	e["DOCKER_HOST"], e["NPM_TOKEN"] = env["DOCKER_HOST"], envSecret
	args := []string{"--image", image, "--test-target", "test", "--build-context", "assets=" + assets,
		"--secret", "id=npmrc,src=" + secretFile, "--secret", "id=token,env=NPM_TOKEN", "--output", "docker", "--output", "oci:out"}

	res := steptest.Run(t, binary, ws, e, args...)
	mustSucceed(t, res)
	for _, want := range []string{"Builder: BuildKit in the Docker engine", "cache mount run 1", "built for linux/amd64",
		"logo from a named context", "tests pass", "Tests passed in the container"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	if regexp.MustCompile("\x1b\\[|\r").MatchString(res.Stdout) {
		t.Error("the log holds escape codes or carriage returns")
	}

	// The secrets reached the RUN, masked in the log, and are nowhere
	// in the outputs, the summary, the image, its history or the layout.
	masked := steptest.Masked("github", res)
	if !masked[fileSecret] || !masked[envSecret] {
		t.Errorf("secrets not masked; masked = %v", masked)
	}
	outFile, _ := os.ReadFile(filepath.Join(tmp, "output"))
	summary, _ := os.ReadFile(filepath.Join(tmp, "summary"))
	layout := readTree(t, filepath.Join(ws, "out"))
	saved := savedImage(t, env["DOCKER_HOST"], image+":"+sha)
	history, _ := exec.Command("docker", "-H", env["DOCKER_HOST"], "history", "--no-trunc", image+":"+sha).CombinedOutput()
	steptest.NoSecret(t, res, map[string]string{"outputs": string(outFile), "summary": string(summary),
		"OCI layout": layout, "image": saved, "history": string(history)}, fileSecret, envSecret, "s3cret")
	if !strings.Contains(saved, "npmrc.size") {
		t.Error("the image lacks what the secret RUN wrote: was it run?")
	}

	// One line changed: the RUN with the cache mount runs again and finds
	// what the first build left in the mount.
	if err := os.WriteFile(filepath.Join(ws, "main.go"), []byte("package main // v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = steptest.Run(t, binary, ws, e, args...)
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "cache mount run 2") {
		t.Errorf("the second build did not reuse the cache mount:\n%s", res.Stdout)
	}
}

// readTree is every file under dir, concatenated.
func readTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			b.Write(data)
			b.WriteString(gunzipAll(data))
		}
		return nil
	})
	return b.String()
}

// savedImage is docker save of ref, with every layer unpacked.
func savedImage(t *testing.T, host, ref string) string {
	t.Helper()
	rc, err := engineClient(t).ImageSave(context.Background(), []string{ref})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b strings.Builder
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(tr)
		b.WriteString(h.Name + "\n")
		b.Write(data)
		b.WriteString(untar(data))
	}
	return b.String()
}

// TestClassicNeedsBuildKit: a Dockerfile with RUN --mount on the classic
// builder fails on its line before building, saying how to get BuildKit.
func TestClassicNeedsBuildKit(t *testing.T) {
	env := engineEnv(t)
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nRUN echo fine\nRUN --mount=type=cache,target=/c true\n"}, "")
	e := steptest.CIEnv("github", ws, t.TempDir())
	e["DOCKER_HOST"] = env["DOCKER_HOST"]
	res := steptest.Run(t, binary, ws, e, "--builder", "classic")
	if res.Code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, want := range []string{"::error file=Dockerfile,line=3,title=BUILD::RUN --mount needs BuildKit", "--builder unix:///run/buildkit/buildkitd.sock"} {
		if !strings.Contains(res.Stdout+res.Stderr, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, res.Stdout, res.Stderr)
		}
	}
	if strings.Contains(res.Stdout, "Step 1/") {
		t.Error("the classic builder was started")
	}
}

// TestBuildKitBadInput: what the user must fix exits 2, naming the flag
// or the address tried, before anything is built.
func TestBuildKitBadInput(t *testing.T) {
	env := engineEnv(t)
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\n"}, "")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown builder scheme", []string{"--builder", "ftp://builder:1234"}, []string{"--builder", `unknown scheme "ftp"`}},
		{"unreachable builder", []string{"--builder", "unix:///tmp/gitship-none/buildkitd.sock"}, []string{"--builder", "unix:///tmp/gitship-none/buildkitd.sock", "BuildKit unreachable"}},
		{"missing secret file", []string{"--secret", "id=npmrc,src=/tmp/gitship-none/npmrc"}, []string{"--secret", "/tmp/gitship-none/npmrc", "no such file"}},
		{"secret from nowhere", []string{"--secret", "id=token,env=GITSHIP_TEST_UNSET"}, []string{"--secret", "no GITSHIP_TEST_UNSET in the environment"}},
		{"ssh without an agent", []string{"--ssh", "default"}, []string{"--ssh", "SSH_AUTH_SOCK"}},
		{"TLS files for a socket", []string{"--builder", "unix:///run/buildkit/buildkitd.sock", "--builder-tls-ca", "/etc/hostname"}, []string{"--builder", "tcp:// builders only"}},
		{"bad platform", []string{"--platform", "linux/amd64,plan10/x"}, []string{"--platform", "plan10/x"}},
		{"several platforms on the engine", []string{"--platform", "linux/amd64,linux/arm64", "--output", "oci:out"}, []string{"--platform", "standalone BuildKit"}},
		{"cache type", []string{"--cache-to", "type=floppy"}, []string{"--cache-to", `unknown cache type "floppy"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := steptest.Run(t, binary, ws, env, tt.args...)
			if res.Code != 2 {
				t.Errorf("exit %d, want 2\n%s\n%s", res.Code, res.Stdout, res.Stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
				}
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %v to fail", d)
			}
		})
	}
}

// TestCacheToRefused: a cache that cannot be written is a warning; the
// image is built all the same.
func TestCacheToRefused(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nRUN echo built > /built\n"}, "")
	e := steptest.CIEnv("github", ws, t.TempDir())
	e["DOCKER_HOST"] = env["DOCKER_HOST"]
	res := steptest.Run(t, binary, ws, e, "--cache-to", "type=registry,ref=127.0.0.1:1/app:buildcache,mode=max", "--output", "oci:out")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "::warning title=BUILD::--cache-to: the build cache was not written") {
		t.Errorf("no warning for the cache:\n%s", res.Stdout)
	}
	if _, err := os.Stat(filepath.Join(ws, "out", "index.json")); err != nil {
		t.Errorf("no image written: %v", err)
	}
}

// TestSSHMount: RUN --mount=type=ssh reaches the runner's agent.
func TestSSHMount(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Skipf("no ssh-agent: %v", err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nRUN --mount=type=ssh sh -c 'test -S \"$SSH_AUTH_SOCK\" && echo agent socket at $SSH_AUTH_SOCK' # " + sock + "\n"}, "")
	e := map[string]string{"DOCKER_HOST": env["DOCKER_HOST"], "SSH_AUTH_SOCK": sock}
	res := steptest.Run(t, binary, ws, e, "--ssh", "default", "--output", "oci:out")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "agent socket at /run/buildkit/ssh_agent.0") {
		t.Errorf("the RUN saw no agent:\n%s", res.Stdout)
	}
}
