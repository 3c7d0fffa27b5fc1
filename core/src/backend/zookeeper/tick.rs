//! The session timeout to ask for, so that a crashed leader's session ends within `ttl`.
//!
//! A ZooKeeper server expires sessions in buckets of one `tickTime`: a session touched at `t`
//! with timeout `T` ends at the first tick boundary after `t + T`, up to one tick late. Asking
//! for `ttl - tick` therefore ends a crashed leader's session (and hands its elections over) no
//! later than `ttl` after its last contact. The server bounds what it grants
//! (`minSessionTimeout`, by default two ticks, to `maxSessionTimeout`); leaders' deadlines come
//! from the granted timeout, so a shorter session only ends terms sooner, never later.
//!
//! A client cannot read `tickTime`, so it is learned at connect from a short probe session: the
//! server grants it no less than `minSessionTimeout`, and half of that is the tick under the
//! default bounds (an operator who raised `minSessionTimeout` makes the estimate larger: sessions
//! then end earlier than `ttl`, still safely). A probe that fails leaves the timeout at `ttl`.

use std::time::Duration;

use zookeeper_client as zk;

/// What the probe session asks for: below any sensible `minSessionTimeout`. The client gives a
/// connect attempt 2/5 of the session timeout (here 60 ms, ample for a loopback or LAN round
/// trip), so a busy machine may need more than one attempt.
const PROBE: Duration = Duration::from_millis(150);

/// Probe attempts before giving up (the timeout then stays at `ttl`).
const ATTEMPTS: usize = 5;

/// Every session opened: `(tick learned, timeout asked, timeout granted)`.
#[cfg(feature = "testing")]
pub static SESSIONS: std::sync::Mutex<Vec<(Option<Duration>, Duration, Duration)>> =
    std::sync::Mutex::new(Vec::new());

/// Learns the servers' tick from a probe session (closed again at once); `None` if it fails.
pub async fn probe(
    connector: zk::Connector,
    tls: Option<zk::TlsOptions>,
    hosts: &str,
) -> Option<Duration> {
    let connector = connector.with_session_timeout(PROBE);
    let mut failure = None;
    for _ in 0..ATTEMPTS {
        let connector = connector.clone();
        let connecting = async {
            match tls.clone() {
                Some(tls) => connector.with_tls(tls).secure_connect(hosts).await,
                None => connector.connect(hosts).await,
            }
        };
        match tokio::time::timeout(PROBE * 2, connecting).await {
            Ok(Ok(client)) => return Some(tick_of(client.session_timeout())),
            // A refused connection fails at once, and the client gives up on a slow one
            // after 2/5 of the probe's timeout (60 ms): retrying costs little either way.
            Ok(Err(e)) => failure = Some(e.to_string()),
            Err(_) => failure = Some("no answer in time".into()),
        }
    }
    tracing::debug!(
        "ZooKeeper tick probe failed ({}); asking for a session timeout of ttl",
        failure.unwrap_or_default()
    );
    None
}

/// The tick, from the timeout granted to a probe session that asked for [`PROBE`]: the server
/// raised it to `minSessionTimeout` (two ticks by default), or granted it, in which case the
/// tick is at most half of it.
fn tick_of(granted: Duration) -> Duration {
    granted / 2
}

/// The session timeout to ask for: `ttl` less one tick, when the tick is known.
pub fn session_timeout(ttl: Duration, tick: Option<Duration>) -> Duration {
    match tick {
        Some(tick) if ttl > tick => ttl - tick,
        _ => ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_ttl_less_one_tick() {
        let ms = Duration::from_millis;
        // The test servers' tick of 200 ms: a 400 ms minimum grant.
        assert_eq!(tick_of(ms(400)), ms(200));
        assert_eq!(session_timeout(ms(2000), Some(ms(200))), ms(1800));
        // A probe granted as asked: the tick is at most half of it.
        assert_eq!(tick_of(PROBE), ms(75));
        // ZooKeeper's default tick of 2 s, the default ttl of 10 s.
        assert_eq!(session_timeout(ms(10_000), Some(ms(2000))), ms(8000));
        // Unknown tick, or a ttl within a tick (the server then grants its minimum anyway).
        assert_eq!(session_timeout(ms(2000), None), ms(2000));
        assert_eq!(session_timeout(ms(2000), Some(ms(2000))), ms(2000));
    }
}
