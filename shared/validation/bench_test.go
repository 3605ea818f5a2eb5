package validation

import (
	"context"
	"fmt"
	"testing"

	"github.com/gitship/gitship/shared/render"
)

// BenchmarkValidate checks a mix of Deployments and Services, warm: the
// per-resource cost once schemas are compiled (bench/validate.sh measures
// whole runs against kubeconform).
func BenchmarkValidate(b *testing.B) {
	var rs []render.Resource
	for i := range 500 {
		src := fmt.Sprintf("deploy/%d.yaml", i)
		dep, err := render.Split("bench", src, fmt.Appendf(nil, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-%d
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web@sha256:0123
          ports: [{containerPort: 8080, name: http}]
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: web-%d
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`, i, i))
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, dep...)
	}
	v, err := New(Options{Strict: true})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Validate(context.Background(), rs[:2]); err != nil { // compile the schemas
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		results, err := v.Validate(context.Background(), rs)
		if err != nil || Count(results).Valid != len(rs) {
			b.Fatalf("%v %+v", err, Count(results))
		}
	}
	b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "resources/s")
}
