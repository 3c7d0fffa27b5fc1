package elect_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// Three processes elect one leader; SIGKILL of the leader and a graceful resign each hand over
// to another process, with a strictly greater fencing token.
func TestThreeProcessesHandOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		name := uniqueName(t)
		events := make(chan line, 1024)
		procs := make([]*proc, 3)
		for i := range procs {
			procs[i] = startAgent(t, i, events)
			procs[i].must(fmt.Sprintf("open %s %s", s.uri, name), "ok")
		}
		// The first to start leads; the others wait in line.
		procs[0].must("start", "ok")
		procs[0].must("wait_leader 15000", "ok true")
		t1 := termOf(t, awaitEvent(t, events, "event elected"))
		for _, p := range procs[1:] {
			p.must("start", "ok")
		}
		for _, p := range procs[1:] {
			p.must("wait_leader 50", "ok false")
		}
		if got := procs[1].req("leader"); got != fmt.Sprintf("ok %s %d", leaderID(t, procs[0]), t1) {
			t.Fatalf("leader seen by agent 1: %q", got)
		}

		// Crash: SIGKILL the leader; one of the others takes over.
		began := time.Now()
		procs[0].kill()
		second := awaitEvent(t, events, "event elected")
		t.Logf("%s: takeover after SIGKILL in %v", s.name, time.Since(began))
		t2 := termOf(t, second)
		if second.agent == 0 || t2 <= t1 {
			t.Fatalf("after SIGKILL: agent %d elected with term %d (first term %d)", second.agent, t2, t1)
		}
		leader, other := procs[second.agent], procs[3-second.agent]
		other.must("is_leader", "ok false")

		// Graceful: the new leader resigns; the last one takes over at once.
		began = time.Now()
		leader.must("resign", "ok")
		third := awaitEvent(t, events, "event elected")
		t.Logf("%s: takeover after resign in %v", s.name, time.Since(began))
		if third.agent != other.index || termOf(t, third) <= t2 {
			t.Fatalf("after resign: agent %d elected with term %d (previous %d)", third.agent, termOf(t, third), t2)
		}
		leader.must("is_leader", "ok false")
		other.must("token", fmt.Sprintf("ok %d", termOf(t, third)))
		for _, p := range procs[1:] {
			p.must("close", "ok")
			p.quit()
		}
	})
}

// leaderID asks an agent for the leader's id (the agent leads, so it is its own id).
func leaderID(t *testing.T, p *proc) string {
	fields := strings.Fields(p.req("leader"))
	if len(fields) != 3 || fields[0] != "ok" {
		t.Fatalf("leader reply %v", fields)
	}
	return fields[1]
}

// Events arrive in order: a Revoked before the next Elected, Revoked(closed) last, and the
// channel closes after Close.
func TestEventsInOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		name := uniqueName(t)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		a, aEvents := open(t, s.uri, name, elect.WithID("a"), elect.WithValue("10.0.0.1"))
		b, bEvents := open(t, s.uri, name, elect.WithID("b"))

		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		if err := a.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		t1 := a.FencingToken()
		// Observing starts once a leads, so the observer's first answer is a: a term that lasts
		// only milliseconds may be coalesced by an observer (the file store re-reads the leader
		// with a short backoff after each change), and a's first term here is that short.
		observer, observed := open(t, s.uri, name, elect.WithID("observer"))
		if err := observer.Observe(); err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		if info, err := b.Leader(context.Background()); err != nil || info == nil || info.ID != "a" || info.Value != "10.0.0.1" || info.Term != t1 {
			t.Fatalf("leader: %+v, %v", info, err)
		}
		waitMembers(t, a, 2)
		if err := a.Resign(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := b.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		t2 := b.FencingToken()
		// The observer follows: it sees a, then b, with their values and terms; never leads.
		for _, want := range []elect.LeaderInfo{{ID: "a", Value: "10.0.0.1", Term: t1}, {ID: "b", Term: t2}} {
			for {
				ev := next(t, observed, elect.LeaderChanged)
				if ev.Leader != nil && *ev.Leader == want {
					break
				}
			}
		}
		if observer.IsLeader() {
			t.Fatal("the observer leads")
		}
		b.Close()
		if err := a.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		t3 := a.FencingToken()
		if !(t1 < t2 && t2 < t3) {
			t.Fatalf("tokens do not increase: %d %d %d", t1, t2, t3)
		}
		a.Close()

		want := []string{
			fmt.Sprintf("elected %d", t1), fmt.Sprintf("revoked %d resigned", t1),
			fmt.Sprintf("elected %d", t3), fmt.Sprintf("revoked %d closed", t3),
		}
		checkOrder(t, "a", drain(t, aEvents), want)
		checkOrder(t, "b", drain(t, bEvents), []string{
			fmt.Sprintf("elected %d", t2), fmt.Sprintf("revoked %d closed", t2),
		})
	})
}

// waitMembers polls (bounded) until e sees n members: a started candidate joins in the
// background, and no event tells when.
func waitMembers(t *testing.T, e *elect.Election, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		members, err := e.Members(context.Background())
		if err != nil {
			t.Fatalf("members: %v", err)
		}
		if len(members) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("members: %+v, want %d", members, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drain reads events until the channel is closed (it must be, after Close).
func drain(t *testing.T, events <-chan elect.Event) []elect.Event {
	t.Helper()
	var all []elect.Event
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return all
			}
			all = append(all, ev)
		case <-timeout:
			t.Fatalf("events not closed after Close; got %v", all)
		}
	}
}

// checkOrder compares the Elected/Revoked events (LeaderChanged may interleave) with want.
func checkOrder(t *testing.T, who string, events []elect.Event, want []string) {
	t.Helper()
	var got []string
	for _, ev := range events {
		switch ev.Kind {
		case elect.Elected:
			got = append(got, fmt.Sprintf("elected %d", ev.Term))
		case elect.Revoked:
			got = append(got, fmt.Sprintf("revoked %d %s", ev.Term, ev.Reason))
		}
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("%s's events: %v, want %v", who, got, want)
	}
}

// Bad input gets an *Error with the right code and a message naming the bad part.
func TestBadInput(t *testing.T) {
	dir := "file://" + t.TempDir()
	cases := []struct {
		uri, name string
		opts      []elect.Option
		code      elect.Code
		part      string
	}{
		{"no-scheme", "job", nil, elect.CodeInvalidArgument, "scheme"},
		{"gopher://h/x", "job", nil, elect.CodeInvalidArgument, "gopher"},
		{dir + "?ttl=soon", "job", nil, elect.CodeInvalidArgument, "`ttl`"},
		{dir + "?frobnicate=1", "job", nil, elect.CodeInvalidArgument, "`frobnicate`"},
		{dir + "?ttl=1s&renew=2s", "job", nil, elect.CodeInvalidArgument, "`renew`"},
		{dir, "job", []elect.Option{elect.WithTTL(time.Second), elect.WithRenew(time.Second)}, elect.CodeInvalidArgument, "`renew`"},
		{dir, "job", []elect.Option{elect.WithOption("bogus", "1")}, elect.CodeInvalidArgument, "option `bogus`"},
		{dir, "", nil, elect.CodeInvalidArgument, "name"},
		{dir, "a\x00b", nil, elect.CodeInvalidArgument, "`name` contains a NUL byte"},
		{dir, "j\xff", nil, elect.CodeInvalidArgument, "`name` is not valid UTF-8"},
	}
	for _, c := range cases {
		e, err := elect.Open(context.Background(), c.uri, c.name, c.opts...)
		var ee *elect.Error
		if e != nil || !errors.As(err, &ee) || ee.Code != c.code || !strings.Contains(ee.Message, c.part) {
			t.Errorf("Open(%q, %q): %v, want %v naming %q", c.uri, c.name, err, c.code, c.part)
		}
		if err != nil && !errors.Is(err, elect.ErrInvalidArgument) {
			t.Errorf("errors.Is(%v, ErrInvalidArgument) is false", err)
		}
	}

	e, _ := open(t, dir, "job")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.WaitLeader(ctx); !errors.Is(err, elect.ErrWrongState) {
		t.Errorf("WaitLeader before Start: %v", err)
	}
	if err := e.Observe(); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); !errors.Is(err, elect.ErrWrongState) {
		t.Errorf("Start after Observe: %v", err)
	}
	e.Close()
	if err := e.Start(); !errors.Is(err, elect.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	if _, err := e.Leader(context.Background()); !errors.Is(err, elect.ErrClosed) {
		t.Errorf("Leader after Close: %v", err)
	}
	if e.IsLeader() || e.FencingToken() != 0 {
		t.Error("a closed election leads")
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// WaitLeader returns ctx.Err() when the context ends first, and ErrClosed when the election is
// closed while it waits.
func TestWaitLeaderEnds(t *testing.T) {
	uri := "file://" + t.TempDir()
	leader, _ := open(t, uri, "job")
	follower, _ := open(t, uri, "job")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	if err := leader.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if err := follower.Start(); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if err := follower.WaitLeader(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitLeader while another leads: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- follower.WaitLeader(ctx) }()
	follower.Close()
	select {
	case err := <-done:
		if !errors.Is(err, elect.ErrClosed) {
			t.Fatalf("WaitLeader during Close: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("WaitLeader did not return after Close")
	}
}

// IsLeader and FencingToken are safe from many goroutines while the election changes hands and
// while it is closed (the race detector checks the Go side; after Close they report no lead).
func TestConcurrentReads(t *testing.T) {
	uri := "file://" + t.TempDir()
	e, events := open(t, uri, "job")
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	next(t, events, elect.Elected)
	stop := make(chan struct{})
	reads := make(chan int)
	for i := 0; i < 4; i++ {
		go func() {
			n := 0
			for {
				select {
				case <-stop:
					reads <- n
					return
				default:
					e.IsLeader()
					e.FencingToken()
					n++
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		if err := e.Resign(context.Background()); err != nil {
			t.Fatal(err)
		}
		next(t, events, elect.Elected)
	}
	e.Close()
	if e.IsLeader() || e.FencingToken() != 0 {
		t.Error("leads after Close")
	}
	close(stop)
	for i := 0; i < 4; i++ {
		if n := <-reads; n == 0 {
			t.Error("a reader never ran")
		}
	}
}
