// Package agent implements the shared-scenario agent line protocol (tests/scenarios) over the
// Go package: one request per input line, one reply line per request, and event lines written
// as events happen. Used by cmd/elect-agent and by the package's own multi-process tests.
package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// lines writes whole lines, one at a time, with newlines inside replaced by spaces.
type lines struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lines) say(format string, args ...any) {
	line := strings.NewReplacer("\n", " ", "\r", " ").Replace(fmt.Sprintf(format, args...))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.WriteString(line + "\n")
	l.w.Flush()
}

type agent struct {
	out *lines
	// election stays set after `close` (a closed Election refuses calls with ErrClosed, as the
	// scenarios expect) until the next `open`.
	election *elect.Election
	closed   bool
	// eventsDone is closed when every event of the election has been written.
	eventsDone chan struct{}
}

// Run serves requests from in until `quit` or the end of in, then closes the election.
func Run(in io.Reader, out io.Writer) {
	a := &agent{out: &lines{w: bufio.NewWriter(out)}}
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		if !a.handle(strings.Fields(scanner.Text())) {
			break
		}
	}
	a.close()
}

func (a *agent) handle(words []string) bool {
	if len(words) == 0 {
		return true // an empty line is no request: no reply, like the Rust agent
	}
	cmd, args := words[0], words[1:]
	switch {
	case cmd == "quit":
		a.close()
		a.out.say("ok")
		return false
	case cmd == "open":
		a.open(args)
	case cmd == "close":
		a.close()
		a.out.say("ok")
	case a.election == nil:
		a.out.say("err wrong_state agent: no election; send `open <uri> <name>` first")
	case cmd == "start":
		a.reply(a.election.Start())
	case cmd == "observe":
		a.reply(a.election.Observe())
	case cmd == "is_leader":
		a.out.say("ok %t", a.election.IsLeader())
	case cmd == "token":
		a.out.say("ok %d", a.election.FencingToken())
	case cmd == "wait_leader":
		a.waitLeader(args)
	case cmd == "resign":
		a.reply(a.election.Resign(context.Background()))
	case cmd == "proclaim" && len(args) == 1:
		a.reply(a.election.Proclaim(context.Background(), args[0]))
	case cmd == "proclaim":
		a.out.say("err invalid_argument agent: usage: proclaim <value>")
	case cmd == "hand_over" && len(args) == 1:
		a.reply(a.election.HandOverTo(context.Background(), args[0]))
	case cmd == "hand_over":
		a.out.say("err invalid_argument agent: usage: hand_over <id>")
	case cmd == "leader":
		a.leader()
	case cmd == "members":
		a.members()
	default:
		a.out.say("err invalid_argument agent: unknown request `%s`", cmd)
	}
	return true
}

func (a *agent) open(args []string) {
	if a.election != nil && !a.closed {
		a.out.say("err wrong_state agent: an election is already open; send `close` first")
		return
	}
	if len(args) != 2 {
		a.out.say("err invalid_argument agent: usage: open <uri> <name>")
		return
	}
	e, err := elect.Open(context.Background(), args[0], args[1])
	if err != nil {
		a.reply(err)
		return
	}
	a.election, a.closed, a.eventsDone = e, false, make(chan struct{})
	events := e.Events() // before start, so no event is missed
	go a.writeEvents(events, a.eventsDone)
	a.out.say("ok")
}

func (a *agent) writeEvents(events <-chan elect.Event, done chan<- struct{}) {
	defer close(done)
	for ev := range events {
		switch ev.Kind {
		case elect.Elected:
			a.out.say("event elected %d", ev.Term)
		case elect.Revoked:
			a.out.say("event revoked %d %s", ev.Term, ev.Reason)
		case elect.LeaderChanged:
			if ev.Leader == nil {
				a.out.say("event leader -")
			} else if ev.Leader.Value != "" {
				a.out.say("event leader %s %d %s", ev.Leader.ID, ev.Leader.Term, ev.Leader.Value)
			} else {
				a.out.say("event leader %s %d", ev.Leader.ID, ev.Leader.Term)
			}
		case elect.ErrorEvent:
			a.out.say("event error %s", ev.Message)
		case elect.MemberJoined, elect.MemberLeft:
			value := ""
			if ev.Member.Value != "" {
				value = " " + ev.Member.Value
			}
			a.out.say("event %s %s%s", ev.Kind, ev.Member.ID, value)
		}
	}
}

// close closes the election and waits until its last events are written.
func (a *agent) close() {
	if a.election == nil || a.closed {
		return
	}
	a.election.Close()
	<-a.eventsDone
	a.closed = true
}

func (a *agent) reply(err error) {
	if err == nil {
		a.out.say("ok")
		return
	}
	var e *elect.Error
	if errors.As(err, &e) {
		a.out.say("err %s %s", e.Code, e.Message)
	} else {
		a.out.say("err internal %s", err)
	}
}

func (a *agent) waitLeader(args []string) {
	ctx := context.Background()
	if len(args) > 0 {
		ms, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			a.out.say("err invalid_argument agent: timeout `%s` is not a number", args[0])
			return
		}
		if ms >= 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
			defer cancel()
		}
	}
	err := a.election.WaitLeader(ctx)
	switch {
	case err == nil:
		a.out.say("ok true")
	case errors.Is(err, context.DeadlineExceeded):
		a.out.say("ok false")
	default:
		a.reply(err)
	}
}

func (a *agent) leader() {
	info, err := a.election.Leader(context.Background())
	switch {
	case err != nil:
		a.reply(err)
	case info == nil:
		a.out.say("ok -")
	default:
		a.out.say("ok %s %d", info.ID, info.Term)
	}
}

func (a *agent) members() {
	members, err := a.election.Members(context.Background())
	if err != nil {
		a.reply(err)
		return
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	a.out.say("ok %s", strings.Join(ids, ","))
}
