//! The command line of every benchmark binary: `--flag value` pairs in, a report or one error
//! line out, with the exit codes of `sysexits.h` (64 for bad usage).

/// Parses the arguments with `set` (called once per `--flag value` pair on `O::default()`),
/// then runs `bench`. Never returns.
pub fn run<O: Default>(
    name: &str,
    usage: &str,
    set: impl Fn(&mut O, &str, &str) -> Result<(), String>,
    bench: impl FnOnce(&O) -> Result<(), String>,
) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = O::default();
    let mut it = args.iter();
    let parsed = loop {
        let Some(flag) = it.next() else {
            break Ok(());
        };
        let Some(value) = it.next() else {
            break Err(format!("{flag}: missing value"));
        };
        if let Err(e) = set(&mut opts, flag, value) {
            break Err(e);
        }
    };
    if let Err(e) = parsed {
        eprintln!("{name}: {e}\nusage: {name} {usage}");
        std::process::exit(64);
    }
    match bench(&opts) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    }
}

/// A positive count, for flags like `--rounds`.
pub fn positive(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{flag}: `{value}` is not a positive number"))
}
