//! The engine against a scripted candidacy: grants whose timing a real store cannot be made to
//! produce on demand (the store layer itself is tested against real servers in `tests/`).

use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::mpsc::unbounded_channel;

use super::{Command, Engine};
use crate::backend::{Backend, Candidacy, CandidateSpec, Grant, LeaderStream, Renewal};
use crate::clock::BootClock;
use crate::dispatcher::Dispatcher;
use crate::error::Result;
use crate::event::{Event, LeaderInfo, Member};
use crate::lease::Lease;
use crate::uri::Config;

/// Hands out the grants it was given, one per `acquire`, then waits forever; confirms every
/// renewal at once; counts releases.
struct Scripted {
    grants: Mutex<VecDeque<Grant>>,
    releases: Arc<Mutex<u32>>,
}

struct ScriptedCandidacy {
    backend: Arc<Scripted>,
}

#[async_trait]
impl Backend for Arc<Scripted> {
    async fn join(&self, _: &CandidateSpec) -> Result<Box<dyn Candidacy>> {
        Ok(Box::new(ScriptedCandidacy {
            backend: self.clone(),
        }))
    }
    async fn watch(&self, _: &str) -> Result<LeaderStream> {
        std::future::pending().await
    }
    async fn leader(&self, _: &str) -> Result<Option<LeaderInfo>> {
        Ok(None)
    }
    async fn members(&self, _: &str) -> Result<Vec<Member>> {
        Ok(Vec::new())
    }
    async fn watch_members(&self, _: &str) -> Result<crate::backend::MemberStream> {
        std::future::pending().await
    }
}

#[async_trait]
impl Candidacy for ScriptedCandidacy {
    async fn acquire(&mut self) -> Result<Grant> {
        let next = self.backend.grants.lock().unwrap().pop_front();
        match next {
            Some(grant) => Ok(grant),
            None => std::future::pending().await,
        }
    }
    async fn proclaim(&mut self, _: &str) -> Result<()> {
        Ok(())
    }
    async fn renew(&mut self) -> Result<Renewal> {
        Ok(Renewal {
            sent_at: Instant::now(),
            ttl: Duration::from_secs(1),
        })
    }
    async fn release(&mut self) -> Result<()> {
        *self.backend.releases.lock().unwrap() += 1;
        Ok(())
    }
    async fn hand_over(&mut self, _successor: &str) -> Result<()> {
        self.release().await
    }
    async fn leave(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// Runs an engine over `grants` and returns its events as they come, and its release count.
fn run(grants: Vec<Grant>) -> (Receiver<Event>, Arc<Mutex<u32>>) {
    let (tx, events) = channel();
    let tx = Mutex::new(tx);
    let handler = Box::new(move |ev: &Event| {
        let _ = tx.lock().unwrap().send(ev.clone());
    });
    let releases = Arc::new(Mutex::new(0));
    let backend = Arc::new(Scripted {
        grants: Mutex::new(grants.into()),
        releases: releases.clone(),
    });
    let (commands, rx) = unbounded_channel::<Command>();
    std::mem::forget(commands); // the engine runs until the test process ends
    let lease = Arc::new(Lease::default());
    let log = crate::event_log::EventLog {
        election: "job".into(),
        id: "a0".into(),
        store: "file:///unused".into(),
        lease: lease.clone(),
    };
    let engine = Engine {
        name: "job".into(),
        config: Config::parse("file:///unused?ttl=1s").unwrap(),
        lease,
        events: Arc::new(Dispatcher::new(log, Some(handler))),
        backend: Arc::new(backend),
        commands: rx,
        clock: BootClock::new(),
        members: tokio::sync::watch::channel(Vec::new()).1,
        passed: None,
        join: 0,
    };
    crate::runtime::handle().spawn(engine.run());
    (events, releases)
}

fn grant(term: u64, sent_at: Instant) -> Grant {
    Grant {
        term,
        renewal: Renewal {
            sent_at,
            ttl: Duration::from_secs(1),
        },
    }
}

#[test]
fn a_grant_whose_lease_has_run_out_is_released_without_elected() {
    let stale = Instant::now() - Duration::from_secs(2);
    let (events, releases) = run(vec![grant(1, stale), grant(2, Instant::now())]);
    let wait = Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let ev = events.recv_timeout(wait).expect("the engine went quiet");
        if let Event::Elected { term } = ev {
            assert_eq!(
                term, 2,
                "Elected for a grant whose lease had run out; before it: {seen:?}"
            );
            break;
        }
        seen.push(ev);
    }
    assert!(
        seen.iter().all(|e| !matches!(e, Event::Revoked { .. })),
        "a term that never began cannot be revoked: {seen:?}"
    );
    assert!(
        matches!(&seen[..], [Event::Error { message }] if message.contains("run out")),
        "the stale grant is reported: {seen:?}"
    );
    assert_eq!(
        *releases.lock().unwrap(),
        1,
        "the stale grant was given back"
    );
}
