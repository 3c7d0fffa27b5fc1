//! The stores this build knows, in one table: the scheme names a connection string may start
//! with, the default port, the store's own options and how to open it.
//!
//! The connection string parser (`uri`) reads only this table: it splits the generic structure
//! (scheme, user info, hosts, path, query) and hands the store's query pairs to the store's
//! parser, which turns them into its typed options once. Nothing else in core matches on the
//! store.
//!
//! **Adding a store** is one place here: a [`Scheme`] variant and a row of [`STORES`] (names,
//! default port, and the store module's [`Driver`], behind its cargo feature). The store module
//! itself (`backend/<store>/`, see "Store module layout" in `docs/DESIGN.md`) provides the
//! driver: its option names, `options::parse` and `open`.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::Backend;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::Config;

/// The store a connection string selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    File,
    Etcd,
    Zk,
    Redis,
    Rediss,
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
}

/// One row of the table.
pub struct Store {
    pub scheme: Scheme,
    /// The scheme names that select it; the first is the one messages and `Display` use.
    pub names: &'static [&'static str],
    /// Port of a host given without one; `None` for a store that takes no host.
    pub default_port: Option<u16>,
    /// `None` when this build leaves out the store's cargo feature.
    pub driver: Option<&'static Driver>,
}

/// What a compiled-in store provides.
pub struct Driver {
    /// Option names it accepts in the query string, beyond the common ones.
    pub options: &'static [&'static str],
    /// Builds its typed options from the parsed connection string (its query pairs are in
    /// `Config::params`), naming the bad key and value on error. Runs once per parse.
    pub parse: fn(&Config) -> Result<StoreOptions>,
    /// Opens a connection.
    pub open: for<'a> fn(&'a Config) -> Opening<'a>,
}

/// A store's typed options, as its `parse` built them; the store reads them back with
/// [`Config::store_options`].
pub type StoreOptions = Arc<dyn Any + Send + Sync>;

/// A connection being opened.
pub type Opening<'a> = Pin<Box<dyn Future<Output = Result<Arc<dyn Backend>>> + Send + 'a>>;

/// `Some(&driver)` when the cargo feature is on, `None` otherwise.
macro_rules! compiled {
    ($feature:literal, $driver:path) => {{
        #[cfg(feature = $feature)]
        let driver = Some(&$driver);
        #[cfg(not(feature = $feature))]
        let driver = None;
        driver
    }};
}

/// Every store, compiled in or not (a left-out store is reported as such, not as unknown).
pub static STORES: &[Store] = &[
    Store {
        scheme: Scheme::File,
        names: &["file"],
        default_port: None,
        driver: Some(&super::file::DRIVER),
    },
    Store {
        scheme: Scheme::Etcd,
        names: &["etcd"],
        default_port: Some(2379),
        driver: compiled!("etcd", super::etcd::DRIVER),
    },
    Store {
        scheme: Scheme::Zk,
        names: &["zk", "zookeeper"],
        default_port: Some(2181),
        driver: compiled!("zookeeper", super::zookeeper::DRIVER),
    },
    Store {
        scheme: Scheme::Redis,
        names: &["redis"],
        default_port: Some(6379),
        driver: compiled!("redis", super::redis::DRIVER),
    },
    Store {
        scheme: Scheme::Rediss,
        names: &["rediss"],
        default_port: Some(6379),
        driver: compiled!("redis", super::redis::DRIVER),
    },
    Store {
        scheme: Scheme::Postgres,
        names: &["postgres", "postgresql"],
        default_port: Some(5432),
        driver: compiled!("postgres", super::postgres::DRIVER),
    },
    Store {
        scheme: Scheme::Mysql,
        names: &["mysql", "mariadb"],
        default_port: Some(3306),
        driver: compiled!("mysql", super::mysql::DRIVER),
    },
];

impl Scheme {
    /// The store selected by a scheme name (lower case).
    pub fn parse(name: &str) -> Result<Scheme> {
        if let Some(store) = STORES.iter().find(|s| s.names.contains(&name)) {
            return Ok(store.scheme);
        }
        let expected: Vec<&str> = STORES.iter().map(|s| s.names[0]).collect();
        let expected = expected.join(", ");
        // Quoted only when it reads as a scheme name: text before `://` that does not (a
        // forgotten `//`, say) may be part of a password.
        Err(Error::invalid(if is_scheme_name(name) {
            format!("scheme `{name}`: unknown store (expected {expected})")
        } else {
            format!("scheme: not a scheme name (expected {expected})")
        }))
    }

    pub fn store(self) -> &'static Store {
        STORES
            .iter()
            .find(|s| s.scheme == self)
            .expect("every Scheme has a row in STORES")
    }

    pub fn as_str(self) -> &'static str {
        self.store().names[0]
    }

    pub fn default_port(self) -> Option<u16> {
        self.store().default_port
    }

    /// The store's driver, or `Unsupported` when this build leaves the store out.
    pub fn driver(self) -> Result<&'static Driver> {
        self.store().driver.ok_or_else(|| {
            Error::new(
                ErrorCode::Unsupported,
                format!(
                    "scheme `{}`: this build of elect does not include that store",
                    self.as_str()
                ),
            )
        })
    }
}

/// A word that can only have been meant as a scheme: `[a-z][a-z0-9+.-]*`, short.
fn is_scheme_name(s: &str) -> bool {
    s.len() <= 16
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_has_one_row_and_names_are_unique() {
        let mut names: Vec<&str> = STORES
            .iter()
            .flat_map(|s| s.names.iter().copied())
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a scheme name is listed twice");
        for store in STORES {
            assert_eq!(Scheme::parse(store.names[0]).unwrap(), store.scheme);
            assert!(std::ptr::eq(store.scheme.store(), store));
        }
    }

    /// Each store's parser runs when the connection string is parsed, and names the bad key
    /// and value, never the password.
    #[test]
    fn store_options_are_checked_at_parse_time() {
        let mut cases = vec![(
            "file:///tmp/x?sync=maybe",
            "option `sync`: bad value `maybe`",
        )];
        #[cfg(feature = "etcd")]
        cases.push(("etcd://u:hunter2@h/p?cert=/c.pem", "option `ca`: required"));
        #[cfg(feature = "etcd")]
        cases.push((
            "etcd://u:hunter2@h/p?ca=/a&cert=/c.pem",
            "option `cert`: needs `key`",
        ));
        #[cfg(feature = "zookeeper")]
        cases.push((
            "zk://h/c?acl=private",
            "option `acl`: `private` needs credentials",
        ));
        #[cfg(feature = "zookeeper")]
        cases.push((
            "zk://u:hunter2@h/c?acl=none",
            "option `acl`: bad value `none`",
        ));
        #[cfg(feature = "redis")]
        cases.push(("redis://u:hunter2@h/0?prefix=a*", "option `prefix`: `a*`"));
        #[cfg(feature = "redis")]
        cases.push((
            "redis://u:hunter2@h/0?tls_ca=/ca.pem",
            "option `tls_ca`: only",
        ));
        #[cfg(feature = "postgres")]
        cases.push((
            "postgres://u:hunter2@h/db?table=X;drop",
            "option `table`: bad value `X;drop`",
        ));
        #[cfg(feature = "postgres")]
        cases.push((
            "postgres://u:hunter2@h/db?sslmode=on",
            "option `sslmode`: bad value `on`",
        ));
        #[cfg(feature = "mysql")]
        cases.push((
            "mariadb://u:hunter2@h/db?sslmode=on",
            "option `sslmode`: bad value `on`",
        ));
        for (uri, expected) in cases {
            let e = Config::parse(uri).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{uri}: {e}");
            assert!(e.message().contains(expected), "{uri}: {e}");
            assert!(!e.message().contains("hunter2"), "{uri}: {e}");
        }
        // The same checks apply to options given in code.
        let e = Config::parse_with("file:///tmp/x", [("sync", "maybe")]).unwrap_err();
        assert!(e.message().contains("option `sync`"), "{e}");
        let c = Config::parse("file:///tmp/x?sync=false").unwrap();
        assert!(
            !c.store_options::<super::super::file::options::FileOptions>()
                .unwrap()
                .sync
        );
    }
}
