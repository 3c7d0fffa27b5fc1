package elect_test

import (
	"context"
	"errors"
	"testing"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// Two instances of a group in one process share four shards 2/2 (counted from their events);
// when one closes, the other leads all four. Bad input names the bad part.
func TestGroupSharesShardsAndTakesOverOnClose(t *testing.T) {
	ctx := context.Background()
	uri := withQuery("file://"+t.TempDir(), "ttl=2s&renew=300ms")
	a, err := elect.OpenGroup(ctx, uri, "jobs", 4, 0, elect.WithID("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := elect.OpenGroup(ctx, uri, "jobs", 4, 0, elect.WithID("b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	leads := map[*elect.Group]map[int]bool{a: {}, b: {}}
	events := map[*elect.Group]<-chan elect.Event{a: a.Events(), b: b.Events()}
	await := func(want map[*elect.Group]int) {
		deadline := time.After(wait)
		for {
			done := true
			for g, n := range want {
				done = done && len(leads[g]) == n
			}
			if done {
				return
			}
			var ev elect.Event
			var g *elect.Group
			select {
			case ev = <-events[a]:
				g = a
			case ev = <-events[b]:
				g = b
			case <-deadline:
				t.Fatalf("wanted %v leaderships, have a=%v b=%v", want, leads[a], leads[b])
			}
			switch ev.Kind {
			case elect.Elected:
				leads[g][ev.Shard] = true
			case elect.Revoked:
				delete(leads[g], ev.Shard)
			}
		}
	}
	await(map[*elect.Group]int{a: 2, b: 2})
	for _, s := range a.Leading() {
		if !a.IsLeader(s) || b.IsLeader(s) || a.FencingToken(s) == 0 || b.FencingToken(s) != 0 {
			t.Fatalf("shard %d: one leader with a token expected", s)
		}
	}
	if got := len(a.Leading()) + len(b.Leading()); got != 4 {
		t.Fatalf("%d shards led, want 4", got)
	}
	b.Close()
	events[b] = nil // closed: never selected again
	await(map[*elect.Group]int{a: 4})
	if got := a.Leading(); len(got) != 4 {
		t.Fatalf("a leads %v after b closed", got)
	}

	_, err = elect.OpenGroup(ctx, uri, "jobs", 0, 0)
	var e *elect.Error
	if !errors.As(err, &e) || e.Code != elect.CodeInvalidArgument {
		t.Fatalf("0 shards: %v", err)
	}
}
