package schema

// The embedded catalogs, one a minor release: each run builds tools/schemagen
// against the k8s.io/kubernetes release its modfile pins (see modfile.sh
// there to add one) and writes data/v1.NN.json.gz, byte for byte the same
// every time.
//go:generate go run -C ../../tools/schemagen -modfile=go.1.34.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.35.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.1.36.mod . -dir ../../shared/schema/data
//go:generate go run -C ../../tools/schemagen -modfile=go.mod . -dir ../../shared/schema/data
