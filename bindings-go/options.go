package elect

import (
	"fmt"
	"time"
)

// Every option of the engine has one With* function here, named after its connection-string
// option; this file is the Go side of the options table.

// Option sets one election option in code; it wins over the same query parameter of the URI
// and is validated the same way when Open runs.
type Option func(*[]keyValue)

type keyValue struct{ key, value string }

// WithOption sets any option by its connection-string name (e.g. "connect_timeout", or a store's
// TLS options).
func WithOption(key, value string) Option {
	return func(kv *[]keyValue) { *kv = append(*kv, keyValue{key, value}) }
}

// WithTTL sets how long a lease lives without renewal (default 10s).
func WithTTL(d time.Duration) Option { return WithOption("ttl", millis(d)) }

// WithRenew sets the renewal interval (default ttl/3); it must be shorter than the TTL.
func WithRenew(d time.Duration) Option { return WithOption("renew", millis(d)) }

// WithMargin sets the safety margin subtracted from the lease deadline (default ttl/10): the
// leader stops believing it leads this long before the store could elect another.
func WithMargin(d time.Duration) Option { return WithOption("margin", millis(d)) }

// WithRetry sets the pause between attempts after a store error (default 1s).
func WithRetry(d time.Duration) Option { return WithOption("retry", millis(d)) }

// WithSilence sets the pause after losing or resigning before campaigning again (default 0).
func WithSilence(d time.Duration) Option { return WithOption("silence", millis(d)) }

// WithConnectTimeout bounds each connection attempt to the store (default 5s).
func WithConnectTimeout(d time.Duration) Option { return WithOption("connect_timeout", millis(d)) }

// WithDrain sets how long Resign and Close wait for the term's work (its held Terms, see
// BeginTerm) to stop before giving up the lease, never past the lease deadline (default 0:
// do not wait). The successor then starts only after the predecessor's last write.
func WithDrain(d time.Duration) Option { return WithOption("drain", millis(d)) }

// WithPriority sets this candidate's priority (default 0; higher is preferred): a leader hands
// over, without a gap or an overlap, to a candidate of higher priority that has been in the
// election for one TTL. Equal priorities never preempt.
func WithPriority(p int32) Option { return WithOption("priority", fmt.Sprint(p)) }

// WithPreempt sets whether this candidate takes over from a leader of lower priority (default
// true once a priority is set; false: it waits for its turn).
func WithPreempt(on bool) Option { return WithOption("preempt", fmt.Sprint(on)) }

// WithHoldoff makes the store elect nobody for d after this leader is lost without resigning
// (crash, expiry); every store but ZooKeeper.
func WithHoldoff(d time.Duration) Option { return WithOption("holdoff", millis(d)) }

// WithSticky makes the store keep the leadership for this candidate's id alone for d after it
// is lost without resigning, so it leads again if it comes back in time; every store but
// ZooKeeper.
func WithSticky(d time.Duration) Option { return WithOption("sticky", millis(d)) }

// WithID sets this candidate's id (default hostname-pid-random).
func WithID(id string) Option { return WithOption("id", id) }

// WithValue sets what observers see next to the id, e.g. this instance's address.
func WithValue(value string) Option { return WithOption("value", value) }

func millis(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
