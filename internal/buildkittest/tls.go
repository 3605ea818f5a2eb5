package buildkittest

import (
	"path/filepath"
	"testing"

	"github.com/gitship/gitship/internal/testenv"
)

// certificates writes, under dir, a CA (ca.pem), a server certificate it
// signs for 127.0.0.1 and localhost (server.pem, server-key.pem) and a
// client certificate (client.pem, client-key.pem), and returns the paths
// of the CA and the client's certificate and key.
func certificates(t testing.TB, dir string) (ca, cert, key string) {
	t.Helper()
	authority := testenv.NewCA(t, "gitship buildkitd test CA")
	ca = filepath.Join(dir, "ca.pem")
	write(t, ca, authority.PEM)
	sc, sk := authority.Server(t)
	write(t, filepath.Join(dir, "server.pem"), sc)
	write(t, filepath.Join(dir, "server-key.pem"), sk)
	cc, ck := authority.Client(t, "gitship test client")
	cert, key = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	write(t, cert, cc)
	write(t, key, ck)
	return ca, cert, key
}
