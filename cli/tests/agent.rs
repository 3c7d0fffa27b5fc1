//! `elect agent` answers the scenario protocol: one reply line per request, events as they
//! happen, errors as `err <code_name> <message>`.

mod common;

use common::{Proc, TempDir};

/// Sends `request` and returns its reply, collecting the event lines that come before it.
fn ask(agent: &mut Proc, request: &str, events: &mut Vec<String>) -> String {
    agent.send(request);
    loop {
        let line = agent.line();
        if line.starts_with("event ") {
            events.push(line);
        } else {
            return line;
        }
    }
}

/// Waits for the event line `expected`, which may already be among `events`.
fn await_event(agent: &mut Proc, expected: &str, events: &mut Vec<String>) {
    while !events.iter().any(|e| e == expected) {
        events.push(agent.line());
    }
}

#[test]
fn answers_the_protocol() {
    let dir = TempDir::new();
    let mut a = Proc::spawn(&["agent"]);
    let mut events = Vec::new();
    let open = format!("open {} job", dir.uri("?id=a"));
    assert_eq!(
        ask(&mut a, "is_leader", &mut events),
        "err wrong_state request `is_leader`: no election; send `open <uri> <name>` first"
    );
    assert_eq!(ask(&mut a, &open, &mut events), "ok");
    assert_eq!(ask(&mut a, "is_leader", &mut events), "ok false");
    assert_eq!(ask(&mut a, "token", &mut events), "ok 0");
    assert_eq!(ask(&mut a, "members", &mut events), "ok ");
    assert_eq!(ask(&mut a, "start", &mut events), "ok");
    assert_eq!(ask(&mut a, "wait_leader 10000", &mut events), "ok true");
    assert_eq!(ask(&mut a, "is_leader", &mut events), "ok true");
    assert_eq!(ask(&mut a, "token", &mut events), "ok 1");
    assert_eq!(ask(&mut a, "leader", &mut events), "ok a 1");
    await_event(&mut a, "event leader a 1", &mut events);
    assert_eq!(ask(&mut a, "members", &mut events), "ok a");
    assert_eq!(ask(&mut a, "resign", &mut events), "ok");
    assert_eq!(ask(&mut a, "close", &mut events), "ok");
    assert_eq!(ask(&mut a, "quit", &mut events), "ok");
    assert_eq!(a.wait().code(), Some(0));
    events.extend(a.rest());
    // Order within this process: elected 1, revoked 1 resigned, (elected 2 ...), revoked closed.
    let elected = events.iter().position(|e| e == "event elected 1");
    let revoked = events.iter().position(|e| e == "event revoked 1 resigned");
    assert!(elected.is_some() && elected < revoked, "{events:?}");
    assert!(
        events.iter().all(|e| !e.contains(" @")),
        "unstamped by default: {events:?}"
    );
}

#[test]
fn rejects_bad_requests_with_named_errors() {
    let dir = TempDir::new();
    let mut a = Proc::spawn(&["agent"]);
    let mut events = Vec::new();
    let reply = ask(&mut a, "frobnicate", &mut events);
    assert!(
        reply.starts_with("err invalid_argument request `frobnicate`: unknown"),
        "{reply}"
    );
    let reply = ask(&mut a, "open only-one-arg", &mut events);
    assert!(
        reply.starts_with("err invalid_argument request `open`: expected 2"),
        "{reply}"
    );
    let reply = ask(&mut a, "open nosuch://x job", &mut events);
    assert!(
        reply.starts_with("err invalid_argument scheme `nosuch`"),
        "{reply}"
    );
    let reply = ask(
        &mut a,
        &format!("open {} job", dir.uri("?ttl=1s&renew=2s")),
        &mut events,
    );
    assert!(
        reply.starts_with("err invalid_argument option `renew`"),
        "{reply}"
    );
    let reply = ask(
        &mut a,
        &format!("open {} job", dir.uri("?bogus=1")),
        &mut events,
    );
    assert!(
        reply.starts_with("err invalid_argument option `bogus`"),
        "{reply}"
    );
    assert_eq!(
        ask(&mut a, &format!("open {} job", dir.uri("")), &mut events),
        "ok"
    );
    let reply = ask(&mut a, "wait_leader soon", &mut events);
    assert!(
        reply.starts_with("err invalid_argument wait_leader: timeout `soon`"),
        "{reply}"
    );
    let reply = ask(&mut a, "wait_leader 10", &mut events);
    assert!(reply.starts_with("err wrong_state"), "{reply}");
    // End of stdin is quit.
    drop(a.stdin.take());
    assert_eq!(a.wait().code(), Some(0));
}
