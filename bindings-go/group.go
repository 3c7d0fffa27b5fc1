package elect

/*
#include <stdint.h>
#include <stdlib.h>
#include <elect.h>

extern void electGoGroupCallback(size_t shard, const elect_event *ev, void *user_data);

// Passes the cgo.Handle as user_data, as elect_go_open does.
static elect_status elect_go_group_open(const char *uri, const char *name, size_t shards,
                                        size_t cap, const elect_options *opts, uintptr_t handle,
                                        elect_group **out) {
    return elect_group_open(uri, name, shards, cap, opts, electGoGroupCallback, (void *)handle, out);
}
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Group is one instance of a group of elections (shards): the group's live instances share the
// shards' leaderships evenly and hand them over without a gap as instances come and go (see
// docs/group.md). Its methods may be called from any goroutine. Close it when done.
type Group struct {
	mu     sync.RWMutex // as Election's: calls shared, Close exclusive
	c      *C.elect_group
	handle cgo.Handle
	queue  *queue
	shards int
}

// OpenGroup joins group name on uri with shards elections (named "<name>/<i>") and campaigns at
// once. capacity is the most leaderships this instance takes (0: no cap). Options as for Open;
// errors are *Error (CodeInvalidArgument for bad input, naming the bad part). Connecting waits
// up to connect_timeout; when ctx ends first, OpenGroup returns ctx.Err() and closes the group
// should it still open.
func OpenGroup(ctx context.Context, uri, name string, shards, capacity int, opts ...Option) (*Group, error) {
	if shards < 0 || capacity < 0 {
		return nil, errorf(CodeInvalidArgument, "shards and capacity must not be negative")
	}
	cOpts, err := nativeOptions(uri, name, opts)
	if err != nil {
		return nil, err
	}
	q := newQueue()
	q.events() // the group campaigns from the start: queue its first events too
	g := &Group{queue: q, handle: cgo.NewHandle(q), shards: shards}
	cURI, cName := C.CString(uri), C.CString(name)
	err = openOrAbandon(ctx, func() error {
		defer C.free(unsafe.Pointer(cURI))
		defer C.free(unsafe.Pointer(cName))
		defer C.elect_options_free(cOpts)
		err := call(func() C.elect_status {
			return C.elect_go_group_open(cURI, cName, C.size_t(shards), C.size_t(capacity), cOpts,
				C.uintptr_t(g.handle), &g.c)
		})
		if err != nil {
			g.handle.Delete()
		}
		return err
	}, func() { g.Close() })
	if err != nil {
		return nil, err
	}
	return g, nil
}

// IsLeader reports whether this instance leads shard now (no I/O).
func (g *Group) IsLeader(shard int) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.c != nil && shard >= 0 && bool(C.elect_group_is_leader(g.c, C.size_t(shard)))
}

// FencingToken is the token of this instance's term in shard, 0 when it does not lead it.
func (g *Group) FencingToken(shard int) uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.c == nil || shard < 0 {
		return 0
	}
	return uint64(C.elect_group_fencing_token(g.c, C.size_t(shard)))
}

// Leading lists the shards this instance leads now, in order.
func (g *Group) Leading() []int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.c == nil {
		return nil
	}
	buf := make([]C.size_t, g.shards)
	var first *C.size_t
	if len(buf) > 0 {
		first = &buf[0]
	}
	n := int(C.elect_group_leading(g.c, first, C.size_t(len(buf))))
	out := make([]int, 0, n)
	for _, s := range buf[:min(n, len(buf))] {
		out = append(out, int(s))
	}
	return out
}

// Events returns the group's events in order, each with its Shard, from the first one (the
// group campaigns from OpenGroup on); the channel is closed after Close. Keep reading it until
// it is closed: events wait in memory until read.
func (g *Group) Events() <-chan Event {
	return g.queue.events()
}

// Close leaves every shard (each leadership goes at once to an instance waiting for it) and
// frees the native handle. Idempotent.
func (g *Group) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.c == nil {
		return nil
	}
	C.elect_group_close(g.c)
	g.c = nil
	g.handle.Delete()
	g.queue.close()
	return nil
}
