package elect_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// leadingOn opens an election on s, starts it and waits until it leads.
func leadingOn(t *testing.T, s store, opts ...elect.Option) (*elect.Election, <-chan elect.Event) {
	t.Helper()
	e, events := open(t, s.uri, uniqueName(t), opts...)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	next(t, events, elect.Elected)
	return e, events
}

func TestLeaseRemainingAndTheMinimumLease(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		e, _ := open(t, s.uri, uniqueName(t))
		if got := e.LeaseRemaining(); got != 0 {
			t.Fatalf("LeaseRemaining before leading: %v", got)
		}
		if ran, err := e.LeaderOnly(context.Background(), 0, nil); ran || err != nil {
			t.Fatalf("LeaderOnly ran while not leading: %v %v", ran, err)
		}
		if err := e.Start(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := e.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		if left := e.LeaseRemaining(); left <= 0 || left > 2*time.Second { // ttl=2s in stores()
			t.Fatalf("LeaseRemaining while leading: %v", left)
		}
		if _, err := e.BeginTerm(ctx, time.Minute); !errors.Is(err, elect.ErrNotLeader) {
			t.Fatalf("BeginTerm with a minimum longer than the lease: %v, want ErrNotLeader", err)
		}
		tooLong := func(context.Context, uint64) error { t.Error("a run that cannot finish started"); return nil }
		if ran, err := e.LeaderOnly(ctx, time.Minute, tooLong); ran || err != nil {
			t.Fatalf("LeaderOnly(1m): %v %v", ran, err)
		}
		var got uint64
		ran, err := e.LeaderOnly(ctx, 100*time.Millisecond, func(_ context.Context, token uint64) error {
			got = token
			return nil
		})
		if !ran || err != nil || got == 0 || got != e.FencingToken() {
			t.Fatalf("LeaderOnly(100ms): ran=%v err=%v token=%d, election's %d", ran, err, got, e.FencingToken())
		}
	})
}

func TestTermContextIsCancelledWhenTheTermEnds(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		e, events := leadingOn(t, s)
		term, err := e.BeginTerm(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer term.Release()
		if term.Token() != e.FencingToken() || term.Remaining() <= 0 {
			t.Fatalf("term %d (%v left), election's token %d", term.Token(), term.Remaining(), e.FencingToken())
		}
		if term.Context().Err() != nil {
			t.Fatal("the context of a live term is done")
		}
		go e.Resign(context.Background())
		select {
		case <-term.Context().Done():
		case <-time.After(wait):
			t.Fatal("the term's context was not cancelled when the term ended")
		}
		next(t, events, elect.Revoked)
	})
}

func TestDrainWaitsForTheTermsWork(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store) {
		e, _ := leadingOn(t, s, elect.WithDrain(5*time.Second))
		var ended atomic.Bool
		started := make(chan struct{})
		go func() {
			_, _ = e.LeaderOnly(context.Background(), 0, func(ctx context.Context, _ uint64) error {
				close(started)
				<-ctx.Done()
				time.Sleep(300 * time.Millisecond) // the wind-down the drain must wait for
				ended.Store(true)
				return nil
			})
		}()
		<-started
		if err := e.Resign(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !ended.Load() {
			t.Fatal("Resign gave up the lease before the term's work ended")
		}
	})
}
