// Command gen writes a git fast-import stream of a GitOps repository to
// standard output, the same bytes every run (fixed seed, fixed dates):
//
//	go run ./bench/gitops/gen | git -C REPO.git fast-import --quiet
//
// The repository deploys -apps applications to -envs environments. Each
// application in each environment is a directory
// clusters/<env>/<app>/ of 10 manifests, <kind>-<name>.yaml: Deployment,
// Service, ConfigMap, HorizontalPodAutoscaler, PodDisruptionBudget,
// ServiceAccount, Ingress, NetworkPolicy, ServiceMonitor and a
// kustomization.yaml, about 1.3 KB a file on average, with the labels,
// annotations, image digests and resource settings such repositories carry.
//
// History: one commit per application and environment on branch main
// (-apps × -envs commits: 2,000 by default), each adding that directory's
// 10 files and, from the fifth commit on, redeploying -bumps earlier ones
// (their Deployment gets a new image digest and replica count), as CI does.
// At the tip: apps × envs × 10 files (20,000 by default).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

func main() {
	apps := flag.Int("apps", 500, "applications")
	envs := flag.Int("envs", 4, "environments (dev, staging, production, then sandbox-N)")
	bumps := flag.Int("bumps", 2, "earlier Deployments each commit redeploys")
	branch := flag.String("branch", "main", "branch the commits go on")
	flag.Parse()
	if *apps < 1 || *envs < 1 || *bumps < 0 {
		flag.Usage()
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := gen(w, *apps, *envs, *bumps, *branch); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

var (
	teams = []string{"billing", "checkout", "search", "identity", "catalog", "payments", "shipping", "ledger",
		"notify", "reports", "pricing", "profile", "inventory", "orders", "fraud", "media", "support", "growth"}
	nouns = []string{"api", "worker", "gateway", "sync", "indexer", "web", "scheduler", "consumer", "exporter",
		"proxy", "importer", "frontend", "backend", "cache", "events", "admin"}
	firstEnvs = []string{"dev", "staging", "production"}
)

// unit is one application in one environment: one directory.
type unit struct {
	app, env, team string
	port           int
	cpu, mem       int // requests, millicores and MiB
	version        int // deployments so far
	rng            *rand.Rand
}

func gen(w *bufio.Writer, nApps, nEnvs, bumps int, branch string) error {
	rng := rand.New(rand.NewPCG(20261123, 6))
	envs := make([]string, nEnvs)
	for i := range envs {
		if i < len(firstEnvs) {
			envs[i] = firstEnvs[i]
		} else {
			envs[i] = fmt.Sprintf("sandbox-%d", i-len(firstEnvs)+1)
		}
	}
	var units []*unit
	start := time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)
	for a := range nApps {
		team := teams[rng.IntN(len(teams))]
		app := fmt.Sprintf("%s-%s-%03d", team, nouns[rng.IntN(len(nouns))], a)
		port := 8000 + rng.IntN(100)
		cpu, mem := 50*(1+rng.IntN(8)), 64*(1+rng.IntN(8))
		for _, env := range envs {
			u := &unit{app: app, env: env, team: team, port: port, cpu: cpu, mem: mem,
				rng: rand.New(rand.NewPCG(uint64(a), uint64(len(units))))}
			n := len(units)
			when := start.Add(time.Duration(n) * 47 * time.Minute)
			var files []file
			files = append(files, u.all()...)
			var bumped []string
			if n >= 4 {
				for range bumps {
					b := units[rng.IntN(n)]
					b.version++
					files = append(files, b.deployment())
					bumped = append(bumped, b.env+"/"+b.app)
				}
			}
			units = append(units, u)
			msg := fmt.Sprintf("Deploy %s to %s\n\nAdd clusters/%s/%s.\n", app, env, env, app)
			if len(bumped) > 0 {
				msg += "Redeploy " + strings.Join(bumped, ", ") + ".\n"
			}
			fmt.Fprintf(w, "commit refs/heads/%s\nmark :%d\n", branch, n+1)
			fmt.Fprintf(w, "author %s <%s@example.com> %d +0000\n", team+"-ci", team, when.Unix())
			fmt.Fprintf(w, "committer gitops-bot <gitops-bot@example.com> %d +0000\n", when.Unix())
			fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
			for _, f := range files {
				fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", f.path, len(f.data), f.data)
			}
		}
	}
	return nil
}

type file struct{ path, data string }

// header is the comment rendering tools put on top of each file.
func (u *unit) header(kind string) string {
	return fmt.Sprintf("# Rendered for %s by the %s pipeline: do not edit, changes are overwritten.\n"+
		"# Source: %s/templates/%s.yaml (%s values)\n---\n", u.env, u.team, u.app, kind, u.env)
}

func (u *unit) path(kind, name string) string {
	return fmt.Sprintf("clusters/%s/%s/%s-%s.yaml", u.env, u.app, kind, name)
}

func (u *unit) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[u.rng.IntN(16)]
	}
	return string(b)
}

// meta is the metadata block every manifest carries.
func (u *unit) meta(name string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "metadata:\n  name: %s\n  namespace: %s\n  labels:\n", name, u.env)
	fmt.Fprintf(&b, "    app.kubernetes.io/name: %s\n    app.kubernetes.io/instance: %s-%s\n", u.app, u.app, u.env)
	fmt.Fprintf(&b, "    app.kubernetes.io/part-of: %s\n    app.kubernetes.io/managed-by: gitops\n", u.team)
	fmt.Fprintf(&b, "    team: %s\n    environment: %s\n", u.team, u.env)
	fmt.Fprintf(&b, "    app.kubernetes.io/version: 1.%d.%d\n    helm.sh/chart: %s-%d.%d.0\n", u.version/10, u.version%10, u.team, 1+u.version/20, u.version%20)
	fmt.Fprintf(&b, "    cost-center: cc-%04d\n", 1000+len(u.team)*97)
	fmt.Fprintf(&b, "  annotations:\n    gitops.example.com/source: https://git.example.com/%s/%s\n", u.team, u.app)
	fmt.Fprintf(&b, "    gitops.example.com/owner: %s@example.com\n", u.team)
	fmt.Fprintf(&b, "    gitops.example.com/runbook: https://runbooks.example.com/%s/%s#%s\n", u.team, u.app, u.env)
	for _, e := range extra {
		b.WriteString("    " + e + "\n")
	}
	return b.String()
}

func (u *unit) all() []file {
	return []file{u.deployment(), u.service(), u.configMap(), u.hpa(), u.pdb(), u.serviceAccount(),
		u.ingress(), u.networkPolicy(), u.serviceMonitor(), u.kustomization()}
}

func (u *unit) deployment() file {
	commit := u.hex(40)
	replicas := 1 + u.rng.IntN(6)
	if u.env == "dev" {
		replicas = 1
	}
	d := "apiVersion: apps/v1\nkind: Deployment\n" +
		u.meta(u.app, "gitops.example.com/commit: "+commit, fmt.Sprintf("gitops.example.com/run: https://ci.example.com/%s/%s/runs/%d", u.team, u.app, 1000+u.version)) +
		fmt.Sprintf(`spec:
  replicas: %d
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: %s
      app.kubernetes.io/instance: %s-%s
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %s
        app.kubernetes.io/instance: %s-%s
    spec:
      serviceAccountName: %s
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: %s
          image: registry.example.com/%s/%s@sha256:%s
          ports:
            - name: http
              containerPort: %d
          env:
            - name: ENVIRONMENT
              value: %s
            - name: LOG_LEVEL
              value: info
          envFrom:
            - configMapRef:
                name: %s-config
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            requests:
              cpu: %dm
              memory: %dMi
            limits:
              memory: %dMi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
`, replicas, u.app, u.app, u.env, u.app, u.app, u.env, u.app, u.app, u.team, u.app, u.hex(64),
			u.port, u.env, u.app, u.cpu, u.mem, 2*u.mem)
	return file{u.path("deployment", u.app), u.header("deployment") + d}
}

func (u *unit) service() file {
	return file{u.path("service", u.app), u.header("service") + "apiVersion: v1\nkind: Service\n" + u.meta(u.app) + fmt.Sprintf(`spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: %s
    app.kubernetes.io/instance: %s-%s
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
`, u.app, u.app, u.env)}
}

func (u *unit) configMap() file {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\n" + u.meta(u.app+"-config") + "data:\n")
	fmt.Fprintf(&b, "  LISTEN_ADDR: \":%d\"\n  DATABASE_HOST: %s-db.%s.svc.cluster.local\n", u.port, u.team, u.env)
	fmt.Fprintf(&b, "  CACHE_URL: redis://%s-cache.%s.svc:6379/%d\n", u.team, u.env, u.rng.IntN(16))
	fmt.Fprintf(&b, "  TRACING_ENDPOINT: http://otel-collector.observability.svc:4317\n")
	fmt.Fprintf(&b, "  FEATURE_FLAGS: %q\n", strings.Join(u.flags(), ","))
	fmt.Fprintf(&b, "  REQUEST_TIMEOUT: %ds\n  MAX_CONNECTIONS: \"%d\"\n", 5+u.rng.IntN(55), 16<<u.rng.IntN(5))
	b.WriteString("  app.yaml: |\n")
	fmt.Fprintf(&b, "    service: %s\n    environment: %s\n    upstreams:\n", u.app, u.env)
	for range 2 + u.rng.IntN(4) {
		up := teams[u.rng.IntN(len(teams))] + "-" + nouns[u.rng.IntN(len(nouns))]
		fmt.Fprintf(&b, "      - name: %s\n        url: http://%s.%s.svc\n        retries: %d\n", up, up, u.env, u.rng.IntN(4))
	}
	return file{u.path("configmap", u.app+"-config"), u.header("configmap") + b.String()}
}

func (u *unit) flags() []string {
	all := []string{"new-checkout", "fast-search", "dark-mode", "beta-api", "async-writes", "v2-pricing", "audit-log"}
	var on []string
	for _, f := range all {
		if u.rng.IntN(2) == 0 {
			on = append(on, f)
		}
	}
	return on
}

func (u *unit) hpa() file {
	lo := 1 + u.rng.IntN(3)
	return file{u.path("horizontalpodautoscaler", u.app), u.header("horizontalpodautoscaler") + "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n" + u.meta(u.app) + fmt.Sprintf(`spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %s
  minReplicas: %d
  maxReplicas: %d
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: %d
`, u.app, lo, lo+2+u.rng.IntN(10), 50+5*u.rng.IntN(7))}
}

func (u *unit) pdb() file {
	return file{u.path("poddisruptionbudget", u.app), u.header("poddisruptionbudget") + "apiVersion: policy/v1\nkind: PodDisruptionBudget\n" + u.meta(u.app) + fmt.Sprintf(`spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: %s
      app.kubernetes.io/instance: %s-%s
`, u.app, u.app, u.env)}
}

func (u *unit) serviceAccount() file {
	return file{u.path("serviceaccount", u.app), u.header("serviceaccount") + "apiVersion: v1\nkind: ServiceAccount\n" +
		u.meta(u.app, fmt.Sprintf("iam.example.com/role: arn:example:iam::%d:role/%s-%s", 100000000000+u.rng.Int64N(900000000000), u.app, u.env)) +
		"automountServiceAccountToken: false\n"}
}

func (u *unit) ingress() file {
	host := fmt.Sprintf("%s.%s.example.com", u.app, u.env)
	return file{u.path("ingress", u.app), u.header("ingress") + "apiVersion: networking.k8s.io/v1\nkind: Ingress\n" +
		u.meta(u.app, "cert-manager.io/cluster-issuer: letsencrypt", "nginx.ingress.kubernetes.io/proxy-body-size: 8m") + fmt.Sprintf(`spec:
  ingressClassName: nginx
  tls:
    - hosts:
        - %s
      secretName: %s-tls
  rules:
    - host: %s
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: %s
                port:
                  name: http
`, host, u.app, host, u.app)}
}

func (u *unit) networkPolicy() file {
	return file{u.path("networkpolicy", u.app), u.header("networkpolicy") + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + u.meta(u.app) + fmt.Sprintf(`spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: %s
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: %d
  egress:
    - to:
        - namespaceSelector: {}
      ports:
        - port: 53
          protocol: UDP
        - port: 5432
        - port: 6379
`, u.app, u.port)}
}

func (u *unit) serviceMonitor() file {
	return file{u.path("servicemonitor", u.app), u.header("servicemonitor") + "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n" + u.meta(u.app) + fmt.Sprintf(`spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: %s
  endpoints:
    - port: http
      path: /metrics
      interval: %ds
`, u.app, 15*(1+u.rng.IntN(4)))}
}

func (u *unit) kustomization() file {
	return file{fmt.Sprintf("clusters/%s/%s/kustomization.yaml", u.env, u.app), fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %s
commonLabels:
  app.kubernetes.io/part-of: %s
resources:
  - deployment-%s.yaml
  - service-%s.yaml
  - configmap-%s-config.yaml
  - horizontalpodautoscaler-%s.yaml
  - poddisruptionbudget-%s.yaml
  - serviceaccount-%s.yaml
  - ingress-%s.yaml
  - networkpolicy-%s.yaml
  - servicemonitor-%s.yaml
`, u.env, u.team, u.app, u.app, u.app, u.app, u.app, u.app, u.app, u.app, u.app)}
}
