// Command elect-bench-etcd compares elect (through the Go package over libelect.so) with etcd's
// own Go concurrency.Election against the same etcd server, side by side in one run: failover
// time after a graceful resign and after SIGKILL of the leader (p50/p99 over -rounds rounds,
// two candidate processes), and CPU time per idle election. elect on the file backend is shown
// as a reference row.
//
//	ELECT_DIST_TARGETS=x86_64-unknown-linux-gnu ./scripts/dist   # the release libelect
//	p=$(echo $PWD/dist/.build/x86_64-unknown-linux-gnu/stage/elect-*-x86_64-unknown-linux-gnu)
//	cd bench/go && PKG_CONFIG_PATH=$p/lib/pkgconfig LD_LIBRARY_PATH=$p/lib \
//	    go run . [-rounds 50] [-crash-rounds 20] [-stores file,etcd] [-json] [-is-leader]
//
// -json prints one JSON line per library and case instead of the table (scripts/bench collects
// them into bench/RESULTS.md); -is-leader measures Election.IsLeader() on a leading election
// of the file store instead of the failover rounds.
//
// It uses ELECT_ETCD_URI (etcd://host:port) when set, else starts its own etcd on a free
// loopback port in a temporary directory (stopped at the end).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "candidate" || os.Args[1] == "idle") {
		child(os.Args[1], os.Args[2:])
		return
	}
	rounds := flag.Int("rounds", 50, "graceful handovers per library")
	crashRounds := flag.Int("crash-rounds", 20, "SIGKILL handovers per library (each waits for the ttl on etcd)")
	ttl := flag.Duration("ttl", 3*time.Second, "lease ttl for the failover rounds (whole seconds: etcd sessions)")
	idleN := flag.Int("idle", 20, "elections held by the idle process (0: no idle measurement)")
	idleFor := flag.Duration("idle-for", 20*time.Second, "how long the idle CPU is measured")
	idleTTL := flag.Duration("idle-ttl", 10*time.Second, "lease ttl of the idle elections (elect's default)")
	stores := flag.String("stores", "file,etcd", "stores of the failover rounds")
	jsonLines := flag.Bool("json", false, "JSON lines instead of the table")
	isLeader := flag.Bool("is-leader", false, "measure IsLeader() instead of the failover rounds")
	flag.Parse()

	if *isLeader {
		if err := isLeaderCost(); err != nil {
			fail(err)
		}
		return
	}

	etcdURI := os.Getenv("ELECT_ETCD_URI")
	if etcdURI == "" {
		server, err := startEtcd()
		if err != nil {
			fail(err)
		}
		defer server.stop()
		etcdURI = server.uri
	}
	endpoint := "http://" + hostOf(etcdURI)
	dir, err := os.MkdirTemp("", "elect-bench-go-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)

	type setup struct{ lib, store, target string }
	var setups []setup
	for _, s := range []setup{
		{"elect", "file", "file://" + dir},
		{"elect", "etcd", etcdURI},
		{"etcd concurrency.Election", "etcd", endpoint},
	} {
		if strings.Contains(","+*stores+",", ","+s.store+",") {
			setups = append(setups, s)
		}
	}
	out := os.Stdout
	if *jsonLines {
		out = os.Stderr
	}
	fmt.Fprintf(out, "failover: 2 candidate processes, ttl %v, %d graceful and %d SIGKILL rounds; idle: %d elections for %v, ttl %v\n\n",
		*ttl, *rounds, *crashRounds, *idleN, *idleFor, *idleTTL)
	fmt.Fprintf(out, "| %-26s | %-5s | %13s | %13s | %13s | %13s | %22s |\n", "library", "store",
		"resign p50 ms", "resign p99 ms", "kill p50 ms", "kill p99 ms", "idle CPU ms/min/elect.")
	fmt.Fprintf(out, "|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 28), strings.Repeat("-", 7),
		strings.Repeat("-", 15), strings.Repeat("-", 15), strings.Repeat("-", 15), strings.Repeat("-", 15), strings.Repeat("-", 24))
	for _, s := range setups {
		lib := "elect"
		if strings.HasPrefix(s.lib, "etcd") {
			lib = "etcd"
		}
		row := []string{"-", "-", "-", "-", "-"}
		graceful, crash, err := failover(lib, s.target, *ttl, *rounds, *crashRounds)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s on %s: failover: %v\n", s.lib, s.store, err)
		} else {
			row[0], row[1] = ms(percentile(graceful, 50)), ms(percentile(graceful, 99))
			row[2], row[3] = ms(percentile(crash, 50)), ms(percentile(crash, 99))
			if *jsonLines {
				resultLine("handover", graceful, lib, s.lib, s.store, "graceful", *ttl)
				resultLine("handover", crash, lib, s.lib, s.store, "crash", *ttl)
			}
		}
		if *idleN > 0 {
			if cpu, resolution, err := idleCPU(lib, s.target, *idleN, *idleFor, *idleTTL); err != nil {
				fmt.Fprintf(os.Stderr, "%s on %s: idle: %v\n", s.lib, s.store, err)
			} else if cpu == 0 {
				row[4] = fmt.Sprintf("< %.2f", resolution) // below what /proc can show
			} else {
				row[4] = fmt.Sprintf("%.2f", cpu)
			}
		}
		fmt.Fprintf(out, "| %-26s | %-5s | %13s | %13s | %13s | %13s | %22s |\n", s.lib, s.store,
			row[0], row[1], row[2], row[3], row[4])
	}
}

func hostOf(uri string) string {
	rest := uri[strings.Index(uri, "://")+3:]
	rest = strings.SplitN(rest, "/", 2)[0]
	rest = strings.SplitN(rest, "?", 2)[0]
	return strings.SplitN(rest, ",", 2)[0]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "elect-bench-etcd:", err)
	os.Exit(1)
}

// child runs the candidate or idle role in a process of its own.
func child(role string, args []string) {
	fs := flag.NewFlagSet(role, flag.ExitOnError)
	lib := fs.String("lib", "elect", "elect or etcd")
	target := fs.String("target", "", "URI (elect) or endpoint (etcd)")
	name := fs.String("name", "bench", "election name")
	ttl := fs.Duration("ttl", 2*time.Second, "lease ttl")
	n := fs.Int("n", 1, "idle elections")
	fs.Parse(args)
	var err error
	if role == "candidate" {
		err = runCandidate(*lib, *target, *name, *ttl)
	} else {
		err = runIdle(*lib, *target, *n, *ttl)
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
}
