package fencing

import (
	"errors"
	"fmt"
	"math"
)

// ErrStale matches (errors.Is) every [StaleError].
var ErrStale = errors.New("stale fencing token")

// StaleError is a write refused because its token is older than the highest the resource has
// seen. The leader that gets it has lost its term.
type StaleError struct {
	Resource string
	Token    uint64
	// Highest is the highest token seen, 0 when the resource did not tell.
	Highest uint64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("stale fencing token %d for %q, highest seen %d: a newer leader has written", e.Token, e.Resource, e.Highest)
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// checkToken refuses 0 (not leading) and tokens beyond a signed 64-bit integer (SQL bigint).
func checkToken(token uint64) error {
	if token == 0 {
		return errors.New("fencing token is 0: the election is not leading (no term to fence with)")
	}
	if token > math.MaxInt64 {
		return fmt.Errorf("fencing token %d is out of range 1..%d", token, int64(math.MaxInt64))
	}
	return nil
}
