// Command localcluster runs a real Kubernetes API server on loopback for
// make demo, and stands in for the GitOps controller that is not there.
//
//	localcluster binaries
//	    finds or builds kube-apiserver and etcd (internal/kubecluster: a cold
//	    build of kube-apiserver takes minutes) and prints their paths;
//	    exits 3 when they cannot be had (not built, and not buildable
//	    offline), saying why.
//	localcluster start --dir DIR
//	    starts etcd and kube-apiserver on loopback, installs the CRDs of
//	    Flux and Argo CD and the read-only RBAC of docs/verify-rbac.yaml,
//	    writes DIR/admin.kubeconfig and DIR/verify.kubeconfig (the
//	    read-only service account, for gitship-verify), then DIR/ready,
//	    and stays up until it gets SIGINT or SIGTERM.
//	localcluster reconcile --kubeconfig DIR/admin.kubeconfig --env ENV --revision SHA --image REPO@sha256:...
//	    the GitOps controller's stand-in: no Flux runs here, so it does
//	    what Flux's kustomize-controller would once the commit SHA is on
//	    main: it rolls the Deployment out with the image (pods running
//	    its digest, as a kubelet reports them) and sets the Kustomization
//	    flux-system/clusters-ENV to lastAppliedRevision main@sha1:SHA,
//	    Ready=True at its current generation.
//
// It runs from the repository (it finds tools/kube-apiserver, tools/etcd
// and docs/verify-rbac.yaml above the working directory).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitship/gitship/internal/kubecluster"
)

const usage = `usage:
  localcluster binaries
  localcluster start --dir DIR [--rbac FILE]
  localcluster reconcile --kubeconfig FILE --env ENV --revision SHA --image REPO@sha256:DIGEST
                         [--namespace NS] [--name NAME] [--branch main]
`

// usageError is bad input: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitUnavailable is binaries' and start's exit code when kube-apiserver
// or etcd cannot be had, so that make demo can skip verify.
const exitUnavailable = 3

func main() {
	err := run(os.Args[1:])
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "localcluster:", err)
	var ue usageError
	var unavailable *kubecluster.UnavailableError
	switch {
	case errors.As(err, &ue):
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case errors.As(err, &unavailable):
		os.Exit(exitUnavailable)
	}
	os.Exit(1)
}

func run(args []string) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	switch args[0] {
	case "binaries":
		return binaries(args[1:])
	case "start":
		return start(args[1:])
	case "reconcile":
		return reconcile(args[1:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return nil
	}
	return usagef("unknown command %q", args[0])
}

func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(new(discard))
	if err := fs.Parse(args); err != nil {
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func binaries(args []string) error {
	if err := parse(flag.NewFlagSet("binaries", flag.ContinueOnError), args); err != nil {
		return err
	}
	apiserver, err := kubecluster.KubeAPIServer()
	if err != nil {
		return &kubecluster.UnavailableError{Err: fmt.Errorf("kube-apiserver: %w", err)}
	}
	etcd, err := kubecluster.Etcd()
	if err != nil {
		return &kubecluster.UnavailableError{Err: fmt.Errorf("etcd: %w", err)}
	}
	fmt.Println("kube-apiserver", apiserver)
	fmt.Println("etcd", etcd)
	return nil
}

func start(args []string) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the cluster's files (made if missing)")
	rbac := fs.String("rbac", "", "the read-only user's manifest (default: docs/verify-rbac.yaml above the working directory)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("start: --dir is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	os.Remove(filepath.Join(abs, "ready"))
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	c, err := kubecluster.Start(kubecluster.Options{Dir: abs, RBAC: *rbac, UserAgent: "gitship-localcluster"})
	if err != nil {
		return fmt.Errorf("start the cluster: %w", err)
	}
	defer c.Stop()
	if err := c.InstallCRDs(ctx); err != nil {
		return err
	}
	ready := filepath.Join(abs, "ready")
	if err := os.WriteFile(ready, []byte(c.Server+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", ready, err)
	}
	fmt.Printf("localcluster: kube-apiserver %s (etcd %s); kubeconfigs: admin %s, read-only %s\n",
		c.Server, c.Etcd, c.Kubeconfig, c.ReadOnlyKubeconfig)
	exited, why := c.Exited()
	select {
	case <-ctx.Done():
		fmt.Println("localcluster: stopping")
		return nil
	case <-exited:
		return why()
	}
}

var (
	shaRE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	imageRE = regexp.MustCompile(`^[^@\s]+@sha256:[0-9a-f]{64}$`)
	labelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

func reconcile(args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "an admin kubeconfig (start's DIR/admin.kubeconfig)")
	env := fs.String("env", "", "the environment: its Kustomization is flux-system/clusters-ENV")
	revision := fs.String("revision", "", "the commit on the branch the controller follows")
	image := fs.String("image", "", "the image by digest: REPOSITORY@sha256:...")
	namespace := fs.String("namespace", "", "the workload's namespace (default: ENV)")
	name := fs.String("name", "hello", "the Deployment's name")
	branch := fs.String("branch", "main", "the branch the Kustomization's GitRepository follows")
	timeout := fs.Duration("timeout", time.Minute, "how long the API calls may take")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *kubeconfig == "":
		return usagef("reconcile: --kubeconfig is required")
	case !labelRE.MatchString(*env):
		return usagef("reconcile: --env %q: want a DNS label such as dev", *env)
	case !shaRE.MatchString(*revision):
		return usagef("reconcile: --revision %q: want a full commit SHA-1 (40 hex digits)", *revision)
	case !imageRE.MatchString(*image):
		return usagef("reconcile: --image %q: want REPOSITORY@sha256:<64 hex digits>", *image)
	case !labelRE.MatchString(*name):
		return usagef("reconcile: --name %q: want a DNS label", *name)
	}
	if *namespace == "" {
		*namespace = *env
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", *kubeconfig, err)
	}
	cfg.UserAgent = "gitship-localcluster"
	c, err := kubecluster.Connect(cfg)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", *kubeconfig, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := kubecluster.Reconcile(ctx, c, kubecluster.Reconciliation{
		Kustomization: "clusters-" + *env,
		Path:          "./clusters/" + *env,
		Namespace:     *namespace,
		Workload:      kubecluster.Workload{Name: *name, Image: *image},
		Revision:      *branch + "@sha1:" + *revision,
	})
	if err != nil {
		return err
	}
	fmt.Printf("GitOps controller stand-in (no Flux runs here; this does what Flux's kustomize-controller would): Deployment %s/%s rolled out to %s (ReplicaSet %s, %d pod(s) running it); Kustomization flux-system/%s applied %s, Ready=True at generation %d\n",
		*namespace, *name, *image, res.Rollout.ReplicaSet.GetName(), len(res.Rollout.Pods),
		res.Kustomization.GetName(), *branch+"@sha1:"+*revision, res.Kustomization.GetGeneration())
	return nil
}
