package registry

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// httptestServer serves h until the test ends and returns its URL.
func httptestServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
