package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// argoAPI reads Applications through the Argo CD API server, for a
// pipeline that has a token for Argo CD but no access to the cluster it
// runs in: GET /api/v1/applications/NAME?appNamespace=NS, with the token
// as a bearer token. The answer is the Application object, status and
// all, read as through the Kubernetes API.
type argoAPI struct {
	server *url.URL
	token  string
	client *http.Client
}

// errArgoHidden is an application the Argo CD API server will not show:
// missing, or not allowed to the token.
var errArgoHidden = errors.New("not found, or --argocd-token may not get it (Argo CD answers 403 for both)")

// errArgoUnreachable is an Argo CD API server that does not answer.
var errArgoUnreachable = errors.New("cannot reach the Argo CD API server")

func newArgoAPI(server, token string) (*argoAPI, error) {
	u, err := url.Parse(strings.TrimSuffix(server, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("--argocd-server %q: want the Argo CD API server's URL, https://argocd.example.com", server)
	}
	if token == "" {
		return nil, errors.New("--argocd-server needs --argocd-token: an Argo CD account's API token with get on the applications")
	}
	return &argoAPI{server: u, token: token, client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// ping asks for the server's version, which needs no token.
func (a *argoAPI) ping(ctx context.Context) error {
	code, _, err := a.do(ctx, "/api/version", nil)
	if err != nil {
		return err
	}
	if code >= 500 {
		return fmt.Errorf("%w %s: GET /api/version: HTTP %d", errArgoUnreachable, a.server, code)
	}
	return nil
}

func (a *argoAPI) do(ctx context.Context, path string, query url.Values) (int, []byte, error) {
	u := *a.server
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w %s: %s", errArgoUnreachable, a.server, errText(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, body, err
}

// application reads one Application; a missing one is (nil, nil).
func (a *argoAPI) application(ctx context.Context, namespace, name string) (*unstructured.Unstructured, error) {
	code, body, err := a.do(ctx, "/api/v1/applications/"+url.PathEscape(name), url.Values{"appNamespace": {namespace}})
	switch {
	case err != nil:
		return nil, err
	case code == http.StatusNotFound:
		return nil, nil
	case code == http.StatusUnauthorized:
		return nil, fmt.Errorf("the Argo CD API server %s refused --argocd-token (HTTP %d: %s): %w", a.server, code, apiMessage(body), errForbidden)
	case code == http.StatusForbidden:
		// Argo CD answers 403 for an application the token may not
		// see as for one that does not exist (yet).
		return nil, errArgoHidden
	case code != http.StatusOK:
		return nil, fmt.Errorf("the Argo CD API server %s: HTTP %d: %s", a.server, code, apiMessage(body))
	}
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal(body, &obj.Object); err != nil {
		return nil, fmt.Errorf("the Argo CD API server %s: application %s/%s: %w", a.server, namespace, name, err)
	}
	return obj, nil
}

// apiMessage is the "message" of an Argo CD error body, or the body.
func apiMessage(body []byte) string {
	var e struct{ Message string }
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return oneLine(e.Message)
	}
	return oneLine(string(body))
}
