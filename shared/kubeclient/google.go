package kubeclient

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"k8s.io/client-go/rest"
)

// gkePlugin is the exec credential plugin that gcloud container clusters
// get-credentials writes into a GKE kubeconfig.
const gkePlugin = "gke-gcloud-auth-plugin"

// gkeScopes are the scopes gke-gcloud-auth-plugin asks for.
var gkeScopes = []string{"https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"}

// withoutGKEPlugin lets a GKE kubeconfig work where gke-gcloud-auth-plugin
// is not installed, as in the step's image on Cloud Build: the plugin only
// hands client-go an access token of Google's Application Default
// Credentials, which this gets itself (GOOGLE_APPLICATION_CREDENTIALS,
// gcloud's application-default login, or the metadata server of Cloud
// Build, GCE and GKE). client-go has had no built-in GCP provider since
// Kubernetes 1.26. With the plugin on the PATH, nothing changes.
func withoutGKEPlugin(ctx context.Context, cfg *rest.Config) error {
	if cfg.ExecProvider == nil || filepath.Base(cfg.ExecProvider.Command) != gkePlugin {
		return nil
	}
	if _, err := exec.LookPath(cfg.ExecProvider.Command); err == nil {
		return nil
	}
	src, err := google.DefaultTokenSource(ctx, gkeScopes...)
	if err != nil {
		return fmt.Errorf("%w: the kubeconfig runs %s, which is not installed, and no Google credentials were found to do without it: %v", ErrConfig, gkePlugin, err)
	}
	cfg.ExecProvider = nil
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return &oauth2.Transport{Base: rt, Source: src}
	}
	return nil
}
