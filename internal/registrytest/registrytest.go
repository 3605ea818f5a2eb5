// Package registrytest runs real registries for tests: Debian's
// docker-registry (the CNCF distribution registry) on loopback, optionally
// with htpasswd auth and TLS from a CA made for the test, and a proxy in
// front of one that counts requests and injects faults.
package registrytest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
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

	log *testenv.Log
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
		testenv.Unavailable(t, "docker-registry is not installed (apt-get install -y docker-registry)")
	}
	dir := t.TempDir()
	port := testenv.FreePort(t)
	r := &Registry{Host: fmt.Sprintf("127.0.0.1:%d", port), log: &testenv.Log{}}
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

// Binary3 is distribution v3's registry, built from tools/registry3 once
// per machine (gotool.Build: into $XDG_CACHE_HOME/gitship-test/, with the
// modules already in the module cache; no test downloads anything). It
// skips the test when the
// build fails, or fails it under GITSHIP_TEST_STRICT.
func Binary3(t testing.TB) string {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "registry3", Module: "github.com/distribution/distribution/v3",
		Package: "github.com/gitship/gitship/tools/registry3"})
	if err != nil {
		testenv.Unavailable(t, "distribution v3: %v", err)
	}
	return bin
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
	ca := testenv.NewCA(t, "gitship test CA")
	certPEM, keyPEM = ca.Server(t)
	return ca.PEM, certPEM, keyPEM
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
