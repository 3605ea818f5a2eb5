// Command prof runs gitship-validate in-process N times under a CPU
// profile, to see where a run's time goes (bench/validate.sh times whole
// runs; this says why):
//
//	go run ./bench/validate/prof -n 10 -o cpu.pprof -- --manifests DIR --kubernetes-version 1.37.2
//	go tool pprof -top cpu.pprof
//
// The arguments after -- are gitship-validate's. Each run's exit code is
// printed once; output goes to /dev/null.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/validate"
)

func main() {
	n := flag.Int("n", 10, "runs")
	out := flag.String("o", "cpu.pprof", "CPU profile to write")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	args := append([]string{"gitship-validate"}, flag.Args()...)
	codes := map[int]int{}
	for range *n {
		codes[step.Execute(context.Background(), validate.Step(), args, ci.EnvFromOS(), io.Discard, io.Discard)]++
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("exit codes: %v; profile in %s\n", codes, *out)
}
