//! The errors of a guarded write.

use std::fmt;

/// A write refused because its token is older than the highest the resource has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub resource: String,
    pub token: u64,
    /// The highest token seen, when the resource told it.
    pub highest: Option<u64>,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stale fencing token {} for `{}`",
            self.token, self.resource
        )?;
        if let Some(h) = self.highest {
            write!(f, ", highest seen {h}")?;
        }
        write!(f, ": a newer leader has written")
    }
}

/// What a guarded write can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The token is stale: nothing was written.
    Stale(Stale),
    /// The token cannot be a term's token (0 means "not leading").
    InvalidToken(String),
    /// The election's name cannot be sent (empty, or not an HTTP header value).
    InvalidElection(String),
    /// The store failed; whether the write happened is the store's answer to find out.
    #[cfg(feature = "postgres")]
    Postgres(tokio_postgres::Error),
    #[cfg(feature = "mysql")]
    Mysql(mysql_async::Error),
    #[cfg(feature = "etcd")]
    Etcd(etcd_client::Error),
    #[cfg(feature = "redis")]
    Redis(::redis::RedisError),
}

impl Error {
    /// True for [`Error::Stale`].
    pub fn is_stale(&self) -> bool {
        matches!(self, Error::Stale(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Stale(s) => s.fmt(f),
            Error::InvalidToken(m) | Error::InvalidElection(m) => f.write_str(m),
            #[cfg(feature = "postgres")]
            Error::Postgres(e) => write!(f, "fencing: PostgreSQL: {e}"),
            #[cfg(feature = "mysql")]
            Error::Mysql(e) => write!(f, "fencing: MySQL: {e}"),
            #[cfg(feature = "etcd")]
            Error::Etcd(e) => write!(f, "fencing: etcd: {e}"),
            #[cfg(feature = "redis")]
            Error::Redis(e) => write!(f, "fencing: Redis: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// `token` as the signed 64-bit integer the stores keep, or why it cannot be a term's token.
pub(crate) fn check_token(token: u64) -> Result<i64, Error> {
    if token == 0 {
        return Err(Error::InvalidToken(
            "fencing token is 0: the election is not leading (no term to fence with)".into(),
        ));
    }
    i64::try_from(token).map_err(|_| {
        Error::InvalidToken(format!(
            "fencing token {token} is out of range 1..{}",
            i64::MAX
        ))
    })
}
