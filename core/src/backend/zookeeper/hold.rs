//! The hold-off on ZooKeeper: a marker node beside the line, ephemeral in a second session whose
//! timeout outlives the leader's by the window.
//!
//! - A leader that asks for a hold-off creates `<election>/%hold` (see [`super::layout`]),
//!   naming its candidate node, as an ephemeral node of a hold session of timeout
//!   `ttl + holdoff + renew` (opened per window by the backend, and refused at open when the
//!   servers grant less, see [`check_granted`]), before it reports itself elected.
//! - A clean release (resign, close, hand-off) deletes the marker in the `multi` that deletes its
//!   candidate node, and only if that node still exists. After a crash the candidate node goes
//!   with the main session (within `ttl`) and the marker with the hold session (`holdoff`
//!   later): the server's session expiry keeps the window, no candidate compares clocks.
//! - Whatever its own options, the head of the line leads only while no marker names another
//!   node: it watches the marker and looks again when it goes. Observers show nobody meanwhile.
//! - A leadership lost while the process lives on (its main session expired, the hold session
//!   did not) deletes its marker `holdoff` after the loss was seen: the hold session would
//!   otherwise keep it, and the election, for ever.
//!
//! The marker only ever adds a wait: the line alone decides who may lead, so a stray marker
//! delays an election, it never elects anyone.

use std::sync::Arc;
use std::time::Duration;

use zookeeper_client as zk;

use super::acl::AclMode;
use super::connect::{self, Session};
use crate::error::{Error, Result};

/// What the marker at `path` means for the candidate node `ours`: `None` when there is none or
/// it names `ours`, else a watch that fires when it goes (or changes).
pub async fn blocking(
    client: &zk::Client,
    path: &str,
    ours: &str,
) -> Result<Option<zk::OneshotWatcher>> {
    loop {
        let (data, _) = match client.get_data(path).await {
            Err(zk::Error::NoNode) => return Ok(None),
            other => other.map_err(connect::at(path))?,
        };
        if data == ours.as_bytes() {
            return Ok(None);
        }
        match client.check_and_watch_stat(path).await {
            Ok((Some(_), watcher)) => return Ok(Some(watcher)),
            Ok((None, _)) => continue, // gone between the two reads: read it again
            Err(e) => return Err(connect::at(path)(e)),
        }
    }
}

/// Whether the head of the line (`head`) leads, given the marker's data (`None`: no marker).
pub fn admits(marker: Option<&[u8]>, head: &str) -> bool {
    marker.is_none_or(|m| m == head.as_bytes())
}

/// The marker of a leader, held from its creation to a release or a loss.
pub struct Held {
    session: Arc<Session>,
    path: String,
    /// The candidate node it names.
    ours: String,
    version: i32,
    window: Duration,
    /// Deleted by a clean release, or gone with the hold session: nothing to do on drop.
    done: bool,
}

impl Held {
    /// Creates the marker naming `ours` in the hold `session`. `None` when another marker
    /// stands (created meanwhile: the caller looks at the line again).
    pub async fn take(
        session: Arc<Session>,
        path: &str,
        ours: &str,
        acl: AclMode,
        window: Duration,
    ) -> Result<Option<Held>> {
        let at = connect::at(path);
        let options = zk::CreateMode::Ephemeral.with_acls(acl.acls());
        let version = match session.client.create(path, ours.as_bytes(), &options).await {
            Ok((stat, _)) => stat.version,
            Err(zk::Error::NodeExists) => match session.client.get_data(path).await {
                // Ours: an earlier create whose answer was lost.
                Ok((data, stat)) if data == ours.as_bytes() => stat.version,
                Ok(_) | Err(zk::Error::NoNode) => return Ok(None),
                Err(e) => return Err(at(e)),
            },
            Err(e) => {
                return Err(at(e).context("creating the hold-off marker (not leading without it)"))
            }
        };
        Ok(Some(Held {
            session,
            path: path.to_string(),
            ours: ours.to_string(),
            version,
            window,
            done: false,
        }))
    }

    /// Whether it names the candidate node `name`.
    pub fn is_for(&self, name: &str) -> bool {
        self.ours == name
    }

    /// An error if the hold session ended: the marker went with it, so the leadership would no
    /// longer be followed by a hold-off.
    pub fn check(&self) -> Result<()> {
        if self.session.ended() {
            return Err(Error::new(
                crate::ErrorCode::NotLeader,
                "the ZooKeeper hold-off session ended (its marker with it); joining again",
            ));
        }
        Ok(())
    }

    /// Adds the marker's delete to a release's `multi`.
    pub fn add_delete(&self, w: &mut zk::MultiWriter<'_>) -> Result<()> {
        w.add_delete(&self.path, Some(self.version))
            .map_err(connect::at(&self.path))
    }

    /// The release that carried the marker's delete went through.
    pub fn released(mut self) {
        self.done = true;
    }
}

impl Drop for Held {
    /// Lost without a release: the marker stays for the window (see the module doc).
    fn drop(&mut self) {
        if self.done || self.session.ended() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: the hold session goes with the process, and the marker
        };
        let session = self.session.clone();
        let path = std::mem::take(&mut self.path);
        let (version, window) = (self.version, self.window);
        rt.spawn(async move {
            tokio::time::sleep(window).await;
            let _ = session.client.delete(&path, Some(version)).await;
        });
    }
}

/// Refuses a hold session granted a shorter timeout than asked: the marker would go before the
/// window ends.
pub fn check_granted(asked: Duration, granted: Duration, window: Duration) -> Result<()> {
    if granted >= asked {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "option `holdoff`: a hold-off of {} needs a ZooKeeper session of {} ms (ttl + holdoff + \
         renew), the servers grant at most {} ms (their `maxSessionTimeout`, 20 x tickTime by \
         default): lower `holdoff` or raise `maxSessionTimeout`",
        crate::duration::fmt_duration(window),
        asked.as_millis(),
        granted.as_millis()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_leads_only_under_its_own_marker_or_none() {
        assert!(admits(None, "_c_a-n_1"));
        assert!(admits(Some(b"_c_a-n_1"), "_c_a-n_1"));
        assert!(!admits(Some(b"_c_a-n_1"), "_c_b-n_2"));
    }

    #[test]
    fn a_short_grant_is_refused_naming_the_bound() {
        let ms = Duration::from_millis;
        assert!(check_granted(ms(6500), ms(6500), ms(4000)).is_ok());
        let e = check_granted(ms(6500), ms(4000), ms(4000)).unwrap_err();
        assert!(e.message().contains("maxSessionTimeout"), "{e:?}");
        assert!(e.message().contains("4000 ms"), "{e:?}");
    }
}
