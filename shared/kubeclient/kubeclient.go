package kubeclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options say which cluster to talk to.
type Options struct {
	// Kubeconfig is a kubeconfig file; empty means $KUBECONFIG (a list of
	// files, merged as kubectl does), else ~/.kube/config, else the
	// in-cluster service account.
	Kubeconfig string
	// Context is the kubeconfig context to use; empty means its
	// current-context.
	Context string
	// UserAgent is sent with every request.
	UserAgent string
}

// Client is a connection to one cluster's API server.
type Client struct {
	Dynamic dynamic.Interface
	// Server is the API server's URL, Context the kubeconfig context
	// ("in-cluster" for the service account), for messages.
	Server, Context string

	http *http.Client
	base *url.URL
}

// ErrConfig is returned (wrapped) when no usable configuration is found:
// no kubeconfig and not in a cluster, a kubeconfig that does not parse, a
// context it does not have.
var ErrConfig = errors.New("kubernetes configuration")

// ErrNoFile is returned (wrapped, with ErrConfig) when the kubeconfig
// named, or every file $KUBECONFIG names, does not exist.
var ErrNoFile = errors.New("no such file")

// UnreachableError is a server that could not be reached, or that refused
// the credentials: the message names the server and the context.
type UnreachableError struct {
	Server, Context string
	Err             error
}

func (e *UnreachableError) Error() string {
	ctx := ""
	if e.Context != "" {
		ctx = " (context " + e.Context + ")"
	}
	var status apierrors.APIStatus
	if errors.As(e.Err, &status) {
		return fmt.Sprintf("the Kubernetes API server %s%s refused the request: %v", e.Server, ctx, e.Err)
	}
	return fmt.Sprintf("cannot reach the Kubernetes API server %s%s: %v", e.Server, ctx, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// New loads the configuration and makes the clients. It does not talk to
// the server: Ping does.
func New(o Options) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
		if _, err := os.Stat(o.Kubeconfig); err != nil {
			return nil, fmt.Errorf("%w: kubeconfig %s: %w", ErrConfig, o.Kubeconfig, ErrNoFile)
		}
	} else if len(rules.Precedence) > 0 && os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "" {
		// clientcmd skips the files of $KUBECONFIG that do not exist:
		// when none does, say so rather than "no configuration".
		found := slices.ContainsFunc(rules.Precedence, func(p string) bool { _, err := os.Stat(p); return err == nil })
		if !found {
			return nil, fmt.Errorf("%w: $KUBECONFIG %s: %w", ErrConfig, os.Getenv(clientcmd.RecommendedConfigPathEnvVar), ErrNoFile)
		}
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, fmt.Errorf("%w: no kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config) and not running in a cluster", ErrConfig)
		}
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	name := o.Context
	if raw, err := cc.RawConfig(); err == nil && name == "" {
		name = raw.CurrentContext
	}
	if name == "" {
		name = "in-cluster"
	}
	cfg = rest.CopyConfig(cfg)
	if err := withoutGKEPlugin(context.Background(), cfg); err != nil {
		return nil, err
	}
	if o.UserAgent != "" {
		cfg.UserAgent = o.UserAgent
	}
	// Few requests, but a wait reads several objects at each change.
	cfg.QPS, cfg.Burst = 20, 40
	// One HTTP client (TLS, tokens, exec credential plugins) for the
	// dynamic client and the two discovery reads below, which are done by
	// hand: client-go's discovery package links in every built-in API
	// type, 150 packages this step never uses.
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: server %q: %v", ErrConfig, cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &Client{Dynamic: dyn, Server: base.String(), Context: name, http: hc, base: base}, nil
}

// Ping asks the server for its version: an UnreachableError when the
// server cannot be reached (network, DNS, TLS) or refuses the
// credentials (401).
func (c *Client) Ping(ctx context.Context) error {
	code, _, err := c.get(ctx, "/version")
	switch {
	case err != nil:
		return c.Unreachable(err)
	case code == http.StatusUnauthorized:
		return c.Unreachable(fmt.Errorf("401 Unauthorized: the credentials of the kubeconfig were refused"))
	}
	// Any other answer, 403 included (a server may hide /version), is a
	// server that answers.
	return nil
}

// get reads path from the server, at most 1 MiB.
func (c *Client) get(ctx context.Context, path string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// Unreachable wraps err as an UnreachableError naming this client's
// server.
func (c *Client) Unreachable(err error) error {
	return &UnreachableError{Server: c.Server, Context: c.Context, Err: err}
}

// ErrNotServed is returned (wrapped) when the cluster does not serve an
// API group, or none of the versions asked for: the CRDs are not
// installed.
var ErrNotServed = errors.New("not served by the cluster")

// Version picks the version of group to talk in: the server's preferred
// one when it is among known, else the first of known the server serves.
func (c *Client) Version(ctx context.Context, group string, known []string) (string, error) {
	code, body, err := c.get(ctx, "/apis/"+group)
	switch {
	case err != nil:
		return "", c.Unreachable(err)
	case code == http.StatusNotFound:
		return "", fmt.Errorf("%s does not serve the API group %s: %w", c.Server, group, ErrNotServed)
	case code == http.StatusUnauthorized:
		return "", c.Unreachable(fmt.Errorf("401 Unauthorized: the credentials of the kubeconfig were refused"))
	case code != http.StatusOK:
		return "", fmt.Errorf("%s: GET /apis/%s: HTTP %d: %s", c.Server, group, code, strings.TrimSpace(string(body)))
	}
	var g metav1.APIGroup
	if err := json.Unmarshal(body, &g); err != nil {
		return "", fmt.Errorf("%s: GET /apis/%s: %w", c.Server, group, err)
	}
	if slices.Contains(known, g.PreferredVersion.Version) {
		return g.PreferredVersion.Version, nil
	}
	var served []string
	for _, v := range g.Versions {
		served = append(served, v.Version)
	}
	for _, v := range known {
		if slices.Contains(served, v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s serves %s versions %v, none of %v: %w", c.Server, group, served, known, ErrNotServed)
}
