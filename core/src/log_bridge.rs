//! One path from core's `tracing` records to the host's logging (C callback, `logging`,
//! `System.Logger`, `log/slog`, the CLI's stderr).
//!
//! Core writes `tracing` events; [`Bridge`] is the `tracing` subscriber that turns those of
//! elect's own targets (`elect_core::…`) into [`Record`]s and hands them to the one [`Sink`]
//! registered with [`set_sink`]. Three properties matter to an election:
//!
//! - **Nothing is formatted when nobody listens.** The level filter lives here: with no sink,
//!   [`Bridge`] reports `OFF` as its maximum level, so `tracing`'s global filter stops every
//!   event at its call site (one relaxed atomic load) before a field is evaluated. Changing the
//!   level rebuilds `tracing`'s interest cache.
//! - **Logging never blocks an election's task.** A record goes into a bounded queue
//!   ([`QUEUE`] records) with `try_send`; one thread of its own (`elect-log`) calls the sink. When
//!   the host's logger is slower than the records come, the newest are dropped and counted
//!   ([`dropped`]), and the count is reported as a WARN record once the queue drains.
//! - **One sink per process**, replaced or removed with [`set_sink`]. Once `set_sink` returns,
//!   the previous sink is not called again, except when `set_sink` is itself called from
//!   inside the sink (it cannot wait for the call it runs in).
//!
//! A Rust host that installed a global `tracing` subscriber of its own keeps it: core's records
//! go there, and `set_sink` has no effect unless that subscriber forwards events to a
//! [`Bridge`] (as `core/tests/secrets.rs` does).

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};

use crate::fork::PerProcess;

/// How many records may wait for the sink before new ones are dropped.
pub const QUEUE: usize = 1024;

/// Severity of a record, numbered as the C ABI numbers `elect_log_level` (0 is "off").
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl Level {
    /// Every level, most severe first.
    pub const ALL: [Level; 5] = [
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

    pub fn from_i32(v: i32) -> Option<Level> {
        Level::ALL.into_iter().find(|l| *l as i32 == v)
    }

    /// Lower-case name: `error`, `warn`, `info`, `debug`, `trace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// Parses a level name (any case; `warning` too). `None` for anything else.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "warning" => Some(Level::Warn),
            _ => Level::ALL.into_iter().find(|l| l.as_str() == s),
        }
    }

    fn of(level: &tracing::Level) -> Level {
        match *level {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warn,
            tracing::Level::INFO => Level::Info,
            tracing::Level::DEBUG => Level::Debug,
            tracing::Level::TRACE => Level::Trace,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log record of core. The well-known fields are broken out; any other field is in
/// `fields`, in the order it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub level: Level,
    /// The Rust module that wrote it, e.g. `elect_core::engine`.
    pub target: String,
    pub message: String,
    /// The election's name.
    pub election: Option<String>,
    /// The store's connection string, password replaced by `***`.
    pub store: Option<String>,
    /// This candidate's id.
    pub id: Option<String>,
    /// The fencing token the record is about.
    pub term: Option<u64>,
    pub fields: Vec<(String, String)>,
}

impl Record {
    /// `key=value` pairs of every field but the message, the well-known ones first; values
    /// with spaces, quotes or `=` are quoted.
    pub fn fields_text(&self) -> String {
        let mut out = String::new();
        let known = [
            ("election", self.election.clone()),
            ("store", self.store.clone()),
            ("id", self.id.clone()),
            ("term", self.term.map(|t| t.to_string())),
        ];
        let pairs = known
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .chain(self.fields.iter().cloned());
        for (k, v) in pairs {
            if !out.is_empty() {
                out.push(' ');
            }
            if v.is_empty() || v.contains([' ', '"', '=']) {
                let _ = write!(out, "{k}={v:?}");
            } else {
                let _ = write!(out, "{k}={v}");
            }
        }
        out
    }
}

impl fmt::Display for Record {
    /// `LEVEL target: message key=value…`, as the CLI writes it to stderr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = self.level.as_str().to_ascii_uppercase();
        write!(f, "{level} {}: {}", self.target, self.message)?;
        let fields = self.fields_text();
        if !fields.is_empty() {
            write!(f, " {fields}")?;
        }
        Ok(())
    }
}

/// Receives core's records, one at a time, on the `elect-log` thread.
pub type Sink = Box<dyn Fn(&Record) + Send + Sync + 'static>;

/// The most verbose level delivered; 0 while no sink is registered.
static LEVEL: AtomicU8 = AtomicU8::new(0);
/// Records dropped because the queue was full, since the process started.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// The registered sink. Locked only to swap or clone the `Arc`, never during a call.
static SINK: Mutex<Option<Arc<Sink>>> = Mutex::new(None);
/// The queue and its delivery thread, per process (a forked child starts its own).
static DELIVERY: PerProcess<Delivery> = PerProcess::new(Delivery::start);

/// What the delivery thread receives.
enum Item {
    Record(Record),
    /// Answered once every record queued before it was delivered.
    Flush(SyncSender<()>),
}

struct Delivery {
    tx: Option<SyncSender<Item>>,
    thread: Option<ThreadId>,
    /// Held while the sink runs, so that `set_sink` can wait for a call in progress.
    calling: Arc<Mutex<()>>,
}

impl Delivery {
    fn start() -> Delivery {
        let (tx, rx) = sync_channel(QUEUE);
        let calling = Arc::new(Mutex::new(()));
        let lock = calling.clone();
        let thread = std::thread::Builder::new()
            .name("elect-log".into())
            .spawn(move || deliver(rx, &lock));
        match thread {
            Ok(t) => Delivery {
                thread: Some(t.thread().id()),
                tx: Some(tx),
                calling,
            },
            // No thread, no logging: records are dropped and counted, elections go on.
            Err(_) => Delivery {
                thread: None,
                tx: None,
                calling,
            },
        }
    }
}

/// The loop of the `elect-log` thread.
fn deliver(rx: Receiver<Item>, calling: &Mutex<()>) {
    let mut reported = 0;
    for item in rx {
        let record = match item {
            Item::Record(r) => r,
            Item::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let _call = calling.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sink) = SINK.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
            continue;
        };
        call(&sink, &record);
        let dropped = DROPPED.load(Relaxed);
        if dropped != reported && LEVEL.load(Relaxed) >= Level::Warn as u8 {
            let lost = dropped - reported;
            reported = dropped;
            call(
                &sink,
                &Record {
                    level: Level::Warn,
                    target: module_path!().to_string(),
                    message: format!(
                        "{lost} log records were dropped: the host's logger did not keep up"
                    ),
                    election: None,
                    store: None,
                    id: None,
                    term: None,
                    fields: vec![("dropped_total".into(), dropped.to_string())],
                },
            );
        }
    }
}

/// Calls the sink; a panic in it is swallowed (it would otherwise end the delivery thread).
fn call(sink: &Sink, record: &Record) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(record)));
}

/// Registers `sink` for records at `min_level` and more severe, replacing any sink before it;
/// `None` removes it (and turns every call site off again). Installs [`Bridge`] as the global
/// `tracing` subscriber on first use, unless the process already has one.
pub fn set_sink(sink: Option<Sink>, min_level: Level) {
    let _ = tracing::subscriber::set_global_default(Bridge);
    let level = if sink.is_some() { min_level as u8 } else { 0 };
    let previous = std::mem::replace(
        &mut *SINK.lock().unwrap_or_else(|e| e.into_inner()),
        sink.map(Arc::new),
    );
    if LEVEL.swap(level, Relaxed) != level {
        tracing::callsite::rebuild_interest_cache();
    }
    // The delivery thread starts with the first record, not here: a host that blocks signals
    // for its own threads (`elect run`) does so after choosing its logger.
    if previous.is_some() {
        let delivery = DELIVERY.get();
        if delivery.thread != Some(std::thread::current().id()) {
            // Waits for a call of the previous sink in progress; later ones see the new slot.
            drop(delivery.calling.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }
    drop(previous);
}

/// Waits (up to `timeout`) until the records queued so far have been delivered. For a host
/// about to exit, and for tests; never call it from inside the sink. Returns whether they were.
pub fn flush(timeout: std::time::Duration) -> bool {
    let Some(tx) = &DELIVERY.get().tx else {
        return true;
    };
    let (done, wait) = sync_channel(1);
    let deadline = std::time::Instant::now() + timeout;
    let mut item = Item::Flush(done);
    loop {
        match tx.try_send(item) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                item = back;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(_) => return false,
        }
    }
    wait.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        .is_ok()
}

/// The most verbose level a sink receives now, `None` while no sink is registered.
pub fn level() -> Option<Level> {
    Level::from_i32(LEVEL.load(Relaxed) as i32)
}

/// How many records were dropped since the process started because the sink was too slow.
pub fn dropped() -> u64 {
    DROPPED.load(Relaxed)
}

/// Whether records of `target` at `level` reach the sink now.
fn wanted(target: &str, level: &tracing::Level) -> bool {
    target.starts_with("elect") && Level::of(level) as u8 <= LEVEL.load(Relaxed)
}

/// The `tracing` subscriber that feeds the sink. Spans are not tracked: core's records carry
/// their context (election, id, term) as fields of the event itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bridge;

impl Subscriber for Bridge {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if wanted(meta.target(), meta.level()) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        wanted(meta.target(), meta.level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match level() {
            None => LevelFilter::OFF,
            Some(Level::Error) => LevelFilter::ERROR,
            Some(Level::Warn) => LevelFilter::WARN,
            Some(Level::Info) => LevelFilter::INFO,
            Some(Level::Debug) => LevelFilter::DEBUG,
            Some(Level::Trace) => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let meta = event.metadata();
        if !wanted(meta.target(), meta.level()) {
            return;
        }
        let mut record = Record {
            level: Level::of(meta.level()),
            target: meta.target().to_string(),
            message: String::new(),
            election: None,
            store: None,
            id: None,
            term: None,
            fields: vec![],
        };
        event.record(&mut Fields(&mut record));
        let Some(tx) = &DELIVERY.get().tx else {
            DROPPED.fetch_add(1, Relaxed);
            return;
        };
        if let Err(TrySendError::Full(_)) = tx.try_send(Item::Record(record)) {
            DROPPED.fetch_add(1, Relaxed);
        }
    }
}

/// Fills a [`Record`] from an event's fields.
struct Fields<'a>(&'a mut Record);

impl Visit for Fields<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "term" => self.0.term = Some(value),
            _ => self.record_str(field, &value.to_string()),
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let r = &mut *self.0;
        match field.name() {
            "message" => r.message = value.to_string(),
            "election" => r.election = Some(value.to_string()),
            "store" => r.store = Some(value.to_string()),
            "id" => r.id = Some(value.to_string()),
            name => r.fields.push((name.to_string(), value.to_string())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here as a Display wrapper whose Debug is the Display text.
        self.record_str(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
#[path = "log_bridge_tests.rs"]
mod tests;
