// Command imagegen builds the image of every gitship step with
// go-containerregistry: no Docker daemon, no base image to pull. Each image
// is the step's static binary on an empty base with CA certificates,
// /etc/passwd and /etc/group (root and the non-root user gitship, uid
// 1001), /tmp and /workspace; linux/amd64 and linux/arm64 in one index;
// reproducible: every timestamp is the commit's, so the same commit gives
// the same digests. The images are written as OCI layouts, which the
// publish step pushes:
//
//	go run ./tools/imagegen -version 1.2.3 -out dist/images
//	bin/gitship-publish --image oci:dist/images/gitship-lint --repository ghcr.io/gitship/gitship-lint
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	var (
		out       = flag.String("out", "dist/images", "directory the OCI layouts are written to, one per step")
		version   = flag.String("version", "dev", "version stamped into the binaries and the labels")
		steps     = flag.String("steps", "lint,build,validate,publish,gitops-pr,verify", "steps to build, comma-separated")
		platforms = flag.String("platforms", "linux/amd64,linux/arm64", "platforms of each image, comma-separated")
		certs     = flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied into the images")
	)
	flag.Parse()
	revision, created, err := commit()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagegen:", err)
		os.Exit(1)
	}
	o := Options{Out: *out, Version: *version, Revision: revision, Created: created, CACertificates: *certs, Files: "images",
		Source: "https://github.com/gitship/gitship", Platforms: strings.Split(*platforms, ",")}
	for _, s := range strings.Split(*steps, ",") {
		o.Steps = append(o.Steps, Step{Name: s, Package: "./steps/" + s})
	}
	results, err := Build(context.Background(), o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagegen:", err)
		os.Exit(1)
	}
	fmt.Println()
	fmt.Println("| image | digest | " + strings.Join(o.Platforms, " | ") + " |")
	fmt.Println("|---|---|" + strings.Repeat("---:|", len(o.Platforms)))
	for _, r := range results {
		row := fmt.Sprintf("| gitship-%s | `%s` |", r.Step, r.Digest.String()[:19])
		for _, p := range o.Platforms {
			row += fmt.Sprintf(" %.1f MB |", float64(r.Compressed[p])/1e6)
		}
		fmt.Println(row)
	}
}

// commit is HEAD's SHA and committer time, or SOURCE_DATE_EPOCH's time.
func commit() (string, time.Time, error) {
	out, err := exec.Command("git", "log", "-1", "--format=%H %ct").Output()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("git log: %w (run in the repository)", err)
	}
	sha, ct, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("commit time %q: %w", ct, err)
	}
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		if sec, err = strconv.ParseInt(v, 10, 64); err != nil {
			return "", time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", v, err)
		}
	}
	return sha, time.Unix(sec, 0).UTC(), nil
}
