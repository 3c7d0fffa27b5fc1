//! Every `tracing` event and span and every `log` record of the test process, from any crate,
//! kept as text lines at the most verbose level (`mod log_capture;` in a test crate).

#![allow(dead_code)] // each user needs a different part

use std::fmt::Write as _;
use std::sync::Mutex;

/// Every line written by `tracing` or `log`, from any crate.
pub static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());

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
        // As a host's subscriber must, to let elect's log bridge see core's records.
        tracing::Subscriber::event(&elect_core::log_bridge::Bridge, event);
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

/// Installs the capture as the process's `tracing` subscriber and `log` logger (once per test
/// process).
pub fn install() {
    tracing::subscriber::set_global_default(Capture(0.into())).unwrap();
    log::set_logger(&LogCapture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
}

/// The lines captured so far.
pub fn lines() -> Vec<String> {
    CAPTURED.lock().unwrap().clone()
}
