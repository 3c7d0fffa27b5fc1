// Package elect is leader election for Go services, over libelect.so (the C ABI of the elect
// Rust engine) through cgo: run a job on exactly one instance, and let another take over when it
// dies or is redeployed, with no sidecar.
//
//	e, err := elect.Open("file:///var/lib/elect", "billing-cron", elect.WithTTL(5*time.Second))
//	if err != nil { ... }
//	defer e.Close()
//	if err := e.Start(); err != nil { ... }
//	if err := e.WaitLeader(ctx); err != nil { ... }
//	for e.IsLeader() {
//		doWork(e.FencingToken()) // hand the token to every resource you write
//	}
//
// Building: cgo needs include/elect.h and libelect.so of the elect repository. From a checkout
// (cargo build -p elect-ffi) the defaults find them; elsewhere set CGO_CFLAGS=-I<include dir>
// and CGO_LDFLAGS="-L<lib dir> -Wl,-rpath,<lib dir>".
//
// Threading: every method may be called from any goroutine. Events are delivered in order on the
// channel returned by Events; the library's callback thread never runs Go code other than
// queueing the event, so a slow reader delays nothing but its own events.
package elect
