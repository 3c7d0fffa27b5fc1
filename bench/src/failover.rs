//! What the failover benchmarks of every store share: rounds of resign or SIGKILL among three
//! candidate processes (this binary re-executed as the scenario agent, driven by
//! `elect_cli::fleet`), and the table row of percentiles.
//!
//! Failover time is measured on `CLOCK_MONOTONIC`, shared by all processes: from just before the
//! resign request is written (or the SIGKILL is sent) to the moment the new leader's process
//! delivers its `Elected` event to its callback. Killed candidates are replaced before the next
//! round.

use std::time::Duration;

use elect_testkit::fleet::Fleet;

use crate::stats::{ms, Summary};

const PATIENCE: Duration = Duration::from_secs(60);

/// Runs the agent instead of the benchmark when re-executed as one (`<bench> agent`).
pub fn run_agent_if_asked() {
    if std::env::args().nth(1).as_deref() == Some("agent") {
        std::process::exit(elect_cli::agent::main(true));
    }
}

#[derive(Clone, Copy)]
pub enum Case {
    Resign,
    Kill,
    /// The leader hands the leadership to the candidate last in line (`hand_over <id>`, the
    /// mechanism of priority preemption), passing over the one ahead of it.
    HandOver,
}

/// Failover times in nanoseconds, one per round, of election `name` on `uri` (which should set
/// a short `silence`). `settle` is the pause before each round, long enough for a candidate that
/// just started or resigned to be waiting in line again, so that every round measures a
/// hand-over to a waiter.
pub fn measure(
    uri: &str,
    name: &str,
    case: Case,
    rounds: usize,
    settle: Duration,
) -> Result<Vec<u64>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my executable: {e}"))?;
    let mut fleet = Fleet::new(exe, vec!["agent".into()]);
    let mut next_id = 0;
    let mut join = |fleet: &mut Fleet| {
        next_id += 1;
        fleet.join(uri, name, &format!("c{next_id}"))
    };
    for _ in 0..3 {
        join(&mut fleet)?;
    }
    let (mut leader, _, _) = fleet.wait_elected(None, PATIENCE, |_, _| {})?;
    let mut last_in_line = if leader == 2 { 1 } else { 2 };
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        std::thread::sleep(settle);
        let from = match case {
            Case::Resign => fleet.resign(leader)?,
            Case::Kill => fleet.kill(leader),
            Case::HandOver => {
                // The candidate that has waited least: last in line on etcd and ZooKeeper.
                let to = fleet.id(last_in_line).to_string();
                // The leader names only members its follower has seen (on MySQL within a
                // renewal period of their joining): ask again until it has.
                let patience = std::time::Instant::now() + PATIENCE;
                loop {
                    let at = elect_testkit::clock::monotonic_ns();
                    match fleet.request(leader, &format!("hand_over {to}")) {
                        Ok(_) => break at,
                        Err(e)
                            if e.contains("invalid_argument")
                                && std::time::Instant::now() < patience =>
                        {
                            std::thread::sleep(Duration::from_millis(20))
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        let (next, _, at) = fleet.wait_elected(Some(leader), PATIENCE, |_, _| {})?;
        if let Case::HandOver = case {
            if next != last_in_line {
                return Err(format!(
                    "{} handed to {} but {} was elected",
                    fleet.id(leader),
                    fleet.id(last_in_line),
                    fleet.id(next)
                ));
            }
            last_in_line = leader; // it campaigns again after its silence, at the end of the line
        }
        samples.push(at.saturating_sub(from));
        if let Case::Kill = case {
            join(&mut fleet)?;
        }
        leader = next;
    }
    fleet.shutdown();
    Ok(samples)
}

/// Prints the header of the table [`row`] fills; `label` names the second column.
pub fn header(label: &str) {
    println!(
        "{:<20} {label:<22} {:>10} {:>10} {:>10} {:>14}",
        "case", "p50", "p99", "max", "target p99"
    );
}

/// One line of the table: p50, p99 and max of `samples` (nanoseconds; see [`crate::stats`]).
pub fn row(case: &str, label: &str, samples: &[u64], target: &str) {
    let s = Summary::of_ns(samples);
    println!(
        "{case:<20} {label:<22} {:>10} {:>10} {:>10} {target:>14}",
        ms(s.p50),
        ms(s.p99),
        ms(s.max)
    );
}

/// The flags of the SQL stores' failover benchmarks: `--rounds N` and `--ttl DURATION` (the
/// lease ttl of the crash case).
pub struct RoundsAndTtl {
    pub rounds: usize,
    /// Lease ttl of the crash case.
    pub ttl: String,
}

impl Default for RoundsAndTtl {
    fn default() -> RoundsAndTtl {
        RoundsAndTtl {
            rounds: 50,
            ttl: "1s".into(),
        }
    }
}

impl RoundsAndTtl {
    pub fn set(&mut self, flag: &str, value: &str) -> Result<(), String> {
        match flag {
            "--rounds" => self.rounds = crate::runner::positive(flag, value)?,
            "--ttl" => {
                elect_core::uri::parse_duration(value).map_err(|e| format!("--ttl: {e}"))?;
                self.ttl = value.to_string()
            }
            _ => return Err(format!("unknown flag `{flag}`")),
        }
        Ok(())
    }
}
