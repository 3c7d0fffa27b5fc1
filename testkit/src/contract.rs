//! The store contract: what every store must do, written once and run against each store by
//! `core/tests/contract.rs`. A [`Subject`] is a connection string (with the suite's timing and
//! a namespace of its own) and, for the restart case, the server behind it.
//!
//! Bounds on time are the contract's (a crashed leader is replaced within ttl + retry), with
//! [`SLACK`] for scheduling on a loaded machine; speed itself is measured in `bench/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event, RevokeReason};

use crate::fenced::Fenced;
use crate::fleet::{AgentEvent, Fleet};
use crate::server::{unique, Server, Store};
use crate::wait::{self, expect_within, open_recording, sole_leader, WAIT};

/// How late after a bound an event may come on a loaded 2-core machine.
pub const SLACK: Duration = Duration::from_secs(1);

/// A store under test.
pub struct Subject {
    /// The connection string, options and a namespace of this subject included; candidates add
    /// their `id`.
    pub uri: String,
    pub ttl: Duration,
    pub retry: Duration,
    /// The server behind `uri`, when the subject may stop it (see [`Subject::own`]).
    pub server: Option<Arc<Server>>,
    _shared: Option<Arc<Server>>,
}

/// The suite's timing: etcd grants leases of whole seconds and at least 2 s after its margin.
const OPTS: &str = "ttl=3s&renew=500ms&retry=200ms&silence=500ms";

impl Subject {
    /// The embedded file store, in a directory of its own.
    pub fn file() -> Subject {
        let dir = std::env::temp_dir().join(format!(
            "elect-contract-{}-{}",
            std::process::id(),
            unique()
        ));
        Subject::at(format!("file://{}", dir.display()), None, None)
    }

    /// The run's shared server of `store` (see [`Server::shared`]).
    pub fn shared(store: Store) -> Subject {
        let server = Server::shared(store);
        Subject::at(namespaced(&server), None, Some(server))
    }

    /// A server of this subject alone, which [`restart`] stops and starts.
    pub fn own(store: Store, tag: &str) -> Subject {
        let server = Arc::new(Server::start(store, tag));
        Subject::at(namespaced(&server), Some(server), None)
    }

    /// A subject at `uri` as given: an identity and a namespace of the caller's choosing (a
    /// least-privilege user, say), with the suite's timing. `server` runs while the subject
    /// lives; the cases that stop or pause it are not for such a subject.
    pub fn at_uri(uri: &str, server: Arc<Server>) -> Subject {
        Subject::at(uri.to_string(), None, Some(server))
    }

    fn at(base: String, server: Option<Arc<Server>>, shared: Option<Arc<Server>>) -> Subject {
        Subject {
            uri: with_options(&base, OPTS),
            ttl: Duration::from_secs(3),
            retry: Duration::from_millis(200),
            server,
            _shared: shared,
        }
    }

    /// The connection string of candidate `id`.
    pub fn candidate(&self, id: &str) -> String {
        with_options(&self.uri, &format!("id={id}"))
    }

    /// Opens candidate `id` of election `name`, recording its events.
    pub fn open(&self, name: &str, id: &str) -> (Election, std::sync::mpsc::Receiver<Event>) {
        open_recording(&self.candidate(id), name)
    }

    /// The longest a crashed leader may keep an election without a leader.
    pub fn crash_bound(&self) -> Duration {
        self.ttl + self.retry + SLACK
    }

    /// A fleet of agents (this test binary, see [`crate::agent_child!`]).
    fn fleet(&self) -> Fleet {
        crate::agent::fleet()
    }
}

/// The server's connection string with a namespace of its own where the store has one (an
/// etcd prefix, a ZooKeeper chroot); elsewhere election names keep the tests apart.
fn namespaced(server: &Server) -> String {
    let uri = server.uri();
    match server.store {
        Store::Etcd | Store::Zk => {
            let (base, query) = uri.split_once('?').unwrap_or((&uri, ""));
            let base = base.trim_end_matches('/');
            let uri = format!("{base}/contract-{}", unique());
            if query.is_empty() {
                uri
            } else {
                format!("{uri}?{query}")
            }
        }
        Store::Redis | Store::Postgres | Store::Mysql => uri,
    }
}

/// `uri` with `opts` (`k=v&k=v`) added to its query.
pub fn with_options(uri: &str, opts: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{opts}")
}

fn name() -> String {
    format!("job-{}", unique())
}

/// Waits for the next `Elected` on `rx` and returns its term.
pub fn elected(rx: &std::sync::mpsc::Receiver<Event>) -> u64 {
    match expect_within(rx, WAIT, |e| matches!(e, Event::Elected { .. })) {
        Event::Elected { term } => term,
        _ => unreachable!(),
    }
}

/// Resign and close hand the leadership to a waiting candidate; the old leader is told, in
/// order, before anyone else leads; tokens grow.
pub fn handover(s: &Subject) {
    let name = name();
    let (a, ra) = s.open(&name, "a");
    let (b, rb) = s.open(&name, "b");
    let (c, rc) = s.open(&name, "c");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    assert_eq!(elected(&ra), t1, "the event's term is the token");
    b.start().unwrap();
    c.start().unwrap();
    wait::members(&a, 3);
    assert!(!b.is_leader() && !c.is_leader());

    a.resign().unwrap();
    assert!(!a.is_leader(), "resign returns after giving up");
    expect_within(
        &ra,
        WAIT,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    let next = sole_leader(&[&a, &b, &c], WAIT);
    assert_ne!(next.id(), "a", "a waiting candidate takes over");
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    assert_eq!(elected(if next.id() == "b" { &rb } else { &rc }), t2);

    next.close();
    let third = sole_leader(&[&a, &b, &c], WAIT);
    assert_ne!(third.id(), next.id(), "a closed candidate leaves");
    let t3 = third.fencing_token().unwrap();
    assert!(t3 > t2, "tokens grow: {t2} then {t3}");
}

/// Tokens strictly increase over many terms, and every `Elected` carries the token the
/// candidate then reports.
pub fn token_order(s: &Subject) {
    let name = name();
    let (a, ra) = s.open(&name, "a");
    let (b, rb) = s.open(&name, "b");
    a.start().unwrap();
    b.start().unwrap();
    let mut last = 0;
    for _ in 0..6 {
        let leader = sole_leader(&[&a, &b], WAIT);
        let token = leader.fencing_token().unwrap();
        let rx = if leader.id() == "a" { &ra } else { &rb };
        assert_eq!(elected(rx), token);
        assert!(token > last, "tokens grow: {last} then {token}");
        last = token;
        leader.resign().unwrap();
        expect_within(
            rx,
            WAIT,
            |e| matches!(e, Event::Revoked { term, .. } if *term == token),
        );
    }
}

/// An observer follows the leader, its `leader()` and `members()` agree, and a crashed
/// leader's end reaches it within the crash bound.
pub fn observers(s: &Subject) {
    let name = name();
    let (obs, ro) = s.open(&name, "watcher");
    obs.observe().unwrap();
    expect_within(&ro, WAIT, |e| {
        matches!(e, Event::LeaderChanged { leader: None })
    });
    let mut fleet = s.fleet();
    let p = fleet.join(&s.uri, &name, "p0").unwrap();
    let (_, t1, _) = fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    expect_within(
        &ro,
        WAIT,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "p0" && l.term == t1),
    );
    let seen = obs.leader().unwrap().expect("a leader");
    assert_eq!((seen.id.as_str(), seen.term), ("p0", t1));
    let ids: Vec<_> = obs.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["p0"], "an observer is no member");

    fleet.kill(p);
    let killed = Instant::now();
    expect_within(&ro, s.crash_bound(), |e| {
        matches!(e, Event::LeaderChanged { leader: None })
    });
    assert!(killed.elapsed() < s.crash_bound());
    assert_eq!(obs.leader().unwrap(), None);
}

/// Bad input fails at `open` with a clear error naming the bad part; an unreachable store
/// fails within `connect_timeout`; no password shows in a message.
pub fn bad_input(s: &Subject) {
    let fails = |uri: &str, name: &str, code: ErrorCode, mentions: &str| {
        let e = Election::open(uri, name, None).expect_err(uri);
        assert_eq!(e.code(), code, "{uri}: {e:?}");
        assert!(e.message().contains(mentions), "{uri}: {e:?}");
        e
    };
    fails(
        &with_options(&s.uri, "colour=red"),
        "job",
        ErrorCode::InvalidArgument,
        "colour",
    );
    fails(
        &with_options(&s.uri, "ttl=soon"),
        "job",
        ErrorCode::InvalidArgument,
        "ttl",
    );
    fails(
        &with_options(&s.uri, "renew=5s"),
        "job",
        ErrorCode::InvalidArgument,
        "renew",
    );
    fails(&s.uri, "", ErrorCode::InvalidArgument, "name");

    let scheme = s.uri.split("://").next().unwrap();
    if scheme == "file" {
        return;
    }
    // Nothing listens on a port just bound and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (userinfo, path) = match scheme {
        "zk" => ("", ""),
        "redis" => ("elect:s3cret-pw@", "/0"),
        "etcd" => ("elect:s3cret-pw@", "/p"),
        _ => ("elect:s3cret-pw@", "/elect"),
    };
    let dead = format!("{scheme}://{userinfo}127.0.0.1:{port}{path}?connect_timeout=500ms");
    let began = Instant::now();
    // After a password, messages name hosts by count: a password's tail after an `@` could
    // otherwise be taken for a host and shown.
    let host = if userinfo.is_empty() {
        "127.0.0.1"
    } else {
        "<1 host>"
    };
    let e = fails(&dead, "job", ErrorCode::Unreachable, host);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "bounded by connect_timeout"
    );
    assert!(
        !format!("{e:?}").contains("s3cret-pw"),
        "no password in {e:?}"
    );
}

/// A SIGKILLed leader process is replaced within ttl + retry, with a greater token, and leaves
/// the members.
pub fn sigkill(s: &Subject) {
    let name = name();
    let (obs, _ro) = s.open(&name, "watcher");
    let mut fleet = s.fleet();
    for i in 0..3 {
        fleet.join(&s.uri, &name, &format!("p{i}")).unwrap();
    }
    let (first, t1, _) = fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    let killed = Instant::now();
    fleet.kill(first);
    let (_, t2, _) = fleet
        .wait_elected(Some(first), s.crash_bound(), |_, _| {})
        .unwrap();
    let took = killed.elapsed();
    assert!(took < s.crash_bound(), "handover took {took:?}");
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    let dead = fleet.id(first).to_string();
    wait::until("the killed candidate to leave", WAIT, || {
        obs.members()
            .is_ok_and(|m| m.len() == 2 && m.iter().all(|m| m.id != dead))
    });
}

/// A leader paused (SIGSTOP) beyond its ttl is replaced; on resume it no longer believes it
/// leads, is told its term ended, and a write with its old token is fenced off.
pub fn sigstop_fenced(s: &Subject) {
    let name = name();
    let mut fleet = s.fleet();
    for i in 0..2 {
        fleet.join(&s.uri, &name, &format!("p{i}")).unwrap();
    }
    let (paused, t1, _) = fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    let mut resource = Fenced::default();
    assert!(resource.write(t1));

    fleet.signal(paused, "STOP").unwrap();
    let took_over = fleet.wait_elected(Some(paused), s.crash_bound(), |_, _| {});
    fleet.signal(paused, "CONT").unwrap();
    let (_, t2, _) = took_over.expect("the other candidate takes over while the leader is paused");
    assert!(t2 > t1);
    assert!(resource.write(t2));

    assert_eq!(
        fleet.request(paused, "is_leader").unwrap(),
        "false",
        "on resume it no longer believes it leads"
    );
    fleet
        .wait_for(WAIT, |n| {
            n.member == paused && matches!(&n.event, AgentEvent::Revoked(t, _) if *t == t1)
        })
        .expect("the paused leader is told its term ended");
    assert!(
        !resource.write(t1),
        "a write with the old token is rejected"
    );
}

/// A leader whose server stops steps down by its deadline; once the server is back, one
/// candidate leads with a greater token (also when the server kept no data).
pub fn restart(s: &Subject) {
    let server = s.server.as_ref().expect("a server of the subject's own");
    let name = name();
    let (a, ra) = s.open(&name, "a");
    let (b, _rb) = s.open(&name, "b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    let t1 = a.fencing_token().unwrap();

    server.stop();
    let stopped = Instant::now();
    expect_within(
        &ra,
        s.ttl + SLACK,
        |e| matches!(e, Event::Revoked { term, .. } if *term == t1),
    );
    assert!(
        stopped.elapsed() < s.ttl + SLACK,
        "stepped down by its deadline"
    );
    assert!(!a.is_leader() && !b.is_leader());

    server.start_again();
    let next = sole_leader(&[&a, &b], WAIT + s.ttl);
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens never go backwards: {t1} then {t2}");
}

/// `proclaim`: the leader publishes a new value in the same term, and observers see it as a
/// leader change; a candidate that does not lead, or whose term ended, gets `NotLeader` and
/// nothing changes; a bad value is refused naming it.
pub fn proclaim(s: &Subject) {
    let name = name();
    let (obs, ro) = s.open(&name, "watcher");
    obs.observe().unwrap();
    let (a, _ra) = s.open(&name, "a");
    let (b, _rb) = s.open(&name, "b");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    wait::members(&obs, 2);

    let refused = b.proclaim("from-b").expect_err("b does not lead");
    assert_eq!(refused.code(), ErrorCode::NotLeader, "{refused:?}");
    assert_eq!(
        obs.leader().unwrap().map(|l| (l.id, l.value)),
        Some(("a".into(), "".into()))
    );
    let bad = a.proclaim("two\nlines").expect_err("a control character");
    assert_eq!(bad.code(), ErrorCode::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("value"), "{bad:?}");

    a.proclaim("v2").unwrap();
    let seen = expect_within(
        &ro,
        WAIT,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.value == "v2"),
    );
    let Event::LeaderChanged { leader: Some(l) } = seen else {
        unreachable!()
    };
    assert_eq!((l.id.as_str(), l.term), ("a", t1), "same leader, same term");
    assert!(
        a.is_leader() && a.fencing_token() == Some(t1),
        "no new election"
    );
    assert_eq!(obs.leader().unwrap().map(|l| l.value), Some("v2".into()));
    let values: Vec<_> = obs
        .members()
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.value))
        .collect();
    assert!(
        values.contains(&("a".into(), "v2".into())),
        "the member carries the value: {values:?}"
    );

    a.resign().unwrap();
    let next = sole_leader(&[&a, &b], WAIT);
    assert_eq!(next.id(), "b");
    let late = a.proclaim("late").expect_err("a's term ended");
    assert_eq!(late.code(), ErrorCode::NotLeader, "{late:?}");
    let now = obs.leader().unwrap().expect("b leads");
    assert_eq!((now.id.as_str(), now.value.as_str()), ("b", ""));
    b.close();
    expect_within(
        &ro,
        WAIT,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "a"),
    );
    let back = obs.leader().unwrap().expect("a leads again");
    assert_eq!(
        back.value, "v2",
        "a's later terms carry its proclaimed value"
    );
    while let Ok(e) = ro.try_recv() {
        assert!(
            !matches!(&e, Event::LeaderChanged { leader: Some(l) } if l.value.contains("from-b") || l.value == "late"),
            "a refused proclaim changed nothing: {e:?}"
        );
    }
}

/// Membership events: an observer is told of each candidate that joins (those present when it
/// starts first), of one that closes, and of a killed one once its record expires (within the
/// crash bound); a candidate sees the others come and go too.
pub fn membership(s: &Subject) {
    let name = name();
    let (a, ra) = s.open(&name, "a");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let (obs, ro) = s.open(&name, "watcher");
    obs.observe().unwrap();
    let joined = |rx: &std::sync::mpsc::Receiver<Event>, id: &str, within: Duration| {
        expect_within(
            rx,
            within,
            |e| matches!(e, Event::MemberJoined { member } if member.id == id),
        )
    };
    let left = |rx: &std::sync::mpsc::Receiver<Event>, id: &str, within: Duration| {
        expect_within(
            rx,
            within,
            |e| matches!(e, Event::MemberLeft { member } if member.id == id),
        )
    };
    joined(&ro, "a", WAIT);

    let mut fleet = s.fleet();
    let p = fleet.join(&s.uri, &name, "p0").unwrap();
    joined(&ro, "p0", WAIT);
    joined(&ra, "p0", WAIT);
    fleet.kill(p);
    let killed = Instant::now();
    left(&ro, "p0", s.crash_bound());
    assert!(
        killed.elapsed() < s.crash_bound(),
        "the killed member's record expired in time"
    );

    let (b, _rb) = s.open(&name, "b");
    b.start().unwrap();
    joined(&ro, "b", WAIT);
    // Followers list the members when woken: one that lists only after b has gone never sees
    // b at all, so b lives until every follower has seen it.
    joined(&ra, "b", WAIT);
    b.close();
    left(&ro, "b", WAIT);
    left(&ra, "b", WAIT);
    drop(a);
    left(&ro, "a", WAIT);
    assert!(
        obs.members().unwrap().is_empty(),
        "an observer is no member"
    );
}
