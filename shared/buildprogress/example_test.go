package buildprogress_test

import (
	"os"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/gitship/gitship/shared/buildprogress"
)

func ExamplePrint() {
	t0 := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(1200*time.Millisecond), t0.Add(1500*time.Millisecond)
	copyV := &client.Vertex{Digest: digest.FromString("copy"), Name: "[build 2/3] COPY . .", Started: &t0, Completed: &t0, Cached: true}
	run := &client.Vertex{Digest: digest.FromString("run"), Name: "[build 3/3] RUN go test ./...", Started: &t0}
	ran := *run
	ran.Completed = &t1
	load := &client.Vertex{Digest: digest.FromString("load"), Name: "[internal] load build context", Started: &t0, Completed: &t2}

	ch := make(chan *client.SolveStatus, 4) // a solve's status channel
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{load}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{copyV, run}}
	ch <- &client.SolveStatus{Logs: []*client.VertexLog{
		{Vertex: run.Digest, Stream: 1, Data: []byte("\x1b[32mok\x1b[0m  \tapp\t0.01")},
		{Vertex: run.Digest, Stream: 1, Data: []byte("2s\n")},
	}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{&ran}}
	close(ch)

	sum := buildprogress.Print(os.Stdout, ch)
	_ = sum // sum.Failed, sum.Warnings: for the step's error and annotations
	// Output:
	// #1 [internal] load build context DONE 1.5s
	// #2 CACHED [build 2/3] COPY . .
	// #3 [build 3/3] RUN go test ./...
	// #3 ok  	app	0.012s
	// #3 DONE 1.2s
}
