// Command serve serves the bare repositories under -root over HTTP on
// loopback with git http-backend, as internal/gittest does for the
// tests (the same CGI set-up, the same basic-auth check: any user name,
// -token as the password; pushes allowed once authenticated), for
// bench/gitops.sh. gitship (go-git) and the git CLI both go through it.
//
//	go run ./bench/gitops/serve -root DIR -token T -addr-file FILE [-log FILE]
//
// It writes its address (127.0.0.1:PORT) to -addr-file once listening, and
// with -log one line per request: method, path, status, response bytes,
// milliseconds until the response was written, user agent. It runs until
// killed.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

func main() {
	root := flag.String("root", "", "directory of bare repositories to serve")
	token := flag.String("token", "", "basic-auth password every request must carry (empty: no auth)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	addrFile := flag.String("addr-file", "", "file to write the address listened on to")
	logFile := flag.String("log", "", "file to append a line per request to")
	flag.Parse()
	if *root == "" {
		flag.Usage()
		os.Exit(2)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		log.Fatal(err)
	}
	var reqLog io.Writer = io.Discard
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		reqLog = f
	}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		// As gittest: no global or system configuration; REMOTE_USER
		// enables receive-pack, only reached after the auth check.
		Env: []string{
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
			"HOME=" + *root,
			"GIT_PROJECT_ROOT=" + *root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=bench",
		},
		Stderr: io.Discard,
	}
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			mu.Lock()
			fmt.Fprintf(reqLog, "%s %s %d %d %.1f %s\n", r.Method, r.URL.Path, cw.status, cw.n,
				float64(time.Since(start).Microseconds())/1000, strings.ReplaceAll(r.UserAgent(), " ", "_"))
			mu.Unlock()
		}()
		if *token != "" {
			if _, pass, ok := r.BasicAuth(); !ok || pass != *token {
				cw.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(cw, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		backend.ServeHTTP(cw, r)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Fatal(http.Serve(ln, h))
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
