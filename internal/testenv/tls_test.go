package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// The CA's server certificate is valid for 127.0.0.1 and localhost, its
// client certificate for client authentication, each with its own serial
// number.
func TestCA(t *testing.T) {
	ca := NewCA(t, "test CA")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM) {
		t.Fatal("the CA's PEM holds no certificate")
	}
	leaf := func(certPEM, keyPEM []byte) *x509.Certificate {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	server, client := leaf(ca.Server(t)), leaf(ca.Client(t, "test client"))
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := server.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err == nil {
		t.Error("the client certificate serves as a server's")
	}
	if server.SerialNumber.Cmp(client.SerialNumber) == 0 {
		t.Errorf("server and client share serial %s", server.SerialNumber)
	}
}
