//! The child side of [`super::Agent`]: a subset of the shared agent line protocol
//! (`open <uri> <name>`, `start`, `is_leader`, `token`, `quit`; `event elected <term>`,
//! `event revoked <term> <reason>`), every line prefixed so that the test harness's own output
//! can be told apart.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use elect_core::{Election, Event};

pub const ENV: &str = "ELECT_REDIS_TEST_CHILD";
pub const PREFIX: &str = "@@ ";

pub fn run() {
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let say = {
        let out = out.clone();
        move |line: String| {
            let mut o = out.lock().unwrap();
            let _ = writeln!(o, "{PREFIX}{line}");
            let _ = o.flush();
        }
    };
    let mut election: Option<Election> = None;
    for line in std::io::stdin().lock().lines().map_while(|l| l.ok()) {
        let words: Vec<&str> = line.split(' ').collect();
        let reply = match words.as_slice() {
            ["open", uri, name] => {
                let events = say.clone();
                let handler = Box::new(move |ev: &Event| match ev {
                    Event::Elected { term } => events(format!("event elected {term}")),
                    Event::Revoked { term, reason } => {
                        events(format!("event revoked {term} {}", reason.as_str()))
                    }
                    _ => {}
                });
                match Election::open(uri, name, Some(handler)) {
                    Ok(e) => {
                        election = Some(e);
                        "ok".to_string()
                    }
                    Err(e) => format!("err {} {}", e.code().name(), e.message()),
                }
            }
            ["start"] => match election.as_ref().map(|e| e.start()) {
                Some(Ok(())) => "ok".into(),
                Some(Err(e)) => format!("err {} {}", e.code().name(), e.message()),
                None => "err wrong_state open first".into(),
            },
            ["is_leader"] => format!(
                "ok {}",
                election.as_ref().map(|e| e.is_leader()).unwrap_or(false)
            ),
            ["token"] => format!(
                "ok {}",
                election
                    .as_ref()
                    .and_then(|e| e.fencing_token())
                    .unwrap_or(0)
            ),
            ["quit"] => break,
            _ => format!("err invalid_argument unknown request `{line}`"),
        };
        say(reply);
    }
    if let Some(e) = election {
        e.close();
    }
}
