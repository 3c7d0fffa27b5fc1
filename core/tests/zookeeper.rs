//! What is particular to the ZooKeeper store, against real servers (Debian's zookeeper, started
//! by `scripts/servers/zk`): an ensemble losing its leader, chroots and ACLs, a create whose
//! reply is lost, a short disconnection, and what observers show during a hold-off. What every
//! store must do is in `contract.rs`.

use elect_testkit::wait::{expect_within, open_recording};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use elect_core::{Election, ErrorCode, Event};
use elect_testkit::server::{signal, unique};
use elect_testkit::zookeeper as zkkit;
use elect_testkit::{Server, Store};

const WAIT: Duration = Duration::from_secs(20);

elect_testkit::agent_child!();

fn open(uri: &str, id: &str, params: &str) -> (Election, Receiver<Event>) {
    open_recording(&format!("{uri}?id={id}{params}"), "job")
}

/// Waits for the next event matching `pred`, skipping others.
fn expect(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    expect_within(rx, WAIT, pred)
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
fn ensemble_losing_its_leader_never_gives_two_leaders() {
    let zk = Server::cluster(Store::Zk, "ens");
    let hosts: Vec<String> = zk
        .uri()
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

    let victim = zkkit::leader_pid(&zk);
    let member = zkkit::member_of(&zk, victim);
    signal(victim, "KILL");
    // Let sessions fail over to the two survivors and outlive a full session timeout.
    std::thread::sleep(Duration::from_secs(7));
    let l = wait_any_leader(&refs);
    let t2 = l.fencing_token().unwrap();
    assert!(t2 >= t1);
    zkkit::restart_member(&zk, member);
    l.resign().unwrap();
    let t3 = wait_any_leader(&refs).fencing_token().unwrap();
    assert!(t3 > t2);
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler saw no anomaly");
    assert!(worst.load(Ordering::Relaxed) <= 1, "two leaders at once");
}

#[test]
fn bad_input_fails_at_open_with_clear_errors() {
    let zk = Server::shared(Store::Zk);
    let host = zk.uri().trim_start_matches("zk://").to_string();
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
    // A hold-off longer than the servers' longest session (the test servers': 60 s).
    let e = err(&format!("zk://{host}/x?ttl=2s&holdoff=70s"));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("`holdoff`") && e.message().contains("maxSessionTimeout"),
        "{e:?}"
    );

    // A chroot under an ephemeral node.
    let uri = format!("{}/t{}", zk.uri(), unique());
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
fn first_child(zk: &Server, dir: &str) -> String {
    let hosts = zk.uri().trim_start_matches("zk://").to_string();
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
fn sequences(zk: &Server, dir: &str) -> Vec<u64> {
    let hosts = zk.uri().trim_start_matches("zk://").to_string();
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
    let zk = Server::shared(Store::Zk);
    let host = zk.uri().trim_start_matches("zk://").to_string();
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
    let zk = Server::shared(Store::Zk);
    let chroot = format!("t{}", unique());
    let (a, _ra) = open(&format!("{}/{chroot}", zk.uri()), "a", "&ttl=5s");
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    let proxy = CutProxy::new(zk.uri().trim_start_matches("zk://"));
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
    let zk = Server::shared(Store::Zk);
    let proxy = CutProxy::new(zk.uri().trim_start_matches("zk://"));
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

/// A session asks for `ttl` less the servers' tick, so that the server, which expires sessions
/// up to a tick late, ends a crashed leader's session within `ttl` (the crash handover bound).
#[test]
fn the_session_timeout_leaves_room_for_the_servers_tick() {
    let zk = Server::shared(Store::Zk);
    // The tick `scripts/servers/zk` configures (its minimum session timeout is two ticks).
    let tick = Duration::from_millis(
        std::env::var("ELECT_ZK_TICK_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200),
    );
    let ttl = Duration::from_millis(2345); // this test's own, to find its session
    let (_e, _rx) = open(&zk.uri(), "ticked", &format!("&ttl={}ms", ttl.as_millis()));
    let ours = elect_core::backend::zookeeper::sessions()
        .into_iter()
        .find(|(_, asked, _)| *asked == ttl || *asked + tick == ttl);
    assert_eq!(
        ours,
        Some((Some(tick), ttl - tick, ttl - tick)),
        "(tick learned, timeout asked, timeout granted)"
    );
}

/// During a hold-off the head of the line, though it did not ask for one itself, waits for the
/// lost leader's marker, and observers show nobody leading until it goes (not the waiting head,
/// as the line alone would).
#[test]
fn a_hold_off_holds_every_candidate_and_observers_show_nobody() {
    let zk = Server::shared(Store::Zk);
    let hold = Duration::from_secs(4);
    let uri = format!("{}/t{}?ttl=2s&renew=500ms&retry=500ms", zk.uri(), unique());
    let mut fleet = elect_testkit::agent::fleet();
    let holding = format!("{uri}&holdoff={}ms", hold.as_millis());
    let first = fleet.join(&holding, "job", "p0").unwrap();
    fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    fleet.join(&uri, "job", "p1").unwrap();
    let (obs, ro) = open_recording(&format!("{uri}&id=watcher"), "job");
    obs.observe().unwrap();
    expect(
        &ro,
        |e| matches!(e, Event::MemberJoined { member } if member.id == "p1"),
    );
    let killed = Instant::now();
    let killed_ns = fleet.kill(first);
    expect(&ro, |e| matches!(e, Event::LeaderChanged { leader: None }));
    let shown = expect(&ro, |e| {
        matches!(e, Event::LeaderChanged { leader: Some(_) })
    });
    let took = killed.elapsed();
    assert!(
        took >= hold,
        "{shown:?} shown {took:?} after the loss, within the hold-off"
    );
    assert!(
        matches!(&shown, Event::LeaderChanged { leader: Some(l) } if l.id == "p1"),
        "{shown:?}"
    );
    let (_, _, elected_ns) = fleet.wait_elected(Some(first), WAIT, |_, _| {}).unwrap();
    let waited = Duration::from_nanos(elected_ns.saturating_sub(killed_ns));
    assert!(
        waited >= hold,
        "p1 elected {waited:?} after the loss, within the hold-off"
    );
}
