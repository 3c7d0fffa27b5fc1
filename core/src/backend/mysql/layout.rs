//! The tables (named by the `table` option), the named locks and the statements.
//!
//! ```sql
//! CREATE TABLE elect_leases (             -- one row per election, never deleted: it keeps the term
//!     election   VARBINARY(768) PRIMARY KEY,
//!     holder     BLOB NOT NULL,           -- id of the current or last leader
//!     value      BLOB NOT NULL,
//!     term       BIGINT NOT NULL,         -- fencing token, +1 in the statement that grants a lease
//!     expires_at DATETIME(6) NOT NULL,    -- server time, UTC (UTC_TIMESTAMP(6) + ttl); 1970 once released
//!     owner      VARBINARY(64) NOT NULL,  -- random per candidacy: who holds it, beyond `holder`
//!     next_id    VARBINARY(768) NOT NULL DEFAULT '', -- a hand-off: only this id may be granted
//!     next_until DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:01', -- ...until then
//!     holdoff_us BIGINT NOT NULL DEFAULT 0, -- the holder's `holdoff` and `sticky`, in force once
//!     sticky_us  BIGINT NOT NULL DEFAULT 0  -- its lease ran out without a release
//! ) ENGINE=InnoDB;
//! CREATE TABLE elect_leases_members (     -- one row per candidate, kept alive by heartbeats
//!     election VARBINARY(768), id VARBINARY(768), value BLOB NOT NULL,
//!     expires_at DATETIME(6) NOT NULL, PRIMARY KEY (election, id)
//! ) ENGINE=InnoDB;
//! ```
//!
//! Binary columns: names compare byte for byte (no collation folds case or pads spaces, which
//! would make two elections one). Times are `UTC_TIMESTAMP(6)`, the server's clock with no
//! session time zone in it (`NOW(6)` follows each session's `time_zone`, and a lease compared
//! across sessions in different zones would be hours off). The client sends only durations.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::connect::Params;
use crate::backend::limits::{MAX_FIELD, MAX_MEMBERS};
use crate::error::{Error, ErrorCode, Result};

/// Width of the key columns, in bytes: room for any election name and candidate id (core
/// takes at most 256 bytes for each), within InnoDB's 3072-byte keys.
const MAX_KEY: usize = 768;

/// The server's clock.
pub(super) const NOW: &str = "UTC_TIMESTAMP(6)";

/// Expiry of a released lease: long past, whatever the server's clock says.
const RELEASED: &str = "'1970-01-01 00:00:01'";

#[derive(Clone, Debug)]
pub(super) struct Names {
    pub leases: String,
    pub members: String,
    database: String,
}

impl Names {
    /// `table` is the `table` option, checked by `options::parse`.
    pub fn new(table: &str, database: &str) -> Names {
        Names {
            leases: table.to_string(),
            members: format!("{table}_members"),
            database: database.to_string(),
        }
    }

    /// The named lock (server-wide, hence the database in it) that the line of one election
    /// waits on. Hashed: lock names are at most 64 characters. A collision only wakes a waiter
    /// of another election for nothing.
    pub fn lock(&self, election: &str) -> String {
        let key = format!("{}\0{}\0{election}", self.database, self.leases);
        format!(
            "elect:{:016x}",
            crate::backend::stable_hash::fnv1a(key.as_bytes())
        )
    }

    /// Creates the tables if missing and checks that they are InnoDB. A user who may not
    /// create them gets a `Permission` error naming the table and what to ask for.
    pub async fn ensure(&self, conn: &mut Conn, params: &Params) -> Result<()> {
        for (table, ddl) in [
            (&self.leases, self.leases_ddl()),
            (&self.members, self.members_ddl()),
        ] {
            let engine = match engine(conn, table, params).await? {
                Some(engine) => engine,
                None => {
                    if let Err(e) = conn.query_drop(&ddl).await {
                        // Another process may have created it meanwhile.
                        match engine(conn, table, params).await? {
                            Some(engine) => engine,
                            None => return Err(create_error(e, table, params)),
                        }
                    } else {
                        engine(conn, table, params).await?.unwrap_or_default()
                    }
                }
            };
            if !engine.eq_ignore_ascii_case("InnoDB") {
                return Err(Error::new(
                    ErrorCode::Unsupported,
                    format!(
                        "option `table`: table `{table}` uses storage engine {engine}: elect needs \
                         InnoDB (transactional, crash-safe); convert it with \
                         ALTER TABLE {table} ENGINE=InnoDB (see docs/stores/mysql.md)"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn leases_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                election VARBINARY({MAX_KEY}) NOT NULL PRIMARY KEY,
                holder BLOB NOT NULL,
                value BLOB NOT NULL,
                term BIGINT NOT NULL,
                expires_at DATETIME(6) NOT NULL,
                owner VARBINARY(64) NOT NULL,
                next_id VARBINARY({MAX_KEY}) NOT NULL DEFAULT '',
                next_until DATETIME(6) NOT NULL DEFAULT {RELEASED},
                holdoff_us BIGINT NOT NULL DEFAULT 0,
                sticky_us BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
            self.leases
        )
    }

    fn members_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                election VARBINARY({MAX_KEY}) NOT NULL,
                id VARBINARY({MAX_KEY}) NOT NULL,
                value BLOB NOT NULL,
                expires_at DATETIME(6) NOT NULL,
                PRIMARY KEY (election, id)) ENGINE=InnoDB",
            self.members
        )
    }

    /// `election` -> creates the election's lease row (term 0, expired) if missing.
    pub fn seed(&self) -> String {
        format!(
            "INSERT INTO {} (election, holder, value, term, expires_at, owner)
             VALUES (?, '', '', 0, {RELEASED}, '') ON DUPLICATE KEY UPDATE term = term",
            self.leases
        )
    }

    /// `holder, value, ttl_us, owner, holdoff_us, sticky_us, election, owner, holder, holder`
    /// -> one affected row when granted, and then the new term as `LAST_INSERT_ID()` (in the OK
    /// packet: no second round trip). Takes the lease if it is already this candidacy's, or
    /// expired and the row's succession allows this candidate (a hand-off names nobody else or
    /// lapsed; a leader lost without a release, its lease run out at `expires_at`, holds
    /// everyone off until `expires_at + holdoff_us` and everyone but its `holder` until
    /// `expires_at + sticky_us`), bumping the term and recording the new leader's own hold-off
    /// and stickiness in the same statement. (`WHERE` reads the row before `SET` changes it.)
    pub fn acquire(&self) -> String {
        format!(
            "UPDATE {} SET holder = ?, value = ?, term = LAST_INSERT_ID(term + 1),
                expires_at = {NOW} + INTERVAL ? MICROSECOND, owner = ?, next_id = '',
                next_until = {RELEASED}, holdoff_us = ?, sticky_us = ?
             WHERE election = ? AND (owner = ? OR (expires_at < {NOW}
                AND (next_id = '' OR next_id = ? OR next_until < {NOW})
                AND (expires_at = {RELEASED}
                    OR (expires_at + INTERVAL holdoff_us MICROSECOND < {NOW}
                        AND (holder = ? OR expires_at + INTERVAL sticky_us MICROSECOND < {NOW})))))",
            self.leases
        )
    }

    /// `holder, election` -> `(left, others_first)`: microseconds until the lease may be this
    /// candidate's at the earliest (the holder's lease, a hold-off, a hand-off to another or
    /// another's stickiness; 0 when it may be now), and whether another candidate may be
    /// granted before it (a hand-off or stickiness for someone else).
    pub fn remaining(&self) -> String {
        let left = |at: &str| format!("GREATEST(TIMESTAMPDIFF(MICROSECOND, {NOW}, {at}), 0)");
        let handoff = format!("next_id NOT IN ('', me.h) AND next_until > {NOW}");
        // Stickiness holds a lease that ran out (not one released, nor one still live: a live
        // lease is the holder's, not a reservation for someone else).
        let sticky = format!(
            "expires_at > {RELEASED} AND expires_at <= {NOW} AND holder <> me.h \
             AND expires_at + INTERVAL sticky_us MICROSECOND > {NOW}"
        );
        format!(
            "SELECT GREATEST({lease}, IF({handoff}, {until}, 0),
                    IF(expires_at > {RELEASED}, {holdoff}, 0), IF({sticky}, {stuck}, 0)),
                ({handoff}) OR ({sticky})
             FROM {leases}, (SELECT CAST(? AS BINARY) AS h) AS me WHERE election = ?",
            lease = left("expires_at"),
            until = left("next_until"),
            holdoff = left("expires_at + INTERVAL holdoff_us MICROSECOND"),
            stuck = left("expires_at + INTERVAL sticky_us MICROSECOND"),
            leases = self.leases,
        )
    }

    /// `successor, ttl_us, election, holder, term, owner, election, successor`: ends our live
    /// lease reserved for `successor` alone (a live member) for a ttl. One affected row when
    /// handed over.
    pub fn hand_over(&self) -> String {
        format!(
            "UPDATE {leases} SET expires_at = {RELEASED}, next_id = ?,
                next_until = {NOW} + INTERVAL ? MICROSECOND
             WHERE election = ? AND holder = ? AND term = ? AND owner = ? AND expires_at > {NOW}
                AND EXISTS (SELECT 1 FROM {members} AS m
                    WHERE m.election = ? AND m.id = ? AND m.expires_at > {NOW})",
            leases = self.leases,
            members = self.members,
        )
    }

    /// `election, id` -> a row when `id` is a live member.
    pub fn is_member(&self) -> String {
        format!(
            "SELECT 1 FROM {} WHERE election = ? AND id = ? AND expires_at > {NOW}",
            self.members
        )
    }

    /// `election, holder, term (NULL: any), term, owner`: ends our lease.
    pub fn release(&self) -> String {
        format!(
            "UPDATE {} SET expires_at = {RELEASED}
             WHERE election = ? AND holder = ? AND (? IS NULL OR term = ?) AND owner = ?
                AND expires_at > {NOW}",
            self.leases
        )
    }

    /// `value, election, holder, term, owner`: publishes a new value on our live lease. MySQL
    /// counts changed rows, so an unchanged value affects none: [`Names::holds`] then tells.
    pub fn proclaim(&self) -> String {
        format!(
            "UPDATE {} SET value = ?
             WHERE election = ? AND holder = ? AND term = ? AND owner = ? AND expires_at > {NOW}",
            self.leases
        )
    }

    /// `election, holder, term, owner` -> a row when that lease is live.
    pub fn holds(&self) -> String {
        format!(
            "SELECT 1 FROM {} WHERE election = ? AND holder = ? AND term = ? AND owner = ?
                AND expires_at > {NOW}",
            self.leases
        )
    }

    /// `value, election, id`: a member's new value.
    pub fn member_value(&self) -> String {
        format!(
            "UPDATE {} SET value = ? WHERE election = ? AND id = ?",
            self.members
        )
    }

    /// `election` -> `(holder, value, term)` of the live leader, if any, holder and value cut
    /// one byte past the bound of [`limits`](crate::backend::limits), so that an oversized
    /// row is detected without being read whole.
    pub fn leader(&self) -> String {
        format!(
            "SELECT LEFT(holder, {cut}), LEFT(value, {cut}), term FROM {} \
             WHERE election = ? AND expires_at > {NOW}",
            self.leases,
            cut = MAX_FIELD + 1,
        )
    }

    /// Registers a candidate, in one round trip (three statements, as text with hex
    /// literals): creates the election's lease row if missing, drops members of the election
    /// that stopped heartbeating long ago, and upserts this one.
    ///
    /// The upsert repeats its values rather than naming them with `VALUES(col)`, which MySQL
    /// 8.0.20 deprecated (its replacement, a row alias, MariaDB does not have).
    pub fn join(&self, election: &str, id: &str, value: &str, ttl_us: u128) -> String {
        let (e, i, v) = (hex(election), hex(id), hex(value));
        let expiry = format!("{NOW} + INTERVAL {ttl_us} MICROSECOND");
        format!(
            "INSERT INTO {leases} (election, holder, value, term, expires_at, owner)
                VALUES ({e}, '', '', 0, {RELEASED}, '') ON DUPLICATE KEY UPDATE term = term;
             DELETE FROM {members} WHERE election = {e} AND expires_at < {NOW} - INTERVAL 1 HOUR;
             INSERT INTO {members} (election, id, value, expires_at)
                VALUES ({e}, {i}, {v}, {expiry})
                ON DUPLICATE KEY UPDATE value = {v}, expires_at = {expiry}",
            leases = self.leases,
            members = self.members,
        )
    }

    /// `election, id`
    pub fn leave(&self) -> String {
        format!("DELETE FROM {} WHERE election = ? AND id = ?", self.members)
    }

    /// `election` -> `(id, value)` of live members, by id, cut (fields and list) one past the
    /// bounds of [`limits`](crate::backend::limits).
    pub fn members(&self) -> String {
        format!(
            "SELECT LEFT(id, {cut}), LEFT(value, {cut}) FROM {} \
             WHERE election = ? AND expires_at > {NOW} ORDER BY id LIMIT {limit}",
            self.members,
            cut = MAX_FIELD + 1,
            limit = MAX_MEMBERS + 1,
        )
    }
}

/// The table's storage engine, `None` if it does not exist.
async fn engine(conn: &mut Conn, table: &str, params: &Params) -> Result<Option<String>> {
    conn.exec_first(
        "SELECT ENGINE FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        (table,),
    )
    .await
    .map(|e: Option<Option<String>>| e.map(Option::unwrap_or_default))
    .map_err(|e| params.error(e, &format!("looking up table `{table}`")))
}

fn create_error(e: mysql_async::Error, table: &str, params: &Params) -> Error {
    let err = params.error(e, &format!("creating table `{table}`"));
    if err.code() != ErrorCode::Permission {
        return err;
    }
    Error::new(
        ErrorCode::Permission,
        format!(
            "option `table`: table `{table}` does not exist and user `{}` may not create it ({}); \
             create it as an administrator (see docs/stores/mysql.md) or grant CREATE on `{}`",
            params.user,
            err.message(),
            params.database
        ),
    )
}

/// A string as a hex literal (`X'..'`): the round's statement is built as text (several
/// statements in one round trip), and a hex literal cannot break out of its quotes whatever the
/// bytes or the server's `sql_mode`.
pub(super) fn hex(s: &str) -> String {
    let mut out = String::with_capacity(3 + 2 * s.len());
    out.push_str("X'");
    for b in s.as_bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::uri::Config;

    #[test]
    fn table_names_are_plain_identifiers() {
        let names = |table: &str| Config::parse(&format!("mysql://u@h/db?table={table}"));
        assert!(names("jobs").is_ok());
        for bad in ["Jobs", "1x", "a.b", "x;drop", "a%20b", "", &"x".repeat(57)] {
            let e = names(bad).unwrap_err();
            assert!(e.message().contains("option `table`"), "{bad}: {e}");
        }
    }

    #[test]
    fn lock_names_fit_and_are_stable() {
        let n = Names::new("elect_leases", "db");
        let long = n.lock(&"x".repeat(700));
        assert!(long.len() <= 64, "{long}");
        assert_eq!(n.lock("job"), n.lock("job"));
        assert_ne!(n.lock("job"), n.lock("job2"));
        assert_ne!(n.lock("job"), Names::new("other", "db").lock("job"));
    }

    #[test]
    fn hex_literals_quote_anything() {
        assert_eq!(hex(""), "X''");
        assert_eq!(hex("a'\\"), "X'61275c'");
    }
}
