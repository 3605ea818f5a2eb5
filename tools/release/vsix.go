package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gitship/gitship/shared/wrapper"
)

// VerifyVSIX checks the package tfx made: the manifests at the release's
// version, and every file staged for every task, byte for byte, among
// them task.json at the release's task version, the shim, step.json and
// release.json with a checksum per platform. Bundled, each task also has
// one binary per platform where the shim looks for it; otherwise none.
func VerifyVSIX(vsix, staging, version string, tasks []Task, plats []platform, bundled bool) error {
	zr, err := zip.OpenReader(vsix)
	if err != nil {
		return err
	}
	defer zr.Close()
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	read := func(name string) ([]byte, error) {
		f, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("%s: no %s", filepath.Base(vsix), name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}

	manifest, err := read("extension.vsixmanifest")
	if err != nil {
		return err
	}
	var pm struct {
		Metadata struct {
			Identity struct {
				ID        string `xml:"Id,attr"`
				Version   string `xml:"Version,attr"`
				Publisher string `xml:"Publisher,attr"`
			}
		}
	}
	if err := xml.Unmarshal(manifest, &pm); err != nil {
		return fmt.Errorf("extension.vsixmanifest: %w", err)
	}
	if pm.Metadata.Identity.Version != version {
		return fmt.Errorf("extension.vsixmanifest: version %q, want %q", pm.Metadata.Identity.Version, version)
	}
	if _, err := read("extension.vsomanifest"); err != nil {
		return err
	}

	_, minor, patch, err := taskVersion(version)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		need := []string{"task.json", wrapper.ShimFile, wrapper.ShimConfigFile, wrapper.ReleaseFile}
		if bundled {
			for _, p := range plats {
				need = append(need, "bin/"+p.dir()+"/"+p.exe(t.Step))
			}
		} else {
			for name := range entries {
				if strings.HasPrefix(name, t.Dir+"/bin/") {
					return fmt.Errorf("%s: holds %s: only the bundled VSIX carries binaries", filepath.Base(vsix), name)
				}
			}
		}
		for _, n := range need {
			if _, ok := entries[t.Dir+"/"+n]; !ok {
				return fmt.Errorf("%s: no %s/%s", filepath.Base(vsix), t.Dir, n)
			}
		}
		relData, err := read(t.Dir + "/" + wrapper.ReleaseFile)
		if err != nil {
			return err
		}
		var rel releaseFile
		if err := json.Unmarshal(relData, &rel); err != nil {
			return fmt.Errorf("%s/%s: %w", t.Dir, wrapper.ReleaseFile, err)
		}
		if rel.Version != version {
			return fmt.Errorf("%s/%s: version %q, want %q", t.Dir, wrapper.ReleaseFile, rel.Version, version)
		}
		for _, p := range plats {
			if a := rel.Assets[p.String()]; a.Name != p.asset(t.Step) || len(a.SHA256) != 64 {
				return fmt.Errorf("%s/%s: %s is %+v, want %s and its SHA-256", t.Dir, wrapper.ReleaseFile, p, a, p.asset(t.Step))
			}
		}
		data, err := read(t.Dir + "/task.json")
		if err != nil {
			return err
		}
		var task struct {
			Version struct{ Major, Minor, Patch int }
		}
		if err := json.Unmarshal(data, &task); err != nil {
			return fmt.Errorf("%s/task.json: %w", t.Dir, err)
		}
		if v := task.Version; v.Major != wrapper.TaskMajor || v.Minor != minor || v.Patch != patch {
			return fmt.Errorf("%s/task.json: version %d.%d.%d, want %d.%d.%d", t.Dir, v.Major, v.Minor, v.Patch, wrapper.TaskMajor, minor, patch)
		}
		// Everything staged is in the package, unchanged.
		err = filepath.WalkDir(filepath.Join(staging, t.Dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(staging, p)
			name := filepath.ToSlash(rel)
			f, ok := entries[name]
			if !ok {
				return fmt.Errorf("%s: no %s", filepath.Base(vsix), name)
			}
			want, err := sha256File(p)
			if err != nil {
				return err
			}
			rc, err := f.Open()
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != want {
				return fmt.Errorf("%s: %s in the package, %s staged", name, got, want)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// taskVersion is wrappergen's TaskVersion, minor and patch from the
// release (tools/wrappergen checks the major).
func taskVersion(version string) (major, minor, patch int, err error) {
	parts := strings.Split(version, ".")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", version)
	}
	var n [3]int
	for i, p := range parts {
		if n[i], err = strconv.Atoi(p); err != nil {
			return 0, 0, 0, fmt.Errorf("version %q: %w", version, err)
		}
	}
	return n[0], n[1], n[2], nil
}

// CheckBinary fails unless the file is an executable for goos/goarch: an
// ELF, PE or Mach-O file for the right CPU.
func CheckBinary(p, goos, goarch string) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	r := bytes.NewReader(data)
	var got string
	switch goos {
	case "linux":
		f, err := elf.NewFile(r)
		if err != nil {
			return fmt.Errorf("%s: not an ELF file for linux: %w", p, err)
		}
		got = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[f.Machine]
		if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
			return fmt.Errorf("%s: ELF type %s, want an executable", p, f.Type)
		}
	case "windows":
		f, err := pe.NewFile(r)
		if err != nil {
			return fmt.Errorf("%s: not a PE file for windows: %w", p, err)
		}
		got = map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}[f.Machine]
		if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
			return fmt.Errorf("%s: PE file is not an executable image", p)
		}
	case "darwin":
		f, err := macho.NewFile(r)
		if err != nil {
			return fmt.Errorf("%s: not a Mach-O file for darwin: %w", p, err)
		}
		got = map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[f.Cpu]
		if f.Type != macho.TypeExec {
			return fmt.Errorf("%s: Mach-O type %s, want an executable", p, f.Type)
		}
	default:
		return fmt.Errorf("%s: unknown OS %q", p, goos)
	}
	if got != goarch {
		return errors.New(p + ": built for " + goos + "/" + orUnknown(got) + ", want " + goos + "/" + goarch)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown CPU"
	}
	return s
}
