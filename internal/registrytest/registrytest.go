// Package registrytest runs real registries for tests: Debian's
// docker-registry (the CNCF distribution registry) on loopback, optionally
// with htpasswd auth and TLS from a CA made for the test, and a proxy in
// front of one that counts requests and injects faults.
package registrytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

// Options choose a registry's flavour.
type Options struct {
	// Username and Password turn on htpasswd auth with this one user.
	Username, Password string
	// TLS serves HTTPS with a certificate from a CA made for the test.
	TLS bool
	// V3 runs distribution v3 (tools/registry3, see Binary3) instead of
	// Debian's docker-registry, which is distribution 2.8.
	V3 bool
}

// Registry is a running docker-registry.
type Registry struct {
	// Host is "127.0.0.1:port", what an image reference starts with.
	Host string
	// CAs trusts the registry's certificate when TLS is on.
	CAs *x509.CertPool
	// CAFile is the CA certificate in PEM, for a binary under test
	// (SSL_CERT_FILE).
	CAFile string

	log *syncBuffer
}

// Log is what the registry has logged so far, access log included.
func (r *Registry) Log() string { return r.log.String() }

// Client is an HTTP client that trusts the registry.
func (r *Registry) Client() *http.Client {
	if r.CAs == nil {
		return &http.Client{}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CAs}}}
}

// Binary is the registry's executable, or "" when it is not installed.
func Binary() string {
	for _, name := range []string{"docker-registry", "registry"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start runs a registry until the test ends. It skips the test when
// docker-registry is not installed (apt-get install docker-registry),
// or fails it when GITSHIP_TEST_STRICT is set, as .ci/run does.
func Start(t testing.TB, o Options) *Registry {
	t.Helper()
	bin := Binary()
	if o.V3 {
		bin = Binary3(t)
	}
	if bin == "" {
		const why = "docker-registry is not installed (apt-get install -y docker-registry)"
		if os.Getenv("GITSHIP_TEST_STRICT") != "" {
			t.Fatal(why + "; GITSHIP_TEST_STRICT is set")
		}
		t.Skip(why)
	}
	dir := t.TempDir()
	port := freePort(t)
	r := &Registry{Host: fmt.Sprintf("127.0.0.1:%d", port), log: &syncBuffer{}}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: gitship-test
`, filepath.Join(dir, "data"), r.Host)
	if o.TLS {
		caPEM, certPEM, keyPEM := certificates(t)
		r.CAFile = filepath.Join(dir, "ca.pem")
		write(t, r.CAFile, caPEM)
		write(t, filepath.Join(dir, "cert.pem"), certPEM)
		write(t, filepath.Join(dir, "key.pem"), keyPEM)
		r.CAs = x509.NewCertPool()
		r.CAs.AppendCertsFromPEM(caPEM)
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	}
	if o.Username != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(o.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "htpasswd"), []byte(o.Username+":"+string(hash)+"\n"))
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: gitship-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	write(t, filepath.Join(dir, "config.yml"), []byte(cfg))

	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := r.Client().Get(scheme + "://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		select {
		case <-exited:
			t.Fatalf("docker-registry exited:\n%s", r.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", r.Host, err, r.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var registry3 struct {
	once sync.Once
	bin  string
	err  error
}

// Binary3 is distribution v3's registry, built once per test binary from
// tools/registry3 with the modules already in the module cache: no test
// downloads anything (.ci/run runs go mod download there first). It skips
// the test when the build fails, or fails it under GITSHIP_TEST_STRICT.
func Binary3(t testing.TB) string {
	t.Helper()
	registry3.once.Do(func() {
		src, err := toolDir("registry3")
		if err != nil {
			registry3.err = err
			return
		}
		// One place for every test binary: the go build cache makes a
		// rebuild a link, and the rename keeps two packages' builds apart.
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("gitship-registry3-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			registry3.err = err
			return
		}
		bin := filepath.Join(dir, "registry3")
		tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			registry3.err = fmt.Errorf("go build in %s: %v\n%s(run `go mod download` in tools/registry3 first)", src, err, out)
			return
		}
		if err := os.Rename(tmp, bin); err != nil {
			registry3.err = err
			return
		}
		registry3.bin = bin
	})
	if registry3.err != nil {
		if os.Getenv("GITSHIP_TEST_STRICT") != "" {
			t.Fatalf("distribution v3: %v; GITSHIP_TEST_STRICT is set", registry3.err)
		}
		t.Skipf("distribution v3: %v", registry3.err)
	}
	return registry3.bin
}

// toolDir finds tools/NAME from the test's working directory, somewhere
// under the repository.
func toolDir(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "tools", name, "go.mod")); err == nil && !fi.IsDir() {
			return filepath.Join(dir, "tools", name), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no tools/%s/go.mod above the working directory", name)
		}
		dir = parent
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// certificates makes a CA and a certificate it signs for 127.0.0.1.
func certificates(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gitship test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count returns how many access-log lines of the registry contain all of
// parts, e.g. Count("PATCH", "/v2/app/blobs/uploads/").
func (r *Registry) Count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(r.Log(), "\n") {
		ok := line != ""
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			n++
		}
	}
	return n
}

// Digest is the digest a registry on loopback serves for ref (plain
// HTTP), "" when it has nothing there.
func Digest(t testing.TB, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		return ""
	}
	return d.Digest.String()
}
