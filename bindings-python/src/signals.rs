//! Signals during a blocking wait: Python runs its signal handlers (Ctrl-C's
//! `KeyboardInterrupt`) on the main thread, between bytecodes, so a wait in native code must
//! return for them to run. For the length of a wait, Python's signal wake-up fd
//! (`signal.set_wakeup_fd`, written by Python's C-level handler with each signal's number)
//! points at a socket whose reader thread fires the wait's [`Interrupt`]: the wait returns at
//! once, the handlers run, and the wait goes on unless one of them raised.
//!
//! The wake-up fd in place before (asyncio's, say) gets the same bytes, so that its owner still
//! learns of the signals, and is restored when the wait ends.

use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use elect_core::Interrupt;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub struct SignalWakeup {
    /// The wake-up fd before ours (-1: none).
    previous: i64,
    /// Our end that Python writes to; dropping it ends the reader.
    writer: UnixStream,
    reader: JoinHandle<()>,
    /// Signal numbers read and not yet passed on to `previous`.
    received: Arc<Mutex<Vec<u8>>>,
}

impl SignalWakeup {
    /// Points Python's wake-up fd at a new reader that fires `interrupt`. `None` off the main
    /// thread: Python delivers signals to handlers on the main thread only, and allows
    /// `set_wakeup_fd` there only.
    pub fn install(py: Python<'_>, interrupt: &Interrupt) -> PyResult<Option<SignalWakeup>> {
        let threading = py.import("threading")?;
        let main = threading.call_method0("main_thread")?;
        if !threading.call_method0("current_thread")?.is(&main) {
            return Ok(None);
        }
        let (mut reader, writer) = UnixStream::pair().map_err(os_error)?;
        writer.set_nonblocking(true).map_err(os_error)?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let (interrupt, sink) = (interrupt.clone(), received.clone());
        let reader = std::thread::Builder::new()
            .name("elect-signals".into())
            .spawn(move || {
                let mut buf = [0u8; 64];
                // Ends at EOF, once `writer` is dropped.
                while let Ok(n @ 1..) = reader.read(&mut buf) {
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&buf[..n]);
                    interrupt.fire();
                }
            })
            .map_err(os_error)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("warn_on_full_buffer", false)?;
        let previous = py
            .import("signal")?
            .call_method("set_wakeup_fd", (writer.as_raw_fd(),), Some(&kwargs))?
            .extract()?;
        Ok(Some(SignalWakeup {
            previous,
            writer,
            reader,
            received,
        }))
    }

    /// Passes the signal numbers read so far on to the previous wake-up fd, if any. Its owner
    /// made it non-blocking; a full one loses bytes, as with Python's own handler.
    pub fn forward(&self, py: Python<'_>) {
        let bytes = std::mem::take(&mut *self.received.lock().unwrap_or_else(|e| e.into_inner()));
        if self.previous < 0 || bytes.is_empty() {
            return;
        }
        let written = py
            .import("os")
            .and_then(|os| os.call_method1("write", (self.previous, bytes.as_slice())));
        drop(written);
    }

    /// Puts the previous wake-up fd back and stops the reader.
    pub fn restore(self, py: Python<'_>) -> PyResult<()> {
        let restored = py
            .import("signal")
            .and_then(|signal| signal.call_method1("set_wakeup_fd", (self.previous,)));
        self.forward(py);
        drop(self.writer);
        // The reader sees EOF now; it never blocks on anything else.
        py.detach(|| self.reader.join()).ok();
        restored.map(drop)
    }
}

fn os_error(e: std::io::Error) -> PyErr {
    PyOSError::new_err(format!("elect: setting up the signal wake-up: {e}"))
}
