package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gitship/gitship/shared/wrapper"
)

// DefaultPlatforms are the platforms an Azure agent runs on that the task
// shim supports, and so the binaries a release carries.
var DefaultPlatforms = []string{"linux/amd64", "linux/arm64", "windows/amd64", "darwin/arm64"}

// npxTFX runs a pinned tfx-cli when tfx is not installed.
var npxTFX = []string{"npx", "--yes", "tfx-cli@0.23.1"}

// Options say what to release.
type Options struct {
	Root      string   // repository root
	Version   string   // MAJOR.MINOR.PATCH
	Out       string   // dist
	ImageRepo string   // ghcr.io/gitship
	Steps     []string // default: every steps/<step>/main.go
	Platforms []string // os/arch
	TFX       []string // the tfx command; default tfx on PATH, else npxTFX
	// Bundled also packs gitship-<version>-bundled.vsix, every task with
	// its binary for every platform, for agents that cannot download.
	Bundled bool
}

// Result is what Run made, paths under Options.Out.
type Result struct {
	Out     string
	Images  map[string]string // step → repository@digest
	VSIX    string
	VSIXLen int64
	// Bundled and BundledLen are the bundled VSIX, with Options.Bundled.
	Bundled    string
	BundledLen int64
	Tasks      []Task
	Files      []string // in SHA256SUMS
	Timings    []Timing
}

// Timing is how long one stage took.
type Timing struct {
	Stage string
	Took  time.Duration
}

// Task is one task folder of the extension and the step it runs.
type Task struct{ Dir, Step string }

var semver = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// marketplaceAdvisedMax is the size past which the Marketplace's docs ask
// for a smaller VSIX ("Check package size", learn.microsoft.com/azure/
// devops/extend/publish/overview).
const marketplaceAdvisedMax = 50 << 20

// VSIXMax is the most the VSIX may weigh: what Azure DevOps Server takes
// by default on some versions. The VSIX carries no binaries (the tasks
// download theirs), so it is far below; a release over it fails.
const VSIXMax = 25 << 20

// Run makes the release: images, wrappers, binaries, VSIX, checksums.
func Run(ctx context.Context, o Options, log io.Writer) (*Result, error) {
	if !semver.MatchString(o.Version) {
		return nil, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH, e.g. 0.1.0", o.Version)
	}
	if major := strings.Split(o.Version, ".")[0]; "v"+major != wrapper.Ref {
		// tools/wrappergen refuses it too; here nothing is built first.
		return nil, fmt.Errorf("release %s: the actions' ref is %s (wrapper.Ref); a major release raises it, and wrapper.TaskMajor, first (docs/release.md)", o.Version, wrapper.Ref)
	}
	if o.Root == "" {
		o.Root = "."
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return nil, err
	}
	if out == root {
		return nil, fmt.Errorf("-out is the repository root")
	}
	plats, err := parsePlatforms(o.Platforms)
	if err != nil {
		return nil, err
	}
	all, err := mainPackages(root)
	if err != nil {
		return nil, err
	}
	steps := o.Steps
	subset := len(steps) > 0
	if !subset {
		steps = all
	}
	for _, s := range steps {
		if !slices.Contains(all, s) {
			return nil, fmt.Errorf("no step %q: no steps/%s/main.go", s, s)
		}
	}
	tfx, err := findTFX(o.TFX)
	if err != nil {
		return nil, err
	}
	res := &Result{Out: out}
	stage := func(name string, f func() error) error {
		fmt.Fprintf(log, "== %s\n", name)
		start := time.Now()
		err := f()
		res.Timings = append(res.Timings, Timing{name, time.Since(start).Round(100 * time.Millisecond)})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(out, ".release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	// Everything is made in work and moved into out at the end, so a
	// failed release leaves out as the last good one left it.
	images := filepath.Join(work, "images")
	wrappers := filepath.Join(work, "wrappers")
	vsixName := "gitship-" + o.Version + ".vsix"
	bundledName := "gitship-" + o.Version + "-bundled.vsix"

	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		fmt.Fprintf(log, "note: the checkout has uncommitted changes; they are built into this release, which the images label as HEAD\n")
	}
	if err := stage("images: go run ./tools/imagegen", func() error {
		return command(ctx, root, log, nil, "go", "run", "./tools/imagegen", "-version", o.Version,
			"-out", images, "-steps", strings.Join(steps, ","))
	}); err != nil {
		return nil, err
	}
	if err := stage("wrappers: go run ./tools/wrappergen -release", func() error {
		args := []string{"run", "./tools/wrappergen", "-root", root, "-release", o.Version,
			"-image-digests", images, "-image-repo", o.ImageRepo, "-out", wrappers}
		if subset {
			args = append(args, "-steps", strings.Join(steps, ","))
		}
		if err := command(ctx, root, io.Discard, nil, "go", args...); err != nil {
			return err
		}
		if res.Tasks, err = readTasks(filepath.Join(wrappers, "azure-pipelines-task")); err != nil {
			return err
		}
		var got []string
		for _, t := range res.Tasks {
			got = append(got, t.Step)
		}
		if !sameSet(got, steps) {
			return fmt.Errorf("the extension's tasks run %v, the steps with a main package are %v: declare the step in tools/wrappergen/steps.go", got, steps)
		}
		if res.Images, err = readImages(filepath.Join(wrappers, "steps"), steps); err != nil {
			return err
		}
		if err := writeImages(filepath.Join(work, "images.txt"), steps, res.Images); err != nil {
			return err
		}
		return copyActions(wrappers, filepath.Join(work, "actions"), steps)
	}); err != nil {
		return nil, err
	}
	assets := filepath.Join(work, "assets")
	if err := stage(fmt.Sprintf("binaries: %d steps for %s", len(steps), strings.Join(o.Platforms, ", ")), func() error {
		if err := buildBinaries(ctx, root, assets, work, o.Version, steps, plats, log); err != nil {
			return err
		}
		return copySetup(root, assets, filepath.Join(work, "actions", "setup"))
	}); err != nil {
		return nil, err
	}
	pack := func(name string, bundled bool) (int64, error) {
		staging := filepath.Join(work, strings.TrimSuffix(name, ".vsix"))
		if err := stageExtension(root, wrappers, assets, staging, o.Version, res.Tasks, plats, bundled); err != nil {
			return 0, err
		}
		p := filepath.Join(work, name)
		args := append(slices.Clone(tfx[1:]), "extension", "create", "--root", staging,
			"--manifest-globs", "vss-extension.json", "--output-path", p, "--no-prompt", "--no-color")
		if err := command(ctx, root, log, nil, tfx[0], args...); err != nil {
			return 0, err
		}
		if err := VerifyVSIX(p, staging, o.Version, res.Tasks, plats, bundled); err != nil {
			return 0, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	if err := stage("vsix: tfx extension create", func() error {
		n, err := pack(vsixName, false)
		if err != nil {
			return err
		}
		if n > VSIXMax {
			return fmt.Errorf("%s is %d bytes, over the %d (25 MiB) Azure DevOps Server takes", vsixName, n, VSIXMax)
		}
		res.VSIX, res.VSIXLen = filepath.Join(out, vsixName), n
		return nil
	}); err != nil {
		return nil, err
	}
	if o.Bundled {
		if err := stage("bundled vsix: tfx extension create", func() error {
			n, err := pack(bundledName, true)
			res.Bundled, res.BundledLen = filepath.Join(out, bundledName), n
			return err
		}); err != nil {
			return nil, err
		}
	}
	if err := stage("into "+out+", SHA256SUMS", func() error {
		// What this release owns in out is replaced whole, so nothing of
		// an earlier one is left in it; other steps' layouts stay.
		moves := []string{"images.txt", "actions", "assets", vsixName, bundledName}
		for _, s := range steps {
			moves = append(moves, filepath.Join("images", "gitship-"+s))
		}
		if err := os.MkdirAll(filepath.Join(out, "images"), 0o755); err != nil {
			return err
		}
		for _, m := range moves {
			if err := os.RemoveAll(filepath.Join(out, m)); err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(work, m)); errors.Is(err, fs.ErrNotExist) {
				continue // no bundled VSIX asked for
			}
			if err := os.Rename(filepath.Join(work, m), filepath.Join(out, m)); err != nil {
				return err
			}
		}
		sums := []string{"images.txt", "actions", "assets", vsixName}
		if o.Bundled {
			sums = append(sums, bundledName)
		}
		res.Files, err = writeSums(out, sums)
		return err
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// Summary prints what was made and how long each stage took.
func (r *Result) Summary(w io.Writer) {
	fmt.Fprintf(w, "\nrelease in %s:\n", r.Out)
	steps := make([]string, 0, len(r.Images))
	for s := range r.Images {
		steps = append(steps, s)
	}
	sort.Strings(steps)
	for _, s := range steps {
		fmt.Fprintf(w, "  image  %s\n", r.Images[s])
	}
	fmt.Fprintf(w, "  vsix   %s (%s, %d tasks; they download their binary)\n", r.VSIX, size(r.VSIXLen), len(r.Tasks))
	if r.Bundled != "" {
		fmt.Fprintf(w, "  vsix   %s (%s, bundled: every task with its binaries)\n", r.Bundled, size(r.BundledLen))
		if r.BundledLen > marketplaceAdvisedMax {
			fmt.Fprintf(w, "  note   the bundled VSIX is over the 50 MB the Marketplace advises (see docs/release.md)\n")
		}
	}
	fmt.Fprintf(w, "  sums   %s (%d files)\n", filepath.Join(r.Out, "SHA256SUMS"), len(r.Files))
	for _, t := range r.Timings {
		fmt.Fprintf(w, "  %-8s %s\n", t.Took, t.Stage)
	}
}

func size(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

type platform struct{ OS, Arch string }

func (p platform) String() string { return p.OS + "/" + p.Arch }
func (p platform) dir() string    { return p.OS + "-" + p.Arch }
func (p platform) exe(step string) string {
	if p.OS == "windows" {
		return "gitship-" + step + ".exe"
	}
	return "gitship-" + step
}

// asset is the binary's name among the release's assets.
func (p platform) asset(step string) string { return wrapper.AssetName(step, p.OS, p.Arch) }

func parsePlatforms(list []string) ([]platform, error) {
	var out []platform
	for _, s := range list {
		osName, arch, ok := strings.Cut(s, "/")
		p := platform{osName, arch}
		if !ok || !slices.Contains([]string{"linux", "windows", "darwin"}, osName) || !slices.Contains([]string{"amd64", "arm64"}, arch) {
			// The shim maps the agent's OS and CPU to these and no others.
			return nil, fmt.Errorf("platform %q: want linux, windows or darwin on amd64 or arm64", s)
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("platform %q listed twice", s)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no platforms")
	}
	return out, nil
}

// mainPackages are the steps with a binary: steps/<step>/main.go.
func mainPackages(root string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(root, "steps", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	var steps []string
	for _, m := range matches {
		steps = append(steps, filepath.Base(filepath.Dir(m)))
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: no steps/<step>/main.go (is -root the repository?)", root)
	}
	return steps, nil
}

func findTFX(cmd []string) ([]string, error) {
	if len(cmd) > 0 {
		return cmd, nil
	}
	if p, err := exec.LookPath("tfx"); err == nil {
		return []string{p}, nil
	}
	if _, err := exec.LookPath(npxTFX[0]); err == nil {
		return npxTFX, nil
	}
	return nil, fmt.Errorf("no tfx and no npx to run it: npm install -g tfx-cli@0.23.1, or pass -tfx")
}

// command runs name in dir, its output to log, and fails with the last
// of its output.
func command(ctx context.Context, dir string, log io.Writer, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var tail bytes.Buffer
	cmd.Stdout = io.MultiWriter(log, &tail)
	cmd.Stderr = io.MultiWriter(log, &tail)
	if err := cmd.Run(); err != nil {
		msg := tail.String()
		if len(msg) > 4000 {
			msg = "..." + msg[len(msg)-4000:]
		}
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, msg)
	}
	return nil
}

// readTasks lists the extension's task folders, from its manifest, and
// the step each runs, from the folder's step.json.
func readTasks(dir string) ([]Task, error) {
	data, err := os.ReadFile(filepath.Join(dir, "vss-extension.json"))
	if err != nil {
		return nil, err
	}
	var ext struct{ Files []struct{ Path string } }
	if err := json.Unmarshal(data, &ext); err != nil {
		return nil, fmt.Errorf("vss-extension.json: %w", err)
	}
	var tasks []Task
	for _, f := range ext.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Path, "step.json"))
		if err != nil {
			return nil, err
		}
		var cfg struct{ Step string }
		if err := json.Unmarshal(data, &cfg); err != nil || cfg.Step == "" {
			return nil, fmt.Errorf("%s/step.json: no step (%v)", f.Path, err)
		}
		tasks = append(tasks, Task{Dir: f.Path, Step: cfg.Step})
	}
	return tasks, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

var imageLine = regexp.MustCompile(`(?m)^  image: docker://(\S+@sha256:[0-9a-f]{64})$`)

// readImages takes each step's pinned image from its release action.yml,
// so images.txt says what the actions run.
func readImages(dir string, steps []string) (map[string]string, error) {
	images := map[string]string{}
	for _, s := range steps {
		data, err := os.ReadFile(filepath.Join(dir, s, "action.yml"))
		if err != nil {
			return nil, err
		}
		m := imageLine.FindSubmatch(data)
		if m == nil {
			return nil, fmt.Errorf("steps/%s/action.yml: no image pinned by digest", s)
		}
		images[s] = string(m[1])
	}
	return images, nil
}

func writeImages(p string, steps []string, images map[string]string) error {
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(images[s] + "\n")
	}
	return os.WriteFile(p, []byte(b.String()), 0o644)
}

// copyActions puts the release's GitHub actions into out: the root
// action.yml and steps/<step>/action.yml, as they go on the release tag.
func copyActions(wrappers, out string, steps []string) error {
	files := []string{"action.yml"}
	for _, s := range steps {
		files = append(files, path.Join("steps", s, "action.yml"))
	}
	for _, f := range files {
		if err := copyFile(filepath.Join(wrappers, f), filepath.Join(out, f)); err != nil {
			return err
		}
	}
	return nil
}

// copySetup puts the setup action (setup/: install the binaries on
// macOS, Windows and Linux runners) into out with the assets'
// SHA256SUMS, which it checks every download against: the checksums come
// with the action's release commit, not from the server the binaries do.
func copySetup(root, assets, out string) error {
	for _, f := range []string{"action.yml", "install.sh"} {
		if err := copyFile(filepath.Join(root, "setup", f), filepath.Join(out, f)); err != nil {
			return fmt.Errorf("setup action: %w", err)
		}
	}
	return copyFile(filepath.Join(assets, "SHA256SUMS"), filepath.Join(out, "SHA256SUMS"))
}

// buildBinaries cross-compiles every step for every platform the way
// tools/imagegen does (static, no paths, no build ID, no VCS stamp), so a
// linux binary is byte for byte the one in the image. One go build per
// platform builds all steps, sharing their packages. They go into out as
// the GitHub release's assets, gitship-<step>-<os>-<arch>[.exe], with
// their SHA256SUMS.
func buildBinaries(ctx context.Context, root, out, work, version string, steps []string, plats []platform, log io.Writer) error {
	var pkgs []string
	for _, s := range steps {
		pkgs = append(pkgs, "./steps/"+s)
	}
	for _, p := range plats {
		start := time.Now()
		tmp := filepath.Join(work, "bin-"+p.dir())
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return err
		}
		args := append([]string{"build", "-trimpath", "-buildvcs=false",
			"-ldflags=-s -w -buildid= -X github.com/gitship/gitship/shared/step.Version=" + version, "-o", tmp + string(filepath.Separator)}, pkgs...)
		if err := command(ctx, root, log, []string{"CGO_ENABLED=0", "GOOS=" + p.OS, "GOARCH=" + p.Arch}, "go", args...); err != nil {
			return err
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for _, s := range steps {
			dst := filepath.Join(out, p.asset(s))
			if err := os.Rename(filepath.Join(tmp, s+exeSuffix(p)), dst); err != nil {
				return err
			}
			if err := CheckBinary(dst, p.OS, p.Arch); err != nil {
				return err
			}
		}
		fmt.Fprintf(log, "%s: %d binaries in %s\n", p, len(steps), time.Since(start).Round(100*time.Millisecond))
	}
	var names []string
	for _, s := range steps {
		for _, p := range plats {
			names = append(names, p.asset(s))
		}
	}
	_, err := writeSums(out, names)
	return err
}

func exeSuffix(p platform) string {
	if p.OS == "windows" {
		return ".exe"
	}
	return ""
}

// releaseFile is a task's release.json: the release's version and, per
// platform, the asset the shim downloads and its SHA-256.
type releaseFile struct {
	Version string                  `json:"version"`
	Assets  map[string]releaseAsset `json:"assets"`
}

type releaseAsset struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// stageExtension makes the folder tfx packs: the committed task folders
// (anything hand-added to them comes along, a stray bin/ does not), the
// release's generated files over them, and in each task release.json, the
// checksums of the step's assets the shim downloads. Bundled, each task
// also gets its binaries where the shim looks first,
// <task>/bin/<os>-<arch>/gitship-<step>[.exe].
func stageExtension(root, wrappers, assets, staging, version string, tasks []Task, plats []platform, bundled bool) error {
	src := filepath.Join(root, "azure-pipelines-task")
	for _, t := range tasks {
		if err := copyTree(filepath.Join(src, t.Dir), filepath.Join(staging, t.Dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	gen := filepath.Join(wrappers, "azure-pipelines-task")
	if err := copyTree(gen, staging); err != nil {
		return err
	}
	for _, t := range tasks {
		rel := releaseFile{Version: version, Assets: map[string]releaseAsset{}}
		for _, p := range plats {
			src := filepath.Join(assets, p.asset(t.Step))
			sum, err := sha256File(src)
			if err != nil {
				return err
			}
			rel.Assets[p.String()] = releaseAsset{Name: p.asset(t.Step), SHA256: sum}
			if bundled {
				if err := linkOrCopy(src, filepath.Join(staging, t.Dir, "bin", p.dir(), p.exe(t.Step))); err != nil {
					return err
				}
			}
		}
		data, err := json.MarshalIndent(rel, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(staging, t.Dir, wrapper.ReleaseFile), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyTree copies the regular files under src to dst, leaving out bin/
// folders: binaries come from this release's build only.
func copyTree(src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == "bin" && p != src {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// linkOrCopy hard-links src to dst, or copies it across file systems: the
// binaries are large, and tfx only reads them.
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return copyFile(src, dst)
}

// writeSums writes out/SHA256SUMS over the named files and folders under
// out, in sha256sum's format, so cd dist && sha256sum -c SHA256SUMS checks
// them.
func writeSums(out string, names []string) ([]string, error) {
	var files []string
	for _, n := range names {
		err := filepath.WalkDir(filepath.Join(out, n), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	var b bytes.Buffer
	for _, f := range files {
		sum, err := sha256File(filepath.Join(out, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, f)
	}
	return files, os.WriteFile(filepath.Join(out, "SHA256SUMS"), b.Bytes(), 0o644)
}

func sha256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
