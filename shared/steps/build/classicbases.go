package build

import (
	"bytes"
	"context"
	"os"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/gitship/gitship/shared/buildkit"
)

// repoDigest is the digest the engine pulled the image named n by: the
// one of its RepoDigests in n's repository, "" when it has none (an image
// built or imported here, or pulled from another repository only).
func repoDigest(n reference.Named, repoDigests []string) string {
	for _, rd := range repoDigests {
		if r, err := reference.ParseNormalizedNamed(rd); err == nil && r.Name() == n.Name() {
			if c, ok := r.(reference.Canonical); ok {
				return c.Digest().String()
			}
		}
	}
	return ""
}

// classicBases are the base images of a build by the engine's classic
// builder, which reports no resolution: the Dockerfile's FROM lines up to
// the target stage (the classic builder builds each of them), with the
// global ARGs and --build-arg expanded, less those naming an earlier stage
// and scratch, each as the engine has it. The engine's inspect gives the
// image ID, not the digest it was pulled by. What cannot be read or found
// is left out: the list is for provenance, and the build has succeeded.
func (b *builder) classicBases(ctx context.Context) []buildkit.BaseImage {
	src, err := os.ReadFile(b.dockerfilePath())
	if err != nil {
		return nil
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil
	}
	var env []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := b.in.buildArgs[kv.Key]; ok {
				env = append(env, kv.Key+"="+v)
			} else if kv.Value != nil {
				env = append(env, kv.Key+"="+*kv.Value)
			}
		}
	}
	lex := shell.NewLex(res.EscapeToken)
	named := map[string]bool{}
	seen := map[string]bool{}
	var out []buildkit.BaseImage
	for _, st := range stages {
		base, _, err := lex.ProcessWord(st.BaseName, shell.EnvsFromSlice(env))
		if err == nil && base != "" && !named[strings.ToLower(base)] && !strings.EqualFold(base, "scratch") && !seen[base] {
			seen[base] = true
			if img, err := b.eng.InspectImage(ctx, base); err == nil {
				bi := buildkit.BaseImage{Ref: base, ImageID: img.ID}
				if n, err := reference.ParseNormalizedNamed(base); err == nil {
					bi.Ref = n.String()
					if c, ok := n.(reference.Canonical); ok {
						bi.Digest = c.Digest().String()
					} else {
						bi.Digest = repoDigest(n, img.RepoDigests)
					}
				}
				if img.OS != "" && img.Arch != "" {
					bi.Platform = img.OS + "/" + img.Arch
				}
				out = append(out, bi)
			}
		}
		if st.Name != "" {
			named[strings.ToLower(st.Name)] = true
		}
		if b.s.Target != "" && strings.EqualFold(st.Name, b.s.Target) {
			break
		}
	}
	return out
}
