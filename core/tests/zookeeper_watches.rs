//! No herd effect: 200 candidates of one process wait in one ZooKeeper election; when the
//! leader resigns, exactly one of them (the next in line) is woken. And 200 elections cost the
//! server no more keep-alive traffic than one. Its own test binary with its own server, because
//! the wake-up counters are per process and other tests would wait in line meanwhile.

use std::time::{Duration, Instant};

use elect_core::backend::zookeeper::wait_stats;
use elect_core::Election;
use elect_testkit::server::unique;
use elect_testkit::zookeeper::packets_received;
use elect_testkit::{Server, Store};

#[test]
fn a_resignation_wakes_only_the_next_in_line() {
    let zk = Server::start(Store::Zk, "herd");
    let uri = format!("{}/t{}?ttl=5s", zk.uri(), unique());
    let n = 200;
    let es: Vec<Election> = (0..n)
        .map(|i| Election::open(&format!("{uri}&id=c{i:03}"), "job", None).unwrap())
        .collect();
    es[0].start().unwrap();
    assert!(es[0].wait_leader(Some(Duration::from_secs(20))).unwrap());
    for e in &es[1..] {
        e.start().unwrap();
    }
    let until = |what: &str, f: &dyn Fn() -> bool| {
        let end = Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}: {:?}",
                wait_stats()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    until("199 waiters", &|| wait_stats().0 == n - 1);
    let line = es[0].members().unwrap();
    assert_eq!(line.len(), n);
    let next = line[1].id.clone();
    let (_, woken_before) = wait_stats();

    es[0].resign().unwrap();
    let successor = es.iter().find(|e| e.id() == next).unwrap();
    assert!(successor
        .wait_leader(Some(Duration::from_secs(10)))
        .unwrap());
    // The resigned leader queues up again at the back: 199 waiters once more.
    until("199 waiters again", &|| wait_stats().0 == n - 1);
    // Nothing else may wake up late: give stray notifications time to arrive.
    std::thread::sleep(Duration::from_millis(300));
    let (waiting, woken_after) = wait_stats();
    assert_eq!(
        woken_after - woken_before,
        1,
        "only the next in line is woken"
    );
    assert_eq!(waiting, n - 1);

    // Idle, the 200 share one session: a heartbeat and the client's pings, a few packets a
    // second in all (a renewal per election would be 200 every `renew`, 120 a second).
    let window = Duration::from_secs(3);
    let before = packets_received(&zk.uri());
    std::thread::sleep(window);
    let sent = packets_received(&zk.uri()) - before;
    assert!(
        sent <= 20,
        "{sent} packets in {window:?} for {n} idle elections"
    );
    for e in &es {
        e.close();
    }
}
