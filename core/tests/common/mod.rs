//! Helpers every store's integration tests share (each test file is its own crate and includes
//! this module with `mod common;`).

#![allow(dead_code)] // not every test crate uses every helper

use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_core::{Election, Event};

/// Opens `uri` (options included) as election `name`, with a handler that forwards every event
/// to the returned receiver.
pub fn open_recording(uri: &str, name: &str) -> (Election, Receiver<Event>) {
    let (tx, rx) = channel();
    let e = Election::open(
        uri,
        name,
        Some(Box::new(move |ev: &Event| {
            let _ = tx.send(ev.clone());
        })),
    )
    .unwrap_or_else(|e| panic!("open {uri}: {e:?}"));
    (e, rx)
}

/// Waits up to `within` for the next event matching `pred`, skipping others.
pub fn expect_within(
    rx: &Receiver<Event>,
    within: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left).expect("event did not arrive in time");
        if pred(&ev) {
            return ev;
        }
    }
}
