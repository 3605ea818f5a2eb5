// Command gen writes the inputs of bench/validate.sh, the same bytes on
// every run:
//
//	go run ./bench/validate/gen -out bench/out/validate
//
// It writes:
//   - OUT/tree: -resources manifests of the kinds a platform repository
//     holds (Deployments, Services, ConfigMaps, Ingresses, HPAs, CronJobs,
//     StatefulSets, RBAC, ...), one directory per application, mostly one
//     file per resource, every tenth application as one multi-document
//     file. -invalid of them carry a mistake each, one kind after another.
//   - OUT/planted.tsv: those mistakes, one a line: file, kind, name, what.
//   - OUT/chart: a Helm chart of -components components, 4 to 6 templates
//     each, every template ranging over the -instances instances of
//     values.yaml; all valid.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("gen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("out", "bench/out/validate", "directory to write tree/, planted.tsv and chart/ to")
	resources := fl.Int("resources", 5000, "manifests in the tree")
	invalid := fl.Int("invalid", len(plantOrder), "manifests of the tree with a mistake (one kind after another)")
	components := fl.Int("components", 30, "components of the chart, 4 or 5 templates each")
	instances := fl.Int("instances", 8, "instances each chart template renders")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *resources < 1 || *invalid < 0 || *invalid > *resources {
		fmt.Fprintln(stderr, "gen: want 0 <= -invalid <= -resources, -resources >= 1")
		return 2
	}
	files, planted, err := writeTree(filepath.Join(*out, "tree"), filepath.Join(*out, "planted.tsv"), *resources, *invalid)
	if err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d resources in %d files, %d invalid\n", filepath.Join(*out, "tree"), *resources, files, planted)
	templates, rendered, err := writeChart(filepath.Join(*out, "chart"), *components, *instances)
	if err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d templates rendering %d resources\n", filepath.Join(*out, "chart"), templates, rendered)
	return 0
}

// app is one application of the tree; the kinds it has depend on its shape.
type app struct {
	team, name, ns string
	i              int // its number, which varies sizes and values
}

// doc is one resource: its kind and name, and its text, valid or with the
// kind's planted mistake.
type doc struct {
	kind, name string
	text       func(bad bool) string
	mistake    string
}

// shapes are the applications of a platform repository, cycled through.
var shapes = []func(a app) []doc{webApp, workerApp, databaseApp, cronApp, agentApp, webApp, workerApp, webApp}

func writeTree(dir, plantedFile string, n, invalid int) (files, planted int, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return 0, 0, err
	}
	// Plant the k-th mistake on the first resource of plantOrder[k] at or
	// after k/invalid of the tree: spread out, one kind after another.
	next := func(k int) int { return k * n / max(invalid, 1) }
	k := 0
	var list strings.Builder
	count := 0
	teams := []string{"payments", "search", "identity", "catalog", "checkout", "platform", "data", "growth"}
	for i := 0; count < n; i++ {
		a := app{team: teams[i%len(teams)], i: i}
		a.name = fmt.Sprintf("%s-svc-%04d", a.team, i)
		a.ns = fmt.Sprintf("%s-%d", a.team, i%5)
		docs := shapes[i%len(shapes)](a)
		if len(docs) > n-count {
			docs = docs[:n-count]
		}
		appDir := filepath.Join(dir, a.team, a.name)
		if err := os.MkdirAll(appDir, 0o755); err != nil {
			return files, k, err
		}
		var bundle strings.Builder
		for _, d := range docs {
			b := k < invalid && count >= next(k) && d.kind == plantOrder[k%len(plantOrder)]
			if b {
				k++
			}
			count++
			text := d.text(b)
			file := filepath.Join(appDir, strings.ToLower(d.kind)+"-"+d.name+".yaml")
			if i%10 == 9 {
				// One multi-document file, as kubectl apply -f takes it.
				file = filepath.Join(appDir, "all.yaml")
				fmt.Fprintf(&bundle, "---\n# %s %s\n%s", d.kind, d.name, text)
			} else {
				if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
					return files, k, err
				}
				files++
			}
			if b {
				fmt.Fprintf(&list, "%s\t%s\t%s\t%s\n", filepath.ToSlash(file), d.kind, d.name, d.mistake)
			}
		}
		if bundle.Len() > 0 {
			if err := os.WriteFile(filepath.Join(appDir, "all.yaml"), []byte(bundle.String()), 0o644); err != nil {
				return files, k, err
			}
			files++
		}
	}
	return files, k, os.WriteFile(plantedFile, []byte(list.String()), 0o644)
}

// plantOrder is the order in which the kinds get a mistake.
var plantOrder = []string{"Deployment", "Service", "ConfigMap", "Ingress", "HorizontalPodAutoscaler", "CronJob",
	"StatefulSet", "Secret", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy", "Role", "RoleBinding",
	"DaemonSet", "Job", "PersistentVolumeClaim", "ClusterRole", "ClusterRoleBinding"}

func labels(a app, indent int, component string) string {
	pad := strings.Repeat(" ", indent)
	return fmt.Sprintf("%[1]sapp.kubernetes.io/name: %[2]s\n%[1]sapp.kubernetes.io/part-of: %[3]s\n%[1]sapp.kubernetes.io/component: %[4]s\n",
		pad, a.name, a.team, component)
}

func meta(a app, name, component string) string {
	return fmt.Sprintf("metadata:\n  name: %s\n  namespace: %s\n  labels:\n%s", name, a.ns, labels(a, 4, component))
}

// container is a realistic container: env, probes, resources, mounts.
func container(a app, name string, port int, bad bool) string {
	var env strings.Builder
	for k := range 3 + a.i%6 {
		fmt.Fprintf(&env, "            - name: SETTING_%d\n              value: \"%d\"\n", k, a.i*7+k)
	}
	pull := "imagePullPolicy"
	if bad {
		pull = "imagePullPolcy" // strict: a field the schema does not know
	}
	return fmt.Sprintf(`        - name: %[1]s
          image: registry.example.com/%[2]s/%[1]s:1.%[3]d.%[4]d
          %[5]s: IfNotPresent
          args: ["--port=%[6]d", "--log-level=info"]
          ports:
            - name: http
              containerPort: %[6]d
              protocol: TCP
          env:
%[7]s            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
          envFrom:
            - configMapRef:
                name: %[8]s
          readinessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
          livenessProbe:
            httpGet: {path: /livez, port: http}
            initialDelaySeconds: 15
            failureThreshold: 3
          resources:
            requests: {cpu: %[9]dm, memory: %[10]dMi}
            limits: {memory: %[11]dMi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
`, name, a.team, a.i%40, a.i%7, pull, port, env.String(), a.name, 50+a.i%10*25, 64+a.i%8*32, 128+a.i%8*64)
}

func podSpec(a app, name string, port int, badContainer bool) string {
	return fmt.Sprintf(`    spec:
      serviceAccountName: %[1]s
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: %[1]s
      containers:
%[2]s      volumes:
        - name: tmp
          emptyDir: {}
`, a.name, container(a, name, port, badContainer))
}

func deployment(a app) doc {
	return doc{kind: "Deployment", name: a.name, mistake: "spec.replicas is a string",
		text: func(bad bool) string {
			replicas := fmt.Sprint(2 + a.i%4)
			if bad {
				replicas = `"` + replicas + `"`
			}
			return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
%s  annotations:
    deployment.kubernetes.io/revision: "%d"
spec:
  replicas: %s
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%%, maxUnavailable: 0}
  selector:
    matchLabels:
      app.kubernetes.io/name: %s
  template:
    metadata:
      labels:
%s      annotations:
        prometheus.io/scrape: "true"
%s`, meta(a, a.name, "server"), a.i%9+1, replicas, a.name, labels(a, 8, "server"), podSpec(a, "server", 8080, false))
		}}
}

func service(a app, name string, headless bool) doc {
	return doc{kind: "Service", name: name, mistake: "spec.ports[0].port is missing",
		text: func(bad bool) string {
			port := "    port: 80\n"
			if bad {
				port = ""
			}
			extra := "  type: ClusterIP\n"
			if headless {
				extra = "  clusterIP: None\n  publishNotReadyAddresses: true\n"
			}
			return fmt.Sprintf(`apiVersion: v1
kind: Service
%sspec:
%s  selector:
    app.kubernetes.io/name: %s
  ports:
  - name: http
%s    targetPort: http
    protocol: TCP
`, meta(a, name, "server"), extra, a.name, port)
		}}
}

func configMap(a app) doc {
	return doc{kind: "ConfigMap", name: a.name, mistake: "data.MAX_CONNECTIONS is a number, not a string",
		text: func(bad bool) string {
			maxConn := `"100"`
			if bad {
				maxConn = "100"
			}
			var props strings.Builder
			for k := range 8 + a.i%12 {
				fmt.Fprintf(&props, "    feature.%d.enabled=%t\n    feature.%d.rollout=%d\n", k, (a.i+k)%3 != 0, k, (a.i*k)%100)
			}
			return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
%sdata:
  LOG_LEVEL: info
  MAX_CONNECTIONS: %s
  UPSTREAM_URL: http://%s-upstream.%s.svc.cluster.local:8080
  application.properties: |
    # generated for %s
    server.port=8080
%s`, meta(a, a.name, "config"), maxConn, a.team, a.ns, a.name, props.String())
		}}
}

func secret(a app) doc {
	return doc{kind: "Secret", name: a.name + "-credentials", mistake: "stringData.DEBUG is a boolean",
		text: func(bad bool) string {
			debug := `"false"`
			if bad {
				debug = "false"
			}
			return fmt.Sprintf(`apiVersion: v1
kind: Secret
%stype: Opaque
stringData:
  DATABASE_USER: %s
  DATABASE_PASSWORD: not-a-real-password-%d
  DEBUG: %s
`, meta(a, a.name+"-credentials", "config"), strings.ReplaceAll(a.name, "-", "_"), a.i, debug)
		}}
}

func serviceAccount(a app) doc {
	return doc{kind: "ServiceAccount", name: a.name, mistake: "automountServiceAccountToken is a string",
		text: func(bad bool) string {
			automount := "false"
			if bad {
				automount = `"false"`
			}
			return fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\n%sautomountServiceAccountToken: %s\n", meta(a, a.name, "identity"), automount)
		}}
}

func hpa(a app) doc {
	return doc{kind: "HorizontalPodAutoscaler", name: a.name, mistake: "spec.targetCPUUtilizationPercentage is autoscaling/v1, unknown in v2",
		text: func(bad bool) string {
			target := ""
			if bad {
				target = "  targetCPUUtilizationPercentage: 75\n"
			}
			return fmt.Sprintf(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
%sspec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %s
  minReplicas: %d
  maxReplicas: %d
%s  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 75}
    - type: Resource
      resource:
        name: memory
        target: {type: AverageValue, averageValue: 200Mi}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - {type: Percent, value: 50, periodSeconds: 60}
`, meta(a, a.name, "server"), a.name, 2+a.i%3, 10+a.i%20, target)
		}}
}

func pdb(a app) doc {
	return doc{kind: "PodDisruptionBudget", name: a.name, mistake: "spec.selector.matchLabel is a typo of matchLabels",
		text: func(bad bool) string {
			match := "matchLabels"
			if bad {
				match = "matchLabel"
			}
			return fmt.Sprintf(`apiVersion: policy/v1
kind: PodDisruptionBudget
%sspec:
  maxUnavailable: 1
  selector:
    %s:
      app.kubernetes.io/name: %s
`, meta(a, a.name, "server"), match, a.name)
		}}
}

func ingress(a app) doc {
	return doc{kind: "Ingress", name: a.name, mistake: "spec.rules[0].http.paths[0].pathType is missing",
		text: func(bad bool) string {
			pathType := "          pathType: Prefix\n"
			if bad {
				pathType = ""
			}
			return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
%s  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
spec:
  ingressClassName: nginx
  tls:
    - hosts: [%[2]s.example.com]
      secretName: %[2]s-tls
  rules:
    - host: %[2]s.example.com
      http:
        paths:
        - path: /
%[3]s          backend:
            service:
              name: %[2]s
              port: {name: http}
`, meta(a, a.name, "server"), a.name, pathType)
		}}
}

func networkPolicy(a app) doc {
	return doc{kind: "NetworkPolicy", name: a.name, mistake: "spec.policyTypes is a string, not a list",
		text: func(bad bool) string {
			types := "[Ingress, Egress]"
			if bad {
				types = "Ingress"
			}
			return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
%sspec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: %s
  policyTypes: %s
  ingress:
    - from:
        - namespaceSelector:
            matchLabels: {kubernetes.io/metadata.name: ingress-nginx}
      ports:
        - {protocol: TCP, port: 8080}
  egress:
    - to:
        - namespaceSelector: {}
      ports:
        - {protocol: UDP, port: 53}
`, meta(a, a.name, "server"), a.name, types)
		}}
}

func role(a app) doc {
	return doc{kind: "Role", name: a.name, mistake: "rules[0].verb is a typo of verbs (required)",
		text: func(bad bool) string {
			verbs := "verbs"
			if bad {
				verbs = "verb"
			}
			return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
%srules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    %s: [get, list, watch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
`, meta(a, a.name, "identity"), verbs)
		}}
}

func roleBinding(a app) doc {
	return doc{kind: "RoleBinding", name: a.name, mistake: "roleRef is missing",
		text: func(bad bool) string {
			ref := fmt.Sprintf("roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: %s\n", a.name)
			if bad {
				ref = ""
			}
			return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
%s%ssubjects:
  - kind: ServiceAccount
    name: %s
    namespace: %s
`, meta(a, a.name, "identity"), ref, a.name, a.ns)
		}}
}

func statefulSet(a app) doc {
	return doc{kind: "StatefulSet", name: a.name, mistake: "spec.volumeClaimTemplate is a typo of volumeClaimTemplates",
		text: func(bad bool) string {
			vct := "volumeClaimTemplates"
			if bad {
				vct = "volumeClaimTemplate"
			}
			return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
%sspec:
  serviceName: %s-headless
  replicas: 3
  podManagementPolicy: Parallel
  selector:
    matchLabels:
      app.kubernetes.io/name: %s
  template:
    metadata:
      labels:
%s%s  %s:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: standard-rwo
        resources:
          requests: {storage: %dGi}
`, meta(a, a.name, "database"), a.name, a.name, labels(a, 8, "server"), podSpec(a, "postgres", 5432, false), vct, 10+a.i%50)
		}}
}

func daemonSet(a app) doc {
	return doc{kind: "DaemonSet", name: a.name, mistake: "spec.selector is missing",
		text: func(bad bool) string {
			selector := fmt.Sprintf("  selector:\n    matchLabels:\n      app.kubernetes.io/name: %s\n", a.name)
			if bad {
				selector = ""
			}
			return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
%sspec:
%s  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 10%%}
  template:
    metadata:
      labels:
%s%s`, meta(a, a.name, "agent"), selector, labels(a, 8, "server"), podSpec(a, "agent", 9100, false))
		}}
}

func cronJob(a app) doc {
	return doc{kind: "CronJob", name: a.name, mistake: "spec.jobTemplate.spec.containers: the pod template level is missing",
		text: func(bad bool) string {
			spec := fmt.Sprintf(`      template:
        spec:
          restartPolicy: OnFailure
          serviceAccountName: %s
          containers:
            - name: job
              image: registry.example.com/%s/job:1.%d.0
              args: [--batch-size=500]
              resources:
                requests: {cpu: 100m, memory: 128Mi}
`, a.name, a.team, a.i%40)
			if bad {
				spec = fmt.Sprintf(`      containers:
        - name: job
          image: registry.example.com/%s/job:1.%d.0
`, a.team, a.i%40)
			}
			return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
%sspec:
  schedule: "%d */%d * * *"
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 3600
%s`, meta(a, a.name, "batch"), a.i%60, 1+a.i%6, spec)
		}}
}

func job(a app) doc {
	return doc{kind: "Job", name: a.name + "-migrate", mistake: "spec.ttlSecondsAfterFinish is a typo of ttlSecondsAfterFinished",
		text: func(bad bool) string {
			ttl := "ttlSecondsAfterFinished"
			if bad {
				ttl = "ttlSecondsAfterFinish"
			}
			return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
%s  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  %s: 600
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example.com/%s/migrate:1.%d.0
          args: [migrate, up]
          envFrom:
            - secretRef: {name: %s-credentials}
`, meta(a, a.name+"-migrate", "database"), ttl, a.team, a.i%40, a.name)
		}}
}

func pvc(a app) doc {
	return doc{kind: "PersistentVolumeClaim", name: a.name + "-backup", mistake: "spec.storageClass is not a field (storageClassName)",
		text: func(bad bool) string {
			class := "storageClassName"
			if bad {
				class = "storageClass"
			}
			return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
%sspec:
  accessModes: [ReadWriteOnce]
  %s: standard-rwo
  resources:
    requests:
      storage: %dGi
`, meta(a, a.name+"-backup", "database"), class, 50+a.i%100)
		}}
}

func clusterRole(a app) doc {
	return doc{kind: "ClusterRole", name: a.name, mistake: "rules[1].resources is a string, not a list",
		text: func(bad bool) string {
			res := "[nodes, nodes/metrics]"
			if bad {
				res = "nodes"
			}
			return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %s
  labels:
%srules:
  - apiGroups: [""]
    resources: [pods, services, endpoints]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: %s
    verbs: [get, list]
`, a.name, labels(a, 4, "agent"), res)
		}}
}

func clusterRoleBinding(a app) doc {
	return doc{kind: "ClusterRoleBinding", name: a.name, mistake: "subjects[0].kind is missing",
		text: func(bad bool) string {
			kind := "    kind: ServiceAccount\n"
			if bad {
				kind = ""
			}
			return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: %[1]s
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: %[1]s
subjects:
  - name: %[1]s
%[2]s    namespace: %[3]s
`, a.name, kind, a.ns)
		}}
}

func webApp(a app) []doc {
	return []doc{deployment(a), service(a, a.name, false), configMap(a), serviceAccount(a), hpa(a), pdb(a), ingress(a), networkPolicy(a)}
}

func workerApp(a app) []doc {
	return []doc{deployment(a), configMap(a), secret(a), serviceAccount(a), hpa(a), role(a), roleBinding(a)}
}

func databaseApp(a app) []doc {
	return []doc{statefulSet(a), service(a, a.name+"-headless", true), service(a, a.name, false), configMap(a), secret(a), pdb(a), job(a), pvc(a)}
}

func cronApp(a app) []doc {
	return []doc{cronJob(a), configMap(a), serviceAccount(a)}
}

func agentApp(a app) []doc {
	return []doc{daemonSet(a), serviceAccount(a), clusterRole(a), clusterRoleBinding(a), configMap(a)}
}

// writeChart writes a chart of components × (4 to 6 templates), each
// template rendering one resource per instance, and returns the number of
// templates and of resources it renders.
func writeChart(dir string, components, instances int) (templates, rendered int, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		return 0, 0, err
	}
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: platform\ndescription: bench/validate's generated chart\ntype: application\nversion: 0.1.0\nappVersion: \"1.0.0\"\n",
		"templates/_helpers.tpl": `{{- define "platform.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "platform.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{ include "platform.selector" . }}
{{- end -}}

{{- define "platform.selector" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/part-of: {{ .instance }}
{{- end -}}
`,
	}
	var values strings.Builder
	values.WriteString("image:\n  registry: registry.example.com\n  tag: \"1.0.0\"\n  pullPolicy: IfNotPresent\ningress:\n  className: nginx\n  domain: example.com\ninstances:\n")
	for k := range instances {
		fmt.Fprintf(&values, "  - name: cell-%02d\n    replicas: %d\n    region: region-%d\n", k, 2+k%3, k%4)
	}
	values.WriteString("components:\n")
	for c := range components {
		name := fmt.Sprintf("comp%02d", c)
		fmt.Fprintf(&values, "  %s:\n    port: %d\n    cpu: %dm\n    memory: %dMi\n    minReplicas: %d\n    maxReplicas: %d\n    settings:\n",
			name, 8000+c, 50+c%8*25, 64+c%6*64, 1+c%3, 6+c%10)
		for k := range 4 + c%5 {
			fmt.Fprintf(&values, "      SETTING_%d: \"%d\"\n", k, c*10+k)
		}
		kinds := []string{"deployment", "service", "configmap", "hpa"}
		if c%3 == 0 {
			kinds = append(kinds, "ingress")
		}
		if c%5 == 0 {
			kinds = append(kinds, "cronjob")
		}
		for _, k := range kinds {
			files[fmt.Sprintf("templates/%s-%s.yaml", name, k)] = strings.ReplaceAll(chartTemplates[k], "COMP", name)
			templates++
			rendered += instances
		}
	}
	files["values.yaml"] = values.String()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return 0, 0, err
		}
	}
	return templates, rendered, nil
}

// chartTemplates are a component's templates; COMP is its name.
var chartTemplates = map[string]string{
	"deployment": `{{- $c := .Values.components.COMP }}
{{- range $inst := .Values.instances }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
  labels:
    {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 4 }}
spec:
  replicas: {{ $inst.replicas }}
  selector:
    matchLabels:
      {{- include "platform.selector" (dict "component" "COMP" "instance" $inst.name) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 8 }}
      annotations:
        checksum/config: {{ $c.settings | toYaml | sha256sum }}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "platform.selector" (dict "component" "COMP" "instance" $inst.name) | nindent 14 }}
      containers:
        - name: COMP
          image: "{{ $.Values.image.registry }}/COMP:{{ $.Values.image.tag }}"
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $c.port }}
          env:
            - name: REGION
              value: {{ $inst.region | quote }}
          envFrom:
            - configMapRef:
                name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
          livenessProbe:
            httpGet: {path: /livez, port: http}
            initialDelaySeconds: 10
          resources:
            requests:
              cpu: {{ $c.cpu }}
              memory: {{ $c.memory }}
            limits:
              memory: {{ $c.memory }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
{{- end }}
`,
	"service": `{{- $c := .Values.components.COMP }}
{{- range $inst := .Values.instances }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
  labels:
    {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "platform.selector" (dict "component" "COMP" "instance" $inst.name) | nindent 4 }}
  ports:
    - name: http
      port: 80
      targetPort: http
{{- end }}
`,
	"configmap": `{{- $c := .Values.components.COMP }}
{{- range $inst := .Values.instances }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
  labels:
    {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 4 }}
data:
  INSTANCE: {{ $inst.name | quote }}
  {{- range $k, $v := $c.settings }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
{{- end }}
`,
	"hpa": `{{- $c := .Values.components.COMP }}
{{- range $inst := .Values.instances }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
  labels:
    {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
  minReplicas: {{ $c.minReplicas }}
  maxReplicas: {{ $c.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 70}
{{- end }}
`,
	"ingress": `{{- range $inst := .Values.instances }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
  labels:
    {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 4 }}
spec:
  ingressClassName: {{ $.Values.ingress.className }}
  rules:
    - host: COMP-{{ $inst.name }}.{{ $.Values.ingress.domain }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}
                port: {name: http}
{{- end }}
`,
	"cronjob": `{{- range $inst := .Values.instances }}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "platform.fullname" $ }}-COMP-{{ $inst.name }}-sweep
  labels:
    {{- include "platform.labels" (dict "root" $ "component" "COMP" "instance" $inst.name) | nindent 4 }}
spec:
  schedule: "*/15 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: sweep
              image: "{{ $.Values.image.registry }}/COMP:{{ $.Values.image.tag }}"
              args: [sweep, --region, {{ $inst.region | quote }}]
{{- end }}
`,
}
