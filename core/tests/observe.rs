//! Observability through the one log path and the metrics snapshot, against real stores:
//! leadership changes logged by core with election, id and term; a Redis server killed under
//! a leader arriving as WARN records and as counted store errors; the snapshot following it.
//!
//! The log sink is process-wide, so every test here shares one sink that sends each record to
//! the test whose election it names (`ROUTES`).

use std::collections::HashMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use elect_core::log_bridge::{self, Level, Record};
use elect_core::{Event, RevokeReason};
use elect_testkit::server::{signal, Server, Store};
use elect_testkit::wait::{expect_within, open_recording, WAIT};

static ROUTES: Mutex<Option<HashMap<String, Sender<Record>>>> = Mutex::new(None);

/// The records of election `name`, from now on.
fn records_of(name: &str) -> Records {
    static SINK: Once = Once::new();
    SINK.call_once(|| {
        log_bridge::set_sink(
            Some(Box::new(|r: &Record| {
                let routes = ROUTES.lock().unwrap();
                if let Some(tx) = r.election.as_ref().and_then(|e| routes.as_ref()?.get(e)) {
                    let _ = tx.send(r.clone());
                }
            })),
            Level::Info,
        )
    });
    let (tx, rx) = channel();
    ROUTES
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(name.to_string(), tx);
    Records {
        rx,
        unclaimed: Vec::new(),
    }
}

/// One election's records. Records come from different tasks (the campaign logs `elected`,
/// the leader follower `leader changed`), so their order between kinds is not fixed: a record
/// that one expectation passes over stays for the next.
struct Records {
    rx: Receiver<Record>,
    unclaimed: Vec<Record>,
}

impl Records {
    /// The first record `pred` accepts, within `WAIT`.
    fn expect(&mut self, what: &str, pred: impl Fn(&Record) -> bool) -> Record {
        if let Some(i) = self.unclaimed.iter().position(&pred) {
            return self.unclaimed.remove(i);
        }
        let end = Instant::now() + WAIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(r) if pred(&r) => return r,
                Ok(r) => self.unclaimed.push(r),
                Err(_) => panic!("no record {what} within {WAIT:?}: {:?}", self.unclaimed),
            }
        }
    }
}

fn unique_name(tag: &str) -> String {
    format!("observe-{tag}-{}", elect_testkit::server::unique())
}

#[test]
fn leadership_changes_are_logged_and_counted() {
    let dir = std::env::temp_dir().join(unique_name("file"));
    let name = unique_name("changes");
    let mut logs = records_of(&name);
    let uri = format!("file://{}?ttl=2s&id=c1", dir.display());
    let (e, events) = open_recording(&uri, &name);
    e.start().unwrap();
    let term = match expect_within(&events, WAIT, |ev| matches!(ev, Event::Elected { .. })) {
        Event::Elected { term } => term,
        _ => unreachable!(),
    };
    let elected = logs.expect("for Elected", |r| r.message.starts_with("elected"));
    assert_eq!(elected.level, Level::Info);
    assert_eq!(elected.id.as_deref(), Some("c1"));
    assert_eq!(elected.term, Some(term));
    assert!(elected
        .store
        .as_deref()
        .is_some_and(|s| s.starts_with("file://")));
    let changed = logs.expect("for LeaderChanged", |r| r.message == "leader changed");
    assert_eq!(changed.level, Level::Info);
    assert_eq!(changed.term, Some(term));

    let stats = e.stats();
    assert_eq!(stats.terms_won, 1);
    let left = stats.lease_remaining.expect("a leader has lease left");
    assert!(
        left > Duration::ZERO && left <= Duration::from_secs(2),
        "{left:?}"
    );

    e.resign().unwrap();
    let revoked = logs.expect("for Revoked", |r| r.message.starts_with("revoked"));
    assert_eq!(revoked.level, Level::Info, "a resignation is not a warning");
    assert_eq!(revoked.term, Some(term));
    assert!(revoked
        .fields
        .contains(&("reason".into(), "resigned".into())));
    let stats = e.stats();
    assert_eq!(stats.revocations(RevokeReason::Resigned), 1);
    assert_eq!(stats.revocations(RevokeReason::StoreUnreachable), 0);
    e.close();
    assert!(!e.health().ok, "a closed election is not healthy");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_killed_redis_server_arrives_as_warnings_with_election_and_term() {
    let server = Server::start(Store::Redis, "observe");
    let name = unique_name("redis");
    let mut logs = records_of(&name);
    let uri = format!(
        "{}?ttl=2s&renew=300ms&retry=200ms&connect_timeout=1s&id=r1",
        server.uri()
    );
    let (e, events) = open_recording(&uri, &name);
    e.start().unwrap();
    let term = match expect_within(&events, WAIT, |ev| matches!(ev, Event::Elected { .. })) {
        Event::Elected { term } => term,
        _ => unreachable!(),
    };
    elect_testkit::wait::until("a renewal's round trip", WAIT, || {
        e.stats().store_rtt.is_some()
    });

    signal(server.pid(), "KILL");
    let revoked = logs.expect("for Revoked", |r| r.message.starts_with("revoked"));
    assert_eq!(
        revoked.level,
        Level::Warn,
        "losing the store is a warning: {revoked}"
    );
    assert_eq!(revoked.term, Some(term));
    assert_eq!(revoked.id.as_deref(), Some("r1"));
    let error = logs.expect("for the store error", |r| {
        r.level == Level::Warn && !r.message.starts_with("revoked")
    });
    assert_eq!(error.election.as_deref(), Some(name.as_str()));
    let stats = e.stats();
    assert!(stats.store_errors >= 1, "{stats:?}");
    assert!(
        !stats.store_connected && !e.health().store_connected,
        "{stats:?}"
    );
    assert!(
        e.health().ok,
        "a candidate that lost its store is not wedged"
    );
    assert_eq!(stats.lease_remaining, None);
    assert!(
        stats.revocations(RevokeReason::StoreUnreachable)
            + stats.revocations(RevokeReason::SessionLost)
            + stats.revocations(RevokeReason::LeaseExpired)
            == 1,
        "{stats:?}"
    );

    server.start_again();
    expect_within(&events, WAIT, |ev| matches!(ev, Event::Elected { .. }));
    let stats = e.stats();
    assert!(stats.reconnects >= 1, "the store answered again: {stats:?}");
    assert!(stats.store_connected, "{stats:?}");
    let health = e.health();
    assert!(
        health.ok && health.leading && health.lease_remaining.is_some(),
        "{health:?}"
    );
    assert_eq!(stats.terms_won, 2);
    e.close();
}
