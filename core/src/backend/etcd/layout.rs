//! Where an election lives in etcd. Keys under the URI's path (the prefix, default `elect`):
//!
//! ```text
//! <prefix>/<election>/<lease id hex>-<n>   value: "<candidate id>\t<value>", attached to the lease
//! <prefix>/<election>%hold                 value: "<candidate id>\t<its key>", on a lease of its own
//! <prefix>/<election>%sticky               (the same; see `holdoff`)
//! ```
//!
//! The election name is percent-encoded (`/` and `%`), so that election `a` never sees the keys
//! of election `a/b`.

use etcd_client::KeyValue;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::backend::CandidateSpec;
use crate::error::{Error, Result};
use crate::event::LeaderInfo;

/// The prefix used when the URI has no path.
const DEFAULT_PREFIX: &str = "elect";

/// Characters escaped in election names so that a name is exactly one key segment.
const SEGMENT: &AsciiSet = &CONTROLS.add(b'/').add(b'%');

/// The URI's path as a key prefix: no trailing `/`, no empty segments, no control characters.
pub fn prefix_of(path: &str) -> Result<String> {
    let prefix = path.strip_suffix('/').unwrap_or(path);
    if prefix.is_empty() {
        return Ok(DEFAULT_PREFIX.to_string());
    }
    let bad = |why: &str| Err(Error::invalid(format!("path `{path}`: {why}")));
    if prefix.chars().any(char::is_control) {
        return bad("control characters are not allowed in the etcd key prefix");
    }
    if prefix.split('/').any(str::is_empty) {
        return bad("empty segments (`//`) are not allowed in the etcd key prefix");
    }
    if prefix.len() > 512 {
        return bad("the etcd key prefix is longer than 512 bytes");
    }
    Ok(prefix.to_string())
}

/// `<prefix>/<election>/`: the range every candidate key of `election` lives in.
pub fn dir(prefix: &str, election: &str) -> String {
    format!("{prefix}/{}/", utf8_percent_encode(election, SEGMENT))
}

/// `<prefix>/<election>%<kind>`: a marker beside the election's line. No election's range holds
/// it: an encoded name has no `/`, and its `%` is always followed by two hex digits.
pub fn marker(prefix: &str, election: &str, kind: &str) -> String {
    format!("{prefix}/{}%{kind}", utf8_percent_encode(election, SEGMENT))
}

/// `[<prefix>/<election>%, <prefix>/<election>0)`: the election's markers and its line (`/`
/// sorts between `%` and `0`), in one range a follower can watch. It also holds the keys of
/// elections whose encoded name is this one's followed by one of `&'()*+,-.`; a follower
/// drops those.
pub fn view_range(prefix: &str, election: &str) -> (String, String) {
    let base = format!("{prefix}/{}", utf8_percent_encode(election, SEGMENT));
    (format!("{base}%"), format!("{base}0"))
}

/// A candidate key's value: `id\tvalue` (ids and values never contain control characters).
pub fn encode_value(spec: &CandidateSpec) -> String {
    format!("{}\t{}", spec.id, spec.value)
}

/// The candidate a key stands for; its create revision is the term.
pub fn decode(kv: &KeyValue) -> LeaderInfo {
    let text = String::from_utf8_lossy(kv.value());
    let (id, value) = text.split_once('\t').unwrap_or((&text, ""));
    LeaderInfo {
        id: id.to_string(),
        value: value.to_string(),
        term: kv.create_revision() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix_of("").unwrap(), "elect");
        assert_eq!(prefix_of("svc/jobs/").unwrap(), "svc/jobs");
        for bad in ["a//b", "/a", "a\u{1}b"] {
            let e = prefix_of(bad).unwrap_err();
            assert!(e.message().starts_with("path `"), "{e:?}");
        }
    }

    #[test]
    fn markers_lie_in_the_view_but_in_no_elections_line() {
        let (from, to) = view_range("p", "a");
        for key in [
            marker("p", "a", "hold"),
            marker("p", "a", "sticky"),
            dir("p", "a"),
        ] {
            assert!(from <= key && key < to, "{key} in [{from}, {to})");
        }
        for election in ["a", "a%hold", "a%", "a/b", "b"] {
            let d = dir("p", election);
            assert!(!marker("p", "a", "hold").starts_with(&d), "{election}");
        }
        assert_eq!(marker("p", "a%", "hold"), "p/a%25%hold");
    }
}
