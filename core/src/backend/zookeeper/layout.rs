//! Where things live in the ZooKeeper tree, and the names of candidate nodes.
//!
//! ```text
//! /<chroot>/<election>/_c_<protection>-n_<sequence>     one ephemeral sequential node per candidate
//! /<chroot>/<election>/%hold                           the hold-off marker (see `hold`): the
//!                                                      name of the node it holds for
//! ```
//!
//! The protection part (Curator's "protected mode") is unique per candidacy, so a create whose
//! reply was lost can be reconciled by listing the children and finding our own name.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::{Error, Result};

/// The chroot used when the connection string has no path (`zk://host:2181`).
pub const DEFAULT_CHROOT: &str = "/elect";

/// Characters escaped in an election name so that it is one znode name: `/` (nested paths
/// would collide with candidate nodes) and `%` (so the escaping is reversible).
const NODE_NAME: &AsciiSet = &CONTROLS.add(b'/').add(b'%');

/// The marker in front of every candidate node name.
const PROTECTED: &str = "_c_";
/// Between the protection part and the sequence number ZooKeeper appends.
const SEQUENCE_MARK: &str = "-n_";

/// The absolute chroot for the connection string's path, validated the way ZooKeeper validates
/// paths, so that a bad one fails at open with a message naming it.
pub fn chroot(path: &str) -> Result<String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(DEFAULT_CHROOT.to_string());
    }
    let bad = |why: &str| Error::invalid(format!("path `/{path}`: bad ZooKeeper chroot: {why}"));
    if path.ends_with('/') {
        return Err(bad("must not end with `/`"));
    }
    for segment in trimmed.split('/') {
        match segment {
            "" => return Err(bad("empty path segment (`//`)")),
            "." | ".." => return Err(bad("`.` and `..` are not allowed")),
            s if s
                .chars()
                .any(|c| c.is_control() || c == '\u{fffe}' || c == '\u{ffff}') =>
            {
                return Err(bad("control characters are not allowed"))
            }
            _ => {}
        }
    }
    if trimmed == "zookeeper" || trimmed.starts_with("zookeeper/") {
        return Err(bad("`/zookeeper` is reserved for the server"));
    }
    Ok(format!("/{trimmed}"))
}

/// The directory of one election's candidate nodes.
pub fn election_dir(chroot: &str, election: &str) -> String {
    let mut name = utf8_percent_encode(election, NODE_NAME).to_string();
    if name == "." || name == ".." {
        name = name.replace('.', "%2E");
    }
    format!("{chroot}/{name}")
}

/// The hold-off marker's name in an election's directory: outside the line (not
/// [`PROTECTED`]), and no escaped election name (a child directory is never made anyway).
pub const HOLD: &str = "%hold";

/// The hold-off marker of the election in `dir`.
pub fn hold_marker(dir: &str) -> String {
    format!("{dir}/{HOLD}")
}

/// The parent of `path` (`/a/b` -> `/a`), `None` for the root or a top-level node.
pub fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) | None => None,
        Some(i) => Some(&path[..i]),
    }
}

/// A fresh protection prefix, `_c_<32 hex digits>-n_`, unique per candidacy.
pub fn protected_prefix() -> String {
    format!(
        "{PROTECTED}{:016x}{:016x}{SEQUENCE_MARK}",
        crate::random::u64(),
        crate::random::u64()
    )
}

/// The sequence number of a candidate node name, `None` for anything else in the directory.
pub fn sequence(name: &str) -> Option<i64> {
    if !name.starts_with(PROTECTED) {
        return None;
    }
    let (_, digits) = name.rsplit_once(SEQUENCE_MARK)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Candidate node names in line order (lowest sequence first); other children are ignored.
pub fn in_line(children: Vec<String>) -> Vec<String> {
    let mut line: Vec<(i64, String)> = children
        .into_iter()
        .filter_map(|c| sequence(&c).map(|s| (s, c)))
        .collect();
    line.sort_unstable();
    line.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroots_are_validated() {
        assert_eq!(chroot("").unwrap(), DEFAULT_CHROOT);
        assert_eq!(chroot("a/b").unwrap(), "/a/b");
        for bad in ["a//b", "a/../b", "zookeeper", "zookeeper/x", "a/./b", "a/"] {
            let e = chroot(bad).unwrap_err();
            assert!(e.message().contains(&format!("`/{bad}`")), "{e:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        let p = protected_prefix();
        assert_ne!(p, protected_prefix());
        assert_eq!(sequence(&format!("{p}0000000042")), Some(42));
        assert_eq!(sequence("other"), None);
        assert_eq!(sequence(&p), None);
        assert_eq!(sequence(HOLD), None, "the marker stands outside the line");
        let line = in_line(vec![
            format!("{p}0000000010"),
            "junk".into(),
            format!("{p}0000000002"),
        ]);
        assert_eq!(
            line,
            vec![format!("{p}0000000002"), format!("{p}0000000010")]
        );
        assert_eq!(election_dir("/c", "a/b%"), "/c/a%2Fb%25");
        assert_eq!(election_dir("/c", ".."), "/c/%2E%2E");
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), None);
    }
}
