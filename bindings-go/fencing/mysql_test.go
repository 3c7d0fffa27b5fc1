package fencing_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"testing"

	"github.com/elect-dev/elect/bindings-go/fencing"
	_ "github.com/go-sql-driver/mysql"
)

// The MySQL dialect on the MariaDB of the test run (ELECT_MYSQL_URI).
func TestMySQLStaleTokenIsRejectedAndDoesNotWrite(t *testing.T) {
	uri := os.Getenv("ELECT_MYSQL_URI")
	if uri == "" {
		t.Skip("ELECT_MYSQL_URI not set")
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)%s", u.User.Username(), pw, u.Host, u.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := fmt.Sprintf("rows_%d", rand.Int63())
	for _, q := range []string{fencing.CreateTable(fencing.MySQL), "CREATE TABLE " + table + " (id int PRIMARY KEY, token bigint NOT NULL) ENGINE=InnoDB"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	defer db.Exec("DROP TABLE " + table)
	ctx := context.Background()
	insert := "INSERT INTO " + table + " VALUES (?, ?)"
	for _, w := range []struct {
		id    int
		token uint64
		stale bool
	}{{1, 5, false}, {2, 7, false}, {3, 5, true}, {4, 7, false}} {
		_, err := fencing.Exec(ctx, db, fencing.MySQL, table, w.token, insert, w.id, w.token)
		if w.stale != errors.Is(err, fencing.ErrStale) || (!w.stale && err != nil) {
			t.Fatalf("write %d under %d: %v, want stale=%v", w.id, w.token, err, w.stale)
		}
	}
	var ids string
	if err := db.QueryRow("SELECT GROUP_CONCAT(id ORDER BY id) FROM " + table).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if ids != "1,2,4" {
		t.Fatalf("rows %s, want 1,2,4", ids)
	}
}
