// Package fenceredis runs the fenced Redis SET of package fencing through go-redis: a write
// that a leader whose term is over cannot make. It is a package of its own so that the
// fencing package needs no Redis client.
//
//	err := fenceredis.Set(ctx, rdb, "{jobs}:fence", e.FencingToken(), "{jobs}:data", value)
//	if errors.Is(err, fencing.ErrStale) { /* a newer leader has written: stop this term's work */ }
package fenceredis

import (
	"context"

	"github.com/elect-dev/elect/bindings-go/fencing"
	"github.com/redis/go-redis/v9"
)

// script is loaded once per server: Run sends EVALSHA and falls back to EVAL.
var script = redis.NewScript(fencing.RedisSetScript)

// Set is [fencing.RedisSet] on a go-redis client (Client, ClusterClient, Ring): SET key value
// only if token is not older than the one in fenceKey, else a [*fencing.StaleError] and
// nothing written.
func Set(ctx context.Context, rdb redis.Scripter, fenceKey string, token uint64, key string, value any) error {
	eval := func(ctx context.Context, _ string, keys []string, args ...any) (any, error) {
		return script.Run(ctx, rdb, keys, args...).Result()
	}
	return fencing.RedisSet(ctx, eval, fenceKey, token, key, value)
}
