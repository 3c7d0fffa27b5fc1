package fencing_test

import (
	"context"
	"database/sql"
	"errors"
	"log"
	"net/http"

	"github.com/elect-dev/elect/bindings-go/fencing"
)

// A leader's write under its term's token; token is e.FencingToken() of an elect.Election.
func ExampleInTx() {
	var db *sql.DB // sql.Open with the driver of your database
	var token uint64
	ctx := context.Background()
	err := fencing.InTx(ctx, db, fencing.Postgres, "invoices", token, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE invoices SET state = 'sent' WHERE id = $1", 42)
		return err
	})
	if errors.Is(err, fencing.ErrStale) {
		log.Print("a newer leader has written: stop this term's work")
	}
}

// The server side: a handler that refuses requests of a stale term with 409.
func ExampleMiddleware() {
	mux := http.NewServeMux()
	mux.HandleFunc("/jobs", func(w http.ResponseWriter, r *http.Request) { /* write the resource */ })
	_ = http.ListenAndServe("127.0.0.1:8080", fencing.Middleware(mux))
}
