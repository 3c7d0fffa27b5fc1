package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	elect "github.com/elect-dev/elect/bindings-go"
)

// A candidate process: campaigns with one library, writes `elected <unix ns>` when it leads;
// on `resign` from stdin it writes `resigned <unix ns>` (taken just before resigning), resigns,
// and campaigns again after a pause (so the waiting candidate, not itself, takes over).
// Timestamps are the wall clock: parent and children run on one machine.

// repause keeps a resigner out of line long enough that the other candidate takes over; it does
// not enter the measurement (the other one is already waiting).
const repause = 300 * time.Millisecond

func runCandidate(lib, target, name string, ttl time.Duration) error {
	resign := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(os.Stdin)
		for scanner.Scan() {
			if scanner.Text() == "resign" {
				resign <- struct{}{}
			}
		}
		os.Exit(0) // parent gone
	}()
	switch lib {
	case "elect":
		return electCandidate(target, name, ttl, resign)
	case "etcd":
		return etcdCandidate(target, name, ttl, resign)
	}
	return fmt.Errorf("unknown library %q", lib)
}

func say(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

func electCandidate(uri, name string, ttl time.Duration, resign <-chan struct{}) error {
	e, err := elect.Open(context.Background(), uri, name, elect.WithTTL(ttl), elect.WithSilence(repause))
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.Start(); err != nil {
		return err
	}
	for {
		if err := e.WaitLeader(context.Background()); err != nil {
			return err
		}
		say("elected %d", time.Now().UnixNano())
		<-resign
		say("resigned %d", time.Now().UnixNano())
		if err := e.Resign(context.Background()); err != nil {
			return err
		}
	}
}

func etcdCandidate(endpoint, name string, ttl time.Duration, resign <-chan struct{}) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	session, err := concurrency.NewSession(cli, concurrency.WithTTL(int(ttl.Seconds())))
	if err != nil {
		return err
	}
	defer session.Close()
	election := concurrency.NewElection(session, "/elect-bench/"+name)
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s-%d", host, os.Getpid())
	ctx := context.Background()
	for {
		if err := election.Campaign(ctx, id); err != nil {
			return err
		}
		say("elected %d", time.Now().UnixNano())
		<-resign
		say("resigned %d", time.Now().UnixNano())
		if err := election.Resign(ctx); err != nil {
			return err
		}
		time.Sleep(repause)
	}
}

// runIdle holds n elections (one per name, so each leads and keeps its lease alive) until
// stdin ends: the parent measures this process's CPU time meanwhile.
func runIdle(lib, target string, n int, ttl time.Duration) error {
	ctx := context.Background()
	switch lib {
	case "elect":
		for i := 0; i < n; i++ {
			e, err := elect.Open(context.Background(), target, fmt.Sprintf("idle-%d-%d", os.Getpid(), i), elect.WithTTL(ttl))
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.Start(); err != nil {
				return err
			}
			if err := e.WaitLeader(ctx); err != nil {
				return err
			}
		}
	case "etcd":
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{target}, DialTimeout: 5 * time.Second})
		if err != nil {
			return err
		}
		defer cli.Close()
		for i := 0; i < n; i++ {
			session, err := concurrency.NewSession(cli, concurrency.WithTTL(int(ttl.Seconds())))
			if err != nil {
				return err
			}
			defer session.Close()
			election := concurrency.NewElection(session, fmt.Sprintf("/elect-bench/idle-%d-%d", os.Getpid(), i))
			if err := election.Campaign(ctx, "idle"); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown library %q", lib)
	}
	say("ready")
	bufio.NewScanner(os.Stdin).Scan() // until the parent closes stdin
	return nil
}
