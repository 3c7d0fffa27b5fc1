// Package elect is leader election for Go services, over libelect.so (the C ABI of the elect
// Rust engine) through cgo: run a job on exactly one instance, and let another take over when it
// dies or is redeployed, with no sidecar.
//
//	e, err := elect.Open(ctx, "file:///var/lib/elect", "billing-cron", elect.WithTTL(5*time.Second))
//	if err != nil { ... }
//	defer e.Close()
//	if err := e.Start(); err != nil { ... }
//	if err := e.WaitLeader(ctx); err != nil { ... }
//	for e.IsLeader() {
//		doWork(e.FencingToken()) // hand the token to every resource you write
//	}
//
// Building: cgo finds elect.h and libelect through pkg-config (package "elect"): set
// PKG_CONFIG_PATH=<prefix>/lib/pkgconfig for an unpacked release tarball.
//
// Waiting: every call that waits on the store (Open, WaitLeader, Resign, Leader, Members) takes
// a context.Context and returns ctx.Err() as soon as it ends.
//
// Threading: every method may be called from any goroutine. Events are delivered in order on the
// channel returned by Events; the library's callback thread never runs Go code other than
// queueing the event, so a slow reader delays nothing but its own events.
package elect
