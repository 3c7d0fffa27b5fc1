//! The mysql side of the batched keep-alive ([`crate::backend::rounds`]): one round trip per
//! renewal period renews every lease and membership of the connection and reads the watched
//! leaders and the server's clock.
//!
//! MySQL's UPDATE returns no rows, so a round is a few statements sent together (the protocol's
//! multi-statement text query) around one reading of the server's clock, `@elect_now`: extend
//! each lease still ours and unexpired at `@elect_now`, upsert the memberships, then select the
//! leases still live after that under our term and owner (renewed), the watched leaders (cut
//! one byte past the bounds of [`limits`](crate::backend::limits)), the number of live members
//! of each watched election, and the clock. Values travel as hex literals (see [`hex`]).

use std::fmt::Write;
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::Row;

use super::layout::{hex, NOW};
use super::Shared;
use crate::backend::limits::MAX_FIELD;
use crate::backend::rounds::{Answer, Batch, RoundConfig, RoundStore};
use crate::error::Result;
use crate::event::LeaderInfo;

#[async_trait]
impl RoundStore for Shared {
    fn config(&self) -> &RoundConfig {
        &self.round
    }

    async fn send(&self, batch: &Batch) -> Result<Answer> {
        let sql = round_sql(self, batch);
        let rows: Vec<Row> = self
            .lease
            .run("renewal round", move |c| {
                Box::pin(async move {
                    let mut result = c.query_iter(sql).await?;
                    let mut rows = Vec::new();
                    while !result.is_empty() {
                        rows.extend(result.collect::<Row>().await?);
                    }
                    Ok(rows)
                })
            })
            .await?;
        let mut answer = Answer::default();
        for row in rows {
            let (kind, election, holder, value, term, us): (
                String,
                Vec<u8>,
                Vec<u8>,
                Vec<u8>,
                i64,
                i64,
            ) = mysql_async::from_row(row);
            let election = String::from_utf8_lossy(&election).into_owned();
            let left = Duration::from_micros(us.max(0) as u64);
            match kind.as_str() {
                "now" => answer.server_ms = Some(us as f64 / 1000.0),
                "renewed" => {
                    answer.renewed.insert((election, term), left);
                }
                "members" => {
                    answer.digests.insert(election.clone(), us as u64);
                    answer.counts.insert(election, term.max(0) as u64);
                }
                _ => {
                    let leader = LeaderInfo {
                        id: String::from_utf8_lossy(&holder).into_owned(),
                        value: String::from_utf8_lossy(&value).into_owned(),
                        term: term as u64,
                    };
                    answer.leaders.insert(election, (leader, left));
                }
            }
        }
        Ok(answer)
    }
}

/// The statements of one round, as one text.
fn round_sql(shared: &Shared, b: &Batch) -> String {
    let (leases, members) = (&shared.names.leases, &shared.names.members);
    let ttl_us = shared.round.ttl.as_micros();
    let expiry = format!("@elect_now + INTERVAL {ttl_us} MICROSECOND");
    let mut sql = format!("SET @elect_now = {NOW};\n");
    let mut selects = Vec::new();
    if !b.elections.is_empty() {
        let mut ours = String::new();
        for i in 0..b.elections.len() {
            if i > 0 {
                ours.push_str(" UNION ALL ");
            }
            let _ = write!(
                ours,
                "SELECT {} AS e, {} AS h, {} AS term, {} AS o",
                hex(&b.elections[i]),
                hex(&b.holders[i]),
                b.terms[i],
                hex(&b.owners[i])
            );
        }
        let join = format!(
            "{leases} AS t JOIN ({ours}) AS x
                ON t.election = x.e AND t.holder = x.h AND t.term = x.term AND t.owner = x.o"
        );
        let _ = writeln!(
            sql,
            "UPDATE {join} SET t.expires_at = {expiry} WHERE t.expires_at > @elect_now;"
        );
        selects.push(format!(
            "SELECT 'renewed', t.election, t.holder, t.value, t.term,
                TIMESTAMPDIFF(MICROSECOND, @elect_now, t.expires_at)
             FROM {join} WHERE t.expires_at > @elect_now"
        ));
    }
    if !b.m_elections.is_empty() {
        let rows: Vec<String> = (0..b.m_elections.len())
            .map(|i| {
                format!(
                    "SELECT {} AS e, {} AS i, {} AS v, {expiry} AS x",
                    hex(&b.m_elections[i]),
                    hex(&b.m_ids[i]),
                    hex(&b.m_values[i])
                )
            })
            .collect();
        // A derived table names the new values for the upsert: `VALUES(col)` is deprecated
        // since MySQL 8.0.20, and its replacement (a row alias) is not in MariaDB; both take
        // columns of an INSERT ... SELECT's derived table.
        let _ = writeln!(
            sql,
            "INSERT INTO {members} (election, id, value, expires_at)
             SELECT n.e, n.i, n.v, n.x FROM ({}) AS n
             ON DUPLICATE KEY UPDATE value = n.v, expires_at = n.x;",
            rows.join(" UNION ALL ")
        );
    }
    if !b.watched.is_empty() {
        let list: Vec<String> = b.watched.iter().map(|e| hex(e)).collect();
        // Cut on the server one byte past the bound, so that an oversized row is refused
        // (`limits`) without being read whole.
        selects.push(format!(
            "SELECT 'leader', t.election, LEFT(t.holder, {cut}), LEFT(t.value, {cut}), t.term,
                TIMESTAMPDIFF(MICROSECOND, @elect_now, t.expires_at)
             FROM {leases} AS t WHERE t.election IN ({}) AND t.expires_at > @elect_now",
            list.join(", "),
            cut = MAX_FIELD + 1,
        ));
        selects.push(format!(
            "SELECT 'members', m.election, X'', X'', COUNT(*), CAST(BIT_XOR(CRC32(m.id)) AS SIGNED)
             FROM {members} AS m WHERE m.election IN ({}) AND m.expires_at > @elect_now
             GROUP BY m.election",
            list.join(", ")
        ));
    }
    selects.push(
        "SELECT 'now', X'', X'', X'', 0,
            TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', @elect_now)"
            .to_string(),
    );
    sql.push_str(&selects.join("\nUNION ALL "));
    sql
}
