package main

// End-to-end tests of the built gitship-build binary against a real Docker
// engine: the engine the machine has, or a dockerd enginetest starts. Base
// images are imported from local files; nothing is pulled.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/gitship/gitship/shared/ocilayout"
)

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	bin, cleanup, err := steptest.Build("gitship-build")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := enginetest.Run(m.Run)
	cleanup()
	os.Exit(code)
}

// repo is a checkout of files with an origin remote (credentials in its
// URL, which must never reach a log) and, when tag is set, that tag.
func repo(t *testing.T, files map[string]string, tag string) (string, string) {
	t.Helper()
	return steptest.Checkout(t, steptest.Repo{Files: files, Tag: tag, Remote: "https://ci-bot:tok3n@github.com/acme/shop.git"})
}

// exampleApp is examples/app as files, with extra files added.
func exampleApp(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	files := map[string]string{}
	src := filepath.Join("..", "..", "examples", "app")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		files[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

// engineEnv is the environment of a local run against the test engine.
func engineEnv(t *testing.T) map[string]string {
	return map[string]string{"DOCKER_HOST": enginetest.Daemon(t)}
}

func engineClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(client.WithHost(enginetest.Daemon(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func removeImage(t *testing.T, ref string) {
	t.Cleanup(func() {
		c, err := client.New(client.WithHost(enginetest.Daemon(t)))
		if err != nil {
			return
		}
		defer c.Close()
		c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true})
	})
}

func mustSucceed(t *testing.T, res steptest.Result) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
}

// The example app: its test stage builds, go test passes inside the
// container, and the final image carries the OCI labels of the commit and
// goes both to the engine and to an OCI layout with the same config.
func TestExampleApp(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the example app in a container")
	}
	env := engineEnv(t)
	host := env["DOCKER_HOST"]
	goImage, base := enginetest.GoImage(t, host), enginetest.BaseImage(t, host)
	ws, sha := repo(t, exampleApp(t, nil), "v1.2.3")
	removeImage(t, "shop:"+sha)
	removeImage(t, "shop:v1.2.3")
	args := []string{"--context", ".", "--build-arg", "GO_IMAGE=" + goImage, "--build-arg", "RUNTIME_IMAGE=" + base,
		"--tag", "v1.2.3"}

	res := steptest.Run(t, binary, ws, env, append(args, "--test-target", "test",
		"--output", "docker", "--output", "oci:out/image")...)
	mustSucceed(t, res)
	for _, want := range []string{"==> Test: the stage's CMD", "--- PASS: TestGreeting", "Tests passed in the container"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	if strings.Contains(res.Stdout+res.Stderr, "tok3n") {
		t.Error("the remote's credentials reached the log")
	}
	out := steptest.Outputs(t, ws, "build")
	wantTags := "shop:" + sha + "\nshop:v1.2.3"
	if out["test-exit-code"] != "0" || out["tags"] != wantTags || out["oci-layout"] != filepath.Join(ws, "out", "image") ||
		!strings.HasPrefix(out["image-id"], "sha256:") || !strings.HasPrefix(out["digest"], "sha256:") {
		t.Errorf("outputs = %v", out)
	}

	c := engineClient(t)
	img, err := c.ImageInspect(context.Background(), "shop:"+sha)
	if err != nil {
		t.Fatalf("the final image is not in the engine under its SHA tag: %v", err)
	}
	if img.ID != out["image-id"] {
		t.Errorf("shop:%s is %s, output image-id %s", sha, img.ID, out["image-id"])
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.revision": sha,
		"org.opencontainers.image.source":   "https://github.com/acme/shop.git",
		"org.opencontainers.image.created":  "2026-01-02T01:04:05Z",
		"org.opencontainers.image.version":  "1.2.3",
	}
	for k, v := range wantLabels {
		if got := img.Config.Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}

	// The layout loads with go-containerregistry: the same config as the
	// engine's image, and the manifest digest the step reported.
	layoutImg, err := ocilayout.Image(filepath.Join(ws, "out", "image"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := layoutImg.ConfigName(); cfg.String() != img.ID {
		t.Errorf("layout config digest %s, engine image %s", cfg, img.ID)
	}
	if d, _ := layoutImg.Digest(); d.String() != out["digest"] {
		t.Errorf("layout manifest %s, output digest %s", d, out["digest"])
	}
	if cf, _ := layoutImg.ConfigFile(); cf.Config.Labels["org.opencontainers.image.revision"] != sha {
		t.Errorf("layout image labels = %v", cf.Config.Labels)
	}

	// A rebuild of the same commit, on another day, labels it the same.
	res = steptest.Run(t, binary, ws, env, append(args, "--output", "oci:out/image")...)
	mustSucceed(t, res)
	again, err := ocilayout.Image(filepath.Join(ws, "out", "image"), "")
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := again.ConfigFile()
	for k, v := range wantLabels {
		if got := cf.Config.Labels[k]; got != v {
			t.Errorf("rebuild: label %s = %q, want %q", k, got, v)
		}
	}
}

// A planted failing test fails the step with go test's exit code and its
// output in the log; no final image is built.
func TestExampleAppFailingTest(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the example app in a container")
	}
	env := engineEnv(t)
	host := env["DOCKER_HOST"]
	ws, _ := repo(t, exampleApp(t, map[string]string{
		"planted_test.go": "package main\n\nimport \"testing\"\n\nfunc TestPlanted(t *testing.T) { t.Fatal(\"planted failure\") }\n",
	}), "")
	res := steptest.Run(t, binary, ws, env, "--build-arg", "GO_IMAGE="+enginetest.GoImage(t, host),
		"--build-arg", "RUNTIME_IMAGE="+enginetest.BaseImage(t, host), "--test-target", "test")
	if res.Code != 1 {
		t.Fatalf("exit code = %d, want 1 (go test's)\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	for _, want := range []string{"--- FAIL: TestPlanted", "planted failure",
		"Tests failed in the container: exit code 1. Last lines of their output:"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	if !strings.Contains(res.Stderr, `tests in stage "test" exited with 1`) {
		t.Errorf("stderr = %q", res.Stderr)
	}
	out := steptest.Outputs(t, ws, "build")
	if out["test-exit-code"] != "1" || out["image-id"] != "" {
		t.Errorf("outputs = %v, want test-exit-code 1 and no image", out)
	}
	if strings.Contains(res.Stdout, "==> Build image") {
		t.Error("the final image was built after failed tests")
	}
}

// junitApp runs "tests" that write a JUnit report and exit with code.
func junitApp(t *testing.T, report string, code int) map[string]string {
	t.Helper()
	return map[string]string{
		"Dockerfile": `FROM gitship-test/busybox:1 AS test
WORKDIR /src
COPY . .
CMD ["sh", "-c", "echo running the tests; mkdir -p reports && cp junit.xml reports/junit.xml; exit ` + fmt.Sprint(code) + `"]

FROM gitship-test/busybox:1
COPY --from=test /src/junit.xml /junit.xml
`,
		"junit.xml": report,
	}
}

// A JUnit report copied out of the container becomes the summary and one
// annotation per failed test, on each CI system; the step exits with the
// tests' own code.
func TestJUnitReport(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	report, err := os.ReadFile(filepath.Join("testdata", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		platform    string
		env         func(ws, tmp string) map[string]string
		annotations []string
		summary     func(ws, tmp, stdout string) string
	}{
		{"github", func(ws, tmp string) map[string]string {
			return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
				"GITHUB_OUTPUT": filepath.Join(tmp, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary")}
		}, []string{
			"::error file=svc/cart/cart_test.go,line=21,title=TEST::test shop/cart.TestTotal failed: total = 3, want 4",
			"::error title=TEST::test shop/cart.TestCheckout could not run: database unreachable",
			`::error title=TEST::tests failed in the container of stage "test": the stage's CMD exited with 3`,
		}, func(ws, tmp, _ string) string {
			data, _ := os.ReadFile(filepath.Join(tmp, "summary"))
			return string(data)
		}},
		{"azure", func(ws, tmp string) map[string]string {
			return map[string]string{"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws, "BUILD_SOURCEVERSION": "0123456789abcdef0123456789abcdef01234567",
				"AGENT_TEMPDIRECTORY": tmp}
		}, []string{
			"##vso[task.logissue type=error;sourcepath=svc/cart/cart_test.go;linenumber=21;code=TEST;]test shop/cart.TestTotal failed: total = 3, want 4",
			"##vso[task.setvariable variable=testExitCode;isOutput=true]3",
		}, func(ws, tmp, stdout string) string {
			m := regexp.MustCompile(`##vso\[task.uploadsummary\](.*)`).FindStringSubmatch(stdout)
			if m == nil {
				return ""
			}
			data, _ := os.ReadFile(m[1])
			return string(data)
		}},
	} {
		t.Run(tt.platform, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range junitApp(t, string(report), 3) {
				files["svc/"+k] = v
			}
			ws, _ := repo(t, files, "")
			tmp := t.TempDir()
			e := tt.env(ws, tmp)
			e["DOCKER_HOST"] = env["DOCKER_HOST"]
			res := steptest.Run(t, binary, ws, e, "--context", "svc", "--test-target", "test", "--test-report", "reports/junit.xml")
			if res.Code != 3 {
				t.Fatalf("exit code = %d, want 3, the tests'\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
			}
			for _, want := range tt.annotations {
				if !strings.Contains(res.Stdout, want+"\n") {
					t.Errorf("stdout lacks the line\n%s\nin:\n%s", want, res.Stdout)
				}
			}
			copied := filepath.Join(ws, ".gitship", "build", "junit.xml")
			if data, err := os.ReadFile(copied); err != nil || string(data) != string(report) {
				t.Errorf("report copied to %s: %v", copied, err)
			}
			summary := tt.summary(ws, tmp, res.Stdout)
			for _, want := range []string{"| 3 | 1 | 1 | 1 | 0 | 31ms |", "| shop/cart.TestTotal | total = 3, want 4 |"} {
				if !strings.Contains(summary, want) {
					t.Errorf("summary lacks %q:\n%s", want, summary)
				}
			}
		})
	}
}

// A report that is not JUnit, or missing after failed tests, is a warning;
// missing after passing tests it is an error.
func TestReportProblems(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	for _, tt := range []struct {
		name, report string
		code         int
		wantCode     int
		want         string
	}{
		{"coverage xml", "<coverage line-rate=\"0.8\"></coverage>", 0, 0, "copied, but not summarized: not JUnit XML"},
		{"missing after failure", "", 1, 1, "--test-report /src/reports/missing.xml: no report"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, _ := repo(t, junitApp(t, tt.report, tt.code), "")
			path := "reports/junit.xml"
			if tt.report == "" {
				path = "reports/missing.xml"
			}
			res := steptest.Run(t, binary, ws, env, "--test-target", "test", "--test-report", path, "--output", "oci:img")
			if res.Code != tt.wantCode || !strings.Contains(res.Stdout, tt.want) {
				t.Errorf("exit %d (want %d), stdout lacks %q:\n%s\nstderr:\n%s", res.Code, tt.wantCode, tt.want, res.Stdout, res.Stderr)
			}
		})
	}
	ws, _ := repo(t, junitApp(t, "x", 0), "")
	res := steptest.Run(t, binary, ws, env, "--test-target", "test", "--test-report", "nowhere.xml", "--output", "oci:img")
	if res.Code != 1 || !strings.Contains(res.Stderr, "the tests passed but left no report") {
		t.Errorf("missing report after passing tests: exit %d\n%s", res.Code, res.Stderr)
	}
	if _, err := os.Stat(filepath.Join(ws, "img")); err == nil {
		t.Error("an image was written although the step failed")
	}
}

// SIGTERM or SIGINT in the middle of the tests: the step stops, and no
// container or test image it created is left in the engine.
func TestInterrupted(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	c := engineClient(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			marker := fmt.Sprintf("tests-started-%d-%d", os.Getpid(), sig)
			ws, _ := repo(t, junitApp(t, "", 0), "")
			cmd := exec.Command(binary, "--test-target", "test", "--test-command", "echo "+marker+"; sleep 600")
			cmd.Dir = ws
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DOCKER_HOST=" + env["DOCKER_HOST"]}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var (
				mu  sync.Mutex
				log strings.Builder
			)
			logged := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
			started := make(chan string, 1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					mu.Lock()
					log.WriteString(sc.Text() + "\n")
					mu.Unlock()
					if sc.Text() == marker {
						started <- marker
					}
				}
			}()
			select {
			case <-started:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				<-done
				t.Fatalf("the tests never started:\n%s", logged())
			}
			testImage := regexp.MustCompile(`(?:Successfully built |Built image sha256:)([0-9a-f]+)`).FindStringSubmatch(logged())
			cmd.Process.Signal(sig)
			exited := make(chan error, 1)
			go func() { <-done; exited <- cmd.Wait() }()
			select {
			case <-exited:
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Fatalf("still running a minute after %v:\n%s", sig, logged())
			}
			if cmd.ProcessState.ExitCode() == 0 {
				t.Errorf("exit code 0 after %v", sig)
			}

			list, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, ctr := range list.Items {
				if strings.Contains(ctr.Command, marker) {
					t.Errorf("container %s (%s, %s) left behind", ctr.ID[:12], ctr.Command, ctr.State)
				}
			}
			if testImage == nil {
				t.Fatalf("no test image in the log:\n%s", logged())
			}
			if _, err := c.ImageInspect(context.Background(), testImage[1]); err == nil {
				t.Errorf("test image %s left behind", testImage[1])
			}
		})
	}
}

// Bad input fails fast with the file, stage or socket named, exit 2 for
// what the user must fix in the inputs.
// noEngine is an environment whose engine is not there.
var noEngine = map[string]string{"DOCKER_HOST": "unix:///tmp/gitship-none/docker.sock"}

// withFile adds a file to files.
func withFile(files map[string]string, name, content string) map[string]string {
	files[name] = content
	return files
}

// TestSyntaxAnnotation: a Dockerfile the parser refuses is annotated on its
// line, as lint annotates it, before any engine is contacted (exit 1).
func TestSyntaxAnnotation(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM gitship-test/busybox:1 AS build\nRUN true\nFORM build\n"}
	for _, tt := range []struct {
		name string
		env  func(ws, tmp string) map[string]string
		want string
	}{
		{"github", func(ws, tmp string) map[string]string {
			return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": filepath.Join(tmp, "out")}
		}, "::error file=Dockerfile,line=3,title=DL1000::syntax error: unknown instruction: FORM (did you mean FROM?)"},
		{"azure", func(ws, tmp string) map[string]string {
			return map[string]string{"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws, "AGENT_TEMPDIRECTORY": tmp}
		}, "##vso[task.logissue type=error;sourcepath=Dockerfile;linenumber=3;code=DL1000;]syntax error: unknown instruction: FORM (did you mean FROM?)"},
		{"local", func(ws, tmp string) map[string]string { return map[string]string{} },
			"Dockerfile:3: error: syntax error: unknown instruction: FORM (did you mean FROM?) [DL1000]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, _ := repo(t, files, "")
			env := tt.env(ws, t.TempDir())
			env["DOCKER_HOST"] = noEngine["DOCKER_HOST"]
			res := steptest.Run(t, binary, ws, env)
			all := res.Stdout + res.Stderr
			if res.Code != 1 {
				t.Errorf("exit code = %d, want 1\n%s", res.Code, all)
			}
			if !strings.Contains(all, tt.want+"\n") {
				t.Errorf("output lacks the line %q:\n%s", tt.want, all)
			}
			if strings.Contains(all, "no container engine reachable") {
				t.Errorf("the engine was contacted before the Dockerfile was read:\n%s", all)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	env := engineEnv(t)
	enginetest.BaseImage(t, env["DOCKER_HOST"])
	broken := map[string]string{"Dockerfile": "FROM gitship-test/busybox:1 AS build\nRUN echo preparing\nRUN echo 'cannot compile' >&2; exit 7\n"}
	for _, tt := range []struct {
		name  string
		files map[string]string
		env   map[string]string
		args  []string
		code  int
		want  []string
	}{
		{"no engine", junitApp(t, "", 0), map[string]string{"DOCKER_HOST": "unix:///tmp/gitship-none/docker.sock"}, nil, 1,
			[]string{"no container engine reachable at unix:///tmp/gitship-none/docker.sock (DOCKER_HOST)", "point DOCKER_HOST at"}},
		{"no Dockerfile", map[string]string{"main.go": "package main"}, nil, nil, 2,
			[]string{"Dockerfile not found: Dockerfile"}},
		{"unknown test stage", junitApp(t, "", 0), nil, []string{"--test-target", "tests"}, 2,
			[]string{`--test-target: target stage "tests" is not in Dockerfile: its stages are "test"`}},
		{"failing instruction", broken, nil, nil, 1,
			[]string{"Dockerfile:3", "cannot compile"}},
		{"bad test command", junitApp(t, "", 0), nil, []string{"--test-target", "test", "--test-command", `["go", test]`}, 2,
			[]string{"--test-command"}},
		{"bad output", junitApp(t, "", 0), nil, []string{"--output", "registry"}, 2,
			[]string{`--output "registry": want docker or oci:DIR`}},
		{"bad tag", junitApp(t, "", 0), nil, []string{"--tag", "Not Valid"}, 2,
			[]string{`--tag "Not Valid"`}},
		{"build arg from nowhere", junitApp(t, "", 0), nil, []string{"--build-arg", "GITSHIP_TEST_UNSET"}, 2,
			[]string{"--build-arg GITSHIP_TEST_UNSET: no value given"}},
		{"oci output over sources", junitApp(t, "", 0), nil, []string{"--output", "oci:."}, 1,
			[]string{"not an OCI layout; refusing to replace it"}},
		// Found before the engine is asked: these runs have none.
		{"missing context", junitApp(t, "", 0), noEngine, []string{"--context", "nope"}, 2,
			[]string{`--context: build context "nope": stat `, "no such file or directory"}},
		{"context is a file", junitApp(t, "", 0), noEngine, []string{"--context", "Dockerfile"}, 2,
			[]string{`--context: build context "Dockerfile": not a directory`}},
		{"malformed .dockerignore", withFile(junitApp(t, "", 0), ".dockerignore", "*.log\n[\n"), noEngine, nil, 2,
			[]string{`.dockerignore:2: pattern "[": syntax error in pattern`}},
		{"exclusion of nothing in .dockerignore", withFile(junitApp(t, "", 0), ".dockerignore", "!\n"), noEngine, nil, 2,
			[]string{`.dockerignore:1: pattern "!": illegal exclusion pattern: "!"`}},
		{"binary .dockerignore", withFile(junitApp(t, "", 0), ".dockerignore", "*.log\n\x00\x01\x02\n"), noEngine, nil, 2,
			[]string{".dockerignore:2: NUL byte: a binary file, not a list of patterns"}},
		{"latin-1 .dockerignore", withFile(junitApp(t, "", 0), ".dockerignore", "# caf\xe9\n*.log\n"), noEngine, nil, 2,
			[]string{".dockerignore:1: invalid UTF-8"}},
		{"Dockerfile.dockerignore next to the Dockerfile", withFile(junitApp(t, "", 0), "Dockerfile.dockerignore", "a/[b\n"), noEngine, nil, 2,
			[]string{`Dockerfile.dockerignore:1: pattern "a/[b": syntax error in pattern`}},
		{"Dockerfile syntax", map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nCOPY\n"}, noEngine, nil, 1,
			[]string{"Dockerfile:2: error: syntax error: COPY requires at least two arguments, but only one was provided. Destination could not be determined [DL1000]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, _ := repo(t, tt.files, "")
			e := tt.env
			if e == nil {
				e = env
			}
			start := time.Now()
			res := steptest.Run(t, binary, ws, e, tt.args...)
			all := res.Stdout + res.Stderr
			if res.Code != tt.code {
				t.Errorf("exit code = %d, want %d\n%s", res.Code, tt.code, all)
			}
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("output lacks %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, "panic") {
				t.Errorf("crashed:\n%s", all)
			}
			if d := time.Since(start); d > time.Minute {
				t.Errorf("took %v to fail", d)
			}
			if _, err := os.Stat(filepath.Join(ws, "Dockerfile")); tt.name == "oci output over sources" && err != nil {
				t.Error("the sources were replaced")
			}
		})
	}
}
