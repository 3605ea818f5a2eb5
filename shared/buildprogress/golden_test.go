package buildprogress

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
	"github.com/moby/buildkit/client"
)

// multistage is the stream of a build of this Dockerfile, in the shape and
// order BuildKit 0.34 sends it (several vertices in a message, output cut
// at arbitrary bytes, stages running in parallel):
//
//	# syntax=docker/dockerfile:1
//	FROM golang:1.26-bookworm AS build
//	WORKDIR /src
//	COPY go.mod go.sum ./
//	RUN --mount=type=cache,target=/go/pkg/mod go mod download
//	COPY . .
//	RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -o /out/app .
//
//	FROM node:22 as web
//	ENV NPM_TOKEN=""
//	WORKDIR /web
//	COPY web/ .
//	RUN npm ci && npm run build
//
//	FROM gcr.io/distroless/static-debian12:nonroot
//	COPY --from=build /out/app /app
//	COPY --from=web /web/dist /static
//	ENTRYPOINT ["/app"]
func multistage() []*client.SolveStatus {
	const (
		def      = "[internal] load build definition from Dockerfile"
		syntax   = "resolve image config for docker-image://docker.io/docker/dockerfile:1"
		frontend = "docker-image://docker.io/docker/dockerfile:1@sha256:9857836c9ee4268391bb5b09f9f157f3c91bb15821bb77969642813b0d00518d"
		metaGo   = "[internal] load metadata for docker.io/library/golang:1.26-bookworm"
		metaNode = "[internal] load metadata for docker.io/library/node:22"
		metaRun  = "[internal] load metadata for gcr.io/distroless/static-debian12:nonroot"
		ignore   = "[internal] load .dockerignore"
		ctx      = "[internal] load build context"
		fromGo   = "[build 1/6] FROM docker.io/library/golang:1.26-bookworm@sha256:3149bc5043fa58cf127fd8db1fdd4e533b6aed5a40d663d4f4ae43d20386665f"
		workdir  = "[build 2/6] WORKDIR /src"
		copyMod  = "[build 3/6] COPY go.mod go.sum ./"
		download = "[build 4/6] RUN --mount=type=cache,target=/go/pkg/mod go mod download"
		copyAll  = "[build 5/6] COPY . ."
		build    = "[build 6/6] RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -o /out/app ."
		fromNode = "[web 1/4] FROM docker.io/library/node:22@sha256:2bb201f33898d2c0ce638505b426f4dd038cc00e5b2b4cbba17b069f0fff1496"
		webdir   = "[web 2/4] WORKDIR /web"
		copyWeb  = "[web 3/4] COPY web/ ."
		npm      = "[web 4/4] RUN npm ci && npm run build"
		fromRun  = "[stage-2 1/3] FROM gcr.io/distroless/static-debian12:nonroot@sha256:6ec5aa99dc335666e79dc64e4a6c8b89c33a543a1967f20d360922a80dd21f02"
		copyApp  = "[stage-2 2/3] COPY --from=build /out/app /app"
		copyDist = "[stage-2 3/3] COPY --from=web /web/dist /static"
		export   = "exporting to image"
	)
	var msgs []*client.SolveStatus
	add := func(m ...any) { msgs = append(msgs, flat(m...)...) }
	add(started(def, 0), status(def, "transferring dockerfile:", 612, 0, 0, 0.01), done(def, 0, 0.01))
	add(started(syntax, 0.02), done(syntax, 0.02, 0.61))
	add(cached(frontend, 0.62))
	add(&client.SolveStatus{Vertexes: []*client.Vertex{vtx(metaGo, 0.9, -1), vtx(metaNode, 0.9, -1), vtx(metaRun, 0.9, -1)}})
	add(done(metaRun, 0.9, 1.2), done(metaGo, 0.9, 1.3), done(metaNode, 0.9, 1.4))
	add(started(ignore, 1.4), status(ignore, "transferring context:", 2, 0, 1.4, 1.41), done(ignore, 1.4, 1.41))
	// The solve: vertices listed first, started as their inputs are ready.
	add(&client.SolveStatus{Vertexes: []*client.Vertex{
		vtx(fromGo, -1, -1), vtx(fromNode, -1, -1), vtx(fromRun, -1, -1), vtx(ctx, -1, -1),
		vtx(workdir, -1, -1), vtx(copyMod, -1, -1), vtx(download, -1, -1), vtx(copyAll, -1, -1), vtx(build, -1, -1),
		vtx(webdir, -1, -1), vtx(copyWeb, -1, -1), vtx(npm, -1, -1), vtx(copyApp, -1, -1), vtx(copyDist, -1, -1),
	}})
	add(started(ctx, 1.5), started(fromGo, 1.5), status(fromGo, "resolve docker.io/library/golang:1.26-bookworm@sha256:3149bc5043fa58cf127fd8db1fdd4e533b6aed5a40d663d4f4ae43d20386665f", 0, 0, 1.5, 1.5))
	add(started(fromNode, 1.5), started(fromRun, 1.5))
	for i := int64(1); i <= 8; i++ {
		add(status(ctx, "transferring context:", i*14000, 0, 1.5, -1))
	}
	add(status(ctx, "transferring context:", 118214, 0, 1.5, 1.7), done(ctx, 1.5, 1.7))
	add(cached(fromGo, 1.5), cached(workdir, 1.7), cached(copyMod, 1.7), cached(download, 1.7))
	// The node and distroless bases are pulled, layer by layer, with
	// updates every 100ms.
	layers := []struct {
		vertex, digest string
		size           int64
	}{
		{fromNode, "sha256:0c01110621e0ec1eded421406c9f117f7ae5486c8f7b0a0d1a37cc7bc9317226", 48 << 20},
		{fromNode, "sha256:3cb6a9a7f3c2b0a7d4d1f4f4d9d3e39a2c2e1b8f0e7a6c5b4a3f2e1d0c9b8a7f", 24 << 20},
		{fromNode, "sha256:5d28b0ef4b7a9c6e1f4d0c3b2a1908f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1", 3 << 20},
		{fromRun, "sha256:a62778643d563b511190663ef9a77c30d46d282facfdce4f3a7aecc03423c1f3", 103732},
		{fromRun, "sha256:2e4cf50eeb92ffcde2d5f1ceb2c0f9d0a0ba3bbf35bac6a6f1f8a6d4b9e0d6c1", 783472},
	}
	for step := int64(1); step <= 20; step++ {
		for _, l := range layers {
			add(status(l.vertex, l.digest, l.size*step/20, l.size, 1.6, -1))
		}
	}
	for i, l := range layers {
		add(status(l.vertex, l.digest, l.size, l.size, 1.6, 2.9), status(l.vertex, "extracting "+l.digest, 0, 0, 3+float64(i)*0.2, 3.2+float64(i)*0.2))
	}
	add(done(fromRun, 1.5, 3.9))
	add(done(fromNode, 1.5, 3.7), started(webdir, 3.7), done(webdir, 3.7, 3.75), started(copyWeb, 3.75), started(copyAll, 1.8), done(copyAll, 1.8, 1.9))
	add(done(copyWeb, 3.75, 3.8), started(build, 1.9), started(npm, 3.8))
	// go build and npm run side by side; npm draws a progress bar with
	// carriage returns and colours its output.
	add(output(build, 2, "go: downloading github.com/urfave/cli/v2 v2.27.7\ngo: downl"))
	add(output(npm, 2, "\x1b[?25l(\x1b[100m\x1b[90m#########\x1b[0m⠂⠂⠂⠂⠂⠂⠂⠂) ⠧ idealTree: timing idealTree Completed in 121ms\x1b[0m\x1b[K\r"))
	add(output(build, 2, "oading github.com/cpuguy83/go-md2man/v2 v2.0.7\n"))
	add(output(npm, 2, "(##################⠂⠂⠂⠂⠂⠂) ⠏ reify:esbuild: http fetch GET 200 https://registry.npmjs.org/esbuild 312ms\x1b[K\r"))
	add(output(npm, 2, "(########################) ⠏ reify:fsevents: timing reifyNode Completed in 20ms\x1b[K\r\x1b[K\x1b[?25h"))
	add(output(npm, 1, "\nadded 214 packages, and audited 215 packages in 6s\n\n"))
	add(output(npm, 1, "\x1b[1m\x1b[31m2\x1b[39m\x1b[22m moderate severity vulnerabilities\n"))
	add(output(build, 1, "# example.com/app\n"), output(npm, 1, "\n> web@1.0.0 build\n> vite build\n\n\x1b[36mvite v5.4.2 \x1b[32mbuilding for production...\x1b[36m\x1b[39m\ntransforming...\n"))
	add(output(npm, 1, "\x1b[32m✓\x1b[39m 34 modules transformed.\n"))
	add(output(npm, 1, "dist/index.html  \x1b[2m0.46 kB\x1b[22m\n\x1b[32m✓ built in 812ms\x1b[39m\n"))
	add(done(npm, 3.8, 10.25))
	add(done(build, 1.9, 14.04), started(copyApp, 14.05))
	add(done(copyApp, 14.05, 14.1), started(copyDist, 14.1), done(copyDist, 14.1, 14.12))
	add(started(export, 14.13),
		status(export, "exporting layers", 0, 0, 14.13, 14.6),
		status(export, "writing image sha256:7d3e1a8a31c6c4a8b4d9e0e1cb3e5a6b18d3c4f2a1b0c9d8e7f6a5b4c3d2e1f0", 0, 0, 14.6, 14.61),
		status(export, "naming to docker.io/library/app:4f2a1c9", 0, 0, 14.61, 14.61),
		done(export, 14.13, 14.62))
	add(warning(`FromAsCasing: 'as' and 'FROM' keywords' casing do not match`, "Dockerfile", 9))
	add(warning(`SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "NPM_TOKEN")`, "Dockerfile", 10))
	// BuildKit sends the warnings again with the final status.
	add(warning(`FromAsCasing: 'as' and 'FROM' keywords' casing do not match`, "Dockerfile", 9))
	return msgs
}

// TestPrintGolden prints a realistic multi-stage build and compares the
// log, with the summary after it, with testdata/multistage.golden
// (go test -update rewrites it).
func TestPrintGolden(t *testing.T) {
	log, sum := run(t, multistage())
	var b strings.Builder
	b.WriteString(log)
	fmt.Fprintf(&b, "--- summary: %d vertices, %d cached, failed %v\n", sum.Vertices, sum.Cached, sum.Failed)
	for _, w := range sum.Warnings {
		fmt.Fprintf(&b, "--- warning: %+v\n", w)
	}
	steptest.Golden(t, "multistage", b.String())
	if n := strings.Count(log, "\n"); n > 80 {
		t.Errorf("Print() wrote %d lines for %d messages, want at most 80: the pull updates are printed", n, len(multistage()))
	}
}
