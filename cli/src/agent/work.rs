//! The agent's `work <host:port> <interval_ms> <label>` request (tests/chaos): a loop that
//! samples `is_leader()` every interval and, while leading, sends a fenced write to the
//! resource at `host:port` (`write <label> <token>`, answered `ok` or `stale`).
//!
//! It reports `event sample <true|false> <token> <t0> <t1>` for every sample that is true or
//! differs from the one before, and `event write <token> <ok|stale|error> <t0> <t1>` for every
//! write; times are `CLOCK_MONOTONIC` nanoseconds taken just before and just after the call.
//! The loop ends when the election is closed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use elect_core::{Election, Error, State};

use super::{err, Output};
use crate::clock::monotonic_ns;

/// How long a write may wait for the resource: short, so that the loop keeps sampling while a
/// partition cuts the resource off.
const RESOURCE_TIMEOUT: Duration = Duration::from_millis(250);

/// Starts the loop on a thread of its own; replies to the request.
pub(super) fn start(election: &Arc<Election>, out: &Arc<Output>, args: &[&str]) -> String {
    let Ok(ms) = args[1].parse::<u64>() else {
        return err(&Error::invalid(format!(
            "work: interval `{}` is not a whole number of milliseconds",
            args[1]
        )));
    };
    let (election, out) = (election.clone(), out.clone());
    let (resource, label) = (args[0].to_string(), args[2].to_string());
    std::thread::spawn(move || {
        run(
            &election,
            &out,
            &resource,
            &label,
            Duration::from_millis(ms),
        )
    });
    "ok".to_string()
}

fn run(election: &Election, out: &Output, resource: &str, label: &str, every: Duration) {
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut previous = None;
    while election.state() != State::Closed {
        let t0 = monotonic_ns();
        let leading = election.is_leader();
        let t1 = monotonic_ns();
        let token = election.fencing_token().unwrap_or(0);
        if leading || previous != Some(leading) {
            out.line(&format!("event sample {leading} {token} {t0} {t1}"));
        }
        previous = Some(leading);
        if leading && token > 0 {
            let t0 = monotonic_ns();
            let result = write(&mut conn, resource, label, token);
            if result == "error" {
                conn = None;
            }
            out.line(&format!(
                "event write {token} {result} {t0} {}",
                monotonic_ns()
            ));
        }
        std::thread::sleep(every);
    }
}

/// One fenced write: `ok`, `stale`, or `error` when the resource could not be reached.
fn write(
    conn: &mut Option<BufReader<TcpStream>>,
    resource: &str,
    label: &str,
    token: u64,
) -> String {
    let attempt = |conn: &mut Option<BufReader<TcpStream>>| -> std::io::Result<String> {
        if conn.is_none() {
            let address = resource
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
            let stream = TcpStream::connect_timeout(&address, RESOURCE_TIMEOUT)?;
            stream.set_read_timeout(Some(RESOURCE_TIMEOUT))?;
            *conn = Some(BufReader::new(stream));
        }
        let reader = conn.as_mut().expect("connected above");
        writeln!(reader.get_mut(), "write {label} {token}")?;
        let mut reply = String::new();
        reader.read_line(&mut reply)?;
        Ok(reply.trim().to_string())
    };
    match attempt(conn) {
        Ok(reply) if reply == "ok" || reply == "stale" => reply,
        _ => "error".to_string(),
    }
}
