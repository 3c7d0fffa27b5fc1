//! Fencing over HTTP (docs/fencing.md "HTTP"): the client sends the election's name and the
//! term's token in two headers, and the server's [`FencingLayer`] answers a request whose token
//! is older than the highest it has admitted for that election with 409 Conflict.
//!
//! Client side, with any client that takes `http` headers or pairs of strings:
//!
//! ```
//! let mut headers = http::HeaderMap::new();
//! elect_fencing::http::set_headers(&mut headers, "billing-cron", 42).unwrap();
//! assert_eq!(headers[elect_fencing::http::TOKEN], "42");
//! ```
//!
//! Server side, a `tower` layer over `http` types, so it plugs into axum, hyper and tonic:
//!
//! ```
//! async fn run_job() -> &'static str {
//!     "done"
//! }
//! let app: axum::Router = axum::Router::new()
//!     .route("/jobs", axum::routing::post(run_job))
//!     .layer(elect_fencing::http::FencingLayer::new());
//! ```

mod gate;
mod layer;

pub use gate::{Gate, Pass};
pub use layer::{FencedBody, Fencing, FencingLayer};

use ::http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{check_token, Error};

/// The header naming the election whose term made the request.
pub const ELECTION: &str = "elect-election";
/// The header carrying the term's fencing token, in decimal.
pub const TOKEN: &str = "elect-fencing-token";

/// The two headers of a request made under `token` of `election`, for any client.
pub fn headers(election: &str, token: u64) -> Result<[(HeaderName, HeaderValue); 2], Error> {
    check_token(token)?;
    if election.is_empty() {
        return Err(Error::InvalidElection("empty election name".into()));
    }
    let name = HeaderValue::from_str(election).map_err(|_| {
        Error::InvalidElection(format!(
            "election name {election:?} cannot be an HTTP header value (visible ASCII only)"
        ))
    })?;
    Ok([
        (HeaderName::from_static(ELECTION), name),
        (HeaderName::from_static(TOKEN), HeaderValue::from(token)),
    ])
}

/// Puts the two headers of `token` of `election` on `map`, replacing earlier ones.
pub fn set_headers(map: &mut HeaderMap, election: &str, token: u64) -> Result<(), Error> {
    for (name, value) in headers(election, token)? {
        map.insert(name, value);
    }
    Ok(())
}
