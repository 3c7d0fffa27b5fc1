package elect_test

import (
	"context"
	"testing"

	elect "github.com/elect-dev/elect/bindings-go"
)

// The cost of IsLeader from Go on a leading election: the C call (elect_is_leader) plus the cgo
// transition and the read lock that keeps the handle alive against Close.
//
//	go test -run '^$' -bench IsLeader
func BenchmarkIsLeader(b *testing.B) {
	e := leading(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !e.IsLeader() {
			b.Fatal("lost the leadership")
		}
	}
}

func BenchmarkIsLeaderParallel(b *testing.B) {
	e := leading(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !e.IsLeader() {
				b.Error("lost the leadership")
				return
			}
		}
	})
}

func leading(b *testing.B) *elect.Election {
	e, err := elect.Open(context.Background(), "file://"+b.TempDir(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	if err := e.Start(); err != nil {
		b.Fatal(err)
	}
	if err := e.WaitLeader(context.Background()); err != nil {
		b.Fatal(err)
	}
	return e
}
