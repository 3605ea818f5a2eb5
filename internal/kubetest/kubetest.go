package kubetest

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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
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
	// keys, the kubeconfigs.
	Dir string
	// Etcd is etcd's client URL: "http://127.0.0.1:PORT".
	Etcd string

	etcd, apiserver *process
	disc            discovery.DiscoveryInterface

	mu          sync.Mutex
	subresource map[string]bool // "group/version/resource" → has a status subresource
	crds        struct {
		sync.Once
		err error
	}
}

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

var shared struct {
	sync.Mutex
	started     bool
	c           *Cluster
	err         error
	unavailable string
}

// Start returns the test binary's cluster, starting it on the first call
// (a start takes some seconds; building the binaries on a new machine
// takes minutes). It skips the test when kube-apiserver or etcd cannot be
// built or found, or fails it under GITSHIP_TEST_STRICT; it fails the test
// when they do not start.
func Start(t testing.TB) *Cluster {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.started {
		shared.started = true
		shared.c, shared.unavailable, shared.err = start()
	}
	switch {
	case shared.unavailable != "":
		testenv.Unavailable(t, "kubetest: %s", shared.unavailable)
	case shared.err != nil:
		t.Fatalf("kubetest: %v", shared.err)
	}
	return shared.c
}

// Stop stops the test binary's cluster, if one was started, and removes
// its directory. A TestMain may call it after m.Run; without it, the
// processes end with the test binary and the next Start removes the
// directory.
func Stop() {
	shared.Lock()
	defer shared.Unlock()
	if c := shared.c; c != nil {
		c.apiserver.stop()
		c.etcd.stop()
		os.RemoveAll(c.Dir)
	}
}

// dirPrefix names the clusters' directories in os.TempDir(); each has a
// file "pid" naming the test binary that made it.
const dirPrefix = "gitship-kube-"

func start() (_ *Cluster, unavailable string, err error) {
	apiserver, err := KubeAPIServer()
	if err != nil {
		return nil, err.Error(), nil
	}
	etcd, err := Etcd()
	if err != nil {
		return nil, err.Error(), nil
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, "", err
	}
	c := &Cluster{Dir: dir, subresource: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(startError)
			if !ok {
				panic(r)
			}
			err = errors.New(se.msg)
		}
		if err != nil {
			c.apiserver.stop()
			c.etcd.stop()
			os.RemoveAll(dir)
		}
	}()
	if err := c.startEtcd(etcd); err != nil {
		return nil, "", err
	}
	if err := c.startAPIServer(apiserver); err != nil {
		return nil, "", err
	}
	if err := c.readOnlyUser(); err != nil {
		return nil, "", err
	}
	return c, "", nil
}

// removeStale removes the directories of clusters whose test binary has
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
	client, peer := freePort(), freePort()
	c.Etcd = "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := startProcess("etcd", bin,
		"--name", "gitship",
		"--data-dir", filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls", c.Etcd,
		"--advertise-client-urls", c.Etcd,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "gitship="+peerURL,
		// A test's data need not survive a power cut.
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

func (c *Cluster) startAPIServer(bin string) error {
	var st startT
	ca := testenv.NewCA(st, "gitship kubetest CA")
	c.CA = ca.PEM
	certPEM, keyPEM := ca.Server(st)
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
	port := freePort()
	c.Server = "https://127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("kube-apiserver", bin,
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

	c.Config = &rest.Config{
		Host:            c.Server,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CA},
		QPS:             200,
		Burst:           400,
		UserAgent:       "gitship-kubetest",
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

// Namespace makes a namespace for the test, named after it and new:
// "testname-x7k2q". It is left behind when the test ends (with no
// controller manager, a deleted namespace would stay Terminating); the
// cluster goes away with the test binary.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := dnsLabel(t.Name(), 50) + "-" + randomLower(5)
	obj := object("v1", "Namespace", "", name)
	if _, err := c.Dynamic.Resource(NamespaceGVR).Create(context.Background(), obj, createOptions); err != nil {
		t.Fatalf("kubetest: create namespace %s: %v", name, err)
	}
	return name
}

// dnsLabel turns s into a DNS label of at most n characters: lower case,
// letters, digits and dashes.
func dnsLabel(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	out = strings.Trim(out, "-")
	if out == "" {
		out = "test"
	}
	return out
}

// process is etcd or kube-apiserver, running.
type process struct {
	name   string
	log    testenv.Log
	cmd    *exec.Cmd
	err    error
	exited chan struct{}
	once   sync.Once
}

// startProcess starts bin. The process gets SIGKILL when the thread that
// started it ends (PR_SET_PDEATHSIG): the goroutine keeps that thread,
// locked, for as long as the process runs, so that the process ends with
// the test binary and not before.
func startProcess(name, bin string, args ...string) (*process, error) {
	p := &process{name: name, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with the goroutine.
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &p.log, &p.log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("start %s: %w", bin, err)
			return
		}
		p.cmd = cmd
		started <- nil
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// waitReady calls ready until it succeeds, the process exits or timeout
// passes.
func (p *process) waitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, testenv.Tail(p.log.String(), 40))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v: %v\n%s", p.name, timeout, err, testenv.Tail(p.log.String(), 40))
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL after ten seconds.
func (p *process) stop() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// Logs are the last n lines etcd and kube-apiserver have logged, for a
// failing test's message.
func (c *Cluster) Logs(n int) string {
	return "etcd:\n" + testenv.Tail(c.etcd.log.String(), n) + "\nkube-apiserver:\n" + testenv.Tail(c.apiserver.log.String(), n)
}

func freePort() int {
	var st startT
	return testenv.FreePort(st)
}

// startT is the testing.TB that testenv's helpers want, for the shared
// cluster, which outlives the test that starts it: they call only
// Helper and Fatal, and Fatal panics with a startError, which start
// returns.
type startT struct{ testing.TB }

type startError struct{ msg string }

func (startT) Helper()                      {}
func (startT) Fatal(args ...any)            { panic(startError{fmt.Sprint(args...)}) }
func (startT) Fatalf(f string, args ...any) { panic(startError{fmt.Sprintf(f, args...)}) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func randomLower(n int) string {
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
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
