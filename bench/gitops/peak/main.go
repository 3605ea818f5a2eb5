// Command peak runs a command and reports its memory, for bench/gitops.sh:
//
//	peak -o FILE -- COMMAND [ARGS...]
//
// It writes a JSON object to FILE:
//   - maxrss_kb: ru_maxrss of the command as wait4 reports it, which is what
//     GNU time -v prints as "Maximum resident set size": the peak RSS of the
//     largest single process among the command and the descendants it
//     waited for, not a sum;
//   - peak_sum_kb: the largest sum of the RSS of the command's whole
//     process tree at one moment, sampled every -every (1ms): what runs at
//     once (git clone, git-remote-http and git index-pack, say) counts
//     together; a peak shorter than the interval can be missed;
//   - processes: each process seen, in order, with the first words of its
//     command line (after it ran exec) and its peak RSS (VmHWM) when last
//     sampled.
//
// The command's standard streams are passed through; peak exits with its
// exit code.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type proc struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	HWMkB   int64  `json:"hwm_kb"`
}

type report struct {
	MaxRSSkB  int64   `json:"maxrss_kb"`
	PeakSumkB int64   `json:"peak_sum_kb"`
	Samples   int     `json:"samples"`
	Processes []*proc `json:"processes"`
}

func main() {
	out := flag.String("o", "", "file to write the JSON report to")
	every := flag.Duration("every", time.Millisecond, "sampling interval")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "peak:", err)
		os.Exit(127)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var r report
	seen := map[int]*proc{}
	pageKB := int64(os.Getpagesize() / 1024)
	tick := time.NewTicker(*every)
	defer tick.Stop()
	var err error
loop:
	for {
		var sum int64
		for _, pid := range tree(cmd.Process.Pid) {
			rss, ok := statm(pid)
			if !ok {
				continue
			}
			sum += rss * pageKB
			// A process shows its parent's command line until it execs,
			// and its peak starts again with the new program.
			c := cmdline(pid)
			p := seen[pid]
			if p == nil {
				p = &proc{PID: pid, Command: c}
				seen[pid] = p
				r.Processes = append(r.Processes, p)
			} else if p.Command != c {
				p.Command, p.HWMkB = c, 0
			}
			if hwm, ok := vmHWM(pid); ok && hwm > p.HWMkB {
				p.HWMkB = hwm
			}
		}
		r.Samples++
		r.PeakSumkB = max(r.PeakSumkB, sum)
		select {
		case err = <-done:
			break loop
		case <-tick.C:
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSSkB = ru.Maxrss
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if werr := os.WriteFile(*out, append(b, '\n'), 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "peak:", werr)
		os.Exit(1)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peak:", err)
		os.Exit(1)
	}
}

// tree is pid and its descendants, through /proc/PID/task/TID/children.
func tree(pid int) []int {
	pids := []int{pid}
	for i := 0; i < len(pids); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pids[i]))
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					pids = append(pids, c)
				}
			}
		}
	}
	return pids
}

// statm is the resident pages of pid.
func statm(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	return n, err == nil && n > 0
}

func vmHWM(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// cmdline is the program's base name and its first two arguments that are
// not global options of git (-c, -C, --shallow-file and their values).
func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	if len(args) == 0 || args[0] == "" {
		return "?"
	}
	words := []string{filepath.Base(args[0])}
	for i := 1; i < len(args) && len(words) < 3; i++ {
		switch args[i] {
		case "-c", "-C", "--shallow-file":
			i++
			continue
		}
		words = append(words, args[i])
	}
	return strings.Join(words, " ")
}
