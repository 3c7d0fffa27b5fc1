//! The tables (named by the `table` option) and the NOTIFY channel names.
//!
//! ```sql
//! CREATE TABLE elect_leases (          -- one row per election, never deleted: it keeps the term
//!     election   text PRIMARY KEY,
//!     holder     text NOT NULL,        -- id of the current or last leader
//!     value      text NOT NULL,
//!     term       bigint NOT NULL,      -- fencing token, +1 in the statement that grants a lease
//!     expires_at timestamptz NOT NULL, -- server time (now() + ttl); '-infinity' once released
//!     owner      text NOT NULL DEFAULT '', -- random per candidacy: who holds it, beyond `holder`
//!     next_id    text NOT NULL DEFAULT '', -- a hand-off: only this id may be granted next...
//!     next_until timestamptz NOT NULL DEFAULT '-infinity', -- ...until then
//!     holdoff_ms bigint NOT NULL DEFAULT 0, -- the holder's `holdoff` and `sticky`, in force once
//!     sticky_ms  bigint NOT NULL DEFAULT 0  -- its lease ran out without a release
//! );
//! CREATE TABLE elect_leases_members (  -- one row per candidate, kept alive by heartbeats
//!     election text, id text, value text NOT NULL, expires_at timestamptz NOT NULL,
//!     PRIMARY KEY (election, id)
//! );
//! ```

use tokio_postgres::error::SqlState;

/// The lease table's columns for who may be granted next (hand-off, hold-off, stickiness),
/// added in place to tables of earlier versions; their defaults mean "anyone".
const SUCCESSION_COLUMNS: [&str; 4] = [
    "next_id text NOT NULL DEFAULT ''",
    "next_until timestamptz NOT NULL DEFAULT '-infinity'",
    "holdoff_ms bigint NOT NULL DEFAULT 0",
    "sticky_ms bigint NOT NULL DEFAULT 0",
];
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::connect::Params;
use crate::error::{Error, ErrorCode, Result};

/// Table names, already valid SQL identifiers (lower-case, no quoting needed).
#[derive(Clone, Debug)]
pub(super) struct Names {
    pub leases: String,
    pub members: String,
}

impl Names {
    /// `table` is the `table` option, checked by `options::parse`.
    pub fn new(table: &str) -> Names {
        Names {
            leases: table.to_string(),
            members: format!("{table}_members"),
        }
    }

    /// The NOTIFY channel of one election: `<table>:<election>`, or a hash of the election when
    /// that would exceed the 63 bytes of a channel name. Channels are shared by every process
    /// using the same table, so this must never change between versions.
    pub fn channel(&self, election: &str) -> String {
        let plain = format!("{}:{election}", self.leases);
        if plain.len() <= 63 {
            plain
        } else {
            format!(
                "{}:#{:016x}",
                self.leases,
                crate::backend::stable_hash::fnv1a(election.as_bytes())
            )
        }
    }

    /// Creates the tables if missing. A role that may not create them gets a `Permission` error
    /// naming the table and what to ask an administrator for.
    pub async fn ensure(&self, client: &Client, params: &Params) -> Result<()> {
        for (table, ddl) in [
            (&self.leases, self.leases_ddl()),
            (&self.members, self.members_ddl()),
        ] {
            if !exists(client, table, params).await? {
                if let Err(e) = client.batch_execute(&ddl).await {
                    // Another process may have created it meanwhile.
                    if exists(client, table, params).await? {
                        continue;
                    }
                    return Err(if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
                        Error::new(
                            ErrorCode::Permission,
                            format!(
                                "option `table`: table `{table}` does not exist and user `{}` may not create it ({}); \
                                 create it as an administrator (see docs/stores/postgres.md) or grant CREATE on its schema",
                                params.user,
                                e.as_db_error().map(|d| d.message()).unwrap_or("permission denied"),
                            ),
                        )
                    } else {
                        params.error(e, &format!("creating table `{table}`"))
                    });
                }
            }
            self.check_privileges(client, table, params).await?;
        }
        self.migrate(client, params).await
    }

    /// Adds the `owner` and succession columns to a lease table created by an earlier
    /// version (see [`SUCCESSION_COLUMNS`]). Safe on a live
    /// table: a column with a constant default is added without rewriting the table (PostgreSQL
    /// 11 and later), under a lock held for milliseconds. Existing rows get owner `''`, which
    /// no candidacy has, so a lease held by an older process is never taken as ours; such a
    /// process keeps renewing its own lease (its statements do not name the column).
    async fn migrate(&self, client: &Client, params: &Params) -> Result<()> {
        let table = &self.leases;
        let row = client
            .query_typed_one(
                "SELECT EXISTS (SELECT FROM pg_attribute
                    WHERE attrelid = to_regclass($1) AND attname = 'sticky_ms' AND NOT attisdropped)",
                &[(table, Type::TEXT)],
            )
            .await
            .map_err(|e| params.error(e, &format!("looking up the columns of `{table}`")))?;
        if row.get::<_, bool>(0) {
            return Ok(());
        }
        let columns: Vec<String> = std::iter::once("owner text NOT NULL DEFAULT ''")
            .chain(SUCCESSION_COLUMNS)
            .map(|c| format!("ADD COLUMN IF NOT EXISTS {c}"))
            .collect();
        let alter = format!("ALTER TABLE {table} {}", columns.join(", "));
        client.batch_execute(&alter).await.map_err(|e| {
            if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
                Error::new(
                    ErrorCode::Permission,
                    format!(
                        "option `table`: table `{table}` lacks columns added by this version of elect \
                         and user `{}` may not add them; have its owner run: {alter}",
                        params.user
                    ),
                )
            } else {
                params.error(e, &format!("adding this version's columns to `{table}`"))
            }
        })
    }

    async fn check_privileges(&self, client: &Client, table: &str, params: &Params) -> Result<()> {
        let row = client
            .query_typed_one(
                "SELECT has_table_privilege($1, 'SELECT, INSERT, UPDATE, DELETE')",
                &[(&table, Type::TEXT)],
            )
            .await
            .map_err(|e| params.error(e, &format!("checking privileges on `{table}`")))?;
        if row.get::<_, bool>(0) {
            return Ok(());
        }
        // One missing privilege is enough to fail; name them all so one GRANT fixes it.
        Err(Error::new(
            ErrorCode::Permission,
            format!(
                "option `table`: user `{}` needs SELECT, INSERT, UPDATE and DELETE on table `{table}`",
                params.user
            ),
        ))
    }

    fn leases_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                election text PRIMARY KEY,
                holder text NOT NULL,
                value text NOT NULL DEFAULT '',
                term bigint NOT NULL,
                expires_at timestamptz NOT NULL,
                owner text NOT NULL DEFAULT '',
                {})",
            self.leases,
            SUCCESSION_COLUMNS.join(",\n                ")
        )
    }

    fn members_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                election text NOT NULL,
                id text NOT NULL,
                value text NOT NULL DEFAULT '',
                expires_at timestamptz NOT NULL,
                PRIMARY KEY (election, id))",
            self.members
        )
    }
}

async fn exists(client: &Client, table: &str, params: &Params) -> Result<bool> {
    let row = client
        .query_typed_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[(&table, Type::TEXT)],
        )
        .await
        .map_err(|e| params.error(e, &format!("looking up table `{table}`")))?;
    Ok(row.get(0))
}

/// `LISTEN`/`UNLISTEN` take an identifier, not a parameter: quote it.
pub(super) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::super::options::PgOptions;
    use super::*;
    use crate::uri::Config;

    fn names(table: &str) -> Result<Names> {
        let config = Config::parse(&format!("postgres://u@h/db?table={table}"))?;
        Ok(Names::new(&config.store_options::<PgOptions>()?.table))
    }

    #[test]
    fn table_names_are_plain_identifiers() {
        assert_eq!(names("jobs").unwrap().members, "jobs_members");
        assert_eq!(names("ops.jobs").unwrap().leases, "ops.jobs");
        for bad in ["Jobs", "1x", "a.b.c", "x;drop", "a%20b", ""] {
            let e = names(bad).unwrap_err();
            assert!(e.message().contains("option `table`"), "{bad}: {e}");
        }
    }

    #[test]
    fn channels_fit_in_an_identifier_and_are_stable() {
        let n = names("elect_leases").unwrap();
        assert_eq!(n.channel("job"), "elect_leases:job");
        let long = n.channel(&"x".repeat(200));
        assert!(long.len() <= 63, "{long}");
        assert_eq!(long, n.channel(&"x".repeat(200)));
        assert_ne!(long, n.channel(&"y".repeat(200)));
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
