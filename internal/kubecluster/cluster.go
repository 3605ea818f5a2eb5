package kubecluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/gitship/gitship/internal/gotool"
)

// Cluster is a running etcd and kube-apiserver on loopback.
type Cluster struct {
	// Server is the API server's URL: "https://127.0.0.1:PORT".
	Server string
	// CA is the PEM certificate that signed the server's; the
	// kubeconfigs carry it.
	CA []byte
	// Config is the admin user's (system:masters) client configuration,
	// Dynamic a dynamic client with it.
	Config  *rest.Config
	Dynamic dynamic.Interface
	// Kubeconfig is a kubeconfig file for the admin user.
	Kubeconfig string
	// ReadOnly is the client configuration of the service account
	// gitship/gitship-verify that docs/verify-rbac.yaml makes and binds,
	// with a token from the TokenRequest API; ReadOnlyKubeconfig a
	// kubeconfig file for it.
	ReadOnly           *rest.Config
	ReadOnlyKubeconfig string
	// Dir holds the cluster's files: etcd's data, the certificates and
	// keys, the kubeconfigs, etcd.log and kube-apiserver.log.
	Dir string
	// Etcd is etcd's client URL: "http://127.0.0.1:PORT".
	Etcd string

	etcd, apiserver *process
	disc            discovery.DiscoveryInterface
	ownDir          bool

	mu          sync.Mutex
	subresource map[string]bool // "group/version/resource" → has a status subresource
	crds        struct {
		sync.Once
		err error
	}
}

// Options are Start's.
type Options struct {
	// Dir is the directory for the cluster's files, made if missing;
	// empty means a new one in os.TempDir(), removed by Stop (and by a
	// later Start once the process that made it has exited).
	Dir string
	// RBAC is the read-only user's manifest; empty means
	// docs/verify-rbac.yaml in the working directory or the nearest
	// directory above it that has one.
	RBAC string
	// UserAgent names the clients' program; empty means "gitship-kubecluster".
	UserAgent string
}

// UnavailableError is Start's error when kube-apiserver or etcd cannot be
// had: not built, and not buildable offline.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// KubeAPIServer is the kube-apiserver executable: the one
// GITSHIP_KUBE_APISERVER names, else one built from tools/kube-apiserver
// once per machine.
func KubeAPIServer() (string, error) {
	return gotool.Build(gotool.Command{Tool: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-apiserver", Env: "GITSHIP_KUBE_APISERVER"})
}

// Etcd is the etcd executable: the one GITSHIP_ETCD names, else one built
// from tools/etcd once per machine.
func Etcd() (string, error) {
	return gotool.Build(gotool.Command{Tool: "etcd", Module: "go.etcd.io/etcd/server/v3", Package: "github.com/gitship/gitship/tools/etcd", Env: "GITSHIP_ETCD"})
}

// Version is the Kubernetes version tools/kube-apiserver pins: "v1.37.2".
func Version() (string, error) {
	return gotool.Version("kube-apiserver", "k8s.io/kubernetes")
}

// dirPrefix names the clusters' directories in os.TempDir(); each has a
// file "pid" naming the process that made it.
const dirPrefix = "gitship-kube-"

// Start builds or finds kube-apiserver and etcd, starts them on loopback
// and makes the read-only user (a start takes some seconds; building the
// binaries on a new machine takes minutes). The processes end with the
// process that called Start, or with Stop.
func Start(opts Options) (_ *Cluster, err error) {
	apiserver, err := KubeAPIServer()
	if err != nil {
		return nil, &UnavailableError{err}
	}
	etcd, err := Etcd()
	if err != nil {
		return nil, &UnavailableError{err}
	}
	c := &Cluster{Dir: opts.Dir, subresource: map[string]bool{}}
	if c.Dir == "" {
		removeStale()
		if c.Dir, err = os.MkdirTemp("", dirPrefix); err != nil {
			return nil, err
		}
		c.ownDir = true
		if err := os.WriteFile(filepath.Join(c.Dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster directory: %w", err)
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if err := c.startEtcd(etcd); err != nil {
		return nil, err
	}
	if err := c.startAPIServer(apiserver, opts.UserAgent); err != nil {
		return nil, err
	}
	if err := c.readOnlyUser(opts.RBAC); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop ends kube-apiserver and etcd and, when Start made the directory,
// removes it.
func (c *Cluster) Stop() {
	c.apiserver.stop()
	c.etcd.stop()
	if c.ownDir {
		os.RemoveAll(c.Dir)
	}
}

// removeStale removes the directories of clusters whose process has
// exited.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

func (c *Cluster) startEtcd(bin string) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	c.Etcd = "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := startProcess("etcd", bin, filepath.Join(c.Dir, "etcd.log"),
		"--name", "gitship",
		"--data-dir", filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls", c.Etcd,
		"--advertise-client-urls", c.Etcd,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "gitship="+peerURL,
		// A test's or a demo's data need not survive a power cut.
		"--unsafe-no-fsync",
		"--log-level", "warn",
	)
	if err != nil {
		return err
	}
	c.etcd = p
	return p.waitReady(time.Minute, func() error {
		resp, err := http.Get(c.Etcd + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"health":"true"`) {
			return fmt.Errorf("%s/health: %s %s", c.Etcd, resp.Status, body)
		}
		return nil
	})
}

// adminUser is the admin's name in the static token file; system:masters
// may do anything.
const adminUser = "gitship-admin"

func (c *Cluster) startAPIServer(bin, userAgent string) error {
	ca, err := newCA("gitship kubecluster CA")
	if err != nil {
		return err
	}
	c.CA = ca.pem
	certPEM, keyPEM, err := ca.server()
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKeys()
	if err != nil {
		return err
	}
	token := randomHex(24)
	files := map[string][]byte{
		"ca.pem":         c.CA,
		"server.pem":     certPEM,
		"server-key.pem": keyPEM,
		"sa-key.pem":     saKey,
		"sa.pem":         saPub,
		// token,user,uid,"group,..."
		"tokens.csv": fmt.Appendf(nil, "%s,%s,%s,\"system:masters\"\n", token, adminUser, adminUser),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), data, 0o600); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Server = "https://127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("kube-apiserver", bin, filepath.Join(c.Dir, "kube-apiserver.log"),
		"--etcd-servers", c.Etcd,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port),
		"--cert-dir", filepath.Join(c.Dir, "certs"),
		"--tls-cert-file", filepath.Join(c.Dir, "server.pem"),
		"--tls-private-key-file", filepath.Join(c.Dir, "server-key.pem"),
		"--client-ca-file", filepath.Join(c.Dir, "ca.pem"),
		"--token-auth-file", filepath.Join(c.Dir, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(c.Dir, "sa.pem"),
		"--service-account-signing-key-file", filepath.Join(c.Dir, "sa-key.pem"),
		// Allocated, never routed: no traffic goes there.
		"--service-cluster-ip-range", "10.0.0.0/24",
		// No controller manager runs: ServiceAccount admission would
		// wait for the default service account its token controller
		// makes, and the endpoint reconciler would write the loopback
		// address into the kubernetes Service's endpoints, which their
		// validation refuses.
		"--disable-admission-plugins", "ServiceAccount",
		"--endpoint-reconciler-type", "none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	c.apiserver = p

	if userAgent == "" {
		userAgent = "gitship-kubecluster"
	}
	c.Config = &rest.Config{
		Host:            c.Server,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CA},
		QPS:             200,
		Burst:           400,
		UserAgent:       userAgent,
	}
	tr, err := rest.TransportFor(c.Config)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	if err := p.waitReady(3*time.Minute, func() error {
		resp, err := hc.Get(c.Server + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s/readyz: %s\n%s", c.Server, resp.Status, body)
		}
		return nil
	}); err != nil {
		return err
	}
	if c.Dynamic, err = dynamic.NewForConfig(c.Config); err != nil {
		return err
	}
	if c.disc, err = discovery.NewDiscoveryClientForConfig(c.Config); err != nil {
		return err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	return WriteKubeconfig(c.Kubeconfig, c.Server, c.CA, token)
}

// Connect is a Cluster for a running API server that a kubeconfig with
// admin rights names (as Start wrote it: the first context's server, CA
// and bearer token), for a process other than the one that started it;
// Stop does nothing on it.
func Connect(cfg *rest.Config) (*Cluster, error) {
	c := &Cluster{Server: cfg.Host, Config: cfg, subresource: map[string]bool{}}
	var err error
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.disc, err = discovery.NewDiscoveryClientForConfig(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// WriteKubeconfig writes a kubeconfig file with one context, "gitship-test":
// the server's URL, the CA that signed its certificate (PEM) and a bearer
// token.
func WriteKubeconfig(path, server string, ca []byte, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: gitship-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: gitship-test
  user:
    token: %s
contexts:
- name: gitship-test
  context:
    cluster: gitship-test
    user: gitship-test
current-context: gitship-test
`, server, base64.StdEncoding.EncodeToString(ca), token)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// Logs are the last n lines etcd and kube-apiserver have logged.
func (c *Cluster) Logs(n int) string {
	if c.etcd == nil || c.apiserver == nil {
		return ""
	}
	return "etcd:\n" + c.etcd.log.tail(n) + "\nkube-apiserver:\n" + c.apiserver.log.tail(n)
}

// EnsureNamespace makes the namespace name unless it exists.
func (c *Cluster) EnsureNamespace(ctx context.Context, name string) error {
	_, err := c.Dynamic.Resource(NamespaceGVR).Apply(ctx, name, object("v1", "Namespace", "", name), applyOptions)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	return nil
}

// CreateNamespace makes the namespace name; it fails if it exists.
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	if _, err := c.Dynamic.Resource(NamespaceGVR).Create(ctx, object("v1", "Namespace", "", name), createOptions); err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// serviceAccountKeys is the key pair kube-apiserver signs and checks
// service account tokens with (PEM: the private key, the public key).
func serviceAccountKeys() (key, pub []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}
