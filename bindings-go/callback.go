package elect

// This file holds the only //export; its preamble may only declare (cgo copies it into two C
// files), so the C helpers live in elect.go.

/*
#include <stdint.h>
#include <elect.h>
*/
import "C"

import (
	"context"
	"runtime/cgo"
)

// goElectEvent runs on one of the library's callback threads for every event of one election: it
// copies the event (its strings live only during the callback) and queues it; it never blocks.
//
//export goElectEvent
func goElectEvent(ev *C.elect_event, handle C.uintptr_t) {
	q, ok := cgo.Handle(handle).Value().(*queue)
	if !ok {
		return
	}
	q.push(copyEvent(ev))
}

func copyEvent(ev *C.elect_event) Event {
	e := Event{Term: uint64(ev.term)}
	switch ev.kind {
	case C.ELECT_EVENT_ELECTED:
		e.Kind = Elected
	case C.ELECT_EVENT_REVOKED:
		e.Kind = Revoked
		e.Reason = C.GoString(C.elect_reason_name(C.int32_t(ev.reason)))
	case C.ELECT_EVENT_LEADER_CHANGED:
		e.Kind = LeaderChanged
		if ev.leader_id != nil {
			e.Leader = &LeaderInfo{
				ID:    C.GoString(ev.leader_id),
				Value: C.GoString(ev.leader_value),
				Term:  uint64(ev.term),
			}
		}
	case C.ELECT_EVENT_MEMBER_JOINED, C.ELECT_EVENT_MEMBER_LEFT:
		e.Kind = MemberJoined
		if ev.kind == C.ELECT_EVENT_MEMBER_LEFT {
			e.Kind = MemberLeft
		}
		e.Member = &Member{ID: C.GoString(ev.member_id), Value: C.GoString(ev.member_value)}
	default:
		e.Kind = ErrorEvent
		if ev.message != nil {
			e.Message = C.GoString(ev.message)
		}
	}
	return e
}

// goElectLog runs on the library's log thread for every record: it copies the record (its
// strings live only during the call) and hands it to the slog handler.
//
//export goElectLog
func goElectLog(rec *C.elect_log_record) {
	str := func(p *C.char) string {
		if p == nil {
			return ""
		}
		return C.GoString(p)
	}
	r := logRecord(rec.level, str(rec.target), str(rec.message), str(rec.election), str(rec.store),
		str(rec.id), uint64(rec.term), str(rec.fields))
	h := logHandler()
	if h.Enabled(context.Background(), r.Level) {
		_ = h.Handle(context.Background(), r)
	}
}
