//! Where an election lives in Redis. Every key of election `<name>` under prefix `<p>`:
//!
//! | key                   | type   | content                                                   |
//! |-----------------------|--------|-----------------------------------------------------------|
//! | `<p>:{<name>}:lock`   | string | the leader's candidate token, `PX ttl`                    |
//! | `<p>:{<name>}:leader` | hash   | `id`, `value`, `term`, `token` of that leader, `PX ttl`   |
//! | `<p>:{<name>}:term`   | string | the last fencing token granted (no expiry)                |
//! | `<p>:{<name>}:members`| zset   | candidate id -> expiry of its heartbeat (server ms)        |
//! | `<p>:{<name>}:values` | hash   | candidate id -> its value                                  |
//! | `<p>:{<name>}:next`   | hash   | who may be granted next: `kind` (`lead`, `lost`, `handoff`),|
//! |                       |        | `id`, `holdoff`, `sticky` (ms), `at` (server ms)           |
//! | `<p>:maxttl`          | string | longest ttl (ms) in use under the prefix: restart guard    |
//!
//! and the channel `<p>:events:<name>` (`elected` / `released`), which every process follows
//! with one pattern subscription `<p>:events:*`. The `{<name>}` hash tag keeps an election's
//! keys in one slot, as a script that touches them together requires.

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// `prefix` is the `prefix` option, checked by `options::parse`.
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    fn key(&self, election: &str, what: &str) -> String {
        format!("{}:{{{election}}}:{what}", self.prefix)
    }
    pub fn lock(&self, election: &str) -> String {
        self.key(election, "lock")
    }
    pub fn leader(&self, election: &str) -> String {
        self.key(election, "leader")
    }
    pub fn term(&self, election: &str) -> String {
        self.key(election, "term")
    }
    pub fn members(&self, election: &str) -> String {
        self.key(election, "members")
    }
    pub fn values(&self, election: &str) -> String {
        self.key(election, "values")
    }
    pub fn next(&self, election: &str) -> String {
        self.key(election, "next")
    }
    pub fn max_ttl(&self) -> String {
        format!("{}:maxttl", self.prefix)
    }
    pub fn channel(&self, election: &str) -> String {
        format!("{}:events:{election}", self.prefix)
    }
    pub fn pattern(&self) -> String {
        format!("{}:events:*", self.prefix)
    }
    /// The election a message on `channel` is about.
    pub fn election_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(":events:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_hash_tag_and_channels_round_trip() {
        let k = Keys::new("elect");
        assert_eq!(k.lock("a:b"), "elect:{a:b}:lock");
        assert_eq!(k.election_of(&k.channel("a:b")), Some("a:b"));
        assert_eq!(k.election_of("other:events:x"), None);
    }
}
