package fenceredis_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"testing"

	"github.com/elect-dev/elect/bindings-go/fencing"
	"github.com/elect-dev/elect/bindings-go/fencing/fenceredis"
	"github.com/redis/go-redis/v9"
)

// client is a go-redis client of the Redis the test command started (ELECT_REDIS_URI); the test
// skips without it.
func client(t *testing.T) *redis.Client {
	uri := os.Getenv("ELECT_REDIS_URI")
	if uri == "" {
		t.Skip("ELECT_REDIS_URI not set")
	}
	opts, err := redis.ParseURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestStaleTokenIsRejectedAndDoesNotWrite(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	tag := fmt.Sprintf("{fence-%d}", rand.Int63())
	fence, key := tag+":fence", tag+":data"
	t.Cleanup(func() { rdb.Del(ctx, fence, key) })
	for _, w := range []struct {
		token uint64
		value string
		stale bool
	}{{5, "a", false}, {7, "b", false}, {5, "stale", true}, {7, "c", false}, {6, "stale", true}} {
		err := fenceredis.Set(ctx, rdb, fence, w.token, key, w.value)
		var stale *fencing.StaleError
		if w.stale != errors.Is(err, fencing.ErrStale) || (w.stale && (!errors.As(err, &stale) || stale.Highest != 7 || stale.Token != w.token)) {
			t.Fatalf("write %q under %d: err %v, want stale=%v", w.value, w.token, err, w.stale)
		}
		if !w.stale && err != nil {
			t.Fatal(err)
		}
	}
	if got := rdb.Get(ctx, key).Val(); got != "c" {
		t.Fatalf("data %q, want c (the stale writes must not land)", got)
	}
	if got := rdb.Get(ctx, fence).Val(); got != "7" {
		t.Fatalf("fence %q, want 7", got)
	}
}
