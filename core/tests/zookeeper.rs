//! The ZooKeeper store against real servers (Debian's zookeeper, started by
//! `scripts/servers/zk`): handover, tokens, server restarts, an ensemble losing its leader,
//! ACLs, bad input, and candidates in other processes killed or paused.

mod zk_support;

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event, RevokeReason};
use zk_support::{signal, unique, Zk};

const WAIT: Duration = Duration::from_secs(20);

fn open(uri: &str, id: &str, params: &str) -> (Election, Receiver<Event>) {
    common::open_recording(&format!("{uri}?id={id}{params}"), "job")
}

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    common::expect_within(rx, WAIT, pred)
}

/// Polls `f` (a store read or an atomic load) until it holds.
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn leader_of<'a>(es: &[&'a Election]) -> Option<&'a Election> {
    es.iter().copied().find(|e| e.is_leader())
}

fn wait_any_leader<'a>(es: &[&'a Election]) -> &'a Election {
    let mut found = None;
    until("a leader", || {
        found = leader_of(es);
        found.is_some()
    });
    found.unwrap()
}

#[test]
fn three_candidates_hand_over_on_resign_and_close() {
    let zk = Zk::shared();
    let uri = format!("{}/t{}", zk.uri, unique());
    let p = "&ttl=2s";
    let (obs, ro) = open(&uri, "o", p);
    obs.observe().unwrap();
    let (a, ra) = open(&uri, "a", p);
    let (b, _rb) = open(&uri, "b", p);
    let (c, _rc) = open(&uri, "c", p);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    c.start().unwrap();
    until("3 members", || a.members().unwrap().len() == 3);
    let ids: Vec<String> = a.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids[0], "a", "members in line order, leader first: {ids:?}");
    assert_eq!(b.leader().unwrap().unwrap().id, "a");
    assert_eq!(b.leader().unwrap().unwrap().term, t1);
    assert!(!b.is_leader() && !c.is_leader());
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == "a" && l.term == t1),
    );

    // Resign: the next in line is woken by its watch, far sooner than any timeout.
    let t0 = Instant::now();
    a.resign().unwrap();
    assert!(!a.is_leader());
    expect(
        &ra,
        |e| matches!(e, Event::Revoked { reason: RevokeReason::Resigned, term } if *term == t1),
    );
    let next = wait_any_leader(&[&b, &c]);
    let handover = t0.elapsed();
    assert!(
        handover < Duration::from_millis(500),
        "handover took {handover:?}"
    );
    let t2 = next.fencing_token().unwrap();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    expect(
        &ro,
        |e| matches!(e, Event::LeaderChanged { leader: Some(l) } if l.id == next.id() && l.term == t2),
    );

    // Close: the node is deleted, the next one (the other waiter, or `a` back in line) leads.
    let others: Vec<&Election> = [&a, &b, &c]
        .into_iter()
        .filter(|e| e.id() != next.id())
        .collect();
    let t0 = Instant::now();
    next.close();
    let third = wait_any_leader(&others);
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "handover took {:?}",
        t0.elapsed()
    );
    let t3 = third.fencing_token().unwrap();
    assert!(t3 > t2, "tokens grow: {t2} then {t3}");
    until("2 members", || a.members().unwrap().len() == 2);
    a.close();
    b.close();
    c.close();
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
}

#[test]
fn tokens_strictly_increase_over_many_terms() {
    let zk = Zk::shared();
    let uri = format!("{}/t{}", zk.uri, unique());
    let (a, _ra) = open(&uri, "a", "&ttl=2s");
    let (b, _rb) = open(&uri, "b", "&ttl=2s&acl=open"); // another session
    a.start().unwrap();
    b.start().unwrap();
    let mut last = 0;
    for _ in 0..10 {
        let l = wait_any_leader(&[&a, &b]);
        let t = l.fencing_token().unwrap();
        assert!(t > last, "token {t} after {last}");
        last = t;
        l.resign().unwrap();
    }
}

#[test]
fn server_stopped_and_restarted() {
    let zk = Zk::start("restart");
    let uri = format!("{}/t{}", zk.uri, unique());
    let ttl = Duration::from_secs(2);
    let (a, ra) = open(&uri, "a", "&ttl=2s");
    let (b, _rb) = open(&uri, "b", "&ttl=2s&acl=open"); // its own session, like another process
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    b.start().unwrap();
    until("2 members", || a.members().unwrap().len() == 2);

    zk.stop();
    // The server answered until somewhere inside `stop` (the JVM takes a moment to exit), so the
    // last confirmed contact is before now: the deadline is at most ttl - margin away.
    let stopped = Instant::now();
    // Disconnected, the leader believes it leads only until its deadline, then steps down
    // without waiting for anything from the server.
    let ev = expect(&ra, |e| matches!(e, Event::Revoked { .. }));
    let after = stopped.elapsed();
    assert!(
        matches!(ev, Event::Revoked { reason: RevokeReason::LeaseExpired, term } if term == t1),
        "{ev:?}"
    );
    assert!(
        after <= ttl,
        "stepped down {after:?} after the server was gone"
    );
    assert!(!a.is_leader() && !b.is_leader());

    zk.restart();
    let l = wait_any_leader(&[&a, &b]);
    let t2 = l.fencing_token().unwrap();
    assert!(t2 > t1, "tokens never go backwards: {t1} then {t2}");
    l.resign().unwrap();
    let l = wait_any_leader(&[&a, &b]);
    assert!(l.fencing_token().unwrap() > t2);
}

#[test]
fn ensemble_losing_its_leader_never_gives_two_leaders() {
    let zk = Zk::ensemble("ens");
    let hosts: Vec<String> = zk
        .uri
        .trim_start_matches("zk://")
        .split(',')
        .map(String::from)
        .collect();
    let chroot = format!("t{}", unique());
    // Three host orders: three sessions, as if three processes.
    let es: Vec<Arc<Election>> = (0..3)
        .map(|i| {
            let mut h = hosts.clone();
            h.rotate_left(i);
            let uri = format!("zk://{}/{chroot}", h.join(","));
            Arc::new(open(&uri, &format!("c{i}"), "&ttl=3s").0)
        })
        .collect();
    for e in &es {
        e.start().unwrap();
    }
    let refs: Vec<&Election> = es.iter().map(|e| &**e).collect();
    let t1 = wait_any_leader(&refs).fencing_token().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let worst = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (es, stop, worst) = (es.clone(), stop.clone(), worst.clone());
        std::thread::spawn(move || {
            let mut last_token = 0;
            while !stop.load(Ordering::Relaxed) {
                let leaders: Vec<u64> = es.iter().filter_map(|e| e.fencing_token()).collect();
                worst.fetch_max(leaders.len() as u64, Ordering::Relaxed);
                for t in leaders {
                    assert!(
                        t >= last_token,
                        "token went backwards: {last_token} then {t}"
                    );
                    last_token = t;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };

    let victim = zk.leader_pid();
    let member = zk.member_of(victim);
    signal(victim, "KILL");
    // Let sessions fail over to the two survivors and outlive a full session timeout.
    std::thread::sleep(Duration::from_secs(7));
    let l = wait_any_leader(&refs);
    let t2 = l.fencing_token().unwrap();
    assert!(t2 >= t1);
    zk.restart_member(member);
    l.resign().unwrap();
    let t3 = wait_any_leader(&refs).fencing_token().unwrap();
    assert!(t3 > t2);
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler saw no anomaly");
    assert!(worst.load(Ordering::Relaxed) <= 1, "two leaders at once");
}

#[test]
fn bad_input_fails_at_open_with_clear_errors() {
    let zk = Zk::shared();
    let host = zk.uri.trim_start_matches("zk://").to_string();
    let err = |uri: &str| {
        Election::open(uri, "job", None)
            .err()
            .unwrap_or_else(|| panic!("{uri} opened"))
    };

    let e = err("zk://127.0.0.1:1/x?connect_timeout=2s");
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e:?}");
    assert!(e.message().contains("127.0.0.1:1"), "{e:?}");

    for (chroot, part) in [
        ("a//b", "/a//b"),
        ("zookeeper/x", "/zookeeper/x"),
        ("a/../b", "/a/../b"),
    ] {
        let e = err(&format!("zk://{host}/{chroot}"));
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
        assert!(e.message().contains(part), "{e:?}");
    }
    let e = err(&format!("zk://{host}/x?acl=bogus"));
    assert!(
        e.message().contains("acl") && e.message().contains("bogus"),
        "{e:?}"
    );
    let e = err(&format!("zk://{host}/x?acl=read"));
    assert!(e.message().contains("credentials"), "{e:?}");
    let e = err(&format!("zk://alice@{host}/x"));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    let e = err(&format!("zk://{host}/x?zk_nonsense=1"));
    assert!(e.message().contains("zk_nonsense"), "{e:?}");

    // A chroot under an ephemeral node.
    let uri = format!("{}/t{}", zk.uri, unique());
    let (a, _ra) = open(&uri, "a", "");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let node = first_child(
        &zk,
        &format!(
            "{}/job",
            uri.rsplit_once('/').map(|(_, c)| format!("/{c}")).unwrap()
        ),
    );
    let e = err(&format!("zk://{host}{node}/below"));
    assert!(e.message().contains("ephemeral"), "{e:?}");
}

/// The first candidate node in `dir`, read with a raw client.
fn first_child(zk: &Zk, dir: &str) -> String {
    let hosts = zk.uri.trim_start_matches("zk://").to_string();
    let dir = dir.to_string();
    elect_core::runtime::block_on(async move {
        let client = zookeeper_client::Client::connect(&hosts).await.unwrap();
        let mut children = client.list_children(&dir).await.unwrap();
        children.sort_by_key(|c| c.rsplit('_').next().unwrap().to_string());
        format!("{dir}/{}", children[0])
    })
    .unwrap()
}

/// The sequence numbers of the nodes in `dir`, sorted, read with a raw client.
fn sequences(zk: &Zk, dir: &str) -> Vec<u64> {
    let hosts = zk.uri.trim_start_matches("zk://").to_string();
    let dir = dir.to_string();
    let mut seqs: Vec<u64> = elect_core::runtime::block_on(async move {
        let client = zookeeper_client::Client::connect(&hosts).await.unwrap();
        client.list_children(&dir).await.unwrap()
    })
    .unwrap()
    .iter()
    .map(|c| c.rsplit('_').next().unwrap().parse().unwrap())
    .collect();
    seqs.sort();
    seqs
}

#[test]
fn digest_credentials_and_acls() {
    let zk = Zk::shared();
    let host = zk.uri.trim_start_matches("zk://").to_string();
    let chroot = format!("/t{}", unique());
    let good = format!("zk://alice:s3cret@{host}{chroot}");
    let (a, _ra) = open(&good, "a", "");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());

    // Same user, another password: refused at open, and the password is not in the message.
    let e = Election::open(&format!("zk://alice:n0t-it@{host}{chroot}"), "job", None)
        .expect_err("wrong password refused");
    assert_eq!(e.code(), ErrorCode::Auth, "{e:?}");
    assert!(
        e.message().contains("alice") && !e.message().contains("n0t-it"),
        "{e:?}"
    );

    // Without credentials: may observe (acl=read is the default), may not campaign.
    let (anon, ranon) = open(&format!("zk://{host}{chroot}"), "anon", "");
    assert_eq!(anon.leader().unwrap().unwrap().id, "a");
    anon.start().unwrap();
    let ev = expect(&ranon, |e| matches!(e, Event::Error { .. }));
    assert!(format!("{ev:?}").contains("ACL"), "{ev:?}");
    assert!(!anon.is_leader());
    anon.close();

    // Nor can a raw client without the credentials delete the leader's node.
    let node = first_child(&zk, &format!("{chroot}/job"));
    let hosts = host.clone();
    let denied = elect_core::runtime::block_on(async move {
        let client = zookeeper_client::Client::connect(&hosts).await.unwrap();
        client.delete(&node, None).await
    })
    .unwrap();
    assert_eq!(denied, Err(zookeeper_client::Error::NoAuth));
    assert!(a.is_leader());

    // acl=private: observers need the credentials too.
    let private = format!("/t{}", unique());
    let (p, _rp) = open(
        &format!("zk://alice:s3cret@{host}{private}"),
        "p",
        "&acl=private",
    );
    let e = Election::open(&format!("zk://{host}{private}"), "job", None)
        .expect_err("no access without credentials");
    assert_eq!(e.code(), ErrorCode::Permission, "{e:?}");
    drop(p);
}

/// A TCP proxy to a server that, once armed, forwards the next create request (or, with
/// `any`, the next request of any kind) and cuts the connection before the reply can come back:
/// the request is applied, the client never learns it.
struct CutProxy {
    port: u16,
    armed: Arc<AtomicBool>,
    any: Arc<AtomicBool>,
}

impl CutProxy {
    fn new(upstream: &str) -> CutProxy {
        use std::net::{Shutdown, TcpListener, TcpStream};
        let upstream = upstream.to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let armed2 = armed.clone();
        let any = Arc::new(AtomicBool::new(false));
        let any2 = any.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = TcpStream::connect(&upstream) else {
                    return;
                };
                let mute = Arc::new(AtomicBool::new(false));
                let (mut c2, mut s2, mute2) = (
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    mute.clone(),
                );
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while let Ok(n) = s2.read(&mut buf) {
                        if n == 0
                            || mute2.load(Ordering::SeqCst)
                            || c2.write_all(&buf[..n]).is_err()
                        {
                            break;
                        }
                    }
                    let _ = c2.shutdown(Shutdown::Both);
                });
                let armed = armed2.clone();
                let any = any2.clone();
                std::thread::spawn(move || {
                    let mut first = true; // the connect request has no request header
                    loop {
                        let mut len = [0u8; 4];
                        if client.read_exact(&mut len).is_err() {
                            break;
                        }
                        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
                        if client.read_exact(&mut body).is_err() {
                            break;
                        }
                        let connect = std::mem::take(&mut first);
                        let op = if connect || body.len() < 8 {
                            0
                        } else {
                            i32::from_be_bytes(body[4..8].try_into().unwrap())
                        };
                        // 1 create, 15 create2: ZooKeeper's OpCode values.
                        let cut = !connect
                            && (any.load(Ordering::SeqCst) || op == 1 || op == 15)
                            && armed.swap(false, Ordering::SeqCst);
                        if cut {
                            mute.store(true, Ordering::SeqCst);
                        }
                        if server.write_all(&len).is_err() || server.write_all(&body).is_err() {
                            break;
                        }
                        if cut {
                            std::thread::sleep(Duration::from_millis(200));
                            break;
                        }
                    }
                    let _ = server.shutdown(Shutdown::Both);
                    let _ = client.shutdown(Shutdown::Both);
                });
            }
        });
        CutProxy { port, armed, any }
    }
}

#[test]
fn a_create_whose_reply_is_lost_is_found_again_not_duplicated() {
    let zk = Zk::shared();
    let chroot = format!("t{}", unique());
    let (a, _ra) = open(&format!("{}/{chroot}", zk.uri), "a", "&ttl=5s");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let proxy = CutProxy::new(zk.uri.trim_start_matches("zk://"));
    let via_proxy = format!("zk://127.0.0.1:{}/{chroot}", proxy.port);
    let (b, rb) = open(&via_proxy, "b", "&ttl=5s&retry=200ms");
    proxy.armed.store(true, Ordering::SeqCst);
    b.start().unwrap();
    expect(
        &rb,
        |e| matches!(e, Event::Error { message } if message.contains("creating the candidate node")),
    );
    assert!(
        !proxy.armed.load(Ordering::SeqCst),
        "the create went through the proxy"
    );
    // b reconnects in the same session and adopts the node it did create: two nodes, not three.
    until("b in line", || a.members().unwrap().len() == 2);
    std::thread::sleep(Duration::from_millis(500)); // a duplicate would show up by now
    let ids: Vec<String> = a.members().unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["a", "b"]);
    // And it is the node of the lost reply (the next sequence after a's), not a second create
    // whose duplicate was cleaned up afterwards.
    let seqs = sequences(&zk, &format!("/{chroot}/job"));
    assert_eq!(seqs.len(), 2);
    assert_eq!(seqs[1], seqs[0] + 1, "b adopted its first node: {seqs:?}");
    a.resign().unwrap();
    assert!(b.wait_leader(Some(Duration::from_secs(2))).unwrap());
}

#[test]
fn a_leader_keeps_leading_across_a_short_disconnection() {
    let zk = Zk::shared();
    let proxy = CutProxy::new(zk.uri.trim_start_matches("zk://"));
    let uri = format!("zk://127.0.0.1:{}/t{}", proxy.port, unique());
    let (a, ra) = open(&uri, "a", "&ttl=3s");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let t1 = a.fencing_token().unwrap();
    proxy.any.store(true, Ordering::SeqCst);
    proxy.armed.store(true, Ordering::SeqCst);
    until("the connection cut", || !proxy.armed.load(Ordering::SeqCst));
    let cut = Instant::now();
    // Reconnected in the same session, the leader re-reads the line and goes on: its deadline
    // moves past anything the contacts before the cut could justify.
    until("a renewal confirmed after the cut", || {
        a.lease_deadline()
            .is_some_and(|d| d > cut + Duration::from_millis(2700))
    });
    assert_eq!(a.fencing_token(), Some(t1), "same term, not a new election");
    while let Ok(ev) = ra.try_recv() {
        assert!(!matches!(ev, Event::Revoked { .. }), "{ev:?}");
    }
}

// ---- candidates in other processes -------------------------------------------------------

/// Not a test on its own: the candidate process of the multi-process tests. It runs only when
/// started by them (with `ELECT_ZK_CHILD_URI`), speaks one line per request on stdin/stdout.
#[test]
fn zk_child() {
    let Ok(uri) = std::env::var("ELECT_ZK_CHILD_URI") else {
        return;
    };
    let id = std::env::var("ELECT_ZK_CHILD_ID").unwrap();
    let term = Arc::new(AtomicU64::new(0));
    let t = term.clone();
    let say = |s: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "child: {s}");
        let _ = out.flush();
    };
    let e = Election::open(
        &format!("{uri}?id={id}&ttl=1s"),
        "job",
        Some(Box::new(move |ev: &Event| match ev {
            Event::Elected { term } => {
                t.store(*term, Ordering::SeqCst);
                say(format!("elected {term}"));
            }
            Event::Revoked { term, reason } => say(format!("revoked {term} {}", reason.as_str())),
            _ => {}
        })),
    )
    .unwrap();
    e.start().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        match line.split_once(' ').unwrap_or((&line, "")) {
            ("is_leader", _) => say(format!("is_leader {}", e.is_leader())),
            // A stale leader that does not check is_leader() first: the resource must refuse.
            ("write", file) => {
                let ok = fenced_write(file, term.load(Ordering::SeqCst));
                say(format!("write {}", if ok { "ok" } else { "rejected" }));
            }
            _ => break,
        }
    }
    e.close();
}

/// A resource that checks fencing tokens: it refuses any token lower than one it has seen.
fn fenced_write(path: &str, token: u64) -> bool {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap();
    f.lock().unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    let highest: u64 = s.trim().parse().unwrap_or(0);
    if token == 0 || token < highest {
        return false;
    }
    f.set_len(0).unwrap();
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    write!(f, "{token}").unwrap();
    true
}

struct Candidate {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Candidate {
    fn spawn(uri: &str, id: &str) -> Candidate {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["zk_child", "--exact", "--nocapture", "--test-threads=1"])
            .env("ELECT_ZK_CHILD_URI", uri)
            .env("ELECT_ZK_CHILD_ID", id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(|l| l.ok()) {
                // The test harness may print `test zk_child ... ` on the same line.
                if let Some(i) = l.find("child: ") {
                    let _ = tx.send(l[i + "child: ".len()..].to_string());
                }
            }
        });
        Candidate {
            child,
            stdin,
            lines,
        }
    }

    fn expect(&self, prefix: &str, within: Duration) -> String {
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let l = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{prefix}` line from the child within {within:?}"));
            if l.starts_with(prefix) {
                return l;
            }
        }
    }

    fn ask(&mut self, request: &str, reply: &str) -> String {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        self.expect(reply, WAIT)
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Candidate {
    fn drop(&mut self) {
        let _ = signal_quiet(self.pid(), "CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal_quiet(pid: i32, sig: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn term_of(line: &str) -> u64 {
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn sigkill_of_the_leader_process_hands_over_within_the_session_timeout() {
    let zk = Zk::shared();
    let uri = format!("{}/t{}", zk.uri, unique());
    let (watcher, _rw) = open(&uri, "w", "");
    let a = Candidate::spawn(&uri, "a");
    let t1 = term_of(&a.expect("elected", WAIT));
    let b = Candidate::spawn(&uri, "b");
    until("b in line", || watcher.members().unwrap().len() == 2);
    let t0 = Instant::now();
    signal(a.pid(), "KILL");
    let t2 = term_of(&b.expect("elected", WAIT));
    let took = t0.elapsed();
    assert!(t2 > t1);
    // ttl=1s asks for a 1 s session; the server expires it within a tick or two after that.
    assert!(
        took < Duration::from_millis(1000 + 1000),
        "handover took {took:?}"
    );
}

#[test]
fn sigstop_beyond_the_session_timeout_gives_not_leader_and_a_rejected_write() {
    let zk = Zk::shared();
    let uri = format!("{}/t{}", zk.uri, unique());
    let fence = std::env::temp_dir().join(format!("elect-zk-fence-{}", unique()));
    let fence = fence.to_str().unwrap().to_string();
    let (watcher, _rw) = open(&uri, "w", "");
    let mut a = Candidate::spawn(&uri, "a");
    let t1 = term_of(&a.expect("elected", WAIT));
    assert_eq!(a.ask(&format!("write {fence}"), "write"), "write ok");
    let mut b = Candidate::spawn(&uri, "b");
    until("b in line", || watcher.members().unwrap().len() == 2);

    signal(a.pid(), "STOP");
    let t2 = term_of(&b.expect("elected", WAIT));
    assert!(t2 > t1);
    assert_eq!(b.ask(&format!("write {fence}"), "write"), "write ok");

    signal(a.pid(), "CONT");
    let revoked = a.expect("revoked", WAIT);
    assert!(revoked.starts_with(&format!("revoked {t1} ")), "{revoked}");
    assert_eq!(a.ask("is_leader", "is_leader"), "is_leader false");
    assert_eq!(a.ask(&format!("write {fence}"), "write"), "write rejected");
    let _ = std::fs::remove_file(&fence);
}
