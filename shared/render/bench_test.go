package render

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func BenchmarkRenderChart(b *testing.B) {
	c := Chart{
		Dir:         "../../examples/app/deploy/chart",
		Values:      []string{"../../examples/app/deploy/values/dev.yaml"},
		ReleaseName: "hello",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderChart(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplit splits 2,000 documents, a List among every ten.
func BenchmarkSplit(b *testing.B) {
	var s strings.Builder
	for i := range 2000 {
		if i%10 == 0 {
			fmt.Fprintf(&s, "---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: cm-%d\n    data:\n      key: value\n", i)
			continue
		}
		fmt.Fprintf(&s, `---
# Deployment %[1]d
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: ns-%[2]d
  labels: {app: app-%[1]d}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app-%[1]d}
  template:
    metadata:
      labels: {app: app-%[1]d}
    spec:
      containers:
        - name: app
          image: registry.example.com/app:1.%[1]d
          ports: [{containerPort: 8080}]
          resources: {requests: {cpu: 50m, memory: 64Mi}}
`, i, i%7)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rs, err := Split("bench", "bench.yaml", data)
		if err != nil || len(rs) != 2000 {
			b.Fatalf("Split() = %d resources, %v", len(rs), err)
		}
	}
}
