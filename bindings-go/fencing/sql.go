package fencing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Dialect is the SQL of the fence statements.
type Dialect int

const (
	// Postgres: INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING, $n placeholders.
	Postgres Dialect = iota
	// MySQL and MariaDB (InnoDB): INSERT ... ON DUPLICATE KEY UPDATE GREATEST, then a locking read.
	MySQL
)

// CreateTable is the fence table of a dialect, for migrations and demos.
func CreateTable(d Dialect) string {
	if d == MySQL {
		return "CREATE TABLE IF NOT EXISTS elect_fence (resource varchar(255) PRIMARY KEY, token bigint NOT NULL) ENGINE=InnoDB"
	}
	return "CREATE TABLE IF NOT EXISTS elect_fence (resource text PRIMARY KEY, token bigint NOT NULL)"
}

// Fence raises the fence of resource to token inside tx. It returns a [*StaleError] when a
// higher token has been seen (the caller must roll back); otherwise the fence row stays locked
// until tx ends, so the statements that follow in tx are the write the token guards.
func Fence(ctx context.Context, tx *sql.Tx, d Dialect, resource string, token uint64) error {
	if err := checkToken(token); err != nil {
		return err
	}
	switch d {
	case Postgres:
		var got int64
		err := tx.QueryRowContext(ctx, `INSERT INTO elect_fence (resource, token) VALUES ($1, $2)
			ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token WHERE elect_fence.token <= EXCLUDED.token
			RETURNING token`, resource, int64(token)).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			var highest int64
			if err := tx.QueryRowContext(ctx, "SELECT token FROM elect_fence WHERE resource = $1", resource).Scan(&highest); err != nil {
				return fmt.Errorf("fencing: reading the fence of %q: %w", resource, err)
			}
			return &StaleError{Resource: resource, Token: token, Highest: uint64(highest)}
		}
		if err != nil {
			return fmt.Errorf("fencing: raising the fence of %q: %w", resource, err)
		}
		return nil
	case MySQL:
		if _, err := tx.ExecContext(ctx, `INSERT INTO elect_fence (resource, token) VALUES (?, ?)
			ON DUPLICATE KEY UPDATE token = GREATEST(token, ?)`, resource, int64(token), int64(token)); err != nil {
			return fmt.Errorf("fencing: raising the fence of %q: %w", resource, err)
		}
		var highest int64
		if err := tx.QueryRowContext(ctx, "SELECT token FROM elect_fence WHERE resource = ? FOR UPDATE", resource).Scan(&highest); err != nil {
			return fmt.Errorf("fencing: reading the fence of %q: %w", resource, err)
		}
		if uint64(highest) > token {
			return &StaleError{Resource: resource, Token: token, Highest: uint64(highest)}
		}
		return nil
	}
	return fmt.Errorf("fencing: unknown SQL dialect %d", d)
}

// InTx runs fn in a new transaction of db after raising the fence, and commits if fn returns
// nil. A stale token rolls back before fn runs; an error of fn rolls back and is returned.
func InTx(ctx context.Context, db *sql.DB, d Dialect, resource string, token uint64, fn func(*sql.Tx) error) error {
	if err := checkToken(token); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fencing: begin: %w", err)
	}
	if err := Fence(ctx, tx, d, resource, token); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Exec runs one statement under the fence, in its own transaction.
func Exec(ctx context.Context, db *sql.DB, d Dialect, resource string, token uint64, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := InTx(ctx, db, d, resource, token, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
