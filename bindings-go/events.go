package elect

import (
	"fmt"
	"sync"
)

// EventKind says which event an Event is.
type EventKind int

const (
	// Elected: this candidate leads, with fencing token Term.
	Elected EventKind = iota + 1
	// Revoked: this candidate's leadership of Term ended, for Reason. Always delivered before
	// the Elected of a later term.
	Revoked
	// LeaderChanged: Leader leads now (nil while nobody does).
	LeaderChanged
	// ErrorEvent: something went wrong that the election recovers from by itself (Message).
	ErrorEvent
	// MemberJoined: Member joined the election (every member present when following starts is
	// reported as joined first).
	MemberJoined
	// MemberLeft: Member left (closed, or its record expired after a crash).
	MemberLeft
)

func (k EventKind) String() string {
	switch k {
	case Elected:
		return "elected"
	case Revoked:
		return "revoked"
	case LeaderChanged:
		return "leader"
	case ErrorEvent:
		return "error"
	case MemberJoined:
		return "member_joined"
	case MemberLeft:
		return "member_left"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one event of one election.
type Event struct {
	Kind EventKind
	// Term is the fencing token of the term for Elected and Revoked, the leader's for
	// LeaderChanged.
	Term uint64
	// Reason for Revoked: "resigned", "lease_expired", "session_lost", "store_unreachable",
	// "closed" or "preempted" (handed over: HandOverTo, or priority preemption).
	Reason string
	// Leader for LeaderChanged; nil while nobody leads.
	Leader *LeaderInfo
	// Message for ErrorEvent.
	Message string
	// Member for MemberJoined and MemberLeft.
	Member *Member
	// Shard is the shard of a Group's event (0 for an Election's).
	Shard int
}

// LeaderInfo is who leads an election.
type LeaderInfo struct {
	ID    string
	Value string
	Term  uint64
}

// Member is a live candidate of an election.
type Member struct {
	ID    string
	Value string
}

// queue takes events from the callback without ever blocking it and hands them, in order, to
// the channel of Events (if anyone asked for it); it also wakes WaitLeader on every change.
type queue struct {
	mu      sync.Mutex
	pending []Event
	wake    chan struct{} // closed and replaced on every push and on close
	out     chan Event    // nil until Events is called
	closed  bool
}

func newQueue() *queue {
	return &queue{wake: make(chan struct{})}
}

func (q *queue) push(ev Event) {
	q.mu.Lock()
	if q.out != nil {
		q.pending = append(q.pending, ev)
	}
	q.wakeLocked()
	q.mu.Unlock()
}

// changed returns a channel closed at the next event or close.
func (q *queue) changed() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.wake
}

func (q *queue) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// close marks the end: after the events already queued, the channel of Events is closed.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.wakeLocked()
	q.mu.Unlock()
}

// events starts the forwarding goroutine on the first call and returns its channel.
func (q *queue) events() <-chan Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.out == nil {
		q.out = make(chan Event, 64)
		go q.forward()
	}
	return q.out
}

func (q *queue) forward() {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			if q.closed {
				q.mu.Unlock()
				close(q.out)
				return
			}
			wake := q.wake
			q.mu.Unlock()
			<-wake
			continue
		}
		ev := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		q.out <- ev
	}
}
