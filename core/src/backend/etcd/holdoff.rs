//! Hold-off and stickiness on etcd: two marker keys beside the election's line
//! (`<election>%hold`, `<election>%sticky`, see [`super::layout`]), each naming the leader (its id
//! and its key) and each on a lease of its own whose TTL outlives the leader's lease by the
//! window.
//!
//! - A leader that asks for a hold-off or stickiness writes its markers in the transaction that
//!   grants it, and keeps their leases alive with each renewal.
//! - A clean release (resign, close, hand-off) deletes the markers in the transaction that
//!   deletes the leader's key, and only if that key still exists: a leader whose key went with
//!   its lease (crash, expiry) leaves them to run out.
//! - Every grant, whatever the candidate's own options, is a transaction that requires the
//!   hold marker absent and the sticky marker absent or naming the candidate's id.
//! - The id a sticky marker names may jump the line while the marker's key is gone: one
//!   transaction deletes the keys ahead of it (their candidates stand in line again, behind).
//! - Followers show the head of the line as the leader only when no marker names another key.

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, KeyValue, LeaseKeepAliveStream, LeaseKeeper, PutOptions, Txn,
    TxnOp, TxnOpResponse,
};

use super::connect::map_err;
use super::keepalive::EXPIRY_SWEEP;
use crate::backend::limits::MAX_FIELD;
use crate::error::{Error, ErrorCode, Result};

/// A marker as read: its own key, the candidate it names, that candidate's key, and its mod
/// revision.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub name: Vec<u8>,
    pub id: String,
    pub key: Vec<u8>,
    pub mod_rev: i64,
}

/// The markers of one election as read at one revision.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Markers {
    pub hold: Option<Marker>,
    pub sticky: Option<Marker>,
}

impl Markers {
    /// The marker that keeps the candidate `id` from being granted, if any: the hold marker,
    /// or a sticky marker naming someone else.
    pub fn blocking(&self, id: &str) -> Option<&Marker> {
        self.hold
            .as_ref()
            .or(self.sticky.as_ref().filter(|m| m.id != id))
    }

    /// The sticky marker if it lets candidate `id` (key `key`) jump the line: it names `id` at
    /// another key (a previous incarnation).
    pub fn sticky_for(&self, id: &str, key: &[u8]) -> Option<&Marker> {
        self.sticky.as_ref().filter(|m| m.id == id && m.key != key)
    }

    /// Whether the head of the line (key `head`) leads: no marker names another key.
    pub fn admits(&self, head: &[u8]) -> bool {
        [&self.hold, &self.sticky]
            .into_iter()
            .flatten()
            .all(|m| m.key == head)
    }

    pub fn is_empty(&self) -> bool {
        self.hold.is_none() && self.sticky.is_none()
    }

    /// Takes in a put (`Some`) or a delete (`None`) of the marker at `key` (one of `names`).
    pub fn apply(&mut self, names: &Names, key: &[u8], kv: Option<&KeyValue>) -> Result<()> {
        let marker = kv.map(decode).transpose()?;
        if key == names.hold.as_bytes() {
            self.hold = marker;
        } else if key == names.sticky.as_bytes() {
            self.sticky = marker;
        }
        Ok(())
    }
}

/// The marker keys of one election.
#[derive(Clone, Debug)]
pub struct Names {
    pub hold: String,
    pub sticky: String,
}

impl Names {
    pub fn of(prefix: &str, election: &str) -> Names {
        Names {
            hold: super::layout::marker(prefix, election, "hold"),
            sticky: super::layout::marker(prefix, election, "sticky"),
        }
    }

    /// Reads of both markers, for a transaction ([`Markers::read`] takes their answers).
    pub fn gets(&self) -> [TxnOp; 2] {
        [
            TxnOp::get(self.hold.as_str(), None),
            TxnOp::get(self.sticky.as_str(), None),
        ]
    }

    /// Deletes of both markers, for a transaction.
    pub fn deletes(&self) -> [TxnOp; 2] {
        [
            TxnOp::delete(self.hold.as_str(), None),
            TxnOp::delete(self.sticky.as_str(), None),
        ]
    }
}

impl Markers {
    /// The markers from the answers of [`Names::gets`].
    pub fn read(hold: Option<TxnOpResponse>, sticky: Option<TxnOpResponse>) -> Result<Markers> {
        let one = |r: Option<TxnOpResponse>| match r {
            Some(TxnOpResponse::Get(g)) => g.kvs().first().map(decode).transpose(),
            _ => Err(Error::store("etcd: unexpected transaction answer")),
        };
        Ok(Markers {
            hold: one(hold)?,
            sticky: one(sticky)?,
        })
    }
}

/// A marker's value: `<id>\t<key>`.
pub fn encode(id: &str, key: &str) -> String {
    format!("{id}\t{key}")
}

fn decode(kv: &KeyValue) -> Result<Marker> {
    // An id, a tab and a key: a longer value was not written by elect.
    if kv.value().len() > 2 * MAX_FIELD {
        return Err(Error::store(format!(
            "etcd: the marker `{}` holds {} bytes: not written by elect, refused",
            String::from_utf8_lossy(kv.key()),
            kv.value().len()
        )));
    }
    let text = String::from_utf8_lossy(kv.value());
    let (id, key) = text.split_once('\t').unwrap_or((&text, ""));
    Ok(Marker {
        name: kv.key().to_vec(),
        id: id.to_string(),
        key: key.as_bytes().to_vec(),
        mod_rev: kv.mod_revision(),
    })
}

/// The TTL of a marker's lease, in whole seconds, for a leader lease of `leader_ttl` (as
/// granted) and a window of `window`. The leader's key goes between `leader_ttl` and
/// `leader_ttl + sweep` after the last keep-alive; the marker, kept alive just after it,
/// between its TTL and its TTL + sweep: a TTL of `leader_ttl + ceil(window + sweep)` keeps the
/// marker at least `window` past the key, and at most `window + 1.5 s`.
pub fn marker_secs(leader_ttl: Duration, window: Duration) -> i64 {
    let w = window + EXPIRY_SWEEP;
    (leader_ttl.as_secs() + w.as_secs() + u64::from(w.subsec_nanos() > 0)) as i64
}

/// A marker's lease, held while leading: granted with the grant, kept alive with each renewal,
/// revoked only after a clean release (a crash or an expiry leaves it to run out).
pub struct MarkerLease {
    pub id: i64,
    stream: Option<(LeaseKeeper, LeaseKeepAliveStream)>,
}

impl MarkerLease {
    pub async fn grant(client: &Client, secs: i64, limit: Duration) -> Result<MarkerLease> {
        let resp = super::keepalive::grant(client, secs, limit, "hold-off lease grant").await?;
        Ok(MarkerLease {
            id: resp.id(),
            stream: None,
        })
    }

    /// One keep-alive, on a stream kept open between renewals.
    pub async fn refresh(&mut self, client: &Client, limit: Duration) -> Result<()> {
        let r = tokio::time::timeout(limit, self.refresh_once(client)).await;
        let r = r.unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Timeout,
                "etcd hold-off lease keep-alive: no answer",
            ))
        });
        if r.is_err() {
            self.stream = None; // reopened by the next renewal
        }
        r
    }

    async fn refresh_once(&mut self, client: &Client) -> Result<()> {
        let fail = |e| map_err(e, "hold-off lease keep-alive");
        let Some((keeper, stream)) = self.stream.as_mut() else {
            // Opening the stream sends a keep-alive and waits for its answer.
            self.stream = Some(
                client
                    .lease_client()
                    .keep_alive(self.id)
                    .await
                    .map_err(fail)?,
            );
            return Ok(());
        };
        keeper.keep_alive().await.map_err(fail)?;
        match stream.message().await.map_err(fail)? {
            Some(resp) if resp.ttl() > 0 => Ok(()),
            Some(_) => Err(Error::store(
                "etcd: the hold-off marker's lease expired while leading",
            )),
            None => Err(Error::unreachable(
                "etcd hold-off lease keep-alive: the server closed the stream",
            )),
        }
    }

    /// Best effort: the markers are already deleted, this only spares the server the lease.
    pub async fn revoke(self, client: &Client, limit: Duration) {
        let mut lc = client.lease_client();
        let _ = tokio::time::timeout(limit, lc.revoke(self.id)).await;
    }
}

/// What a granting candidate writes: its markers (`Some(lease)` for a window it asked for) and
/// the deletes of those it did not ask for (a sticky marker of its previous incarnation).
pub fn writes(names: &Names, value: &str, hold: Option<i64>, sticky: Option<i64>) -> Vec<TxnOp> {
    let one = |name: &str, lease: Option<i64>| match lease {
        Some(l) => TxnOp::put(name, value, Some(PutOptions::new().with_lease(l))),
        None => TxnOp::delete(name, None),
    };
    vec![one(&names.hold, hold), one(&names.sticky, sticky)]
}

/// The compares of a grant: no hold marker, and the sticky marker as seen (it names the
/// candidate, or is absent: a missing key compares as revision 0).
pub fn grant_compares(names: &Names, seen: &Markers) -> [Compare; 2] {
    [
        Compare::create_revision(names.hold.as_str(), CompareOp::Equal, 0),
        Compare::mod_revision(
            names.sticky.as_str(),
            CompareOp::Equal,
            seen.sticky.as_ref().map_or(0, |m| m.mod_rev),
        ),
    ]
}

/// The transaction of a sticky candidate (`key`, created at `rev`) jumping the line: the
/// sticky marker unchanged, the key it names gone, ours still there; then the keys `ahead`
/// (each still at the create revision read) are deleted.
pub fn jump_txn(names: &Names, m: &Marker, key: &str, rev: i64, ahead: &[KeyValue]) -> Txn {
    let mut when = vec![
        Compare::mod_revision(names.sticky.as_str(), CompareOp::Equal, m.mod_rev),
        Compare::create_revision(m.key.clone(), CompareOp::Equal, 0),
        Compare::create_revision(key, CompareOp::Equal, rev),
    ];
    when.extend(
        ahead
            .iter()
            .map(|kv| Compare::create_revision(kv.key(), CompareOp::Equal, kv.create_revision())),
    );
    Txn::new().when(when).and_then(
        ahead
            .iter()
            .map(|kv| TxnOp::delete(kv.key(), None))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, key: &str) -> Option<Marker> {
        Some(Marker {
            name: b"m".to_vec(),
            id: id.into(),
            key: key.as_bytes().to_vec(),
            mod_rev: 7,
        })
    }

    #[test]
    fn a_hold_marker_blocks_everyone_a_sticky_one_all_but_its_id() {
        let hold = Markers {
            hold: m("a", "k1"),
            sticky: None,
        };
        assert!(hold.blocking("a").is_some() && hold.blocking("b").is_some());
        let sticky = Markers {
            hold: None,
            sticky: m("a", "k1"),
        };
        assert!(sticky.blocking("a").is_none());
        assert!(sticky.blocking("b").is_some());
        assert!(Markers::default().blocking("b").is_none());
    }

    #[test]
    fn only_the_sticky_id_at_another_key_jumps() {
        let s = Markers {
            hold: None,
            sticky: m("a", "k1"),
        };
        assert!(s.sticky_for("a", b"k2").is_some());
        assert!(s.sticky_for("a", b"k1").is_none(), "its own live key");
        assert!(s.sticky_for("b", b"k2").is_none());
    }

    #[test]
    fn followers_show_the_head_only_when_no_marker_names_another_key() {
        assert!(Markers::default().admits(b"k2"));
        let both = Markers {
            hold: m("a", "k1"),
            sticky: m("a", "k1"),
        };
        assert!(both.admits(b"k1"));
        assert!(!both.admits(b"k2"), "a lost leader's markers: nobody leads");
    }

    #[test]
    fn the_marker_outlives_the_leaders_key_by_the_window() {
        let s = |ms| Duration::from_millis(ms);
        assert_eq!(marker_secs(s(2_000), s(3_500)), 2 + 4);
        assert_eq!(marker_secs(s(9_000), s(4_000)), 9 + 5);
        assert_eq!(marker_secs(s(2_000), s(500)), 2 + 1);
    }
}
