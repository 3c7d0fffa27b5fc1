package fencing_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/elect-dev/elect/bindings-go/fencing"
)

// The script is a copy of fencing/redis-set.lua, the one source every language's kit runs.
func TestRedisSetScriptIsTheRepositorys(t *testing.T) {
	want, err := os.ReadFile("../../fencing/redis-set.lua")
	if err != nil {
		t.Fatal(err)
	}
	if fencing.RedisSetScript != string(want) {
		t.Fatalf("fencing.RedisSetScript differs from fencing/redis-set.lua:\n%s\nwant:\n%s", fencing.RedisSetScript, want)
	}
}

func TestRedisSetRefusesBadTokensAndReplies(t *testing.T) {
	called := false
	eval := func(context.Context, string, []string, ...any) (any, error) { called = true; return "OK", nil }
	err := fencing.RedisSet(context.Background(), eval, "f", 0, "k", "v")
	if err == nil || !strings.Contains(err.Error(), "not leading") || called {
		t.Fatalf("token 0: err %v, script run %v", err, called)
	}
	err = fencing.RedisSet(context.Background(), eval, "f", 1, "k", "v")
	if err == nil || !strings.Contains(err.Error(), `"OK"`) {
		t.Fatalf("a reply of another shape: err %v", err)
	}
}
