package kubecluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is etcd or kube-apiserver, running.
type process struct {
	name   string
	log    logBuffer
	cmd    *exec.Cmd
	err    error
	exited chan struct{}
	once   sync.Once
}

// logBuffer is a process's output, kept to be read while it runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// tail is the last n lines written.
func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	s := l.buf.String()
	l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startProcess starts bin, its output kept in memory and written to the
// file logPath. The process gets SIGKILL when the thread that started it
// ends (PR_SET_PDEATHSIG): the goroutine keeps that thread, locked, for
// as long as the process runs, so that the process ends with its parent
// and not before.
func startProcess(name, bin, logPath string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	p := &process{name: name, exited: make(chan struct{})}
	out := io.MultiWriter(&p.log, logFile)
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with the goroutine.
		defer logFile.Close()
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = out, out
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
			return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.log.tail(40))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v: %v\n%s", p.name, timeout, err, p.log.tail(40))
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

// Exited is closed when etcd or kube-apiserver has exited, with the
// reason: for a process that waits on the cluster.
func (c *Cluster) Exited() (<-chan struct{}, func() error) {
	done := make(chan struct{})
	var once sync.Once
	var why error
	watch := func(p *process) {
		<-p.exited
		once.Do(func() {
			why = fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.log.tail(20))
			close(done)
		})
	}
	go watch(c.etcd)
	go watch(c.apiserver)
	return done, func() error { return why }
}
