package elect

/*
#include <stdint.h>
#include <elect.h>

extern void electGoLog(const elect_log_record *record, void *user_data);

static elect_status elect_go_set_logger(int32_t min_level) {
    return elect_set_logger(min_level == 0 ? NULL : electGoLog, NULL, min_level);
}
*/
import "C"

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LevelTrace is the level of the library's most verbose records, below slog.LevelDebug.
const LevelTrace = slog.LevelDebug - 4

var logging struct {
	sync.Mutex
	handler slog.Handler // nil: slog.Default()'s handler at the time of each record
}

func init() {
	// Leadership changes and store errors reach slog's default logger unless told otherwise.
	_ = setLogLevel(slog.LevelInfo)
}

// SetLogHandler sends the library's log records (leadership changes at Info, lost leaderships
// and store errors at Warn, connection trouble, ...) to h: nil means slog.Default()'s handler,
// which is the default. Each record carries the attributes target, election, store (password
// as ***), id and term where it has them, then its other fields.
//
// The level filter runs in the library, before a record is formatted: records go through when
// h is enabled for their level at the time of this call (Info and above for slog's default).
// They are delivered one at a time on a thread of the library; a slow handler never slows an
// election down (records it cannot take in time are dropped and counted).
func SetLogHandler(h slog.Handler) error {
	logging.Lock()
	logging.handler = h
	logging.Unlock()
	ctx := context.Background()
	if h == nil {
		h = slog.Default().Handler()
	}
	for _, l := range []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		if h.Enabled(ctx, l) {
			return setLogLevel(l)
		}
	}
	return setLogLevel(slog.LevelError + 1)
}

// setLogLevel asks the library for records from level up (above Error: none).
func setLogLevel(level slog.Level) error {
	min := C.int32_t(0)
	switch {
	case level <= LevelTrace:
		min = C.ELECT_LOG_TRACE
	case level <= slog.LevelDebug:
		min = C.ELECT_LOG_DEBUG
	case level <= slog.LevelInfo:
		min = C.ELECT_LOG_INFO
	case level <= slog.LevelWarn:
		min = C.ELECT_LOG_WARN
	case level <= slog.LevelError:
		min = C.ELECT_LOG_ERROR
	}
	return call(func() C.elect_status { return C.elect_go_set_logger(min) })
}

func logHandler() slog.Handler {
	logging.Lock()
	defer logging.Unlock()
	if logging.handler != nil {
		return logging.handler
	}
	return slog.Default().Handler()
}

// logRecord turns a copied record into an slog.Record for the handler.
func logRecord(level C.int32_t, target, message, election, store, id string, term uint64, fields string) slog.Record {
	l := slog.LevelInfo
	switch level {
	case C.ELECT_LOG_ERROR:
		l = slog.LevelError
	case C.ELECT_LOG_WARN:
		l = slog.LevelWarn
	case C.ELECT_LOG_DEBUG:
		l = slog.LevelDebug
	case C.ELECT_LOG_TRACE:
		l = LevelTrace
	}
	r := slog.NewRecord(time.Now(), l, message, 0)
	r.AddAttrs(slog.String("target", target))
	for _, kv := range [][2]string{{"election", election}, {"store", store}, {"id", id}} {
		if kv[1] != "" {
			r.AddAttrs(slog.String(kv[0], kv[1]))
		}
	}
	if term != 0 {
		r.AddAttrs(slog.Uint64("term", term))
	}
	if fields != "" {
		r.AddAttrs(slog.String("fields", fields))
	}
	return r
}
