package gittest

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// HTTPOptions configures Serve.
type HTTPOptions struct {
	// Token is the basic-auth password every request must carry (any
	// user name); empty serves without auth. Pushes are always allowed.
	Token string
	// RequireMultiAck refuses fetches and clones whose request does not ask
	// for multi_ack or multi_ack_detailed, as Azure Repos does.
	RequireMultiAck bool
	// BeforeUploadPack, if set, is called before the server answers the
	// n-th upload-pack request (1 for the first), the one that asks for
	// the objects of the refs advertised before: moving a ref there is
	// another client's push landing between a clone's two requests.
	BeforeUploadPack func(n int)
	// PushDelay holds the answer to every push this long after the server
	// has updated the refs, as a slow network would: another client's
	// push can land before the pusher hears that its own did.
	PushDelay time.Duration
}

// Server is a running git HTTP server.
type Server struct {
	// URL is the server's root: a repository made by Bare under the served
	// root is at URL + "/" + RepoName.
	URL string
	// Unauthorized counts the requests refused for their credentials.
	Unauthorized atomic.Int64
}

// HTTP serves the bare repositories under root with git http-backend,
// requiring token as the basic-auth password (none if empty), and returns
// the server's URL: the repository made by Bare is at URL + "/repo.git".
func HTTP(t testing.TB, root, token string) string {
	t.Helper()
	return Serve(t, root, HTTPOptions{Token: token}).URL
}

// Serve is HTTP with options. The server stops when t ends.
func Serve(t testing.TB, root string, opts HTTPOptions) *Server {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skipf("git is not installed: %v", err)
	}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		// REMOTE_USER enables receive-pack: only reached after the auth
		// check below.
		Env: append(Env(root),
			"GIT_PROJECT_ROOT="+root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=gittest",
		),
		Stderr: io.Discard,
	}
	s := &Server{}
	var uploadPacks atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.Token != "" {
			if _, pass, ok := r.BasicAuth(); !ok || pass != opts.Token {
				s.Unauthorized.Add(1)
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		if opts.RequireMultiAck && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if !asksMultiAck(body) {
				http.Error(w, "this server requires the multi_ack capability", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		if opts.BeforeUploadPack != nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			opts.BeforeUploadPack(int(uploadPacks.Add(1)))
		}
		if opts.PushDelay > 0 && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			rec := httptest.NewRecorder()
			backend.ServeHTTP(rec, r)
			time.Sleep(opts.PushDelay)
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// asksMultiAck tells whether the first pkt-line of an upload-pack request,
// "want <hash> <capabilities>", lists multi_ack or multi_ack_detailed.
func asksMultiAck(body []byte) bool {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	for _, c := range strings.Fields(string(line)) {
		if c == "multi_ack" || c == "multi_ack_detailed" {
			return true
		}
	}
	return false
}
