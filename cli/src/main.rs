//! The `elect` command: argument parsing only; each subcommand lives in its own module of the
//! `elect_cli` library.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use elect_cli::{agent, demo, exit, logging, observe, run};
use elect_core::log_bridge::Level;

#[derive(Parser)]
#[command(
    name = "elect",
    version,
    about = "Leader election for processes: run a job on exactly one instance, and let another \
             take over when it dies or is redeployed."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Log elect's own records (leadership changes, store errors) on stderr from LEVEL up:
    /// off, error, warn, info, debug or trace. Default: warn for run and observe, off for
    /// agent and demo.
    #[arg(long, global = true, env = "ELECT_LOG", value_name = "LEVEL", value_parser = log_level)]
    log_level: Option<LogLevel>,
}

/// A parsed `--log-level` (`None` for `off`).
#[derive(Clone, Copy)]
struct LogLevel(Option<Level>);

fn log_level(s: &str) -> Result<LogLevel, String> {
    logging::parse_level(s).map(LogLevel)
}

#[derive(Subcommand)]
enum Cmd {
    /// Campaign in an election and run CMD only while leading.
    ///
    /// CMD gets ELECT_FENCING_TOKEN, ELECT_TERM, ELECT_NAME and ELECT_ID in its environment and
    /// runs in a process group of its own. When the leadership is lost (or the lease deadline
    /// comes within --grace with no confirmed renewal) elect sends SIGTERM to the group, then
    /// SIGKILL at the lease deadline at the latest, and campaigns again. When CMD exits by itself,
    /// elect resigns and exits with CMD's code. SIGINT/SIGTERM/SIGHUP stop CMD the same way,
    /// resign and exit 0.
    #[command(after_help = exit::RUN_HELP)]
    Run(RunOpts),
    /// Print who leads an election, as one JSON line per change, until SIGINT.
    ///
    /// {"time":"2026-01-01T00:00:00.000Z","leader":{"id":"web-1","value":"","term":7}}
    /// or {"time":...,"leader":null} while nobody leads.
    Observe {
        #[command(flatten)]
        target: Target,
        /// Print the election's metrics once, in the Prometheus text format, and exit.
        #[arg(long)]
        metrics: bool,
    },
    /// Scenario agent: drive one election over a line protocol on stdin/stdout.
    ///
    /// Requests: open <uri> <name> | start | observe | is_leader | token | wait_leader <ms> |
    /// resign | leader | members | close | quit. See docs/cli.md.
    Agent {
        /// Append ` @<CLOCK_MONOTONIC ns>` to event lines (for the demo and benchmarks).
        #[arg(long, hide = true)]
        stamp: bool,
    },
    /// Show three processes electing a leader, a crash takeover and a graceful hand-over.
    Demo {
        /// Store to use instead of a temporary file:// directory.
        #[arg(long, value_name = "URI")]
        uri: Option<String>,
        /// Election name.
        #[arg(long, default_value = "elect-demo")]
        name: String,
    },
}

#[derive(Args)]
struct Target {
    /// Connection string, e.g. file:///var/lib/elect or etcd://127.0.0.1:2379/prefix?ttl=5s
    #[arg(long, value_name = "URI")]
    uri: String,
    /// Election name, e.g. billing-cron
    #[arg(long)]
    name: String,
}

#[derive(Args)]
struct RunOpts {
    #[command(flatten)]
    target: Target,
    /// Lease time to live (overrides the URI's `ttl`), e.g. 10s
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    ttl: Option<Duration>,
    /// Candidate id (overrides the URI's `id`; default hostname-pid-random)
    #[arg(long)]
    id: Option<String>,
    /// Time between SIGTERM and SIGKILL (default: half of ttl - renew - margin)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    grace: Option<Duration>,
    /// The command to run while leading, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

fn duration(s: &str) -> Result<Duration, String> {
    elect_core::uri::parse_duration(s)
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; every other parse failure is bad usage.
            std::process::exit(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let default = match cli.command {
        Cmd::Run(_) | Cmd::Observe { .. } => Some(Level::Warn),
        Cmd::Agent { .. } | Cmd::Demo { .. } => None,
    };
    logging::to_stderr(cli.log_level.map_or(default, |l| l.0));
    let code = match cli.command {
        Cmd::Run(o) => run::main(run::RunArgs {
            uri: o.target.uri,
            name: o.target.name,
            ttl: o.ttl,
            id: o.id,
            grace: o.grace,
            command: o.command,
        }),
        Cmd::Observe { target, metrics } if metrics => {
            observe::print_metrics(&target.uri, &target.name)
        }
        Cmd::Observe { target, .. } => observe::main(&target.uri, &target.name),
        Cmd::Agent { stamp } => agent::main(stamp),
        Cmd::Demo { uri, name } => demo::main(uri, &name),
    };
    logging::flush();
    std::process::exit(code);
}
