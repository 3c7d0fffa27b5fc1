//! The mysql side of the batched keep-alive ([`crate::backend::rounds`]): one round trip per
//! renewal period renews every lease and membership of the connection and reads the watched
//! leaders and the server's clock.
//!
//! MySQL's UPDATE returns no rows, so a round is a few statements sent together (the protocol's
//! multi-statement text query) around one reading of the server's clock, `@elect_now`: extend
//! each lease still ours and unexpired at `@elect_now`, upsert the memberships, then select the
//! leases still live after that under our term and owner (renewed), the watched
//! leaders, the number of live members of each watched election, and the clock. Values travel as hex literals (see [`hex`]).

use std::fmt::Write;
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::Row;

use super::layout::{hex, NOW};
use super::Shared;
use crate::backend::limits::MAX_FIELD;
use crate::backend::rounds::{Answer, Batch, RoundStore, Rounds};
use crate::backend::server_clock::ClockCheck;
use crate::error::Result;
use crate::event::LeaderInfo;

#[async_trait]
impl RoundStore for Shared {
    fn rounds(&self) -> &Rounds {
        &self.rounds
    }

    fn period(&self) -> Duration {
        self.renew
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }

    fn clock(&self) -> &ClockCheck {
        &self.clock
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
                    answer.counts.insert(election, term.max(0) as u64);
                }
                _ => {
                    let leader = LeaderInfo {
                        id: String::from_utf8_lossy(&holder).into_owned(),
                        value: String::from_utf8_lossy(&value).into_owned(),
                        term: term as u64,
                    };
                    // One oversized row must not fail the round that renews every lease of the
                    // connection: its election's watchers get no leader from this round.
                    match crate::backend::limits::leader("mysql", &election, leader) {
                        Ok(leader) => {
                            answer.leaders.insert(election, (leader, left));
                        }
                        Err(e) => tracing::warn!("{e}"),
                    }
                }
            }
        }
        Ok(answer)
    }
}

/// The statements of one round, as one text.
fn round_sql(shared: &Shared, b: &Batch) -> String {
    let (leases, members) = (&shared.names.leases, &shared.names.members);
    let ttl_us = shared.ttl.as_micros();
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
                    "({}, {}, {}, {expiry})",
                    hex(&b.m_elections[i]),
                    hex(&b.m_ids[i]),
                    hex(&b.m_values[i])
                )
            })
            .collect();
        let _ = writeln!(
            sql,
            "INSERT INTO {members} (election, id, value, expires_at) VALUES {}
             ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at);",
            rows.join(", ")
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
            "SELECT 'members', m.election, X'', X'', COUNT(*), 0
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
