//! The cost of one ZooKeeper heartbeat, per kind of request (run by `bench/zookeeper/heartbeat`,
//! which starts a three-server ensemble):
//!
//! ```text
//! zk_heartbeat <host:port,...> <rounds>
//! ```
//!
//! - `exists /`: a read, which the server the session talks to answers from its own copy. elect's
//!   heartbeat before it had to be confirmed by the ensemble leader; a cut-off follower answers it.
//! - `sync` + `exists /`: the leader confirms the sync, but a leader cut off from its quorum
//!   still answers a sync from its own clients.
//! - check-only `multi`: elect's heartbeat, a transaction that changes nothing, committed by the
//!   ensemble leader with a quorum (each one is a transaction in the log: the zxid moves by one).
//!
//! Requests are sequential, as the heartbeat sends them; latency from send to answer.

use std::time::{Duration, Instant};

use elect_bench::failover::{header, row};
use zookeeper_client as zk;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(hosts), Some(rounds)) = (args.get(1), args.get(2).and_then(|r| r.parse().ok()))
    else {
        eprintln!("usage: zk_heartbeat <host:port,...> <rounds>");
        std::process::exit(2)
    };
    let client = zk::Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(hosts)
        .await
        .expect("connect to ZooKeeper");
    header("request");
    let exists = time(rounds, || async { client.check_stat("/").await.map(drop) }).await;
    row("heartbeat", "exists /", &exists, "-");
    let sync = time(rounds, || async {
        client.sync("/").await?;
        client.check_stat("/").await.map(drop)
    })
    .await;
    row("heartbeat", "sync + exists /", &sync, "-");
    let before = zxid(&client).await;
    let multi = time(rounds, || async {
        let mut check = client.new_multi_writer();
        check.add_check_version("/", -1)?;
        check.commit().await.map(drop).map_err(zk::Error::from)
    })
    .await;
    row("heartbeat", "check-only multi", &multi, "-");
    // Minus the one transaction of the second probe node's own create.
    let txns = zxid(&client).await - before - 1;
    println!(
        "check-only multi: {txns} transactions in the log for {} heartbeats (10 unmeasured)",
        rounds + 10
    );
}

/// Latencies (ns) of `rounds` sequential requests, after 10 unmeasured ones.
async fn time<F, Fut>(rounds: usize, request: F) -> Vec<u64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), zk::Error>>,
{
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds + 10 {
        let sent = Instant::now();
        request().await.expect("heartbeat request");
        if i >= 10 {
            samples.push(sent.elapsed().as_nanos() as u64);
        }
    }
    samples
}

/// The ensemble's zxid now: the czxid of an ephemeral node created for the purpose.
async fn zxid(client: &zk::Client) -> i64 {
    let options = zk::CreateMode::EphemeralSequential.with_acls(zk::Acls::anyone_all());
    let (stat, _) = client
        .create("/elect-bench-zxid-", b"", &options)
        .await
        .expect("create a probe node");
    stat.czxid
}
