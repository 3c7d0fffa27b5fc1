package elect

/*
#include <elect.h>
*/
import "C"

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Stats is one election's metrics at one instant (Election.Stats).
type Stats struct {
	TermsWon uint64
	// Revocations counts ended leaderships by reason ("resigned", "lease_expired", ...); every
	// reason is present.
	Revocations map[string]uint64
	// StoreErrors counts store errors the election recovered from.
	StoreErrors uint64
	// Reconnects counts the times the store answered again after an error.
	Reconnects uint64
	// Failovers counts the times the leadership moved to another candidate, as seen here.
	Failovers uint64
	// LastFailover is when it last did; zero if it has not.
	LastFailover time.Time
	// LeaseRemaining is how long this leader may still believe it leads; 0 when not leading.
	LeaseRemaining time.Duration
	// StoreRTT is the round trip of the last confirmed renewal; 0 before the first.
	StoreRTT time.Duration
	// StoreConnected is false from a store error until the store answers again.
	StoreConnected bool
	// Healthy is false when the election is closed, or when it still says it leads past its
	// lease deadline (a wedged leader).
	Healthy bool
}

// Stats reads the election's metrics: atomic loads in the library, no lock held across
// calls, no store round trip, so it is fine for every scrape and health probe.
func (e *Election) Stats() (Stats, error) {
	var s C.elect_stats_snapshot
	err := e.with(func(c *C.elect_election) C.elect_status { return C.elect_stats(c, &s) })
	if err != nil {
		return Stats{Healthy: false}, err
	}
	out := Stats{
		TermsWon:       uint64(s.terms_won),
		Revocations:    make(map[string]uint64, len(s.revocations)-1),
		StoreErrors:    uint64(s.store_errors),
		Reconnects:     uint64(s.reconnects),
		Failovers:      uint64(s.failovers),
		StoreConnected: bool(s.store_connected),
		Healthy:        bool(s.healthy),
	}
	for i := 1; i < len(s.revocations); i++ { // indexed by elect_revoke_reason; 0 is none
		out.Revocations[C.GoString(C.elect_reason_name(C.int32_t(i)))] = uint64(s.revocations[i])
	}
	if s.last_failover_unix_ms >= 0 {
		out.LastFailover = time.UnixMilli(int64(s.last_failover_unix_ms))
	}
	if s.lease_remaining_ns > 0 {
		out.LeaseRemaining = time.Duration(s.lease_remaining_ns)
	}
	if s.store_rtt_ns > 0 {
		out.StoreRTT = time.Duration(s.store_rtt_ns)
	}
	return out, nil
}

// ErrUnhealthy is what Healthz returns for a wedged leader.
var ErrUnhealthy = errors.New("elect: the election still says it leads past its lease deadline")

// Healthz is nil while the election is healthy, read locally (no store round trip): an error
// when it is closed, or when it still says it leads past its lease deadline. It fits a
// /healthz check such as client-go's HealthzAdaptor.
func (e *Election) Healthz() error {
	s, err := e.Stats()
	if err != nil {
		return err
	}
	if !s.Healthy {
		return ErrUnhealthy
	}
	return nil
}

// HealthzHandler serves 200 while every election is healthy (Healthz), 503 otherwise, with a
// JSON body per election: ok, leading, store_connected, lease_remaining_ms, error.
func HealthzHandler(elections ...*Election) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		status := http.StatusOK
		body := make([]map[string]any, 0, len(elections))
		for _, e := range elections {
			s, _ := e.Stats()
			item := map[string]any{"id": e.ID(), "ok": true, "leading": e.IsLeader(),
				"store_connected": s.StoreConnected, "lease_remaining_ms": s.LeaseRemaining.Milliseconds()}
			if err := e.Healthz(); err != nil {
				status = http.StatusServiceUnavailable
				item["ok"], item["error"] = false, err.Error()
			}
			body = append(body, item)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
}
