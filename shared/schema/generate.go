package schema

// The embedded schemas, one release a minor from 1.29 to the newest, each
// the latest patch the Go module proxy serves: each run builds
// tools/schemagen against the k8s.io/kubernetes release its modfile pins
// (see modfile.sh there to add one), writes data/v1.NN.json.gz, the
// release's index, and merges its definitions into data/definitions.json.gz,
// where each distinct one is stored once by content hash. The files are byte
// for byte the same every time, whatever the order of the runs.
//go:generate go run -C ../../tools/schemagen -modfile=go.1.29.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.30.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.31.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.32.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.33.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.34.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.35.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.36.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.mod . -dir ../../shared/schema/data
