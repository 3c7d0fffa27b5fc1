//! Exit codes of `elect`, from `sysexits.h` where one fits, so that scripts and supervisors can
//! tell a typo from an unreachable store. Documented in `elect run --help` and `docs/cli.md`.

use elect_core::{Error, ErrorCode};

/// Success, or `elect` was asked to stop (SIGINT/SIGTERM) and stopped cleanly.
pub const OK: i32 = 0;
/// Bad usage or invalid argument: unknown flag, malformed URI, unknown option, bad duration.
pub const USAGE: i32 = 64;
/// The store could not be reached.
pub const UNAVAILABLE: i32 = 69;
/// A bug in elect (a caught panic, an impossible state).
pub const SOFTWARE: i32 = 70;
/// Local I/O failed (stdout closed, temporary directory not writable).
pub const IOERR: i32 = 74;
/// The store did not answer in time.
pub const TEMPFAIL: i32 = 75;
/// The store answered with an error.
pub const PROTOCOL: i32 = 76;
/// The store refused the credentials or the privilege.
pub const NOPERM: i32 = 77;
/// The URI names a store this build does not include.
pub const CONFIG: i32 = 78;
/// `elect demo` was interrupted (SIGINT, SIGTERM, SIGHUP) before the end: 128 + SIGINT, as a
/// shell reports it.
pub const INTERRUPTED: i32 = 130;
/// CMD exists but could not be executed.
pub const CANNOT_EXECUTE: i32 = 126;
/// CMD was not found.
pub const NOT_FOUND: i32 = 127;

/// The exit code for an error of the library.
pub fn for_error(e: &Error) -> i32 {
    match e.code() {
        ErrorCode::Ok => OK,
        ErrorCode::InvalidArgument => USAGE,
        ErrorCode::Unreachable => UNAVAILABLE,
        ErrorCode::Auth | ErrorCode::Permission => NOPERM,
        ErrorCode::Timeout => TEMPFAIL,
        ErrorCode::Store => PROTOCOL,
        ErrorCode::Unsupported => CONFIG,
        ErrorCode::NotLeader | ErrorCode::Closed | ErrorCode::WrongState | ErrorCode::Internal => {
            SOFTWARE
        }
    }
}

/// Prints `elect: <message>` on stderr and returns the exit code for `e`.
pub fn fail(e: &Error) -> i32 {
    eprintln!("elect: {e}");
    for_error(e)
}

/// The shell's convention for a process status: its exit code, or 128 + the signal that
/// killed it.
pub fn of_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => SOFTWARE,
    }
}

/// Text for `--help`: the exit codes of `elect run`.
pub const RUN_HELP: &str = "\
Exit codes:
  0        CMD exited with 0, or elect was stopped by SIGINT/SIGTERM and stopped CMD
  1-125    CMD's own exit code (elect resigned after CMD exited)
  128+N    CMD was killed by signal N (not by elect)
  64       bad usage or invalid argument (flag, URI, option, duration)
  69       the store is unreachable
  70       internal error
  75       the store did not answer in time
  76       the store answered with an error
  77       the store refused the credentials or the privilege
  78       the URI names a store this build does not include
  126      CMD could not be executed
  127      CMD was not found";
