package elect

/*
#include <stdint.h>
#include <elect.h>
*/
import "C"

import (
	"context"
	"errors"
	"sync"
	"time"
)

// watchSlice bounds how long the watcher of a released Term keeps one OS thread blocked in C.
// The end of the term itself wakes the watcher at once, not at the next slice.
const watchSlice = time.Second

// Term is one term of leadership, held by the work done in it (from BeginTerm). Its Context is
// cancelled the moment the term ends (whatever the reason, before the Revoked event arrives)
// and, with the drain option, when Resign or Close asks the work to stop: they then wait,
// never past the lease deadline, until every Term of the term is released before giving up
// the lease. Call Release when the work is done.
type Term struct {
	token  uint64
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	held   *C.elect_term // nil once released
}

// LeaseRemaining is the lease left to this leader (until its deadline), 0 when not leading.
// Cheap (no I/O): check it before starting work that must finish within the term.
func (e *Election) LeaseRemaining() time.Duration {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.c == nil {
		return 0
	}
	return durationMS(C.elect_lease_remaining_ms(e.c))
}

// BeginTerm starts work in the current term if this candidate leads with at least minLease of
// lease left (0: any), so that work which could not finish before the deadline is not
// started; otherwise it fails with ErrNotLeader. The Term's Context derives from ctx.
func (e *Election) BeginTerm(ctx context.Context, minLease time.Duration) (*Term, error) {
	var held, watched *C.elect_term
	begin := func(out **C.elect_term) error {
		return e.with(func(c *C.elect_election) C.elect_status {
			return C.elect_term_begin(c, C.int64_t(minLease.Milliseconds()), out)
		})
	}
	if err := begin(&held); err != nil {
		return nil, err
	}
	// The watcher's own handle, so that Release frees the holder at once while the watcher
	// may still be blocked in C; a draining resign cancels the term first, which wakes it.
	if err := begin(&watched); err != nil {
		C.elect_term_free(held)
		return nil, err
	}
	t := &Term{token: uint64(C.elect_term_token(held)), held: held}
	t.ctx, t.cancel = context.WithCancel(ctx)
	go t.watch(watched)
	return t, nil
}

// watch cancels the Context when the term ends; it returns within watchSlice of Release.
func (t *Term) watch(w *C.elect_term) {
	defer C.elect_term_free(w)
	for t.ctx.Err() == nil {
		if C.elect_term_wait(w, C.int64_t(watchSlice.Milliseconds())) == C.ELECT_OK {
			t.cancel()
			return
		}
	}
}

// Context is cancelled when the term ends, when a draining Resign/Close asks the work to
// stop, when the parent context ends, or at Release.
func (t *Term) Context() context.Context { return t.ctx }

// Token is the fencing token of the term.
func (t *Term) Token() uint64 { return t.token }

// Remaining is the lease left to the term, 0 once it is over or released.
func (t *Term) Remaining() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held == nil {
		return 0
	}
	return durationMS(C.elect_term_remaining_ms(t.held))
}

// Release ends this Term's part in the work of the term (what a draining Resign or Close
// waits for) and cancels its Context. Idempotent.
func (t *Term) Release() {
	t.cancel()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held != nil {
		C.elect_term_free(t.held)
		t.held = nil
	}
}

// LeaderOnly runs job if this candidate leads with at least minLease of lease left, with the
// term's context (cancelled when the term ends) and fencing token, and releases the term when
// job returns. It returns (false, nil) without running job when not leading or when the lease
// left is shorter than minLease.
func (e *Election) LeaderOnly(ctx context.Context, minLease time.Duration, job func(ctx context.Context, token uint64) error) (bool, error) {
	t, err := e.BeginTerm(ctx, minLease)
	if errors.Is(err, ErrNotLeader) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer t.Release()
	return true, job(t.ctx, t.token)
}

func durationMS(ms C.int64_t) time.Duration {
	if ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}
