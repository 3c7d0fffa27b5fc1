package elect_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

func TestLibraryVersionIsTheModuleVersion(t *testing.T) {
	if got := elect.LibraryVersion(); got != elect.Version {
		t.Fatalf("linked libelect is %q, the module is %q", got, elect.Version)
	}
}

// Open returns ctx's error as soon as ctx ends, without waiting for the store's own
// connect_timeout: the "store" is a socket that accepts connections and never answers.
func TestOpenReturnsWhenContextEnds(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	e, err := elect.Open(ctx, "etcd://"+silent.Addr().String()+"/go-ctx", "job",
		elect.WithConnectTimeout(time.Minute))
	if e != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open: %v, %v; want context.DeadlineExceeded", e, err)
	}
}

// Calls that wait on the store give up at once on a context that has already ended.
func TestStoreCallsHonourAnEndedContext(t *testing.T) {
	e, _ := open(t, "file://"+t.TempDir(), "job")
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Leader(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("Leader: %v", err)
	}
	if _, err := e.Members(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("Members: %v", err)
	}
	if err := e.Resign(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("Resign: %v", err)
	}
}

// Every With* option reaches the engine under its connection-string name: a value the engine
// rejects comes back naming that option.
func TestOptionsReachTheEngineByName(t *testing.T) {
	dir := "file://" + t.TempDir()
	cases := []struct {
		opt  elect.Option
		name string
	}{
		{elect.WithTTL(0), "`ttl`"},
		{elect.WithRenew(0), "`renew`"},
		{elect.WithMargin(0), "`margin`"},
		{elect.WithRetry(0), "`retry`"},
		{elect.WithConnectTimeout(0), "`connect_timeout`"},
		{elect.WithID(""), "`id`"},
	}
	for _, c := range cases {
		e, err := elect.Open(context.Background(), dir, "job", c.opt)
		if e != nil || !errors.Is(err, elect.ErrInvalidArgument) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("option %s: %v", c.name, err)
		}
	}
	e, err := elect.Open(context.Background(), dir, "job", elect.WithTTL(3*time.Second),
		elect.WithMargin(500*time.Millisecond), elect.WithConnectTimeout(time.Second))
	if err != nil {
		t.Fatalf("valid options: %v", err)
	}
	e.Close()
}
