//! `<name>.next`: who may be granted the lock next. Written and read only by a process that
//! holds the election's lock, so a grant and the check of this record are one step.
//!
//! One line, overwritten in place like the leader record (`v1 boot kind id a b checksum`,
//! tab-separated; times on `CLOCK_BOOTTIME`, which every process of the machine shares):
//!
//! - `lead id holdoff sticky`: the leader `id` asked for a hold-off and/or stickiness; if the
//!   lock is found free while this is still here, that leader was lost without releasing (its
//!   process died: the kernel dropped its lock).
//! - `lost id at holdoff sticky`: such a loss, first seen at `at`: nobody is granted before
//!   `at + holdoff`, and nobody but `id` before `at + sticky`.
//! - `handoff id until`: the leader handed the leadership to `id`: nobody else is granted
//!   before `until` (one ttl after the hand-off).
//!
//! A release removes the file; a missing, torn or other boot's record allows anyone.

use std::fs;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use super::record::{boot_id, checksum};
use super::safe_open;
use crate::clock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    Lead {
        id: String,
        holdoff: Duration,
        sticky: Duration,
    },
    Lost {
        id: String,
        at: u64,
        holdoff: Duration,
        sticky: Duration,
    },
    Handoff {
        id: String,
        until: u64,
    },
}

impl Next {
    fn encode(&self) -> String {
        let ms = |d: &Duration| d.as_millis();
        let fields = match self {
            Next::Lead {
                id,
                holdoff,
                sticky,
            } => {
                format!("lead\t{id}\t{}\t{}\t0", ms(holdoff), ms(sticky))
            }
            Next::Lost {
                id,
                at,
                holdoff,
                sticky,
            } => format!("lost\t{id}\t{}\t{}\t{at}", ms(holdoff), ms(sticky)),
            Next::Handoff { id, until } => format!("handoff\t{id}\t0\t0\t{until}"),
        };
        let body = format!("v1\t{}\t{fields}", boot_id());
        format!("{body}\t{:016x}\n", checksum(body.as_bytes()))
    }

    fn decode(s: &str) -> Option<Next> {
        let (body, sum) = s.strip_suffix('\n')?.rsplit_once('\t')?;
        if u64::from_str_radix(sum, 16).ok()? != checksum(body.as_bytes()) {
            return None;
        }
        let f: Vec<&str> = body.split('\t').collect();
        let [v, boot, kind, id, a, b, at] = f[..] else {
            return None;
        };
        if v != "v1" || boot != boot_id() || boot.is_empty() {
            return None;
        }
        let (id, at) = (id.to_string(), at.parse().ok()?);
        let ms = |x: &str| x.parse().ok().map(Duration::from_millis);
        let (holdoff, sticky) = (ms(a)?, ms(b)?);
        Some(match kind {
            "lead" => Next::Lead {
                id,
                holdoff,
                sticky,
            },
            "lost" => Next::Lost {
                id,
                at,
                holdoff,
                sticky,
            },
            "handoff" => Next::Handoff { id, until: at },
            _ => return None,
        })
    }
}

/// The record now (`None`: anyone may be granted). Only under the lock.
pub(super) fn read(path: &Path) -> io::Result<Option<Next>> {
    match safe_open::read(path) {
        Ok(bytes) => Ok(std::str::from_utf8(&bytes).ok().and_then(Next::decode)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the record in place. Only under the lock.
pub(super) fn write(path: &Path, next: &Next) -> io::Result<()> {
    let bytes = next.encode();
    let f = safe_open::open_rw(path)?;
    f.write_all_at(bytes.as_bytes(), 0)?;
    f.set_len(bytes.len() as u64)
}

/// Removes the record (anyone may be granted next). Only under the lock.
pub(super) fn clear(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Under the lock, whether candidate `me` may be granted now: `Ok(None)` if so, else
/// `Ok(Some(nanos))`, the `CLOCK_BOOTTIME` time at which to look again. A leader lost without
/// a release (`lead` found with the lock free) is recorded as `lost` at its first sighting.
pub(super) fn may_grant(path: &Path, me: &str) -> io::Result<Option<u64>> {
    let now = clock::now_nanos();
    let nanos = |d: Duration| d.as_nanos() as u64;
    let lost = match read(path)? {
        None => return Ok(None),
        Some(Next::Handoff { id, until }) => {
            return Ok((id != me && now < until).then_some(until));
        }
        Some(Next::Lead {
            id,
            holdoff,
            sticky,
        }) => {
            let lost = Next::Lost {
                id,
                at: now,
                holdoff,
                sticky,
            };
            write(path, &lost)?;
            lost
        }
        Some(lost) => lost,
    };
    let Next::Lost {
        id,
        at,
        holdoff,
        sticky,
    } = lost
    else {
        unreachable!("matched above")
    };
    let mut open_at = at.saturating_add(nanos(holdoff));
    if id != me {
        open_at = open_at.max(at.saturating_add(nanos(sticky)));
    }
    Ok((now < open_at).then_some(open_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_torn_or_foreign_ones_allow_anyone() {
        for n in [
            Next::Lead {
                id: "a".into(),
                holdoff: Duration::from_millis(1500),
                sticky: Duration::ZERO,
            },
            Next::Lost {
                id: "a b".into(),
                at: 77,
                holdoff: Duration::ZERO,
                sticky: Duration::from_secs(3),
            },
            Next::Handoff {
                id: "c".into(),
                until: 99,
            },
        ] {
            let s = n.encode();
            assert_eq!(Next::decode(&s), Some(n));
            assert_eq!(Next::decode(&s[..s.len() - 2]), None);
            assert_eq!(Next::decode(&s.replacen(boot_id(), "other-boot", 1)), None);
        }
    }

    #[test]
    fn a_hand_off_admits_its_successor_only_and_a_loss_holds_everyone_off() {
        let dir = std::env::temp_dir().join(format!("elect-next-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.next");
        clear(&p).unwrap();
        assert_eq!(may_grant(&p, "a").unwrap(), None, "no record: anyone");
        let until = clock::now_nanos() + 60_000_000_000;
        write(
            &p,
            &Next::Handoff {
                id: "b".into(),
                until,
            },
        )
        .unwrap();
        assert_eq!(may_grant(&p, "a").unwrap(), Some(until));
        assert_eq!(may_grant(&p, "b").unwrap(), None);
        write(
            &p,
            &Next::Handoff {
                id: "b".into(),
                until: 1,
            },
        )
        .unwrap();
        assert_eq!(may_grant(&p, "a").unwrap(), None, "lapsed");

        let lead = Next::Lead {
            id: "a".into(),
            holdoff: Duration::from_secs(60),
            sticky: Duration::from_secs(120),
        };
        write(&p, &lead).unwrap();
        let held = may_grant(&p, "a")
            .unwrap()
            .expect("held off, even for the lost leader");
        let Some(Next::Lost { at, .. }) = read(&p).unwrap() else {
            panic!("the loss is recorded at its first sighting");
        };
        assert_eq!(held, at + 60_000_000_000);
        assert_eq!(
            may_grant(&p, "b").unwrap(),
            Some(at + 120_000_000_000),
            "sticky for a"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
