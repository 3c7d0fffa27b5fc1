package fencing

import (
	"context"
	"fmt"
)

// RedisSetScript is the Lua script of a fenced Redis SET, atomic on the server. KEYS: the fence
// key, the written key. ARGV: the token, the value. Reply {1, token} when written, {0, highest}
// when the token is stale (nothing written). A copy of fencing/redis-set.lua in the
// repository, checked against it by this package's tests.
const RedisSetScript = `local highest = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < highest then return {0, highest} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return {1, tonumber(ARGV[1])}
`

// EvalFunc runs a Lua script with EVAL (or EVALSHA) on the user's Redis client and returns its
// reply, a two-element array of integers as []any of int64 (go-redis's shape). With go-redis,
// package [github.com/elect-dev/elect/bindings-go/fencing/fenceredis] is this adapter; with
// another client, write it in a line.
type EvalFunc func(ctx context.Context, script string, keys []string, args ...any) (any, error)

// RedisSet runs SET key value only if token is not older than the one in fenceKey, in one
// script: a stale token returns a [*StaleError] and writes nothing. In Redis Cluster give both
// keys one hash tag ({jobs}:fence, {jobs}:data).
func RedisSet(ctx context.Context, eval EvalFunc, fenceKey string, token uint64, key string, value any) error {
	if err := checkToken(token); err != nil {
		return err
	}
	reply, err := eval(ctx, RedisSetScript, []string{fenceKey, key}, token, value)
	if err != nil {
		return fmt.Errorf("fencing: fenced SET of %q: %w", key, err)
	}
	r, ok := reply.([]any)
	var written, highest int64
	if ok && len(r) == 2 {
		written, ok = r[0].(int64)
		if ok {
			highest, ok = r[1].(int64)
		}
	}
	if !ok {
		return fmt.Errorf("fencing: fenced SET of %q: unexpected reply %#v (want []any of two int64)", key, reply)
	}
	if written == 1 {
		return nil
	}
	return &StaleError{Resource: key, Token: token, Highest: uint64(highest)}
}
