package buildkittest

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/testenv"
)

// BinfmtDir is where the kernel lists its binfmt_misc handlers.
const BinfmtDir = "/proc/sys/fs/binfmt_misc"

// qemuPlatforms maps a binfmt handler that Debian's qemu-user-static
// registers to the platform it runs.
var qemuPlatforms = map[string]string{
	"qemu-aarch64":     "linux/arm64",
	"qemu-arm":         "linux/arm/v7",
	"qemu-riscv64":     "linux/riscv64",
	"qemu-ppc64le":     "linux/ppc64le",
	"qemu-s390x":       "linux/s390x",
	"qemu-mips64el":    "linux/mips64le",
	"qemu-loongarch64": "linux/loong64",
	"qemu-x86_64":      "linux/amd64",
	"qemu-i386":        "linux/386",
}

// Emulated lists the platforms other than the machine's own whose
// binaries the kernel hands to QEMU: an enabled qemu-* handler with the F
// flag (the interpreter is opened when it is registered, so it works in
// a container's root filesystem too). Sorted; nil when there are none.
func Emulated() []string {
	var out []string
	for handler, platform := range qemuPlatforms {
		data, err := os.ReadFile(filepath.Join(BinfmtDir, handler))
		if err != nil || !strings.HasPrefix(string(data), "enabled\n") {
			continue
		}
		fixed := false
		for _, line := range strings.Split(string(data), "\n") {
			if flags, ok := strings.CutPrefix(line, "flags: "); ok {
				fixed = strings.Contains(flags, "F")
			}
		}
		if fixed && platform != "linux/"+runtime.GOARCH {
			out = append(out, platform)
		}
	}
	sort.Strings(out)
	return out
}

// QEMU returns the foreign platforms that can RUN here (Emulated). It
// skips the test when none can, or when one of want ("linux/arm64")
// cannot; it fails it instead under GITSHIP_TEST_STRICT. Debian:
// apt-get install qemu-user-static binfmt-support, then
// update-binfmts --enable where no init system does it.
func QEMU(t testing.TB, want ...string) []string {
	t.Helper()
	got := Emulated()
	const how = "apt-get install -y qemu-user-static binfmt-support && update-binfmts --enable"
	if len(got) == 0 {
		testenv.Unavailable(t, "QEMU: no QEMU binfmt handler is registered in %s (%s)", BinfmtDir, how)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			testenv.Unavailable(t, "QEMU: %s cannot run here: no enabled QEMU binfmt handler for it in %s, only %v (%s)", w, BinfmtDir, got, how)
		}
	}
	return got
}
