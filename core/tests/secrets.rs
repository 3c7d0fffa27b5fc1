//! No fragment of a password shows in any error, event, `Display`/`Debug` or log line, whatever
//! reserved characters (`/ ? # @ :`, percent-encoded ones) the user and password hold.
//!
//! The connection strings come from `tests/scenarios/secret_uris.py`, which the scenario agents
//! of every language run through too: every scheme against a closed port and with malformed
//! parts, and each store of the run (`ELECT_<STORE>_URI`, exported by `scripts/test`) with wrong
//! credentials of that shape. Every `tracing` event and span and every `log` record of elect
//! and of the store clients under it is captured at the most verbose level, and so is every
//! record the log bridge hands to a host's sink (`elect_core::log_bridge`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc::channel;
use std::sync::Mutex;
use std::time::Duration;

use elect_core::log_bridge::{self, Level, Record};
use elect_core::{Config, Election, Event};

/// Every line written by `tracing` or `log`, from any crate.
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Every record the log bridge delivered, as a host's sink sees it.
static BRIDGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn capture(line: String) {
    CAPTURED.lock().unwrap().push(line);
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

/// A subscriber that keeps every event and span field; nothing is filtered out.
struct Capture(std::sync::atomic::AtomicU64);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut f = Fields(format!("span {} ", span.metadata().name()));
        span.record(&mut f);
        capture(f.0);
        tracing::span::Id::from_u64(1 + self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut f = Fields(String::from("record "));
        values.record(&mut f);
        capture(f.0);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields(format!(
            "{} {} ",
            event.metadata().level(),
            event.metadata().target()
        ));
        event.record(&mut f);
        capture(f.0);
        tracing::Subscriber::event(&log_bridge::Bridge, event);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

struct LogCapture;

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        capture(format!(
            "{} {} {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

/// The password's pieces (first line) and the connection strings for `store_uri`.
fn secret_uris(store_uri: &str) -> (Vec<String>, Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/secret_uris.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(store_uri)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let pieces = lines
        .next()
        .unwrap()
        .split(' ')
        .map(str::to_string)
        .collect();
    (pieces, lines.collect())
}

/// Opens `uri`, and if that works starts and waits for the first elected or error event.
/// Returns every message, event and `Display`/`Debug` it produced.
fn exercise(uri: &str) -> Vec<String> {
    let host_part = uri.rsplit_once('@').map_or(uri, |(_, h)| h);
    let sep = if host_part.contains('?') { '&' } else { '?' };
    let uri = format!("{uri}{sep}ttl=2s&renew=500ms&retry=500ms&connect_timeout=2s&id=a0");
    let mut shown = vec![];
    match Config::parse(&uri) {
        Ok(c) => shown.push(format!("{c} {c:?}")),
        Err(e) => shown.push(format!("{e} {e:?}")),
    }
    let (tx, rx) = channel();
    let handler = Box::new(move |ev: &Event| {
        let _ = tx.send(format!("{ev:?}"));
    });
    match Election::open(&uri, "secrets", Some(handler)) {
        Err(e) => shown.push(format!("{e} {e:?}")),
        Ok(election) => {
            election.start().unwrap();
            loop {
                let ev = rx
                    .recv_timeout(Duration::from_secs(15))
                    .expect("no event within 15 s of start");
                let done = ev.starts_with("Elected") || ev.starts_with("Error");
                shown.push(ev);
                if done {
                    break;
                }
            }
            election.close();
            shown.extend(rx.try_iter());
        }
    }
    shown
}

#[test]
fn no_fragment_of_a_password_is_shown() {
    tracing::subscriber::set_global_default(Capture(0.into())).unwrap();
    log::set_logger(&LogCapture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    log_bridge::set_sink(
        Some(Box::new(|r: &Record| {
            BRIDGED.lock().unwrap().push(format!("{r} {r:?}"))
        })),
        Level::Trace,
    );

    let dir = std::env::temp_dir().join(format!("elect-secrets-{}", std::process::id()));
    let mut stores = vec![format!("file://{}", dir.display())];
    for var in [
        "ELECT_ETCD_URI",
        "ELECT_ZK_URI",
        "ELECT_REDIS_URI",
        "ELECT_POSTGRES_URI",
    ] {
        match std::env::var(var) {
            Ok(uri) => stores.push(uri),
            Err(_) => eprintln!("{var} not set: that store's wrong-credential run is left out"),
        }
    }
    let mut shown = vec![];
    let mut pieces = vec![];
    for store in &stores {
        let (p, uris) = secret_uris(store);
        pieces = p;
        for uri in uris {
            shown.extend(exercise(&uri));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let logged = CAPTURED.lock().unwrap().clone();
    assert!(
        log_bridge::flush(Duration::from_secs(10)),
        "the bridge did not drain"
    );
    let bridged = BRIDGED.lock().unwrap().clone();
    for (what, lines) in [
        ("message or event", &shown),
        ("log line", &logged),
        ("bridged record", &bridged),
    ] {
        for line in lines {
            for piece in &pieces {
                assert!(
                    !line.contains(piece.as_str()),
                    "`{piece}` in a {what}: {line}"
                );
            }
        }
    }
    assert!(
        shown.len() > 10 && !logged.is_empty(),
        "nothing was shown or logged: the check above was vacuous"
    );
    // Elections that ran (ZooKeeper accepts any digest identity) log through the bridge.
    let ran = shown
        .iter()
        .any(|l| l.starts_with("Elected") || l.starts_with("Error"));
    assert!(
        !ran || bridged.iter().any(|r| r.contains("store=")),
        "elections ran but no record with its store reached the bridge: the check was vacuous"
    );
}
