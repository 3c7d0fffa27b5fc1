//! What the Redis tests do to their server directly: `redis-cli`, and the counters of `INFO`.

use std::process::Command;

use crate::server::{Server, Store};

/// The server's connection string without options (a TLS server's CA file is in the
/// variable `ELECT_REDIS_TLS_CA`).
pub fn plain_uri(server: &Server) -> String {
    let uri = server.uri();
    uri.split('?').next().unwrap_or_default().to_string()
}

/// `redis-cli` against the server; returns its output.
pub fn cli(server: &Server, args: &[&str]) -> String {
    assert_eq!(server.store, Store::Redis);
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &server.var("ELECT_REDIS_PORT")])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// How many scripts (EVAL and EVALSHA) the server has run since it started.
pub fn script_calls(server: &Server) -> u64 {
    command_calls(server, &["eval", "evalsha"])
}

/// How many calls of `commands` (lower-case names) the server has received since it started,
/// from `INFO commandstats`.
pub fn command_calls(server: &Server, commands: &[&str]) -> u64 {
    cli(server, &["INFO", "commandstats"])
        .lines()
        .filter_map(|l| {
            let (name, stats) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            commands.contains(&name).then_some(())?;
            stats
                .split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}
