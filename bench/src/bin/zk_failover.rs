//! ZooKeeper failover and overhead benchmark for elect (run by `bench/zookeeper/run`, which
//! starts a private server and runs kazoo's recipe side by side).
//!
//! ```text
//! zk_failover graceful <zk-uri> <rounds>   resign -> successor's Elected, two sessions
//! zk_failover crash <zk-uri> <rounds>      SIGKILL of a leader process -> successor's Elected
//! zk_failover idle <zk-uri> <n> <secs>     n elections leading in one process: CPU, packets
//! ```
//!
//! Every figure is measured from the moment of the cause (the `resign` call, the `kill -9`) to
//! the successor's `Elected` callback, on the monotonic clock.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use elect_core::{Election, Event};

const WAIT: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    match arg(1).as_str() {
        "graceful" => graceful(&arg(2), arg(3).parse().unwrap()),
        "crash" => crash(&arg(2), arg(3).parse().unwrap()),
        "idle" => idle(&arg(2), arg(3).parse().unwrap(), arg(4).parse().unwrap()),
        "child" => child(&arg(2), &arg(3)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: zk_failover graceful|crash <zk-uri> <rounds> | idle <zk-uri> <n> <secs>");
    std::process::exit(2)
}

/// An election whose `Elected` events arrive, timestamped, on a channel.
fn candidate(uri: &str, name: &str, id: &str, extra: &str) -> (Election, Receiver<Instant>) {
    let (tx, rx) = channel();
    let sep = if uri.contains('?') { '&' } else { '?' };
    let e = Election::open(
        &format!("{uri}{sep}id={id}{extra}"),
        name,
        Some(Box::new(move |ev: &Event| {
            if let Event::Elected { .. } = ev {
                let _ = tx.send(Instant::now());
            }
        })),
    )
    .unwrap_or_else(|e| panic!("open: {e}"));
    (e, rx)
}

fn until(what: &str, f: impl Fn() -> bool) {
    let end = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let pct = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: rounds={} p50={:.2}ms p99={:.2}ms min={:.2}ms max={:.2}ms",
        v.len(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(v[0]),
        ms(v[v.len() - 1])
    );
}

/// Two candidates on two sessions take turns: each round the leader resigns and the time until
/// the other's `Elected` callback is measured.
fn graceful(uri: &str, rounds: usize) {
    let (a, ra) = candidate(uri, "graceful", "a", "");
    let (b, rb) = candidate(uri, "graceful", "b", "&acl=open"); // another session
    a.start().unwrap();
    assert!(a.wait_leader(Some(WAIT)).unwrap());
    ra.recv().unwrap();
    b.start().unwrap();
    until("b in line", || {
        a.members().map(|m| m.len() == 2).unwrap_or(false)
    });
    let mut times = Vec::new();
    for _ in 0..rounds {
        let (leader, next, next_rx) = if a.is_leader() {
            (&a, &b, &rb)
        } else {
            (&b, &a, &ra)
        };
        let t0 = Instant::now();
        leader.resign().unwrap();
        let at = next_rx.recv_timeout(WAIT).expect("successor elected");
        times.push(at - t0);
        assert!(next.is_leader());
        until("resigned one back in line", || {
            next.members().map(|m| m.len() == 2).unwrap_or(false)
        });
    }
    report("zk graceful handover (elect)", times);
}

/// A leader in a child process is killed with SIGKILL; the time until the in-process
/// candidate's `Elected` is measured. It includes the server's session expiry.
fn crash(uri: &str, rounds: usize) {
    let (p, rp) = candidate(uri, "crash", "parent", "");
    p.start().unwrap();
    assert!(p.wait_leader(Some(WAIT)).unwrap());
    rp.recv().unwrap();
    let mut times = Vec::new();
    for r in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child", uri, &format!("c{r}")])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        until("child in line", || {
            p.members().map(|m| m.len() == 2).unwrap_or(false)
        });
        p.resign().unwrap();
        let line = lines.next().expect("child output").unwrap();
        assert_eq!(line, "elected");
        until("parent back in line", || {
            p.members().map(|m| m.len() == 2).unwrap_or(false)
        });
        let t0 = Instant::now();
        child.kill().unwrap(); // SIGKILL
        let at = rp
            .recv_timeout(WAIT)
            .expect("parent elected after the crash");
        times.push(at - t0);
        let _ = child.wait();
    }
    report("zk crash handover (elect)", times);
}

fn child(uri: &str, id: &str) {
    let (e, rx) = candidate(uri, "crash", id, "");
    e.start().unwrap();
    rx.recv().unwrap();
    println!("elected");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}

/// `n` elections, each led by this process, sitting idle for `secs`: CPU used by the process
/// and packets received by the server (which serves only this benchmark).
fn idle(uri: &str, n: usize, secs: u64) {
    let started = Instant::now();
    let es: Vec<Election> = (0..n)
        .map(|i| candidate(uri, &format!("idle-{i}"), "solo", "").0)
        .collect();
    for e in &es {
        e.start().unwrap();
    }
    for e in &es {
        assert!(e.wait_leader(Some(WAIT)).unwrap());
    }
    println!(
        "zk idle: {n} elections leading after {:.0}ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let host = uri
        .trim_start_matches("zk://")
        .split(['/', ',', '?'])
        .next()
        .unwrap()
        .to_string();
    let (cpu0, pk0, t0) = (cpu_seconds(), packets_received(&host), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, pk1, dt) = (
        cpu_seconds(),
        packets_received(&host),
        t0.elapsed().as_secs_f64(),
    );
    println!(
        "zk idle cost (elect): elections={n} cpu={:.2}% of one core, server packets={:.1}/s, rss={} MiB, threads={}",
        (cpu1 - cpu0) / dt * 100.0,
        (pk1 - pk0) as f64 / dt,
        rss_kib() / 1024,
        threads()
    );
    assert!(es.iter().all(|e| e.is_leader()), "every election still led");
}

fn proc_self(file: &str) -> String {
    std::fs::read_to_string(format!("/proc/self/{file}")).unwrap()
}

fn cpu_seconds() -> f64 {
    let stat = proc_self("stat");
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the name).
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn rss_kib() -> u64 {
    proc_self("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn threads() -> u64 {
    proc_self("status")
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// `zk_packets_received` from the server's `mntr` four-letter word.
fn packets_received(host: &str) -> u64 {
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.write_all(b"mntr").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.lines()
        .find_map(|l| l.strip_prefix("zk_packets_received\t"))
        .and_then(|v| v.trim().parse().ok())
        .expect("mntr answers zk_packets_received")
}
