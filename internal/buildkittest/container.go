package buildkittest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/imagetest"
	"github.com/gitship/gitship/internal/testenv"
)

// ContainerImageRepo is the repository, in the test engine, of the image
// StartContainer runs; its tag is a hash of what the image holds.
const ContainerImageRepo = "gitship-test/buildkitd"

// Buildctl is a static buildctl of the moby/buildkit version tools/buildkitd
// pins: GITSHIP_BUILDCTL names one already built; otherwise it is built
// once per machine next to Binary's buildkitd. It skips the test when the
// build fails, or fails it under GITSHIP_TEST_STRICT.
func Buildctl(t testing.TB) string {
	t.Helper()
	return buildkitCommand(t, "GITSHIP_BUILDCTL", "github.com/moby/buildkit/cmd/buildctl")
}

// StartContainer runs buildkitd in a container of the Docker engine at
// engineHost until the test ends, as buildx's docker-container driver
// does, and returns the container's name: what
// `--builder docker-container://NAME` names. A client reaches the daemon
// by running `buildctl dial-stdio` in the container.
//
// The image is made here, nothing pulled: buildkitd (Binary), a static
// buildctl (Buildctl) and the machine's runc with the shared libraries it
// links, imported into the engine as ContainerImageRepo. The container
// runs privileged, as buildx runs it, on the host's network (so a
// registry on 127.0.0.1 is reachable; WithInsecureRegistry lets the daemon
// use it), with its state on a tmpfs. An engine that cannot grant every
// capability (one that itself runs without CAP_SYS_RESOURCE, as in some
// sandboxes) refuses a privileged container; the container then gets every
// capability the machine has, no seccomp or AppArmor profile, unmasked
// /proc and the host's cgroup hierarchy writable, which is what buildkitd
// needs from privileged. It waits until `buildctl debug workers` answers
// in the container, and removes the container when the test ends. The
// engine must be on this machine (runc's libraries and the cgroup
// hierarchy are this machine's).
//
// It skips the test when it cannot run one (no runc, buildkitd or
// buildctl does not build), or fails it under GITSHIP_TEST_STRICT.
func StartContainer(t testing.TB, engineHost string, opts ...Option) string {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		unavailable(t, "runc is not installed (apt-get install -y runc)")
	}
	// By the names the container runs them as: GITSHIP_BUILDKITD and
	// GITSHIP_BUILDCTL may name prebuilt binaries anything.
	bins := map[string]string{"buildkitd": Binary(t), "buildctl": Buildctl(t), "runc": runc}

	c, err := client.New(client.WithHost(engineHost))
	if err != nil {
		t.Fatalf("engine %s: %v", engineHost, err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	ref, err := containerImage(ctx, c, engineHost, bins)
	if err != nil {
		t.Fatal(err)
	}

	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "gitship-buildkitd-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(suffix)
	args := append([]string{"--config", "/etc/buildkit/buildkitd.toml", "--oci-worker-net=host", "--containerd-worker=false"}, o.args...)
	config := &container.Config{Image: ref, Cmd: args}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("buildkitd in container %s, log:\n%s", name, testenv.Tail(containerLog(ctx, c, name), 60))
		}
		if _, err := c.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !strings.Contains(err.Error(), "No such container") {
			t.Errorf("remove container %s: %v", name, err)
		}
	})

	privErr := runContainer(ctx, c, name, config, privileged(), o.toml())
	if privErr != nil {
		if _, err := c.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatalf("remove container %s: %v", name, err)
		}
		host, err := unprivileged()
		if err != nil {
			t.Fatalf("buildkitd in a privileged container: %v; without privileges: %v", privErr, err)
		}
		if err := runContainer(ctx, c, name, config, host, o.toml()); err != nil {
			t.Fatalf("buildkitd in a privileged container: %v; with capabilities %v dropped: %v", privErr, host.CapDrop, err)
		}
		t.Logf("buildkitd in container %s: not privileged (%v); with every capability but %v", name, privErr, host.CapDrop)
	}

	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		code, out, err := execIn(wait, c, name, "buildctl", "debug", "workers")
		if err == nil && code == 0 {
			return name
		}
		if err == nil {
			err = fmt.Errorf("exit code %d: %s", code, strings.TrimSpace(out))
		}
		ins, ierr := c.ContainerInspect(wait, name, client.ContainerInspectOptions{})
		if ierr == nil && ins.Container.State != nil && !ins.Container.State.Running {
			t.Fatalf("buildkitd in container %s exited (%d):\n%s", name, ins.Container.State.ExitCode, testenv.Tail(containerLog(ctx, c, name), 60))
		}
		select {
		case <-wait.Done():
			t.Fatalf("buildkitd in container %s did not answer `buildctl debug workers` within a minute: %v", name, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// privileged is buildx's docker-container driver's host configuration.
func privileged() *container.HostConfig {
	return &container.HostConfig{
		Privileged:  true,
		NetworkMode: "host",
		Tmpfs:       map[string]string{"/var/lib/buildkit": ""},
	}
}

// unprivileged grants what privileged would, less the capabilities this
// machine's bounding set lacks, which runc cannot apply.
func unprivileged() (*container.HostConfig, error) {
	missing, err := missingCaps()
	if err != nil {
		return nil, err
	}
	return &container.HostConfig{
		NetworkMode: "host",
		Tmpfs:       map[string]string{"/var/lib/buildkit": ""},
		CapAdd:      []string{"ALL"},
		CapDrop:     missing,
		SecurityOpt: []string{"seccomp=unconfined", "apparmor=unconfined"},
		// Empty, not nil: nothing of /proc or /sys masked or read-only
		// (the docker CLI's --security-opt systempaths=unconfined).
		MaskedPaths:   []string{},
		ReadonlyPaths: []string{},
		// runc in the container makes a cgroup for each RUN; the
		// engine mounts the hierarchy read-only in a container that
		// is not privileged.
		Binds: []string{"/sys/fs/cgroup:/sys/fs/cgroup:rw"},
	}, nil
}

// capNames are the capabilities by bit number (linux/capability.h).
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE"}

// missingCaps are the capabilities this process's bounding set lacks.
func missingCaps() ([]string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		v, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		bnd, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/self/status: CapBnd: %v", err)
		}
		var missing []string
		for i, n := range capNames {
			if bnd&(1<<i) == 0 {
				missing = append(missing, n)
			}
		}
		return missing, nil
	}
	return nil, errors.New("/proc/self/status has no CapBnd")
}

// runContainer creates the container, copies buildkitd.toml into it and
// starts it.
func runContainer(ctx context.Context, c *client.Client, name string, config *container.Config, host *container.HostConfig, toml []byte) error {
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: config, HostConfig: host}); err != nil {
		return fmt.Errorf("create container %s: %w", name, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "buildkitd.toml", Mode: 0o644, Size: int64(len(toml)), ModTime: time.Unix(0, 0)})
	tw.Write(toml)
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := c.CopyToContainer(ctx, name, client.CopyToContainerOptions{DestinationPath: "/etc/buildkit", Content: &buf}); err != nil {
		return fmt.Errorf("copy buildkitd.toml into container %s: %w", name, err)
	}
	if _, err := c.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", name, err)
	}
	return nil
}

// execIn runs cmd in the container and returns its exit code and output.
func execIn(ctx context.Context, c *client.Client, name string, cmd ...string) (int, string, error) {
	ex, err := c.ExecCreate(ctx, name, client.ExecCreateOptions{AttachStdout: true, AttachStderr: true, Cmd: cmd})
	if err != nil {
		return 0, "", err
	}
	att, err := c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, "", err
	}
	var out bytes.Buffer
	_, err = stdcopy.StdCopy(&out, &out, att.Reader)
	att.Close()
	if err != nil {
		return 0, out.String(), err
	}
	ins, err := c.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return 0, out.String(), err
	}
	return ins.ExitCode, out.String(), nil
}

func containerLog(ctx context.Context, c *client.Client, name string) string {
	rc, err := c.ContainerLogs(ctx, name, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return err.Error()
	}
	defer rc.Close()
	var out bytes.Buffer
	stdcopy.StdCopy(&out, &out, rc)
	return out.String()
}

var images struct {
	sync.Mutex
	done map[string]string
}

// containerImage imports the image of bins (NAME: path here, each at /usr/bin/NAME, with
// the shared libraries a dynamic one needs at their paths) into the
// engine, unless it has it, and returns its reference.
func containerImage(ctx context.Context, c *client.Client, engineHost string, bins map[string]string) (string, error) {
	files := map[string]string{} // path in the image: path here
	for name, b := range bins {
		files["usr/bin/"+name] = b
		libs, err := sharedLibs(b)
		if err != nil {
			return "", err
		}
		for _, l := range libs {
			files[strings.TrimPrefix(l, "/")] = l
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	sum := sha256.New()
	for _, p := range paths {
		f, err := os.Open(files[p])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(sum, "%s\x00", p)
		_, err = io.Copy(sum, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	ref := ContainerImageRepo + ":" + hex.EncodeToString(sum.Sum(nil))[:12]

	images.Lock()
	defer images.Unlock()
	key := engineHost + " " + ref
	if images.done[key] != "" {
		return ref, nil
	}
	if _, err := c.ImageInspect(ctx, ref); err == nil {
		if images.done == nil {
			images.done = map[string]string{}
		}
		images.done[key] = ref
		return ref, nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootfs(pw, paths, files)) }()
	if err := imagetest.Import(ctx, c, ref, pr, []string{"ENV PATH=/usr/bin", `ENTRYPOINT ["buildkitd"]`}); err != nil {
		pr.CloseWithError(err)
		return "", err
	}
	if images.done == nil {
		images.done = map[string]string{}
	}
	images.done[key] = ref
	return ref, nil
}

// writeRootfs writes the image's root file system as a tar.
func writeRootfs(w io.Writer, paths []string, files map[string]string) error {
	tw := tar.NewWriter(w)
	mtime := time.Unix(0, 0)
	dirs := map[string]bool{}
	dir := func(d string, mode int64) error {
		if dirs[d] {
			return nil
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode, ModTime: mtime})
	}
	for _, d := range []string{"etc", "etc/buildkit", "run", "run/buildkit", "var", "var/lib", "var/lib/buildkit", "proc", "sys", "dev"} {
		if err := dir(d, 0o755); err != nil {
			return err
		}
	}
	if err := dir("tmp", 0o1777); err != nil {
		return err
	}
	for _, p := range paths {
		parts := strings.Split(p, "/")
		for i := 1; i < len(parts); i++ {
			if err := dir(strings.Join(parts[:i], "/"), 0o755); err != nil {
				return err
			}
		}
		f, err := os.Open(files[p])
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o755, Size: fi.Size(), ModTime: mtime})
		}
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", files[p], err)
		}
	}
	return tw.Close()
}

// sharedLibs are the shared libraries a dynamically linked bin loads, the
// dynamic loader among them, as ldd lists them; none for a static one.
func sharedLibs(bin string) ([]string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", bin, err)
	}
	dynamic := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			dynamic = true
		}
	}
	f.Close()
	if !dynamic {
		return nil, nil
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v", bin, err)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		for i, f := range fields {
			if strings.HasPrefix(f, "/") && (i == 0 || fields[i-1] == "=>") {
				libs = append(libs, f)
				break
			}
		}
	}
	return libs, nil
}
