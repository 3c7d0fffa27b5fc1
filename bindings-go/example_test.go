package elect_test

import (
	"context"
	"fmt"
	"os"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// A job that must run on exactly one instance: campaign, work only while leading, and pass the
// fencing token to what the job writes.
func Example() {
	dir, _ := os.MkdirTemp("", "elect-example-")
	defer os.RemoveAll(dir)

	e, err := elect.Open(context.Background(), "file://"+dir, "billing-cron", elect.WithTTL(5*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	if err := e.Start(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitLeader(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if e.IsLeader() { // check right before each protected action
		fmt.Println("leading with fencing token", e.FencingToken())
	}
	// Output: leading with fencing token 1
}

// Bad input is an *elect.Error whose message names the bad part.
func ExampleOpen_badOption() {
	_, err := elect.Open(context.Background(), "file:///tmp/elect-example?ttl=1s", "job", elect.WithRenew(2*time.Second))
	fmt.Println(err)
	// Output: elect: invalid_argument: elect_open_with: option `renew`: 2s must be shorter than `ttl` (1s)
}
