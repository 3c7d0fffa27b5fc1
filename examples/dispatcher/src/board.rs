//! The shared state of the example, in a directory every process sees: the number of items, one
//! assignment file per member (written by the leader, stamped with its fencing token), the
//! ledger of completed items (the resource the work writes) and the log of rejected
//! assignments. Files are replaced by rename and the ledger is appended one line per write, so
//! no reader sees half a write.

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Items handed to one member by the leader of term `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub token: u64,
    pub items: BTreeSet<u32>,
}

/// One line of the ledger: `item` done by `member` under the assignment of term `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub item: u32,
    pub member: String,
    pub token: u64,
}

pub struct Board {
    dir: PathBuf,
}

impl Board {
    pub fn create(dir: &Path) -> io::Result<Board> {
        fs::create_dir_all(dir.join("assign"))?;
        Ok(Board::open(dir))
    }

    pub fn open(dir: &Path) -> Board {
        Board {
            dir: dir.to_path_buf(),
        }
    }

    fn replace(&self, rel: &str, text: &str) -> io::Result<()> {
        let tmp = self.dir.join(format!("{rel}.{}.tmp", std::process::id()));
        fs::write(&tmp, text)?;
        fs::rename(&tmp, self.dir.join(rel))
    }

    fn append(&self, rel: &str, line: &str) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(rel))?;
        f.write_all(line.as_bytes()) // one write of one short line: appended whole (O_APPEND)
    }

    fn lines(&self, rel: &str) -> Vec<String> {
        fs::read_to_string(self.dir.join(rel))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Publishes the work: items 1..=n.
    pub fn set_items(&self, n: u32) -> io::Result<()> {
        self.replace("items", &n.to_string())
    }

    pub fn items(&self) -> Option<u32> {
        fs::read_to_string(self.dir.join("items"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn assign(&self, member: &str, a: &Assignment) -> io::Result<()> {
        let items: Vec<String> = a.items.iter().map(u32::to_string).collect();
        self.replace(
            &format!("assign/{member}"),
            &format!("{}\n{}\n", a.token, items.join(" ")),
        )
    }

    pub fn assignment(&self, member: &str) -> Option<Assignment> {
        let text = fs::read_to_string(self.dir.join("assign").join(member)).ok()?;
        let mut lines = text.lines();
        let token = lines.next()?.parse().ok()?;
        let items = lines
            .next()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|i| i.parse().ok())
            .collect();
        Some(Assignment { token, items })
    }

    pub fn complete(&self, item: u32, member: &str, token: u64) -> io::Result<()> {
        self.append("ledger", &format!("{item} {member} {token}\n"))
    }

    pub fn completions(&self) -> Vec<Completion> {
        self.lines("ledger")
            .iter()
            .filter_map(|l| {
                let mut f = l.split(' ');
                Some(Completion {
                    item: f.next()?.parse().ok()?,
                    member: f.next()?.to_string(),
                    token: f.next()?.parse().ok()?,
                })
            })
            .collect()
    }

    pub fn done(&self) -> BTreeSet<u32> {
        self.completions().into_iter().map(|c| c.item).collect()
    }

    pub fn reject(&self, member: &str, stale: u64, current: u64) -> io::Result<()> {
        self.append("rejected", &format!("{member} {stale} {current}\n"))
    }

    /// `(member, stale token, the member's token)` of every rejected assignment.
    pub fn rejections(&self) -> Vec<(String, u64, u64)> {
        self.lines("rejected")
            .iter()
            .filter_map(|l| {
                let mut f = l.split(' ');
                Some((
                    f.next()?.to_string(),
                    f.next()?.parse().ok()?,
                    f.next()?.parse().ok()?,
                ))
            })
            .collect()
    }

    /// Asks the members to leave.
    pub fn stop(&self) -> io::Result<()> {
        self.replace("stop", "")
    }

    pub fn stopped(&self) -> bool {
        self.dir.join("stop").exists()
    }
}
