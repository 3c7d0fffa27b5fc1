package elect_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	elect "github.com/elect-dev/elect/bindings-go"
)

// HandOverTo: the leader names its successor, which leads next with a greater token, and the
// leader's term ends as "preempted"; a non-member, the leader itself and a caller that does not
// lead get clear errors and change nothing.
func TestHandOverToANamedMember(t *testing.T) {
	uri := "file://" + t.TempDir() + "?ttl=2s&renew=300ms&retry=200ms"
	name := uniqueName(t)
	ctx := context.Background()
	a, ae := open(t, uri, name, elect.WithID("a"))
	b, be := open(t, uri, name, elect.WithID("b"))
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t1 := next(t, ae, elect.Elected).Term
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		who       *elect.Election
		successor string
		want      error
		mentions  string
	}{
		{b, "a", elect.ErrNotLeader, "does not lead"},
		{a, "nobody", elect.ErrInvalidArgument, "`nobody` is not a member"},
		{a, "a", elect.ErrInvalidArgument, "own id"},
	}
	for _, c := range refused {
		err := c.who.HandOverTo(ctx, c.successor)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.mentions) {
			t.Errorf("HandOverTo(%q): %v, want %v mentioning %q", c.successor, err, c.want, c.mentions)
		}
	}
	if !a.IsLeader() || a.FencingToken() != t1 {
		t.Fatal("a refused hand-over changed the leadership")
	}

	// a checks against the members it was told of.
	for next(t, ae, elect.MemberJoined).Member.ID != "b" {
	}
	if err := a.HandOverTo(ctx, "b"); err != nil {
		t.Fatalf("HandOverTo(b): %v", err)
	}
	if a.IsLeader() {
		t.Fatal("a still leads after handing over")
	}
	if t2 := next(t, be, elect.Elected).Term; t2 <= t1 {
		t.Fatalf("tokens did not grow: %d then %d", t1, t2)
	}
	if ev := next(t, ae, elect.Revoked); ev.Term != t1 || ev.Reason != "preempted" {
		t.Fatalf("a's term ended as %+v, want %d preempted", ev, t1)
	}
	if s, err := a.Stats(); err != nil || s.Revocations["preempted"] != 1 || s.Revocations["resigned"] != 0 {
		t.Fatalf("a's stats: %+v, %v", s, err)
	}
}
