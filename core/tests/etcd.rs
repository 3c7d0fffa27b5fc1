//! What is particular to the etcd store, against real etcd servers (`elect_testkit::Server`):
//! handover in line order, one shared lease and its TTL, keep-alive traffic, no herd, a lease
//! revoked behind the client's back, the deadline when the server stops, a killed Raft leader in
//! a 3-member cluster, authentication and TLS, the hold-off markers. What every store must do is
//! in `contract.rs`.

use std::io::Write;
use std::process::Command;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event, RevokeReason};
use elect_testkit::{wait, Server, Store};

elect_testkit::agent_child!();

const WAIT: Duration = wait::WAIT;
/// How late after its deadline a leader may notice that it no longer leads: scheduling of the
/// engine's timer on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(250);

fn start(tag: &str) -> Server {
    Server::start(Store::Etcd, tag)
}

/// `etcdctl` against this server.
fn ctl(server: &Server, args: &[&str]) -> String {
    server.etcdctl(args)
}

/// The members of a cluster: `(name, pid, host:port)`.
fn members(cluster: &Server) -> Vec<(String, u32, String)> {
    cluster
        .var("ELECT_ETCD_MEMBERS")
        .split_whitespace()
        .map(|m| {
            let mut p = m.splitn(3, '=');
            let (n, pid, ep) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            (n.to_string(), pid.parse().unwrap(), ep.to_string())
        })
        .collect()
}

/// `uri` with this run's prefix as its path and `opts` added to its query.
fn with(uri: &str, opts: &str) -> String {
    let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
    format!("{base}/{}?{query}&{opts}", prefix())
}

/// A prefix per test process, so that reruns never see each other's keys.
fn prefix() -> String {
    format!("elect-test-{}", std::process::id())
}

type Timed = (Instant, Event);

fn open(uri: &str, name: &str, id: &str, opts: &str) -> (Election, Receiver<Timed>) {
    let (tx, rx) = channel();
    let e = Election::open(
        &format!("{}&id={id}", with(uri, opts)),
        name,
        Some(Box::new(move |ev: &Event| {
            let _ = tx.send((Instant::now(), ev.clone()));
        })),
    )
    .unwrap_or_else(|e| panic!("open {id}: {e:?}"));
    (e, rx)
}

const OPTS: &str = "ttl=3s&renew=500ms&retry=200ms";

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Timed>, pred: impl Fn(&Event) -> bool) -> Timed {
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left).expect("event did not arrive in time");
        if pred(&ev.1) {
            return ev;
        }
    }
}

fn wait_members(e: &Election, n: usize) {
    wait::members(e, n)
}

fn sole_leader<'a>(es: &[&'a Election]) -> &'a Election {
    wait::sole_leader(es, WAIT)
}

#[test]
fn three_candidates_hand_over_in_line_order_with_growing_tokens() {
    let server = start("hand");
    let (a, ra) = open(&server.uri(), "job", "a", OPTS);
    let (b, _rb) = open(&server.uri(), "job", "b", OPTS);
    let (c, _rc) = open(&server.uri(), "job", "c", OPTS);
    let (obs, ro) = open(&server.uri(), "job", "watcher", OPTS);
    obs.observe().unwrap();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));

    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "a" && l.term == t1),
    );
    // b joins before c: it is next in line.
    b.start().unwrap();
    wait_members(&a, 2);
    c.start().unwrap();
    wait_members(&a, 3);
    let ids: Vec<_> = obs.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["a", "b", "c"], "members in line order");
    let seen = obs.leader().unwrap().unwrap();
    assert_eq!((seen.id.as_str(), seen.term), ("a", t1));

    let resigned_at = Instant::now();
    a.resign().unwrap();
    assert!(!a.is_leader(), "resign returns after giving up");
    expect(
        &ra,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    assert!(b.wait_leader(Some(WAIT)).unwrap(), "b is next in line");
    let handover = resigned_at.elapsed();
    assert!(
        handover < Duration::from_secs(1),
        "a watch wakes the successor, no polling: {handover:?}"
    );
    assert!(!c.is_leader());
    let t2 = b.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "b" && l.term == t2),
    );

    // a stood in line again behind c; closing b hands over to c.
    b.close();
    assert!(c.wait_leader(Some(WAIT)).unwrap());
    let t3 = c.fencing_token().unwrap();
    assert!(t3 > t2, "tokens grow: {t2} then {t3}");
    let ids: Vec<_> = obs.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["c", "a"], "b left; a rejoined behind c");
    let seen = obs.leader().unwrap().unwrap();
    assert_eq!((seen.id.as_str(), seen.term), ("c", t3));

    c.close();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t4 = a.fencing_token().unwrap();
    assert!(t4 > t3);
    a.close();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    assert!(obs.members().unwrap().is_empty(), "closed candidates leave");
    assert!(ctl(
        &server,
        &["get", "--prefix", &format!("{}/", prefix()), "--keys-only"]
    )
    .trim()
    .is_empty());
}

/// etcd's count of completed calls of each gRPC method (`Txn`, `Range`...), from its
/// Prometheus metrics.
fn calls(server: &Server) -> std::collections::BTreeMap<String, f64> {
    grpc_counts(server, "grpc_server_handled_total")
}

/// A per-method gRPC counter of etcd's Prometheus metrics, summed over its other labels.
fn grpc_counts(server: &Server, metric: &str) -> std::collections::BTreeMap<String, f64> {
    use std::io::Read;
    let uri = server.uri();
    let endpoint = uri.trim_start_matches("etcd://");
    let mut s = std::net::TcpStream::connect(endpoint).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    let mut calls = std::collections::BTreeMap::new();
    for l in body
        .lines()
        .filter(|l| l.starts_with(metric) && l[metric.len()..].starts_with('{'))
    {
        let method = l
            .split("grpc_method=\"")
            .nth(1)
            .and_then(|m| m.split('"').next());
        let n = l.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok());
        if let (Some(m), Some(n)) = (method, n) {
            *calls.entry(m.to_string()).or_default() += n;
        }
    }
    calls
}

/// The call counts once they have not moved for 300 ms: every waiter sits in its watch.
fn settled_calls(server: &Server) -> std::collections::BTreeMap<String, f64> {
    let mut last = calls(server);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = calls(server);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn keep_alive_traffic_does_not_grow_with_the_number_of_elections() {
    let server = start("traffic");
    let es: Vec<_> = (0..30)
        .map(|i| open(&server.uri(), &format!("job-{i}"), "a", OPTS))
        .collect();
    for (e, _) in &es {
        e.start().unwrap();
    }
    for (e, _) in &es {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    let keep_alives = || {
        grpc_counts(&server, "grpc_server_msg_received_total")
            .get("LeaseKeepAlive")
            .copied()
            .unwrap_or(0.0)
    };
    let (before, t0) = (keep_alives(), Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let per_sec = (keep_alives() - before) / t0.elapsed().as_secs_f64();
    // One shared lease renewed every `renew` (500 ms): about 2 per second for all 30 leaders,
    // where a lease per election would send 60.
    assert!(
        (1.0..=3.0).contains(&per_sec),
        "{per_sec:.1} keep-alives/s for 30 elections"
    );
}

#[test]
fn a_handover_wakes_only_the_next_in_line() {
    let server = start("herd");
    // The leader stays out after resigning, so that only the handover is counted.
    let (leader, _rl) = open(
        &server.uri(),
        "job",
        "leader",
        &format!("{OPTS}&silence=60s"),
    );
    leader.start().unwrap();
    assert!(leader.wait_leader(Some(WAIT)).unwrap());
    let waiters: Vec<_> = (0..6)
        .map(|i| open(&server.uri(), "job", &format!("w{i}"), OPTS))
        .collect();
    // One at a time, so that the line is w0, w1, ...
    for (i, (w, _)) in waiters.iter().enumerate() {
        w.start().unwrap();
        wait_members(&leader, i + 2);
    }
    let before = settled_calls(&server);
    leader.resign().unwrap();
    assert!(
        waiters[0].0.wait_leader(Some(WAIT)).unwrap(),
        "w0 was next in line"
    );
    let after = settled_calls(&server);
    let delta = |m: &str| after.get(m).unwrap_or(&0.0) - before.get(m).unwrap_or(&0.0);
    // The resign's delete, and the successor's one look at the line. A herd would add one
    // look per waiter.
    assert_eq!(
        delta("Txn"),
        2.0,
        "transactions for one handover, 6 waiting"
    );
    // Every candidate also follows the leader (for `LeaderChanged`): from the watch's events,
    // without reading the line again.
    assert_eq!(delta("Range"), 0.0, "reads for one handover, 7 following");
}

#[test]
fn elections_share_one_lease_and_are_isolated_by_name() {
    let server = start("share");
    let (a, _ra) = open(&server.uri(), "x", "a", OPTS);
    let (b, _rb) = open(&server.uri(), "x/y", "b", OPTS);
    a.start().unwrap();
    b.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    assert!(
        b.wait_leader(Some(WAIT)).unwrap(),
        "`x/y` is its own election"
    );
    assert_eq!(a.members().unwrap().len(), 1, "x does not see x/y's keys");
    let held = leases(&server);
    assert_eq!(held.len(), 1, "one lease for both elections: {held:?}");
    a.close();
    b.close();
    // The last close revokes the lease (no waiting for its TTL).
    assert!(leases(&server).is_empty());
}

/// The lease ids `etcdctl lease list` shows.
fn leases(server: &Server) -> Vec<String> {
    ctl(server, &["lease", "list"])
        .lines()
        .skip(1) // "found N leases"
        .map(str::to_string)
        .collect()
}

#[test]
fn the_lease_leaves_room_for_etcds_expiry_sweep_within_ttl() {
    let server = start("lease-ttl");
    let (a, _ra) = open(&server.uri(), "job", "a", "ttl=4s&renew=500ms&margin=400ms");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let held = leases(&server);
    assert_eq!(held.len(), 1, "{held:?}");
    // floor(4 s - 500 ms): a crashed leader's key is gone within 3.5 s, not 4.5 s.
    let ttl = ctl(&server, &["lease", "timetolive", &held[0]]);
    assert!(ttl.contains("granted with TTL(3s)"), "{ttl}");
    // The leader's deadline follows the TTL etcd granted, not the ttl asked for.
    let left = a.lease_deadline().expect("leading") - Instant::now();
    assert!(
        left <= Duration::from_millis(2600),
        "deadline {left:?} away"
    );
}

#[test]
fn a_lease_revoked_behind_our_back_ends_the_term_and_a_new_lease_is_granted() {
    let server = start("revoke");
    let (a, ra) = open(&server.uri(), "job", "a", OPTS);
    let (b, _rb) = open(&server.uri(), "job", "b", OPTS);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    wait_members(&a, 2);
    let t1 = a.fencing_token().unwrap();
    let old = leases(&server);
    assert_eq!(old.len(), 1, "a and b share the process's lease");

    ctl(&server, &["lease", "revoke", &old[0]]);
    expect(
        &ra,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::SessionLost, term } if *term == t1),
    );
    // Both stand in line again on a new lease; one of them leads with a higher token.
    let next = sole_leader(&[&a, &b]);
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    wait_members(&a, 2);
    let now = leases(&server);
    assert_eq!(now.len(), 1);
    assert_ne!(now, old, "a new lease");
}

#[test]
fn stopped_server_leader_steps_down_at_its_deadline_and_is_reelected_after_restart() {
    let server = start("restart");
    // A 4 s lease (see `lease_secs`): its deadline must not pass while `stop` is still busy.
    let opts = "ttl=5s&renew=500ms&retry=200ms&connect_timeout=1s";
    let (a, ra) = open(&server.uri(), "job", "a", opts);
    let (b, rb) = open(&server.uri(), "job", "b", opts);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    let t1 = a.fencing_token().unwrap();

    server.stop();
    // No renewal can be confirmed from here on: this is the last deadline.
    let deadline = a.lease_deadline().expect("leading");
    let (revoked_at, ev) = expect(&ra, |e| matches!(e, Event::Revoked { .. }));
    assert!(
        matches!(ev, Event::Revoked { reason: RevokeReason::LeaseExpired, term } if term == t1),
        "{ev:?}"
    );
    assert!(
        revoked_at <= deadline + SLACK,
        "stepped down {:?} after its deadline",
        revoked_at - deadline
    );
    assert!(!a.is_leader() && !b.is_leader());

    server.start_again();
    let next = sole_leader(&[&a, &b]);
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens never go backwards: {t1} then {t2}");
    let rx = if next.id() == "a" { &ra } else { &rb };
    expect(rx, |e| matches!(e, Event::Elected { term } if *term == t2));
}

#[test]
fn killing_the_raft_leader_never_makes_two_leaders() {
    let cluster = Server::cluster(Store::Etcd, "raft");
    // The leader is connected to all three members; the others to one member each, so that
    // one of them is cut off by the kill. The leader must get a keep-alive through within its
    // deadline (lease 9 s, see `lease_secs`, minus a 1 s margin): room for etcd's re-election
    // (1-2 s randomised election timeout), the client finding a live member, and a machine
    // loaded by the other tests' clusters (for which the 4.4 s a 6 s ttl leaves is too short).
    let ttl = Duration::from_secs(10);
    let opts = "ttl=10s&renew=1s&retry=200ms";
    let (all, rall) = open(&cluster.uri(), "job", "all", opts);
    all.start().unwrap();
    assert!(all.wait_leader(Some(WAIT)).unwrap());
    let t1 = all.fencing_token().unwrap();
    let es: Vec<_> = members(&cluster)
        .iter()
        .map(|(m, _, ep)| open(&format!("etcd://{ep}"), "job", m, opts))
        .collect();
    for (e, _) in &es {
        e.start().unwrap();
    }
    wait_members(&all, 4);

    let raft_leader = cluster.script(&["leader", &cluster.name]);
    let mut words = raft_leader.split_whitespace();
    let (member, pid) = (words.next().unwrap().to_string(), words.next().unwrap());
    let status = Command::new("kill").args(["-KILL", pid]).status().unwrap();
    assert!(status.success());

    // For ttl and more after the kill: never two leaders, and the leader, which can reach the
    // surviving members, carries on with the same term.
    let mut refs: Vec<&Election> = es.iter().map(|(e, _)| e).collect();
    refs.push(&all);
    let until = Instant::now() + ttl + Duration::from_secs(1);
    while Instant::now() < until {
        assert_eq!(sole_leader(&refs).id(), "all", "the leader carries on");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(all.fencing_token(), Some(t1));
    while let Ok((_, ev)) = rall.try_recv() {
        assert!(!matches!(ev, Event::Revoked { .. }), "{ev:?}");
        // Shown with --nocapture: whether this run cut the leader's own streams.
        eprintln!("leader saw: {ev:?}");
    }

    // The handover still works among the survivors, and the cut-off candidate cannot lead.
    all.close();
    let survivors: Vec<&Election> = es
        .iter()
        .map(|(e, _)| e)
        .filter(|e| e.id() != member)
        .collect();
    let next = sole_leader(&survivors);
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    let cut_off = es.iter().find(|(e, _)| e.id() == member).unwrap();
    assert!(!cut_off.0.is_leader());
}

#[test]
fn bad_input_gives_clear_errors() {
    let e = Election::open("etcd://127.0.0.1:1/a//b", "job", None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(e.message().contains("path"), "{e:?}");

    let e = Election::open("etcd://127.0.0.1:1/p?ca=/nonexistent.pem", "job", None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(e.message().contains("`ca`"), "{e:?}");

    let server = start("auth");
    ctl(&server, &["user", "add", "root:s3cret-pw"]);
    ctl(&server, &["auth", "enable"]);
    let uri = server.uri();
    let host = uri.trim_start_matches("etcd://");
    let began = Instant::now();
    let e = Election::open(&format!("etcd://root:wrong-pw@{host}/p"), "job", None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth, "{e:?}");
    assert!(!e.message().contains("wrong-pw"), "no password in {e:?}");
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "one answer, no retry storm"
    );
    let e = Election::open(&format!("etcd://{host}/p"), "job", None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth, "no credentials at all: {e:?}");

    let (a, _ra) = open(&format!("etcd://root:s3cret-pw@{host}"), "job", "a", OPTS);
    a.start().unwrap();
    assert!(
        a.wait_leader(Some(WAIT)).unwrap(),
        "the right password works"
    );
}

#[test]
fn tls_with_client_certificates() {
    let server = Server::launch(Store::Etcd, "tls", "start-tls", &[]);
    let (a, _ra) = open(&server.uri(), "job", "a", OPTS);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    assert_eq!(a.leader().unwrap().unwrap().id, "a");

    let uri = server.uri();
    let (base, query) = uri.split_once('?').unwrap();
    let ca_only: String = query
        .split('&')
        .filter(|kv| kv.starts_with("ca="))
        .collect();
    for (uri, what) in [
        (
            format!("{base}/p?connect_timeout=1s"),
            "plain text to a TLS server",
        ),
        (
            format!("{base}/p?connect_timeout=1s&{ca_only}"),
            "no client certificate",
        ),
    ] {
        let began = Instant::now();
        let e = Election::open(&uri, "job", None).unwrap_err();
        eprintln!("{what}: {e:?}");
        assert!(
            matches!(e.code(), ErrorCode::Unreachable | ErrorCode::Auth),
            "{what}: {e:?}"
        );
        assert!(began.elapsed() < Duration::from_secs(3), "{what}: bounded");
    }
}

/// The hold-off and sticky markers beyond the store contract.
mod etcd_markers;
