package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// resultLine prints one result as the JSON line scripts/bench collects into bench/RESULTS.md:
// n, median, p99 and max of the samples in milliseconds (percentile: the one definition).
func resultLine(goal string, samples []time.Duration, lib, label, store, mode string, ttl time.Duration) {
	if len(samples) == 0 {
		return
	}
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	line, _ := json.Marshal(map[string]any{
		"goal": goal, "lang": "go", "lib": label, "version": version(lib), "store": store,
		"mode": mode, "ttl_s": ttl.Seconds(), "candidates": candidates, "n": len(samples),
		"p50_ms": msOf(percentile(samples, 50)), "p99_ms": msOf(percentile(samples, 99)),
		"max_ms": msOf(percentile(samples, 100)),
	})
	fmt.Println(string(line))
}

// version of the module behind a library: the etcd client's from the build, elect's binding is
// this repository's.
func version(lib string) string {
	if lib != "etcd" {
		return "this tree"
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "go.etcd.io/etcd/client/v3" {
				return dep.Version
			}
		}
	}
	return "?"
}

// isLeaderCost prints the JSON line of Election.IsLeader() on a leading election of the file
// store: ns per call, per batch of 10,000 calls, over 300 batches after a warm-up.
func isLeaderCost() error {
	dir, err := os.MkdirTemp("", "elect-bench-go-is-leader-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	e, err := elect.Open(context.Background(), "file://"+dir, "is-leader")
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.Start(); err != nil {
		return err
	}
	if err := e.WaitLeader(context.Background()); err != nil {
		return err
	}
	const batch, batches = 10_000, 300
	leading := 0
	for i := 0; i < 200_000; i++ {
		if e.IsLeader() {
			leading++
		}
	}
	perCall := make([]time.Duration, batches)
	for b := range perCall {
		t0 := time.Now()
		for i := 0; i < batch; i++ {
			if e.IsLeader() {
				leading++
			}
		}
		// Picoseconds in a Duration's unit, so the ns figure keeps three decimals.
		perCall[b] = time.Since(t0) * 1000 / batch
	}
	if leading != 200_000+batch*batches {
		return fmt.Errorf("the election stopped leading during the measurement")
	}
	nsOf := func(d time.Duration) float64 { return float64(d) / 1000 }
	line, _ := json.Marshal(map[string]any{
		"goal": "is_leader", "lang": "go", "lib": "elect", "what": "Election.IsLeader()",
		"store": "file", "n": batches, "p50_ns": nsOf(percentile(perCall, 50)),
		"p99_ns": nsOf(percentile(perCall, 99)), "max_ns": nsOf(percentile(perCall, 100)),
	})
	fmt.Println(string(line))
	return nil
}
