package agent

/*
#include <time.h>

// CLOCK_MONOTONIC in nanoseconds, the clock every scenario agent stamps its samples with (Go's
// own monotonic reading has an unspecified origin, so it does not compare across processes).
static long long monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
*/
import "C"

import (
	"context"
	"strconv"
	"strings"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// The agent's group mode (tests/scenarios/README.md, "Groups"), as the Rust agent's
// cli/src/agent/group.rs: `group <uri> <name> <shards> <cap|->` joins a group and campaigns,
// `leading` answers `ok <shard>,...`, each event is written as `event shard <i> <event>`, and a
// sampler reads every shard's IsLeader and token every millisecond, writing `event shard <i>
// began <token> <t1_ns>` (end of the first true sample) and `event shard <i> ended <token>
// <t0_ns>` (start of the last one) for each term this process believed in.

const sampleEvery = time.Millisecond

type groupAgent struct {
	g           *elect.Group
	stop        chan struct{}
	samplerDone chan struct{}
	eventsDone  chan struct{}
}

func monotonicNs() int64 { return int64(C.monotonic_ns()) }

func (a *agent) openGroup(args []string) {
	if a.group != nil {
		a.out.say("err wrong_state request `group`: a group is open")
		return
	}
	if len(args) != 4 {
		a.out.say("err invalid_argument agent: usage: group <uri> <name> <shards> <cap|->")
		return
	}
	shards, err := strconv.Atoi(args[2])
	if err != nil {
		a.out.say("err invalid_argument group: shards `%s` is not a whole number", args[2])
		return
	}
	capacity := 0 // no cap
	if args[3] != "-" {
		if capacity, err = strconv.Atoi(args[3]); err != nil || capacity < 1 {
			a.out.say("err invalid_argument group: cap `%s` is not a whole number above 0", args[3])
			return
		}
	}
	g, err := elect.OpenGroup(context.Background(), args[0], args[1], shards, capacity)
	if err != nil {
		a.reply(err)
		return
	}
	ga := &groupAgent{g: g, stop: make(chan struct{}), samplerDone: make(chan struct{}),
		eventsDone: make(chan struct{})}
	go func() {
		defer close(ga.eventsDone)
		for ev := range g.Events() {
			a.out.say("event shard %d %s", ev.Shard, eventBody(ev))
		}
	}()
	go ga.sample(a.out, shards)
	a.group = ga
	a.out.say("ok")
}

func (a *agent) leading() {
	if a.group == nil {
		a.out.say("err wrong_state request `leading`: no group; send `group <uri> <name> <shards> <cap|->` first")
		return
	}
	shards := a.group.g.Leading()
	words := make([]string, len(shards))
	for i, s := range shards {
		words[i] = strconv.Itoa(s)
	}
	a.out.say("ok %s", strings.Join(words, ","))
}

// closeGroup closes the group and waits for its last events and the sampler's last lines.
func (a *agent) closeGroup() {
	if a.group == nil {
		return
	}
	a.group.g.Close()
	close(a.group.stop)
	<-a.group.samplerDone
	<-a.group.eventsDone
	a.group = nil
}

type belief struct {
	token uint64
	last  int64 // start of the last true sample
}

func (ga *groupAgent) sample(out *lines, shards int) {
	defer close(ga.samplerDone)
	held := make([]*belief, shards)
	for {
		// One more round after Close: every shard then reads false and its belief ends.
		stopping := false
		select {
		case <-ga.stop:
			stopping = true
		default:
		}
		for shard := range held {
			t0 := monotonicNs()
			leading := ga.g.IsLeader(shard)
			token := ga.g.FencingToken(shard)
			t1 := monotonicNs()
			if b := held[shard]; b != nil {
				if leading && b.token == token {
					b.last = t0
					continue
				}
				out.say("event shard %d ended %d %d", shard, b.token, b.last)
				held[shard] = nil
			}
			if leading && token > 0 {
				out.say("event shard %d began %d %d", shard, token, t1)
				held[shard] = &belief{token: token, last: t0}
			}
		}
		if stopping {
			return
		}
		time.Sleep(sampleEvery)
	}
}
