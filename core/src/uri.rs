//! The one connection string: parsing, defaults and validation.
//!
//! ```text
//! scheme://[user[:password]@]host[:port][,host[:port]...][/path][?option=value&...]
//! file:///var/lib/elect?ttl=5s
//! ```
//!
//! Written by hand rather than with the `url` crate because the store URIs carry several hosts
//! in one authority (`etcd://h1:2379,h2:2379/prefix`), which WHATWG URL parsing rejects.
//!
//! Every message names the offending part and is built from redacted values: the password is
//! held in a [`Secret`] from the moment it is split off, and no message quotes any text from
//! before the `@` that ends the user info (see [`userinfo`] for where that is).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::backend::registry::StoreOptions;
pub use crate::backend::Scheme;
use crate::error::{Error, Result};
use crate::secret::Secret;

mod userinfo;

/// One `host:port` of the authority.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Options every store understands, settable as query parameters or through [`Config::set`].
pub const COMMON_OPTIONS: [&str; crate::options::CommonOption::ALL.len()] =
    crate::options::CommonOption::NAMES;

/// A parsed, validated connection string: which store, and every option of the election.
#[derive(Clone)]
pub struct Config {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub hosts: Vec<HostPort>,
    /// Percent-decoded path, without the leading `/` for server stores (prefix, chroot, db) and
    /// with it for `file://` (a directory).
    pub path: String,
    /// How long a lease lives without renewal. Default 10s.
    pub ttl: Duration,
    renew: Option<Duration>,
    margin: Option<Duration>,
    /// Pause between attempts after a store error. Default 1s.
    pub retry: Duration,
    /// Pause after losing or resigning before campaigning again. Default 0.
    pub silence: Duration,
    /// Limit on establishing a store connection. Default 5s.
    pub connect_timeout: Duration,
    /// How long `resign()`/`close()` wait for the term's work (its held [`crate::Term`]s) to
    /// end before giving up the lease, never past the lease deadline. Default 0 (no wait).
    pub drain: Duration,
    /// This candidate's priority (higher is preferred). Default 0.
    pub priority: i64,
    /// Whether this candidate takes over from a leader of lower priority; `None` means "when
    /// `priority` is set" (see [`Config::preempt`]).
    preempt: Option<bool>,
    /// Whether `priority` was given (a candidate without one never preempts by default).
    priority_set: bool,
    /// After a leader is lost without resigning, nobody is elected for this long (the store
    /// enforces it from its own data). Default 0.
    pub holdoff: Duration,
    /// After a leader is lost without resigning, the store keeps the leadership for that
    /// candidate (by id) alone for this long. Default 0.
    pub sticky: Duration,
    /// This candidate's id. Default `hostname-pid-random`.
    pub id: String,
    /// What observers see next to the id (e.g. an address). Default empty.
    pub value: String,
    /// The store's own query pairs (TLS files, table names...), as given: the connection's
    /// identity. The store reads its typed options from [`Config::store_options`].
    pub(crate) params: BTreeMap<String, String>,
    /// The store's typed options, built from `params` by its parser in [`Config::validate`].
    store: StoreOptions,
}

impl Config {
    /// Parses `uri`, then applies `pairs` (options given in code: a builder, keyword
    /// arguments, `elect_options`) in order, each validated like the query parameter of that
    /// name, and then the cross-option checks. What every binding's `open` does.
    pub fn parse_with<K: AsRef<str>, V: AsRef<str>>(
        uri: &str,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Config> {
        let mut config = Config::parse(uri)?;
        for (key, value) in pairs {
            config.set(key.as_ref(), value.as_ref())?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses and validates `uri`. See the module docs for the grammar.
    pub fn parse(uri: &str) -> Result<Config> {
        let uri = uri.trim();
        let (scheme_str, rest) = uri.split_once("://").ok_or_else(|| {
            Error::invalid(
                "connection string: expected `scheme://...`, e.g. `file:///var/lib/elect`",
            )
        })?;
        let scheme = Scheme::parse(&scheme_str.to_ascii_lowercase())?;
        scheme.driver()?;
        let (userinfo, rest) = userinfo::split(scheme, rest)?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        if rest.contains('#') {
            return Err(Error::invalid(
                "connection string: fragments (`#...`) are not allowed",
            ));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let mut config = Config {
            scheme,
            user: None,
            password: None,
            hosts: Vec::new(),
            path: String::new(),
            ttl: Duration::from_secs(10),
            renew: None,
            margin: None,
            retry: Duration::from_secs(1),
            silence: Duration::ZERO,
            connect_timeout: Duration::from_secs(5),
            drain: Duration::ZERO,
            priority: 0,
            preempt: None,
            priority_set: false,
            holdoff: Duration::ZERO,
            sticky: Duration::ZERO,
            id: default_id(),
            value: String::new(),
            params: BTreeMap::new(),
            store: std::sync::Arc::new(()),
        };
        if let Some(userinfo) = userinfo {
            (config.user, config.password) = userinfo::parse(userinfo)?;
        }
        config.parse_hosts(authority)?;
        config.path = decode(path, "path")?;
        if scheme == Scheme::File {
            if config.path.is_empty() || config.path == "/" {
                return Err(Error::invalid(
                    "path: file:// needs a directory, e.g. `file:///var/lib/elect`",
                ));
            }
        } else {
            config.path = config.path.trim_start_matches('/').to_string();
        }
        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    Error::invalid(format!(
                        "option `{}`: expected `name=value`",
                        redact_key(pair)
                    ))
                })?;
                let k = decode(k, "option name")?;
                let v = decode(v, &format!("option `{k}`"))?;
                config.set(&k, &v)?;
            }
        }
        config.validate()?;
        Ok(config)
    }

    fn parse_hosts(&mut self, hosts: &str) -> Result<()> {
        if self.scheme == Scheme::File {
            if !(hosts.is_empty() || hosts == "localhost") {
                return Err(Error::invalid(format!(
                    "host `{hosts}`: file:// takes no host; write `file:///absolute/dir`"
                )));
            }
            return Ok(());
        }
        if hosts.is_empty() {
            return Err(Error::invalid(format!(
                "host: {}:// needs at least one `host:port`",
                self.scheme.as_str()
            )));
        }
        let count = hosts.split(',').count();
        for (i, hp) in hosts.split(',').enumerate() {
            // After user info, a host list may be the tail of a password whose host list was
            // left out: it is named by position, not quoted (see `hosts_shown`).
            let name = if self.has_userinfo() {
                format!("host {} of {count}", i + 1)
            } else {
                format!("host `{}`", truncate(hp))
            };
            self.hosts
                .push(parse_host_port(hp, self.scheme.default_port(), &name)?);
        }
        Ok(())
    }

    /// Sets one option, with the same validation as the query parameter of that name. Bindings
    /// use this for options given in code (`ttl=10.0` in Python, `.ttl(...)` in Java); call
    /// [`Config::validate`] after the last `set`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "ttl" => self.ttl = parse_positive(key, value)?,
            "renew" => self.renew = Some(parse_positive(key, value)?),
            "margin" => self.margin = Some(parse_positive(key, value)?),
            "retry" => self.retry = parse_positive(key, value)?,
            "silence" => {
                self.silence = parse_duration(value).map_err(|m| opt_err(key, value, &m))?
            }
            "connect_timeout" => self.connect_timeout = parse_positive(key, value)?,
            "drain" => self.drain = parse_duration(value).map_err(|m| opt_err(key, value, &m))?,
            "priority" => {
                self.priority = value.trim().parse::<i32>().map(i64::from).map_err(|_| {
                    opt_err(
                        key,
                        value,
                        "expected a whole number between -2147483648 and 2147483647",
                    )
                })?;
                self.priority_set = true;
            }
            "preempt" => {
                self.preempt = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(opt_err(key, value, "expected `true` or `false`")),
                })
            }
            "holdoff" => {
                self.holdoff = parse_duration(value).map_err(|m| opt_err(key, value, &m))?
            }
            "sticky" => self.sticky = parse_duration(value).map_err(|m| opt_err(key, value, &m))?,
            "id" => self.id = non_empty_text(key, value)?,
            "value" => self.value = bounded_text(key, value, MAX_VALUE)?,
            _ if self.scheme.driver()?.options.contains(&key) => {
                self.params.insert(key.to_string(), text(key, value)?);
            }
            _ => {
                let mut known: Vec<&str> = COMMON_OPTIONS.to_vec();
                known.extend_from_slice(self.scheme.driver()?.options);
                return Err(Error::invalid(format!(
                    "option `{}`: unknown for {}:// (known: {})",
                    redact_key(key),
                    self.scheme.as_str(),
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Cross-option checks, the way client-go validates its `LeaderElectionConfig`, then the
    /// store's parser builds its typed options from its query pairs.
    pub fn validate(&mut self) -> Result<()> {
        let renew = self.renew();
        if renew >= self.ttl {
            return Err(Error::invalid(format!(
                "option `renew`: {} must be shorter than `ttl` ({})",
                fmt_duration(renew),
                fmt_duration(self.ttl)
            )));
        }
        let margin = self.margin();
        if renew + margin >= self.ttl {
            return Err(Error::invalid(format!(
                "option `margin`: renew ({}) + margin ({}) must be shorter than `ttl` ({})",
                fmt_duration(renew),
                fmt_duration(margin),
                fmt_duration(self.ttl)
            )));
        }
        if matches!(self.scheme, Scheme::Zk) && !self.sticky.is_zero() {
            return Err(Error::new(
                crate::ErrorCode::Unsupported,
                format!(
                    "option `sticky`: not supported on {}:// (no ZooKeeper write can be \
                     conditional on time, so the server cannot prefer one id for a while after \
                     a session ends); file, etcd, redis, postgres and mysql support it",
                    self.scheme.as_str()
                ),
            ));
        }
        self.store = (self.scheme.driver()?.parse)(self)?;
        Ok(())
    }

    /// The store's typed options (the type its parser built). Stores only.
    pub(crate) fn store_options<T: std::any::Any>(&self) -> Result<&T> {
        self.store.downcast_ref::<T>().ok_or_else(|| {
            Error::internal(format!(
                "{}://: the store's options are not a {}",
                self.scheme.as_str(),
                std::any::type_name::<T>()
            ))
        })
    }

    /// Whether this candidate takes over from a leader of lower priority: the `preempt`
    /// option, by default true when `priority` is set and false otherwise.
    pub fn preempt(&self) -> bool {
        self.preempt.unwrap_or(self.priority_set)
    }

    /// Interval between lease renewals. Default `ttl / 3`.
    pub fn renew(&self) -> Duration {
        self.renew.unwrap_or(self.ttl / 3)
    }

    /// Safety margin subtracted from the lease deadline, covering clock-rate differences and the
    /// time a request spends in flight. Default `ttl / 10`.
    pub fn margin(&self) -> Duration {
        self.margin.unwrap_or(self.ttl / 10)
    }

    /// Whether the connection string held user info (`user@`, `:password@`).
    fn has_userinfo(&self) -> bool {
        self.user.is_some() || self.password.is_some()
    }

    /// The host list as messages show it: `h1:2379,h2:2379`, or after a password only how many
    /// (`<2 hosts>`). When a password holds an `@` and the host list was left out
    /// (`redis://:p@ss`), what follows the last `@` is the password's tail (`ss`), taken for a
    /// host; nothing tells it from a real host name, so no host after a password is quoted. A
    /// user name alone is no secret, so after `user@` the hosts are shown.
    pub fn hosts_shown(&self) -> String {
        if self.password.is_some() {
            return match self.hosts.len() {
                1 => "<1 host>".to_string(),
                n => format!("<{n} hosts>"),
            };
        }
        let hosts: Vec<String> = self.hosts.iter().map(|h| h.to_string()).collect();
        hosts.join(",")
    }

    /// Identity of the store connection: two configs with the same key can share one connection
    /// (one etcd lease, one ZooKeeper session). Includes the credentials, so it is never printed.
    /// The timing options are part of it because a shared lease or session is kept alive on one
    /// cadence, and its TTL derives from them: an election whose `renew` or `margin` differs
    /// gets a connection whose keep-alives fit its own deadline.
    pub(crate) fn store_key(&self) -> String {
        format!(
            "{}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{:?}",
            self.scheme.as_str(),
            self.user,
            self.password.as_ref().map(Secret::expose),
            self.hosts,
            self.path,
            self.params,
            self.ttl,
            self.renew(),
            self.margin(),
        )
    }
}

/// The connection string with the password replaced by `***`: safe to log.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        if let Some(user) = &self.user {
            write!(f, "{user}")?;
            if self.password.is_some() {
                write!(f, ":***")?;
            }
            write!(f, "@")?;
        } else if self.password.is_some() {
            write!(f, ":***@")?;
        }
        write!(f, "{}", self.hosts_shown())?;
        if self.scheme == Scheme::File {
            write!(f, "{}", self.path)
        } else {
            write!(f, "/{}", self.path)
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("uri", &self.to_string())
            .field("ttl", &self.ttl)
            .field("renew", &self.renew())
            .field("margin", &self.margin())
            .field("retry", &self.retry)
            .field("silence", &self.silence)
            .field("connect_timeout", &self.connect_timeout)
            .field("drain", &self.drain)
            .field("id", &self.id)
            .field("value", &self.value)
            .field("params", &self.params)
            .finish()
    }
}

pub use crate::duration::{fmt_duration, parse_duration};

fn parse_positive(key: &str, value: &str) -> Result<Duration> {
    let d = parse_duration(value).map_err(|m| opt_err(key, value, &m))?;
    if d.is_zero() {
        return Err(opt_err(key, value, "must be greater than zero"));
    }
    Ok(d)
}

fn opt_err(key: &str, value: &str, why: &str) -> Error {
    Error::invalid(format!(
        "option `{key}`: bad value `{}`: {why}",
        truncate(value)
    ))
}

fn text(key: &str, value: &str) -> Result<String> {
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "option `{key}`: control characters are not allowed"
        )));
    }
    Ok(value.to_string())
}

/// The longest `value`, in bytes: ample for an address or a small JSON document, and a bound on
/// what a store (or a file) that serves it back can make a reader take in.
pub const MAX_VALUE: usize = 64 * 1024;

fn bounded_text(key: &str, value: &str, max: usize) -> Result<String> {
    if value.len() > max {
        return Err(Error::invalid(format!(
            "option `{key}`: longer than {max} bytes"
        )));
    }
    text(key, value)
}

fn non_empty_text(key: &str, value: &str) -> Result<String> {
    let v = text(key, value)?;
    if v.is_empty() {
        return Err(Error::invalid(format!("option `{key}`: must not be empty")));
    }
    if v.len() > 256 {
        return Err(Error::invalid(format!(
            "option `{key}`: longer than 256 bytes"
        )));
    }
    Ok(v)
}

/// `name` is how messages refer to `hp`.
fn parse_host_port(hp: &str, default_port: Option<u16>, name: &str) -> Result<HostPort> {
    let bad = |why: &str| Error::invalid(format!("{name}: {why}"));
    if hp.is_empty() {
        return Err(bad("empty host (check for a stray comma)"));
    }
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
        (h, after.strip_prefix(':'))
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hp, None),
        }
    };
    if host.is_empty() {
        return Err(bad("empty host name"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '@')
    {
        return Err(bad("not a valid host name"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("port must be 1-65535"))?,
        None => default_port.ok_or_else(|| bad("missing port"))?,
    };
    Ok(HostPort {
        host: host.to_string(),
        port,
    })
}

fn decode(s: &str, what: &str) -> Result<String> {
    let d = percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| Error::invalid(format!("{what}: not valid UTF-8 after percent-decoding")))?;
    Ok(d.into_owned())
}

/// Option names that look like credentials are shown by name only; long input is cut.
fn redact_key(key: &str) -> String {
    truncate(key.split('=').next().unwrap_or(key))
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 64 {
        let cut: String = s.chars().take(64).collect();
        format!("{cut}...")
    } else {
        s.to_string()
    }
}

/// `hostname-pid-random`, unique enough to tell candidates apart in logs and in the store.
fn default_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_string());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        crate::random::u64() as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(uri: &str) -> String {
        let e = Config::parse(uri).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument, "{uri}: {e}");
        e.message().to_string()
    }

    #[test]
    fn pairs_win_over_the_query_and_are_validated_alike() {
        let c = Config::parse_with("file:///tmp/x?ttl=10s", [("ttl", "20s")]).unwrap();
        assert_eq!(c.ttl, Duration::from_secs(20));
        let e = Config::parse_with("file:///tmp/x", [("ttl", "soon")]).unwrap_err();
        assert!(e.message().contains("ttl"), "{e:?}");
        let e = Config::parse_with("file:///tmp/x", [("renew", "20s")]).unwrap_err();
        assert!(e.message().contains("renew"), "{e:?}");
    }

    #[test]
    fn parses_file_uri_with_options() {
        let c =
            Config::parse("file:///tmp/elect?ttl=5s&renew=1s&id=a&value=10.0.0.1%3A80").unwrap();
        assert_eq!(c.scheme, Scheme::File);
        assert_eq!(c.path, "/tmp/elect");
        assert_eq!(c.ttl, Duration::from_secs(5));
        assert_eq!(c.renew(), Duration::from_secs(1));
        assert_eq!(c.id, "a");
        assert_eq!(c.value, "10.0.0.1:80");
    }

    #[test]
    fn defaults_follow_ttl() {
        let c = Config::parse("file:///tmp/x?ttl=9s").unwrap();
        assert_eq!(c.renew(), Duration::from_secs(3));
        assert_eq!(c.margin(), Duration::from_millis(900));
        assert!(c.id.contains(&std::process::id().to_string()));
    }

    #[test]
    fn connections_are_shared_only_by_elections_with_the_same_timing() {
        let key = |uri: &str| Config::parse(uri).unwrap().store_key();
        let base = key("etcd://h:2379/p?ttl=9s");
        // Explicit defaults and per-election options (id, value) share the connection.
        assert_eq!(base, key("etcd://h:2379/p?ttl=9s&renew=3s&margin=900ms"));
        assert_eq!(base, key("etcd://h:2379/p?ttl=9s&id=a&value=v"));
        // A lease kept alive for one renew cadence must not carry another's deadlines.
        assert_ne!(base, key("etcd://h:2379/p?ttl=9s&renew=1s"));
        assert_ne!(base, key("etcd://h:2379/p?ttl=9s&margin=2s"));
        assert_ne!(base, key("etcd://h:2379/p?ttl=10s"));
    }

    #[test]
    fn sticky_is_refused_on_zookeeper_alone() {
        for uri in ["etcd://h:2379/p", "redis://h", "file:///tmp/x"] {
            let c = Config::parse(&format!("{uri}?holdoff=2s&sticky=5s")).unwrap();
            assert_eq!(
                (c.holdoff, c.sticky),
                (Duration::from_secs(2), Duration::from_secs(5))
            );
        }
        let c = Config::parse("zk://h:2181/p?holdoff=2s").unwrap();
        assert_eq!(c.holdoff, Duration::from_secs(2));
        let e = Config::parse("zk://h:2181/p?sticky=5s").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Unsupported, "{e:?}");
        assert!(e.message().contains("`sticky`"), "{e:?}");
    }

    #[test]
    fn values_are_bounded() {
        let at_max = "v".repeat(MAX_VALUE);
        assert!(Config::parse(&format!("file:///tmp/x?value={at_max}")).is_ok());
        assert!(err(&format!("file:///tmp/x?value={at_max}v")).contains("longer than 65536"));
    }

    #[test]
    fn rejects_bad_input_naming_the_part() {
        assert!(err("nope").contains("scheme://"));
        assert!(err("ftp://x").contains("scheme `ftp`"));
        assert!(err("file:///tmp/x?ttl=10").contains("option `ttl`"));
        assert!(err("file:///tmp/x?ttl=0s").contains("greater than zero"));
        assert!(err("file:///tmp/x?bogus=1").contains("option `bogus`"));
        assert!(err("file:///tmp/x?ttl=3s&renew=3s").contains("option `renew`"));
        assert!(err("file:///tmp/x?ttl=3s&renew=2s&margin=1s").contains("option `margin`"));
        assert!(err("file:///tmp/x?id=").contains("option `id`"));
        assert!(err("file://").contains("path"));
        assert!(err("file://host/tmp").contains("host `host`"));
        assert!(err("file:///tmp/%ff").contains("UTF-8"));
    }

    #[cfg(feature = "etcd")]
    #[test]
    fn multi_host_and_redaction() {
        let c = Config::parse("etcd://bob:s3cret@h1:2379,h2,[::1]:2380/app?ttl=5s").unwrap();
        assert_eq!(c.hosts.len(), 3);
        assert_eq!(c.hosts[1].port, 2379);
        assert_eq!(c.hosts[2].host, "::1");
        assert_eq!(c.path, "app");
        let shown = format!("{c} {c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("bob:***@<3 hosts>/app"), "{shown}");
        let c = Config::parse("etcd://bob@h1:2379,h2/app").unwrap();
        assert!(c.to_string().contains("bob@h1:2379,h2:2379/app"), "{c}");
        let e = Config::parse("etcd://bob:s3cret@h1:99999/app").unwrap_err();
        assert!(
            e.message().contains("port") && !e.message().contains("s3cret"),
            "{e}"
        );
        let e = Config::parse("etcd://bob:s3cret@h1,,h2/app").unwrap_err();
        assert!(!e.message().contains("s3cret"), "{e}");
    }
}
