package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Build is one emulated build: a config, what the emulator was told, and
// the engine it runs the steps on.
type Build struct {
	Config *Config
	// Workspace is the host directory mounted at /workspace in every step.
	Workspace string
	// Substitutions are the built-in and user substitutions given on the
	// command line (-s NAME=VALUE).
	Substitutions map[string]string
	// Images maps a step's image, after substitution, to a local stand-in
	// (-image FROM=TO): nothing is pulled.
	Images map[string]string
	// Secrets are the values of availableSecrets' env names (-secret).
	Secrets map[string]string
	// Env adds KEY=VALUE to every step, after options.env and before the
	// step's own env (-env): for what only the emulation needs, such as
	// GITSHIP_INSECURE=true for a plain-HTTP registry on loopback.
	Env []string
	// Skip lists step ids not to run (-skip); Until is the id of the last
	// step to run (-until).
	Skip  []string
	Until string
	// Socket is the engine's unix socket, mounted at /var/run/docker.sock
	// in every step as Cloud Build does.
	Socket string
	// Network is the steps' network: "host" by default, so that services
	// on this machine's loopback (a test registry) are reachable; Cloud
	// Build's is a bridge network named cloudbuild.
	Network string
	Log     io.Writer
}

// StepResult is how one step ended.
type StepResult struct {
	Index    int
	ID       string
	Image    string
	Status   string // SUCCESS, FAILURE, SKIPPED (not run: -skip, -until, an earlier failure)
	ExitCode int
	Duration time.Duration
	// Output is what the step wrote to $BUILDER_OUTPUT/output, which Cloud
	// Build keeps in the build's results.buildStepOutputs (first 50 KB).
	Output string
}

// Result is how the build ended.
type Result struct {
	Status string // SUCCESS or FAILURE
	Steps  []StepResult
	// Failed is the index of the step that failed the build, -1 if none.
	Failed int
}

// Run runs the steps one after another in the order of the config. Cloud
// Build runs a step as soon as the steps it waits for are done (waitFor;
// '-' is the start of the build) and steps without waitFor after all
// steps before them; every step only waits for earlier ones, so the
// config's order satisfies every waitFor, and the emulator runs no two
// steps at once.
func (b *Build) Run(ctx context.Context, c *client.Client) (*Result, error) {
	cfg := b.Config
	loose := cfg.Options.SubstitutionOption != "MUST_MATCH"
	subs, err := cfg.substitutions(b.Substitutions)
	if err != nil {
		return nil, err
	}
	if b.Log == nil {
		b.Log = io.Discard
	}
	home, err := os.MkdirTemp("", "cloudbuild-emulator-home-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	volumes := map[string]string{}
	defer func() {
		for _, dir := range volumes {
			os.RemoveAll(dir)
		}
	}()
	secrets := map[string]string{}
	for _, s := range cfg.AvailableSecret.SecretManager {
		v, ok := b.Secrets[s.Env]
		if !ok {
			return nil, fmt.Errorf("availableSecrets: no value for %s (%s): pass -secret %s=VALUE", s.Env, s.VersionName, s.Env)
		}
		secrets[s.Env] = v
	}

	res := &Result{Status: "SUCCESS", Failed: -1}
	stop := false
	for i, st := range cfg.Steps {
		r := StepResult{Index: i, ID: st.ID, Status: "SKIPPED"}
		if stop || slices.Contains(b.Skip, st.ID) {
			res.Steps = append(res.Steps, r)
			continue
		}
		spec, err := b.prepare(st, subs, secrets, loose, home, volumes)
		if err != nil {
			return nil, fmt.Errorf("step #%d %q: %w", i, st.ID, err)
		}
		r.Image = spec.Config.Image
		label := fmt.Sprintf("Step #%d", i)
		if st.ID != "" {
			label += fmt.Sprintf(" - %q", st.ID)
		}
		fmt.Fprintf(b.Log, "Starting %s\n", label)
		start := time.Now()
		code, output, err := b.runStep(ctx, c, spec, st, label)
		r.Duration, r.ExitCode, r.Output = time.Since(start), code, output
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		switch {
		case code == 0:
			r.Status = "SUCCESS"
			fmt.Fprintf(b.Log, "Finished %s\n", label)
		case st.AllowFailure || slices.Contains(st.AllowExitCodes, code):
			r.Status = "SUCCESS"
			fmt.Fprintf(b.Log, "Finished %s (exit code %d allowed)\n", label, code)
		default:
			r.Status = "FAILURE"
			res.Status, res.Failed, stop = "FAILURE", i, true
			fmt.Fprintf(b.Log, "ERROR: build step %d %q failed: step exited with non-zero status: %d\n", i, spec.Config.Image, code)
		}
		res.Steps = append(res.Steps, r)
		if st.ID != "" && st.ID == b.Until {
			stop = true
		}
	}
	fmt.Fprintln(b.Log, res.Status)
	return res, nil
}

type stepSpec struct {
	Config  *container.Config
	Host    *container.HostConfig
	outputs string // host directory mounted at /builder/outputs
}

// prepare substitutes into the step and works out its container.
func (b *Build) prepare(st Step, subs, secrets map[string]string, loose bool, home string, volumes map[string]string) (*stepSpec, error) {
	if st.Script != "" {
		return nil, fmt.Errorf("script is not emulated: use entrypoint and args")
	}
	x := func(s string) (string, error) { return expand(s, subs, loose) }
	image, err := x(st.Name)
	if err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	if to, ok := b.Images[image]; ok {
		image = to
	}
	var args []string
	for _, a := range st.Args {
		v, err := x(a)
		if err != nil {
			return nil, fmt.Errorf("args: %w", err)
		}
		args = append(args, v)
	}
	entrypoint, err := x(st.Entrypoint)
	if err != nil {
		return nil, fmt.Errorf("entrypoint: %w", err)
	}
	dir, err := x(st.Dir)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}

	// The environment: automapped substitutions, then the build's env,
	// then the step's (a later KEY wins), then secrets.
	env := map[string]string{}
	var order []string
	set := func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("env %q is not KEY=VALUE", kv)
		}
		if _, seen := env[k]; !seen {
			order = append(order, k)
		}
		env[k] = v
		return nil
	}
	automap := b.Config.Options.AutomapSubstitutions
	if st.AutomapSubstitutions != nil {
		automap = *st.AutomapSubstitutions
	}
	if automap {
		keys := make([]string, 0, len(subs))
		for k := range subs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			set(k + "=" + subs[k])
		}
	}
	for _, list := range [][]string{b.Config.Options.Env, b.Env, st.Env} {
		for _, e := range list {
			v, err := x(e)
			if err != nil {
				return nil, fmt.Errorf("env: %w", err)
			}
			if err := set(v); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range append(slices.Clone(b.Config.Options.SecretEnv), st.SecretEnv...) {
		v, ok := secrets[name]
		if !ok {
			return nil, fmt.Errorf("secretEnv %s is in no availableSecrets entry", name)
		}
		set(name + "=" + v)
	}
	// What Cloud Build sets in every step.
	set("HOME=/builder/home")
	set("BUILDER_OUTPUT=/builder/outputs")
	var envList []string
	for _, k := range order {
		envList = append(envList, k+"="+env[k])
	}

	outputs, err := os.MkdirTemp("", "cloudbuild-emulator-outputs-")
	if err != nil {
		return nil, err
	}
	os.Chmod(outputs, 0o777)
	binds := []string{b.Workspace + ":/workspace", home + ":/builder/home", outputs + ":/builder/outputs"}
	if b.Socket != "" {
		binds = append(binds, b.Socket+":/var/run/docker.sock")
	}
	for _, v := range append(slices.Clone(b.Config.Options.Volumes), st.Volumes...) {
		d, ok := volumes[v.Name]
		if !ok {
			if d, err = os.MkdirTemp("", "cloudbuild-emulator-volume-"); err != nil {
				return nil, err
			}
			os.Chmod(d, 0o777)
			volumes[v.Name] = d
		}
		binds = append(binds, d+":"+v.Path)
	}
	wd := "/workspace"
	if dir != "" {
		wd = filepath.Join("/workspace", dir)
		if filepath.IsAbs(dir) {
			wd = dir
		}
	}
	cfg := &container.Config{Image: image, Cmd: args, Env: envList, WorkingDir: wd, AttachStdout: true, AttachStderr: true}
	if entrypoint != "" {
		cfg.Entrypoint = []string{entrypoint}
	}
	network := b.Network
	if network == "" {
		network = "host"
	}
	return &stepSpec{Config: cfg, Host: &container.HostConfig{Binds: binds, NetworkMode: container.NetworkMode(network)}, outputs: outputs}, nil
}

// runStep runs the step's container to its end, its output prefixed with
// the step's label as in Cloud Build's log, and returns its exit code and
// what it left in $BUILDER_OUTPUT/output.
func (b *Build) runStep(ctx context.Context, c *client.Client, spec *stepSpec, st Step, label string) (int, string, error) {
	defer os.RemoveAll(spec.outputs)
	if st.Timeout != "" {
		d, _ := time.ParseDuration(st.Timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "cloudbuild-emulator-" + hex.EncodeToString(suffix)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: spec.Config, HostConfig: spec.Host}); err != nil {
		return -1, "", fmt.Errorf("create container from %s (nothing is pulled: load it, or map it to a local stand-in with -image): %w", spec.Config.Image, err)
	}
	defer c.ContainerRemove(context.WithoutCancel(ctx), name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	att, err := c.ContainerAttach(ctx, name, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return -1, "", fmt.Errorf("attach: %w", err)
	}
	defer att.Close()
	w := &prefixWriter{w: b.Log, prefix: label + ": "}
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(w, w, att.Reader)
		copied <- err
	}()
	wait := c.ContainerWait(ctx, name, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := c.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
		return -1, "", fmt.Errorf("start container from %s: %w", spec.Config.Image, err)
	}
	var code int
	select {
	case r := <-wait.Result:
		if r.Error != nil && r.Error.Message != "" {
			return -1, "", fmt.Errorf("wait: %s", r.Error.Message)
		}
		code = int(r.StatusCode)
	case err := <-wait.Error:
		if ctx.Err() != nil {
			return -1, "", fmt.Errorf("step timed out or was cancelled: %w", ctx.Err())
		}
		return -1, "", fmt.Errorf("wait: %w", err)
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
	}
	w.Flush()
	out, _ := os.ReadFile(filepath.Join(spec.outputs, "output"))
	if len(out) > 50*1024 {
		out = out[:50*1024]
	}
	return code, string(out), nil
}

// prefixWriter writes whole lines, each behind prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadString('\n')
		if err != nil {
			p.buf.WriteString(line)
			return len(b), nil
		}
		fmt.Fprint(p.w, p.prefix+line)
	}
}

func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	sc := bufio.NewScanner(&p.buf)
	for sc.Scan() {
		fmt.Fprintln(p.w, p.prefix+sc.Text())
	}
}
