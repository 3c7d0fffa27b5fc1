//! One election's metrics snapshot in the Prometheus text exposition format (version 0.0.4),
//! as `elect observe --metrics` prints it (for node_exporter's textfile collector, or a cron
//! job that pushes it).

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use elect_core::log_bridge;
use elect_core::{LeaderInfo, RevokeReason, Stats};

/// The metric families of `stats` (and of the leader seen, if known) for election `name`.
pub fn prometheus(name: &str, stats: &Stats, leader: Option<&Option<LeaderInfo>>) -> String {
    let mut out = String::new();
    let election = format!("election=\"{}\"", escape(name));
    let mut family = |metric: &str, kind: &str, help: &str, samples: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {metric} {help}");
        let _ = writeln!(out, "# TYPE {metric} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{metric}{{{labels}}} {value}");
        }
    };
    let one = |v: String| vec![(election.clone(), v)];
    family(
        "elect_terms_won_total",
        "counter",
        "Terms this candidate won.",
        &one(stats.terms_won.to_string()),
    );
    let by_reason: Vec<_> = RevokeReason::ALL
        .into_iter()
        .map(|r| {
            let labels = format!("{election},reason=\"{}\"", r.as_str());
            (labels, stats.revocations(r).to_string())
        })
        .collect();
    family(
        "elect_revocations_total",
        "counter",
        "Leaderships of this candidate that ended, by reason.",
        &by_reason,
    );
    family(
        "elect_store_errors_total",
        "counter",
        "Store errors the election recovered from.",
        &one(stats.store_errors.to_string()),
    );
    family(
        "elect_reconnects_total",
        "counter",
        "Times the store answered again after an error.",
        &one(stats.reconnects.to_string()),
    );
    family(
        "elect_failovers_total",
        "counter",
        "Times the leadership moved from one candidate to another, as this observer saw it.",
        &one(stats.failovers.to_string()),
    );
    let failover = stats
        .last_failover
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| vec![(election.clone(), seconds(d.as_secs_f64()))]);
    family(
        "elect_last_failover_timestamp_seconds",
        "gauge",
        "When the leadership last moved to another candidate (Unix time); absent if it has not.",
        &failover.unwrap_or_default(),
    );
    family(
        "elect_lease_remaining_seconds",
        "gauge",
        "How long this leader may still believe it leads without a renewal; 0 when not leading.",
        &one(seconds(
            stats.lease_remaining.map_or(0.0, |d| d.as_secs_f64()),
        )),
    );
    let rtt = stats
        .store_rtt
        .map(|d| vec![(election.clone(), seconds(d.as_secs_f64()))]);
    family(
        "elect_store_rtt_seconds",
        "gauge",
        "Round trip of the last confirmed renewal; absent before the first.",
        &rtt.unwrap_or_default(),
    );
    if let Some(leader) = leader {
        let samples = match leader {
            Some(l) => vec![(format!("{election},id=\"{}\"", escape(&l.id)), "1".into())],
            None => vec![],
        };
        family(
            "elect_leader",
            "gauge",
            "The current leader (1, labelled with its id); absent while nobody leads.",
            &samples,
        );
        family(
            "elect_leader_term",
            "gauge",
            "The current leader's term (fencing token); 0 while nobody leads.",
            &one(leader.as_ref().map_or(0, |l| l.term).to_string()),
        );
    }
    let _ = writeln!(
        out,
        "# HELP elect_log_records_dropped_total Log records dropped because the log sink was slow.\n\
         # TYPE elect_log_records_dropped_total counter\n\
         elect_log_records_dropped_total {}",
        log_bridge::dropped()
    );
    out
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn seconds(s: f64) -> String {
    format!("{s:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
