package kubecluster

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// The kinds the cluster's users read and write.
var (
	KustomizationGVR  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	HelmReleaseGVR    = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
	ApplicationGVR    = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	DeploymentGVR     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ReplicaSetGVR     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	PodGVR            = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	EventGVR          = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	NamespaceGVR      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	crdGVR            = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	serviceAccountGVR = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
)

var (
	createOptions = metav1.CreateOptions{FieldManager: fieldManager}
	applyOptions  = metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
)

// fieldManager names the writer of what this package creates and patches.
const fieldManager = "gitship-kubecluster"

// CRDs are the published CustomResourceDefinitions of Flux's
// Kustomization and HelmRelease and Argo CD's Application
// (crds/NOTICE says where each comes from).
//
//go:embed crds/*.yaml
var CRDs embed.FS

// InstallCRDs installs CRDs in the cluster, once per Cluster, and waits
// until the API server serves them (Established).
func (c *Cluster) InstallCRDs(ctx context.Context) error {
	c.crds.Do(func() { c.crds.err = c.installCRDs(ctx) })
	if c.crds.err != nil {
		return fmt.Errorf("install CRDs: %w", c.crds.err)
	}
	return nil
}

func (c *Cluster) installCRDs(ctx context.Context) error {
	files, err := fs.Glob(CRDs, "crds/*.yaml")
	if err != nil {
		return err
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		data, err := CRDs.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := Apply(ctx, c.Dynamic, data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			names = append(names, o.GetName())
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, name := range names {
		for {
			crd, err := c.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if conditionTrue(crd, "Established") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not Established within a minute: %v", name, crd.Object["status"])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func conditionTrue(obj *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

// Apply applies the objects of a YAML stream (documents separated by
// "---") with server-side apply, as the admin user of client, and returns
// them as the server has them. A resource is its kind in lower case,
// plural ("ClusterRole" → "clusterroles").
func Apply(ctx context.Context, client dynamic.Interface, yamlData []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(yamlData), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		if len(m) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		applied, err := client.Resource(GVR(obj)).Namespace(obj.GetNamespace()).Apply(ctx, obj.GetName(), obj, applyOptions)
		if err != nil {
			return out, fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		out = append(out, applied)
	}
}

// GVR is the resource of obj's kind, guessed from the kind ("Pod" →
// "pods", "Policy" → "policies").
func GVR(obj *unstructured.Unstructured) schema.GroupVersionResource {
	gvr, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
	return gvr
}

// Create creates obj in the namespace ns ("" for a cluster-scoped kind)
// as the admin user and returns it as the server has it.
func Create(ctx context.Context, c *Cluster, ns string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	created, err := c.Dynamic.Resource(GVR(obj)).Namespace(ns).Create(ctx, obj, createOptions)
	if err != nil {
		return nil, fmt.Errorf("create %s %s/%s: %w", obj.GetKind(), ns, obj.GetName(), err)
	}
	return created, nil
}

// PatchStatus sets the fields of status in the object's .status (a JSON
// merge patch: a list, such as conditions, replaces the one there), as a
// controller writes it: through the status subresource where the kind
// has one, else through the object itself (Argo CD's Application has no
// status subresource; its controller writes the whole object). Through
// the subresource the object's generation does not change; without one,
// the API server counts the change as a new generation, as it does for
// Argo CD's own writes. It returns the object as the server has it after
// the patch.
func PatchStatus(ctx context.Context, c *Cluster, gvr schema.GroupVersionResource, ns, name string, status map[string]any) (*unstructured.Unstructured, error) {
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return nil, err
	}
	has, err := c.hasStatus(gvr)
	if err != nil {
		return nil, err
	}
	var sub []string
	if has {
		sub = []string{"status"}
	}
	obj, err := c.Dynamic.Resource(gvr).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager}, sub...)
	if err != nil {
		return nil, fmt.Errorf("patch the status of %s %s/%s: %w", gvr.Resource, ns, name, err)
	}
	return obj, nil
}

// hasStatus reports whether the API serves gvr's status subresource.
func (c *Cluster) hasStatus(gvr schema.GroupVersionResource) (bool, error) {
	key := gvr.String()
	c.mu.Lock()
	has, ok := c.subresource[key]
	c.mu.Unlock()
	if ok {
		return has, nil
	}
	list, err := c.disc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", gvr.GroupVersion(), err)
	}
	found := false
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource {
			found = true
		}
		if r.Name == gvr.Resource+"/status" {
			has = true
		}
	}
	if !found {
		return false, fmt.Errorf("the API server does not serve %s", gvr)
	}
	c.mu.Lock()
	c.subresource[key] = has
	c.mu.Unlock()
	return has, nil
}

// Condition is a status condition the way Flux (metav1.Condition) and
// Kubernetes' own controllers write one: status "True", "False" or
// "Unknown", with the generation it was observed at, the transition time
// now.
func Condition(typ, status, reason, message string, observedGeneration int64) map[string]any {
	return map[string]any{
		"type":               typ,
		"status":             status,
		"reason":             reason,
		"message":            message,
		"observedGeneration": observedGeneration,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}
}

// object is an unstructured object of the given kind and name.
func object(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	obj.SetAPIVersion(apiVersion)
	obj.SetKind(kind)
	obj.SetName(name)
	if ns != "" {
		obj.SetNamespace(ns)
	}
	return obj
}

// Kustomization is a Flux Kustomization named name, with the least spec
// its CRD accepts: the path ./NAME of a GitRepository "gitops".
func Kustomization(name string) *unstructured.Unstructured {
	obj := object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "", name)
	obj.Object["spec"] = map[string]any{
		"interval":  "1m",
		"path":      "./" + name,
		"prune":     true,
		"sourceRef": map[string]any{"kind": "GitRepository", "name": "gitops"},
	}
	return obj
}

// HelmRelease is a Flux HelmRelease named name, of the chart NAME in a
// HelmRepository "charts".
func HelmRelease(name string) *unstructured.Unstructured {
	obj := object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "", name)
	obj.Object["spec"] = map[string]any{
		"interval": "5m",
		"chart": map[string]any{"spec": map[string]any{
			"chart":     name,
			"sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"},
		}},
	}
	return obj
}

// Application is an Argo CD Application named name: the path apps/NAME
// of a Git repository, deployed to the namespace NAME of the cluster Argo
// CD runs in.
func Application(name string) *unstructured.Unstructured {
	obj := object("argoproj.io/v1alpha1", "Application", "", name)
	obj.Object["spec"] = map[string]any{
		"project": "default",
		"source": map[string]any{
			"repoURL":        "https://git.example.com/gitops.git",
			"path":           "apps/" + name,
			"targetRevision": "main",
		},
		"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": name},
	}
	return obj
}

// readOnlyUser applies the manifest at path (docs/verify-rbac.yaml when
// empty) as it is, asks the TokenRequest API for a token of its service
// account and writes ReadOnly and ReadOnlyKubeconfig.
func (c *Cluster) readOnlyUser(path string) error {
	if path == "" {
		var err error
		if path, err = findUp(filepath.Join("docs", "verify-rbac.yaml")); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ctx := context.Background()
	objs, err := Apply(ctx, c.Dynamic, data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var sa *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" {
			sa = o
		}
	}
	if sa == nil {
		return fmt.Errorf("%s: no ServiceAccount", path)
	}
	tr := object("authentication.k8s.io/v1", "TokenRequest", "", sa.GetName())
	tr.Object["spec"] = map[string]any{"expirationSeconds": int64(24 * 3600)}
	got, err := c.Dynamic.Resource(serviceAccountGVR).Namespace(sa.GetNamespace()).Create(ctx, tr, metav1.CreateOptions{}, "token")
	if err != nil {
		return fmt.Errorf("token for the service account %s/%s: %w", sa.GetNamespace(), sa.GetName(), err)
	}
	token, _, _ := unstructured.NestedString(got.Object, "status", "token")
	if token == "" {
		return fmt.Errorf("token for the service account %s/%s: empty", sa.GetNamespace(), sa.GetName())
	}
	c.ReadOnly = rest.CopyConfig(c.Config)
	c.ReadOnly.BearerToken = token
	c.ReadOnlyKubeconfig = filepath.Join(c.Dir, "verify.kubeconfig")
	return WriteKubeconfig(c.ReadOnlyKubeconfig, c.Server, c.CA, token)
}

// findUp finds rel in the working directory or the nearest directory
// above it that has it.
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s above the working directory", rel)
		}
		dir = parent
	}
}

// IsForbidden reports whether err is the API server's 403.
func IsForbidden(err error) bool { return apierrors.IsForbidden(err) }
