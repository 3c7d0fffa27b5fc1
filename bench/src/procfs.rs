//! What the idle benchmarks read about a process from `/proc`: resident memory, CPU time and
//! threads.

/// The first number after `key` in `/proc/<pid>/status` (0 when unreadable).
fn status_number(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident set size of process `pid`, in KiB (0 when unreadable).
pub fn rss_kib(pid: u32) -> u64 {
    status_number(pid, "VmRSS:")
}

/// Threads of process `pid` (0 when unreadable).
pub fn threads(pid: u32) -> u64 {
    status_number(pid, "Threads:")
}

/// utime + stime of process `pid`, in clock ticks (`USER_HZ`, 100 on Linux).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

/// Clock ticks per second of [`cpu_ticks`].
pub const TICKS_PER_SEC: f64 = 100.0;
