//! Failover time on the embedded `file://` backend, after a graceful resign and after SIGKILL
//! of the leader process, with the term file synced (`sync=true`, the default) and not.
//!
//! ```text
//! cargo run --release -p elect-bench --bin file_failover [-- --rounds 100 --dir DIR --silence 50ms]
//! ```
//!
//! Three candidates run as separate processes (this binary re-executed as the scenario agent,
//! the same code as `elect agent --stamp`), as in `elect demo`. Failover time is measured on
//! `CLOCK_MONOTONIC`, shared by all processes: from just before the resign request is written
//! (or the SIGKILL is sent) to the moment the new leader's process delivers its `Elected`
//! event to its callback. Killed candidates are replaced before the next round.

use std::path::PathBuf;
use std::time::Duration;

use elect_bench::failover::{header, measure, row, Case};
use elect_testkit::fleet::with_option;

/// Default of `--silence`, how long a resigned leader stays out of the election. (The file store
/// itself lets waiters take over before a resigner campaigns again; the silence keeps each
/// round's hand-over to a waiter independent of that.)
const SILENCE: &str = "50ms";
/// Time for a candidate that just started or resigned to be waiting in line again before the
/// next round, so that every round measures a hand-over to a waiter.
const SETTLE: Duration = Duration::from_millis(80);

fn main() {
    elect_bench::failover::run_agent_if_asked();
    let args: Vec<String> = std::env::args().collect();
    let opts = match Options::parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("file_failover: {e}\nusage: file_failover [--rounds N] [--dir DIR] [--silence DURATION]");
            std::process::exit(64);
        }
    };
    if let Err(e) = bench(&opts) {
        eprintln!("file_failover: {e}");
        std::process::exit(1);
    }
}

struct Options {
    rounds: usize,
    dir: PathBuf,
    silence: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            rounds: 100,
            dir: std::env::temp_dir(),
            silence: SILENCE.to_string(),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag}: missing value"))?;
            match flag.as_str() {
                "--rounds" => {
                    o.rounds =
                        value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("--rounds: `{value}` is not a positive number")
                        })?
                }
                "--dir" => o.dir = PathBuf::from(value),
                "--silence" => o.silence = value.clone(),
                _ => return Err(format!("unknown flag `{flag}`")),
            }
        }
        Ok(o)
    }
}

fn bench(opts: &Options) -> Result<(), String> {
    println!(
        "file backend failover: {} rounds per case, 3 candidate processes, directory in {} ({}), silence={}",
        opts.rounds,
        opts.dir.display(),
        fs_type(&opts.dir),
        opts.silence
    );
    println!("measured from the resign request / SIGKILL to the new leader's Elected event (CLOCK_MONOTONIC)\n");
    header("sync");
    for sync in ["true", "false"] {
        let dir = TempDir::new(&opts.dir)?;
        let uri = with_option(
            &with_option(&format!("file://{}", dir.0.display()), "sync", sync),
            "silence",
            &opts.silence,
        );
        let graceful = measure(&uri, "bench", Case::Resign, opts.rounds, SETTLE)?;
        row("graceful resign", sync, &graceful, "< 5 ms");
        let killed = measure(&uri, "bench", Case::Kill, opts.rounds, SETTLE)?;
        row("SIGKILL of leader", sync, &killed, "< 20 ms");
    }
    Ok(())
}

/// The kind of file system `dir` is on: fsync costs differ by orders of magnitude.
fn fs_type(dir: &std::path::Path) -> &'static str {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return "unknown file system";
    };
    // SAFETY: `path` is a valid NUL-terminated string and `st` a writable statfs struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(path.as_ptr(), &mut st) } != 0 {
        return "unknown file system";
    }
    match st.f_type as i64 {
        0xEF53 => "ext4",
        0x0102_1994 => "tmpfs",
        0x9123_683E => "btrfs",
        0x5846_5342 => "xfs",
        0x794C_7630 => "overlayfs",
        _ => "other file system",
    }
}

/// A directory for one case, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(parent: &std::path::Path) -> Result<TempDir, String> {
        let d = parent.join(format!(
            "elect-bench-{}-{}",
            std::process::id(),
            elect_cli::clock::monotonic_ns()
        ));
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(TempDir(d))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
