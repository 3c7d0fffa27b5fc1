//! The dispatcher example (scenario (b) of the fencing work): a leader assigns work items,
//! stamped with its fencing token, to every live member; each member does its share and
//! rejects assignments of an older token. The driver starts the members, SIGKILLs the leader
//! part-way, writes a late assignment as the deposed leader would, and reports who did which
//! item under which token, with the duplicates and the lost items (both must be 0).
//!
//! ```text
//! dispatcher [--uri URI] [--members N] [--items N]     the driver (prints the report)
//! dispatcher member URI NAME ID DIR                     one member (started by the driver)
//! ```

mod board;
mod driver;
mod member;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("member") if args.len() == 5 => {
            member::run(&args[1], &args[2], &args[3], Path::new(&args[4])).map(|()| true)
        }
        _ => match driver::Options::parse(&args) {
            Ok(options) => driver::run(&options),
            Err(usage) => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("dispatcher: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `uri` with `id=ID` added to its query.
pub fn with_id(uri: &str, id: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}id={id}")
}
