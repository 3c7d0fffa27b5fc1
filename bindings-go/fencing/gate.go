package fencing

import "sync"

// Gate keeps the highest token per election for one resource, and makes the check atomic with
// the request's work: it admits a token equal to the current one at once, lets a newer token in
// only once the requests of the older one in flight have left, and refuses a token lower than
// the newest it has seen (also while that one waits). Share one Gate between the handlers that
// write one resource. The zero value is ready to use.
type Gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	fences map[string]*fence
}

type fence struct {
	current uint64 // the token whose requests may run
	newest  uint64 // the highest seen, maybe still waiting for current's requests to leave
	active  int    // requests of current in flight
}

// Enter admits a request of election under token: (0, true) if admitted (call [Gate.Leave]
// when it is done), or (the newer token, false) if token is stale.
func (g *Gate) Enter(election string, token uint64) (uint64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fences == nil {
		g.fences = map[string]*fence{}
		g.cond = sync.NewCond(&g.mu)
	}
	f := g.fences[election]
	if f == nil {
		f = &fence{}
		g.fences[election] = f
	}
	for {
		if token > f.newest {
			f.newest = token
		}
		switch {
		case token < f.newest:
			return f.newest, false
		case token == f.current:
			f.active++
			return 0, true
		case f.active == 0:
			f.current, f.active = token, 1
			return 0, true
		}
		g.cond.Wait()
	}
}

// Leave ends a request that [Gate.Enter] admitted.
func (g *Gate) Leave(election string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.fences[election]
	f.active--
	if f.active == 0 {
		g.cond.Broadcast()
	}
}

// Highest is the highest token seen for election, 0 before the first.
func (g *Gate) Highest(election string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.fences[election]; f != nil {
		return f.newest
	}
	return 0
}
