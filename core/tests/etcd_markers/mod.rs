//! The hold-off and sticky markers beyond the store contract (`contract.rs` runs the hold-off
//! and stickiness cases on etcd too): a sticky id back before its old key expired, and what a
//! loss and a release leave in the store.

use elect_core::Event;
use elect_testkit::contract::{with_options, Subject};
use elect_testkit::server::unique;
use elect_testkit::succession;
use elect_testkit::wait::{expect_within, open_recording, WAIT};
use elect_testkit::{Server, Store};

fn name(tag: &str) -> String {
    format!("hold-{tag}-{}", unique())
}

/// A sticky leader killed and restarted at once, while its old key still stands ahead in line:
/// the new process, behind the waiting candidate, waits for the old key to go, then passes the
/// line.
#[test]
fn a_sticky_id_back_before_its_old_key_expired_passes_the_line() {
    succession::sticky_back_at_once(&Subject::shared(Store::Etcd))
}

/// A leader with a hold-off leaves its marker in the store while it leads and after it is
/// killed, and nothing after it resigns or hands over (the release deletes it with the
/// leader's key).
#[test]
fn the_hold_marker_outlives_a_killed_leader_and_not_a_resigned_one() {
    let s = Subject::shared(Store::Etcd);
    let server = Server::shared(Store::Etcd);
    let prefix = s
        .uri
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let marker = |name: &str| format!("{prefix}/{name}%hold");
    let get = |key: &str| {
        let out = server.etcdctl(&["get", key, "--print-value-only"]);
        out.trim().to_string()
    };
    let opts = format!("holdoff={}ms", (s.ttl * 2).as_millis());

    let resigned = name("resign");
    let (a, ra) = open_recording(&with_options(&s.candidate("a"), &opts), &resigned);
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    assert!(
        get(&marker(&resigned)).starts_with("a\t"),
        "written at grant"
    );
    a.resign().unwrap();
    expect_within(&ra, WAIT, |e| matches!(e, Event::Revoked { .. }));
    assert_eq!(get(&marker(&resigned)), "", "deleted by the release");

    // A hand-off is a release too: the successor is granted at once and writes its own.
    let handed = name("hand");
    let open = |id: &str| open_recording(&with_options(&s.candidate(id), &opts), &handed);
    let ((a, _ra), (b, rb)) = (open("a"), open("b"));
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    b.start().unwrap();
    // Until a's own member list (the engine's follower) has b.
    elect_testkit::wait::until("b in a's member list", WAIT, || a.hand_over_to("b").is_ok());
    expect_within(&rb, s.ttl, |e| matches!(e, Event::Elected { .. }));
    assert!(get(&marker(&handed)).starts_with("b\t"), "the successor's");

    let killed = name("kill");
    let uri = with_options(&s.uri, &opts);
    let mut fleet = elect_testkit::agent::fleet();
    let p = fleet.join(&uri, &killed, "p").unwrap();
    fleet.wait_elected(None, WAIT, |_, _| {}).unwrap();
    fleet.kill(p);
    let (obs, ro) = s.open(&killed, "watcher");
    obs.observe().unwrap();
    expect_within(&ro, s.crash_bound(), |e| {
        matches!(e, Event::LeaderChanged { leader: None })
    });
    assert!(get(&marker(&killed)).starts_with("p\t"), "left by the loss");
}
