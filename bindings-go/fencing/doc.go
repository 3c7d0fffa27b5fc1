// Package fencing is the resource side of elect's fencing tokens: it rejects the write of a
// leader whose term is over, atomically with the write. It has no cgo and does not import the
// elect package: pass it the token of [elect.Election.FencingToken].
//
// SQL (database/sql, any driver): a fence row per resource raised in the write's transaction.
//
//	err := fencing.InTx(ctx, db, fencing.Postgres, "invoices", e.FencingToken(), func(tx *sql.Tx) error {
//		_, err := tx.ExecContext(ctx, "UPDATE invoices SET state = 'sent' WHERE id = $1", id)
//		return err
//	})
//	if errors.Is(err, fencing.ErrStale) { /* a newer leader has written: stop this term's work */ }
//
// HTTP: [Transport] adds the Elect-Election and Elect-Fencing-Token headers on the client;
// [Middleware] answers 409 to a token older than the highest seen on the server.
//
// Redis: [RedisSet] writes a key only if the token is not older than the fence key's, in one
// script run through the EVAL of any client; package fenceredis does it with go-redis.
//
// The design, shared by every language's kit, is docs/fencing.md in the repository.
package fencing
