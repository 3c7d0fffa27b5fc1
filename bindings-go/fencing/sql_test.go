package fencing_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elect-dev/elect/bindings-go/fencing"
	_ "github.com/lib/pq"
)

// postgres opens the PostgreSQL the test command started, with the fence table and a fresh
// table of rows; it skips when ELECT_POSTGRES_URI is not set.
func postgres(t *testing.T) (*sql.DB, string) {
	uri := os.Getenv("ELECT_POSTGRES_URI")
	if uri == "" {
		t.Skip("ELECT_POSTGRES_URI not set")
	}
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	db, err := sql.Open("postgres", uri+sep+"sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("rows_%d", rand.Int63())
	for _, q := range []string{fencing.CreateTable(fencing.Postgres), "CREATE TABLE " + table + " (id int PRIMARY KEY, token bigint NOT NULL)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP TABLE " + table)
		db.Close()
	})
	return db, table
}

func rows(t *testing.T, db *sql.DB, table string) map[int]uint64 {
	r, err := db.Query("SELECT id, token FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[int]uint64{}
	for r.Next() {
		var id int
		var token uint64
		if err := r.Scan(&id, &token); err != nil {
			t.Fatal(err)
		}
		got[id] = token
	}
	return got
}

func TestStaleTokenIsRejectedAndDoesNotWrite(t *testing.T) {
	db, table := postgres(t)
	ctx := context.Background()
	resource := "res-" + table
	insert := "INSERT INTO " + table + " VALUES ($1, $2)"
	for _, w := range []struct {
		id    int
		token uint64
		stale bool
	}{{1, 5, false}, {2, 7, false}, {3, 5, true}, {4, 7, false}, {5, 6, true}} {
		_, err := fencing.Exec(ctx, db, fencing.Postgres, resource, w.token, insert, w.id, w.token)
		var stale *fencing.StaleError
		if w.stale != errors.Is(err, fencing.ErrStale) || (w.stale && (!errors.As(err, &stale) || stale.Highest != 7)) {
			t.Fatalf("write %d under %d: err %v, want stale=%v", w.id, w.token, err, w.stale)
		}
		if !w.stale && err != nil {
			t.Fatal(err)
		}
	}
	want := map[int]uint64{1: 5, 2: 7, 4: 7}
	if got := rows(t, db, table); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
}

// An older writer that queued on the fence row behind a newer one is rejected once the newer commits.
func TestOlderWriterQueuedBehindNewerIsRejected(t *testing.T) {
	db, table := postgres(t)
	ctx := context.Background()
	resource := "res-" + table
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fencing.Fence(ctx, tx, fencing.Postgres, resource, 9); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := fencing.Exec(ctx, db, fencing.Postgres, resource, 8, "INSERT INTO "+table+" VALUES (2, 8)")
		done <- err
	}()
	waitForLockWait(t, db)
	if _, err := tx.Exec("INSERT INTO " + table + " VALUES (1, 9)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, fencing.ErrStale) {
		t.Fatalf("queued older writer: %v, want ErrStale", err)
	}
	if got := rows(t, db, table); fmt.Sprint(got) != fmt.Sprint(map[int]uint64{1: 9}) {
		t.Fatalf("rows %v", got)
	}
}

// waitForLockWait returns once some session of this database waits for a row lock.
func waitForLockWait(t *testing.T, db *sql.DB) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the older writer never waited for the fence row")
}

func TestBadTokensAreNamed(t *testing.T) {
	for _, token := range []uint64{0, 1 << 63} {
		err := fencing.InTx(context.Background(), nil, fencing.Postgres, "r", token, nil)
		if err == nil || errors.Is(err, fencing.ErrStale) {
			t.Fatalf("token %d: %v", token, err)
		}
	}
}
