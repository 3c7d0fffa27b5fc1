package fencing

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// The headers of a fenced request.
const (
	HeaderElection = "Elect-Election"
	HeaderToken    = "Elect-Fencing-Token"
)

// SetHeaders puts the election's name and the term's token on h.
func SetHeaders(h http.Header, election string, token uint64) error {
	if election == "" {
		return errors.New("fencing: empty election name")
	}
	if err := checkToken(token); err != nil {
		return err
	}
	h.Set(HeaderElection, election)
	h.Set(HeaderToken, strconv.FormatUint(token, 10))
	return nil
}

// Transport adds the fencing headers of the current term to every request. Token is read per
// request (e.g. an [elect.Election]'s FencingToken method); a request made while it returns 0
// (not leading) fails instead of going out unfenced.
type Transport struct {
	Election string
	Token    func() uint64
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if err := SetHeaders(r.Header, t.Election, t.Token()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// Options of [Handler].
type Options struct {
	// Gate keeps the highest tokens; nil gives the handler a Gate of its own.
	Gate *Gate
	// Require refuses requests without the headers (428) instead of passing them.
	Require bool
}

// Middleware is [Handler] with default options.
func Middleware(next http.Handler) http.Handler { return Handler(next, Options{}) }

// Handler answers 409 Conflict to a request whose Elect-Fencing-Token is older than the highest
// seen for its Elect-Election, 400 to malformed headers, and passes the rest to next. A newer
// token waits until the older token's requests in flight have finished (see [Gate]).
func Handler(next http.Handler, o Options) http.Handler {
	gate := o.Gate
	if gate == nil {
		gate = &Gate{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		election, rawToken := r.Header.Get(HeaderElection), r.Header.Get(HeaderToken)
		if election == "" && rawToken == "" {
			if o.Require {
				refuse(w, http.StatusPreconditionRequired, map[string]any{"error": "missing " + HeaderElection + " and " + HeaderToken})
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if election == "" || rawToken == "" {
			missing := HeaderElection
			if election != "" {
				missing = HeaderToken
			}
			refuse(w, http.StatusBadRequest, map[string]any{"error": missing + " header missing or empty"})
			return
		}
		token, err := strconv.ParseUint(strings.TrimSpace(rawToken), 10, 64)
		if err != nil || token == 0 || token > math.MaxInt64 {
			refuse(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("%s is not a token in 1..%d", HeaderToken, int64(math.MaxInt64))})
			return
		}
		newest, ok := gate.Enter(election, token)
		if !ok {
			refuse(w, http.StatusConflict, map[string]any{"error": "stale fencing token", "election": election, "token": token, "highest": newest})
			return
		}
		defer gate.Leave(election)
		next.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
