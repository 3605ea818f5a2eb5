package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/kubeclient"
	"github.com/gitship/gitship/shared/step"
)

// plan is the settings checked and resolved: what to wait for, then what
// to probe.
type plan struct {
	revision string // lower-case hex, "" when only workloads are waited for
	kinds    []pending
	argo     *argoAPI // with --argocd-server
	probe    probe
	urls     []string
}

// pending is a target before its API version is known.
type pending struct {
	group    string
	versions []string
	make     func(gvr schema.GroupVersionResource) target
	resource string
	// argo is set for an Application read through the Argo CD API
	// server, which needs no cluster access.
	argo bool
}

// Run waits for what the settings name, probes the URLs and reports on
// r's platform. Bad input, a cluster that cannot be reached and one that
// lacks the CRDs exit 2; a failure or a time-out fails the check.
func Run(ctx context.Context, s Settings, r *step.Run) error {
	start := time.Now()
	p, err := resolve(s)
	if err != nil {
		return err
	}
	p.probe.log = r.Stdout
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()

	var ready []done
	if len(p.kinds) > 0 {
		ready, err = deploy(ctx, s, p, r, start)
		var usage *step.UsageError
		if errors.As(err, &usage) {
			return err
		}
		if err != nil {
			annotate(r, err)
			if serr := r.Summary(summary(p, ready, start, nil, err)); serr != nil {
				fmt.Fprintln(r.Stderr, serr)
			}
			return err
		}
	}
	readyAt := time.Now()

	var results []probeResult
	if len(p.urls) > 0 {
		err = r.Group("Probe "+strings.Join(p.urls, ", "), func() error {
			for _, u := range p.urls {
				res := p.probe.run(ctx, u)
				results = append(results, res)
				if !res.OK {
					return checkFailed{fmt.Errorf("%s did not answer right %d times in a row within --timeout %s: %d probes, %d wrong, last: %s",
						u, p.probe.successes, s.Timeout, res.Attempts, res.Failures, res.Last)}
				}
			}
			return nil
		})
	}
	for _, res := range results {
		if res.OK && res.Failures > 0 {
			r.Platform.Annotate(r.Stdout, finding.Finding{RuleID: "verify", Severity: finding.Warning,
				Message: fmt.Sprintf("%s answered wrong %d times before %d right answers in a row", res.URL, res.Failures, p.probe.successes)})
		}
	}
	if err != nil {
		annotate(r, err)
	}
	rev := p.revision
	for _, d := range ready {
		if d.status.revision != "" {
			rev = d.status.revision
			break
		}
	}
	var lat []time.Duration
	for _, res := range results {
		lat = append(lat, res.Latencies...)
	}
	outputs := map[string]string{"revision": rev}
	if len(p.kinds) > 0 {
		outputs["ready-at"] = readyAt.UTC().Format(time.RFC3339)
		outputs["duration"] = readyAt.Sub(start).Round(time.Second).String()
	}
	if len(lat) > 0 {
		outputs["probe-latency-p50"] = median(lat).String()
	}
	if err == nil {
		for _, name := range []string{"revision", "ready-at", "duration", "probe-latency-p50"} {
			if err := r.SetOutput(name, outputs[name]); err != nil {
				return err
			}
		}
	}
	if serr := r.Summary(summary(p, ready, start, results, err)); serr != nil && err == nil {
		err = serr
	}
	return err
}

// checkFailed is a failure of the deployment or of the probes: it exits
// 1 (step.ErrCheckFailed) with its message as it is, the events last.
type checkFailed struct{ error }

func (e checkFailed) Unwrap() error      { return e.error }
func (checkFailed) Is(target error) bool { return target == step.ErrCheckFailed }

// annotate puts a failure on the run's page: the failing object and the
// controller's message (the events stay in the log).
func annotate(r *step.Run, err error) {
	msg := err.Error()
	var failed *FailedError
	if errors.As(err, &failed) {
		msg = failed.Object.String() + " failed: " + failed.Reason
	}
	msg, _, _ = strings.Cut(msg, "\n")
	r.Platform.Annotate(r.Stdout, finding.Finding{RuleID: "verify", Severity: finding.Error, Message: msg})
}

// deploy waits for every target, in the order given by kind.
func deploy(ctx context.Context, s Settings, p plan, r *step.Run, start time.Time) ([]done, error) {
	var c *kubeclient.Client
	var where []string
	for _, k := range p.kinds {
		if k.argo || c != nil {
			continue
		}
		var err error
		if c, err = connect(ctx, s); err != nil {
			return nil, err
		}
		where = append(where, c.Server+" (context "+c.Context+")")
	}
	if p.argo != nil {
		if err := p.argo.ping(ctx); err != nil {
			return nil, step.Usagef("%v", err)
		}
		where = append(where, "the Argo CD API server "+p.argo.server.String())
	}
	var targets []target
	versions := map[string]string{}
	for _, k := range p.kinds {
		v := ""
		if k.group != "" && !k.argo {
			if v = versions[k.group]; v == "" {
				var err error
				if v, err = c.Version(ctx, k.group, k.versions); err != nil {
					var unreachable *kubeclient.UnreachableError
					if errors.As(err, &unreachable) || errors.Is(err, kubeclient.ErrNotServed) {
						return nil, step.Usagef("%v (are its CRDs installed, and is this the right --context?)", err)
					}
					return nil, err
				}
				versions[k.group] = v
			}
		}
		targets = append(targets, k.make(schema.GroupVersionResource{Group: k.group, Version: v, Resource: k.resource}))
	}
	m := &matcher{want: p.revision}
	if s.GitOpsRepo != "" && p.revision != "" {
		h, err := openHistory(ctx, s.GitOpsRepo, s.GitOpsToken)
		if err != nil {
			return nil, step.Usagef("%v", err)
		}
		m.repo = h
	}
	fmt.Fprintf(r.Stdout, "Waiting up to %s on %s", s.Timeout, strings.Join(where, " and "))
	if p.revision != "" {
		fmt.Fprintf(r.Stdout, " for revision %s", p.revision)
	}
	fmt.Fprintln(r.Stdout)
	w := &waiter{match: m, log: r.Stdout, now: time.Now, poll: 10 * time.Second}
	if c != nil {
		w.client, w.unreachable = c.Dynamic, c.Unreachable
	}
	var ready []done
	err := r.Group("Wait for "+names(targets), func() error {
		var err error
		ready, err = w.wait(ctx, targets)
		return err
	})
	if err != nil {
		if errors.Is(err, errForbidden) {
			return ready, step.Usagef("%v", err)
		}
		return ready, checkFailed{err}
	}
	fmt.Fprintf(r.Stdout, "Ready after %s\n", time.Since(start).Round(time.Second))
	return ready, nil
}

// connect loads the kubeconfig and checks the server answers: any
// failure is a usage error (exit 2) naming the server.
func connect(ctx context.Context, s Settings) (*kubeclient.Client, error) {
	c, err := kubeclient.New(kubeclient.Options{Kubeconfig: s.Kubeconfig, Context: s.Context, UserAgent: "gitship-verify/" + step.Version})
	if errors.Is(err, kubeclient.ErrNoFile) {
		// The usual cause in CI: a kubeconfig written where the step's
		// container does not see it.
		return nil, step.Usagef("%v (in a container only what is mounted is seen: a GitHub Docker action sees the workspace alone, so copy the kubeconfig into it; see docs/verify.md)", err)
	}
	if err != nil {
		return nil, step.Usagef("%v", err)
	}
	if err := c.Ping(ctx); err != nil {
		return nil, step.Usagef("%v", err)
	}
	return c, nil
}

func names(targets []target) string {
	var out []string
	for _, t := range targets {
		out = append(out, t.ref().String())
	}
	return strings.Join(out, ", ")
}

// resolve checks the settings: every mistake is a usage error naming its
// flag.
func resolve(s Settings) (plan, error) {
	var p plan
	gitops := len(s.Kustomizations.Value()) + len(s.HelmReleases.Value()) + len(s.Applications.Value())
	if gitops+len(s.Workloads.Value())+len(s.URLs.Value()) == 0 {
		return p, step.Usagef("nothing to verify: give --flux-kustomization, --flux-helmrelease, --argocd-application, --workload or --url")
	}
	if s.Revision != "" {
		rev, err := parseRevision(s.Revision)
		if err != nil {
			return p, step.Usagef("--revision %q: %v", s.Revision, err)
		}
		p.revision = rev
	} else if gitops > 0 {
		return p, step.Usagef("--revision is required with --flux-kustomization, --flux-helmrelease and --argocd-application: the GitOps commit to wait for (gitops-pr's merge-commit output)")
	}
	if s.Timeout <= 0 {
		return p, step.Usagef("--timeout %s: want a positive duration, e.g. 10m", s.Timeout)
	}
	add := func(flag, group string, versions []string, resource string, mk func(custom) target) error {
		for _, item := range flagValues(flag, s) {
			ns, name, err := parseRef(flag, item)
			if err != nil {
				return step.Usagef("%v", err)
			}
			p.kinds = append(p.kinds, pending{group: group, versions: versions, resource: resource,
				make: func(gvr schema.GroupVersionResource) target {
					return mk(custom{gvr: gvr, namespace: ns, name: name, kind: kindOf(resource)})
				}})
		}
		return nil
	}
	if err := add("flux-kustomization", kustomizeGroup, kustomizeVers, "kustomizations", func(o custom) target { return kustomization{o} }); err != nil {
		return p, err
	}
	if err := add("flux-helmrelease", helmGroup, helmVers, "helmreleases", func(o custom) target { return helmRelease{o} }); err != nil {
		return p, err
	}
	if s.ArgoServer != "" {
		api, err := newArgoAPI(s.ArgoServer, s.ArgoToken)
		if err != nil {
			return p, step.Usagef("%v", err)
		}
		if len(s.Applications.Value()) == 0 {
			return p, step.Usagef("--argocd-server reads the --argocd-application objects: give them")
		}
		p.argo = api
	}
	before, api := len(p.kinds), p.argo
	if err := add("argocd-application", argoGroup, argoVers, "applications", func(o custom) target { return application{o, api} }); err != nil {
		return p, err
	}
	for i := before; i < len(p.kinds); i++ {
		p.kinds[i].argo = p.argo != nil
	}
	digest := ""
	if s.Image != "" {
		d, err := parseDigest(s.Image)
		if err != nil {
			return p, step.Usagef("%v", err)
		}
		digest = d
		if len(s.Workloads.Value()) == 0 {
			return p, step.Usagef("--image is the digest a --workload must run: give the workload too")
		}
	}
	for _, item := range s.Workloads.Value() {
		ns, name, err := parseWorkload(item)
		if err != nil {
			return p, step.Usagef("%v", err)
		}
		p.kinds = append(p.kinds, pending{make: func(schema.GroupVersionResource) target {
			return deployment{namespace: ns, name: name, digest: digest}
		}})
	}

	for _, u := range s.URLs.Value() {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return p, step.Usagef("--url %q: want an http:// or https:// URL", u)
		}
		p.urls = append(p.urls, u)
	}
	p.probe = probe{status: s.ExpectStatus, successes: s.Successes, interval: s.ProbeInterval, timeout: s.ProbeTimeout,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	switch {
	case s.ExpectStatus < 100 || s.ExpectStatus > 599:
		return p, step.Usagef("--expect-status %d: want an HTTP status code, 100 to 599", s.ExpectStatus)
	case s.Successes < 1:
		return p, step.Usagef("--probe-successes %d: want 1 or more", s.Successes)
	case s.ProbeInterval <= 0 || s.ProbeTimeout <= 0:
		return p, step.Usagef("--probe-interval and --probe-timeout want positive durations")
	}
	if s.ExpectBody != "" {
		re, err := regexp.Compile(s.ExpectBody)
		if err != nil {
			return p, step.Usagef("--expect-body %q: %v", s.ExpectBody, err)
		}
		p.probe.body = re
	}
	for _, e := range s.ExpectJSON.Value() {
		je, err := parseJSONExpect(e)
		if err != nil {
			return p, step.Usagef("%v", err)
		}
		p.probe.json = append(p.probe.json, je)
	}
	if len(p.urls) == 0 && (s.ExpectBody != "" || len(p.probe.json) > 0) {
		return p, step.Usagef("--expect-body and --expect-json check the answers to --url: give a --url")
	}
	return p, nil
}

func flagValues(flag string, s Settings) []string {
	switch flag {
	case "flux-kustomization":
		return s.Kustomizations.Value()
	case "flux-helmrelease":
		return s.HelmReleases.Value()
	}
	return s.Applications.Value()
}

func kindOf(resource string) string {
	switch resource {
	case "kustomizations":
		return "Kustomization"
	case "helmreleases":
		return "HelmRelease"
	}
	return "Application"
}
