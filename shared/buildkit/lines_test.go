package buildkit

import "testing"

func TestVertexLine(t *testing.T) {
	const multi = `ARG GO=1.26
FROM golang:${GO} AS builder
WORKDIR /src
COPY . .
RUN go build \
    ./...

FROM scratch
COPY --from=builder /src/app /app
`
	const single = "FROM busybox\nRUN echo fine\nRUN exit 3\n"
	for _, tc := range []struct {
		src, vertex string
		line        int
	}{
		{multi, "[builder 4/4] RUN go build     ./...", 5},
		{multi, "[builder 1/4] FROM docker.io/library/golang:1.26", 2},
		{multi, "[stage-1 2/2] COPY --from=builder /src/app /app", 9},
		{multi, "[Builder 3/4] COPY . .", 4},
		{single, "[3/3] RUN exit 3", 3},
		{single, "[stage-0 2/3] RUN echo fine", 2},
		{multi, "[3/3] RUN exit 3", 0},              // no stage, and two stages: unknown
		{multi, "[builder 9/9] RUN nothing", 0},     // out of range
		{multi, "[internal] load build context", 0}, // not an instruction
		{"FROM a\nRUN \"unterminated\n", "[stage-0 2/2] RUN x", 2},
	} {
		if got := vertexLine([]byte(tc.src), tc.vertex); got != tc.line {
			t.Errorf("vertexLine(%q) = %d, want %d", tc.vertex, got, tc.line)
		}
	}
}
