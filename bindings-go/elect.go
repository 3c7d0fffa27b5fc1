package elect

/*
#cgo pkg-config: elect
#include <stdint.h>
#include <stdlib.h>
#include <elect.h>

extern void electGoCallback(const elect_event *ev, void *user_data);

// Passes the cgo.Handle as user_data: an integer the C side hands back, never a Go pointer.
static elect_status elect_go_open(const char *uri, const char *name, const elect_options *opts,
                                  uintptr_t handle, elect_election **out) {
    return elect_open_with(uri, name, opts, electGoCallback, (void *)handle, out);
}
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"
)

// Election is one election on one store: campaigned (Start) or observed (Observe). Its methods
// may be called from any goroutine. Close it when done: it resigns and frees the native handle.
type Election struct {
	// mu keeps the native handle alive while calls run: calls hold it shared, Close exclusively,
	// because the C ABI forbids any call during or after elect_close.
	mu     sync.RWMutex
	c      *C.elect_election
	handle cgo.Handle
	queue  *queue
	id     string
}

// Open parses uri (e.g. "file:///var/lib/elect?ttl=5s" or "etcd://h1:2379/prefix"), connects to
// its store and returns an idle election named name. Options given here win over the URI's
// query parameters. Errors are *Error with CodeInvalidArgument for bad input, naming the bad part.
//
// Connecting waits up to the connect_timeout option; when ctx ends first, Open returns
// ctx.Err() at once and the election, should the connection still succeed, is closed.
func Open(ctx context.Context, uri, name string, opts ...Option) (*Election, error) {
	cOpts, err := nativeOptions(uri, name, opts)
	if err != nil {
		return nil, err
	}
	q := newQueue()
	e := &Election{queue: q, handle: cgo.NewHandle(q)}
	cURI, cName := C.CString(uri), C.CString(name)
	err = openOrAbandon(ctx, func() error {
		defer C.free(unsafe.Pointer(cURI))
		defer C.free(unsafe.Pointer(cName))
		defer C.elect_options_free(cOpts)
		err := call(func() C.elect_status {
			return C.elect_go_open(cURI, cName, cOpts, C.uintptr_t(e.handle), &e.c)
		})
		if err != nil {
			e.handle.Delete()
		} else {
			e.id = C.GoString(C.elect_id(e.c))
		}
		return err
	}, func() { e.Close() })
	if err != nil {
		return nil, err
	}
	return e, nil
}

// openOrAbandon runs open (a native open, which waits up to connect_timeout) on a goroutine of
// its own and returns its error, or ctx.Err() as soon as ctx ends; then nobody will get what
// open opens, so abandon closes it once open succeeds after all.
func openOrAbandon(ctx context.Context, open func() error, abandon func()) error {
	opened := make(chan error, 1)
	go func() { opened <- open() }()
	select {
	case err := <-opened:
		return err
	case <-ctx.Done():
		go func() {
			if <-opened == nil {
				abandon()
			}
		}()
		return ctx.Err()
	}
}

// await runs f, which waits on the store, on a goroutine of its own and returns its error, or
// ctx.Err() as soon as ctx ends. A C call cannot be interrupted, so f then runs to its end in
// the background (bounded by the election's own timeouts) and its result is dropped.
func await(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// nativeOptions checks uri and name for NUL bytes and builds the options list (the caller
// frees it with elect_options_free).
func nativeOptions(uri, name string, opts []Option) (*C.elect_options, error) {
	if err := noNUL("uri", uri); err != nil {
		return nil, err
	}
	if err := noNUL("name", name); err != nil {
		return nil, err
	}
	var kvs []keyValue
	for _, opt := range opts {
		opt(&kvs)
	}
	cOpts := C.elect_options_new()
	for _, kv := range kvs {
		err := noNUL("option "+kv.key, kv.key+kv.value)
		if err == nil {
			err = setOption(cOpts, kv.key, kv.value)
		}
		if err != nil {
			C.elect_options_free(cOpts)
			return nil, err
		}
	}
	return cOpts, nil
}

func setOption(opts *C.elect_options, key, value string) error {
	cKey, cValue := C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(cKey))
	defer C.free(unsafe.Pointer(cValue))
	return call(func() C.elect_status { return C.elect_options_set(opts, cKey, cValue) })
}

// call runs one fallible C call and turns its status into an *Error with the thread-local
// message, read on the same OS thread (hence the lock: Go may move a goroutine between threads).
func call(f func() C.elect_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := f()
	if status == C.ELECT_OK {
		return nil
	}
	return errorf(Code(status), C.GoString(C.elect_last_error()))
}

func noNUL(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errorf(CodeInvalidArgument, "`"+what+"` contains a NUL byte")
	}
	return nil
}

// with runs f with the native handle, or fails with ErrClosed after Close.
func (e *Election) with(f func(*C.elect_election) C.elect_status) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.c == nil {
		return errorf(CodeClosed, "the election is closed")
	}
	return call(func() C.elect_status { return f(e.c) })
}

// ID is this candidate's id.
func (e *Election) ID() string { return e.id }

// Start begins campaigning in the background.
func (e *Election) Start() error {
	return e.with(func(c *C.elect_election) C.elect_status { return C.elect_start(c) })
}

// Observe follows the leader and the members without campaigning (LeaderChanged, MemberJoined
// and MemberLeft events).
func (e *Election) Observe() error {
	return e.with(func(c *C.elect_election) C.elect_status { return C.elect_observe(c) })
}

// IsLeader reports whether this candidate leads now: elected, and its lease deadline has not
// passed. Cheap (no I/O): call it before every protected action.
func (e *Election) IsLeader() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.c != nil && bool(C.elect_is_leader(e.c))
}

// FencingToken is the token of the current term, 0 when not leading. Hand it to every resource
// the leader writes, so that a stale leader's writes can be rejected.
func (e *Election) FencingToken() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.c == nil {
		return 0
	}
	return uint64(C.elect_fencing_token(e.c))
}

// WaitLeader blocks until this candidate leads (nil), ctx ends (ctx.Err()) or the election is
// closed (ErrClosed). It needs Start first (ErrWrongState).
func (e *Election) WaitLeader(ctx context.Context) error {
	for {
		// Taken before the check, so an Elected event after the check still wakes us.
		changed := e.queue.changed()
		err := e.with(func(c *C.elect_election) C.elect_status { return C.elect_wait_leader(c, 0) })
		if !errors.Is(err, ErrTimeout) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Resign gives up the leadership now (the next candidate takes over at once) and campaigns
// again after the silence option. A no-op when not leading. It waits for the store to delete
// the leadership, or until ctx ends (ctx.Err(); the resign still completes in the background).
func (e *Election) Resign(ctx context.Context) error {
	return await(ctx, func() error {
		return e.with(func(c *C.elect_election) C.elect_status { return C.elect_resign(c) })
	})
}

// Proclaim publishes value as this leader's value without a new election: observers get
// LeaderChanged with the new value and the same term. The store writes it only while this
// candidate holds the leadership; otherwise (not leading, term ended) it returns ErrNotLeader
// and nothing changes. It returns ctx.Err() when ctx ends before the store answers (the
// proclaim still completes in the background; proclaiming again is safe).
func (e *Election) Proclaim(ctx context.Context, value string) error {
	return await(ctx, func() error {
		cvalue := C.CString(value)
		defer C.free(unsafe.Pointer(cvalue))
		return e.with(func(c *C.elect_election) C.elect_status { return C.elect_proclaim(c, cvalue) })
	})
}

// HandOverTo hands the leadership to the member with id successor, without a gap or an
// overlap: the term's work is asked to stop (as by Resign, with the drain option), then one
// store operation gives the leadership up and reserves it for successor, which takes it at once
// while the other candidates keep waiting (the reservation lapses after one ttl). This
// candidate gets Revoked with reason "preempted" and campaigns again after the silence option.
// It returns once the store has the leadership back; ErrNotLeader (nothing changed) when this
// candidate does not lead; ErrInvalidArgument when successor is not a member as this candidate
// last saw them, or is this candidate. It returns ctx.Err() when ctx ends first (the hand-over
// still completes in the background).
func (e *Election) HandOverTo(ctx context.Context, successor string) error {
	return await(ctx, func() error {
		cid := C.CString(successor)
		defer C.free(unsafe.Pointer(cid))
		return e.with(func(c *C.elect_election) C.elect_status { return C.elect_hand_over_to(c, cid) })
	})
}

// Leader reads who leads now from the store; nil when nobody does. It returns ctx.Err() when
// ctx ends before the store answers.
func (e *Election) Leader(ctx context.Context) (*LeaderInfo, error) {
	var leader *LeaderInfo
	err := await(ctx, func() error {
		var info C.elect_leader_info
		err := e.with(func(c *C.elect_election) C.elect_status { return C.elect_leader(c, &info) })
		if err != nil {
			return err
		}
		defer C.elect_leader_info_free(&info)
		if info.id != nil {
			leader = &LeaderInfo{ID: C.GoString(info.id), Value: C.GoString(info.value), Term: uint64(info.term)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return leader, nil
}

// Members reads the live candidates of the election from the store. It returns ctx.Err() when
// ctx ends before the store answers.
func (e *Election) Members(ctx context.Context) ([]Member, error) {
	var members []Member
	err := await(ctx, func() error {
		var list C.elect_member_list
		err := e.with(func(c *C.elect_election) C.elect_status { return C.elect_members(c, &list) })
		if err != nil {
			return err
		}
		defer C.elect_members_free(&list)
		members = make([]Member, 0, int(list.len))
		for _, m := range unsafe.Slice(list.items, int(list.len)) {
			members = append(members, Member{ID: C.GoString(m.id), Value: C.GoString(m.value)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

// Events returns the election's events, in order; the channel is closed after Close. Events
// that happen before the first call are not queued, so call it before Start. Keep reading until
// it is closed (the forwarding goroutine waits for the reader).
func (e *Election) Events() <-chan Event {
	return e.queue.events()
}

// Close resigns if leading, leaves the election and frees the native handle; events queued
// before (e.g. Revoked "closed") are still delivered. Idempotent.
func (e *Election) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return nil
	}
	C.elect_close(e.c) // no callback runs after it returns, so the handle can go
	e.c = nil
	e.handle.Delete()
	e.queue.close()
	return nil
}
