//! The server side as a `tower` layer over `http` requests and responses.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::http::{header, HeaderMap, Request, Response, StatusCode};
use bytes::Bytes;
use http_body_util::{Either, Full};
use serde_json::json;
use tower::{Layer, Service};

use super::{Gate, ELECTION, TOKEN};

/// Wraps a service in [`Fencing`]: one [`Gate`] shared by every service it wraps.
#[derive(Clone, Default)]
pub struct FencingLayer {
    gate: Gate,
    require: bool,
}

impl FencingLayer {
    /// A layer with a gate of its own, passing requests without the headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `gate`, e.g. to share it with another layer in front of the same resource.
    pub fn with_gate(mut self, gate: Gate) -> Self {
        self.gate = gate;
        self
    }

    /// Refuses requests without the headers with 428 Precondition Required.
    pub fn require(mut self, require: bool) -> Self {
        self.require = require;
        self
    }

    /// The gate, to read the highest token of an election.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }
}

impl<S> Layer<S> for FencingLayer {
    type Service = Fencing<S>;

    fn layer(&self, inner: S) -> Fencing<S> {
        Fencing {
            inner,
            gate: self.gate.clone(),
            require: self.require,
        }
    }
}

/// Answers 409 Conflict to a request whose `Elect-Fencing-Token` is older than the highest seen
/// for its `Elect-Election` (a JSON body naming the election, the token and the highest), 400
/// to malformed headers, 428 to a request without them if required, and passes the rest to the
/// inner service, which runs while the request holds its [`Gate`] pass. A newer token waits,
/// without a bound of its own, until the older token's requests in flight have finished: give
/// the handlers a timeout. The response body is the inner service's or the refusal's
/// ([`FencedBody`]), a body over `Bytes` whenever the inner one is, as axum, hyper and tonic
/// servers take.
#[derive(Clone)]
pub struct Fencing<S> {
    inner: S,
    gate: Gate,
    require: bool,
}

/// The body of a [`Fencing`] response: the inner service's, or the JSON of a refusal.
pub type FencedBody<B> = Either<B, Full<Bytes>>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Fencing<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: 'static,
{
    type Response = Response<FencedBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<FencedBody<ResBody>>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The clone that was not polled ready stays here; the ready one serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (election, token) = match fenced(req.headers(), self.require) {
            Ok(Some(fence)) => fence,
            Ok(None) => {
                let call = inner.call(req);
                return Box::pin(async move { Ok(call.await?.map(Either::Left)) });
            }
            Err((status, body)) => return Box::pin(async move { Ok(refusal(status, body)) }),
        };
        let gate = self.gate.clone();
        Box::pin(async move {
            match gate.enter(&election, token).await {
                Ok(pass) => {
                    let response = inner.call(req).await;
                    drop(pass);
                    Ok(response?.map(Either::Left))
                }
                Err(highest) => Ok(refusal(
                    StatusCode::CONFLICT,
                    json!({"error": "stale fencing token", "election": election,
                           "token": token, "highest": highest}),
                )),
            }
        })
    }
}

/// The election and token a request is fenced with, `None` if it carries neither header and
/// they are not required, or the refusal.
fn fenced(
    headers: &HeaderMap,
    require: bool,
) -> Result<Option<(String, u64)>, (StatusCode, serde_json::Value)> {
    let get = |name| headers.get(name).filter(|v| !v.is_empty());
    let (election, token) = match (get(ELECTION), get(TOKEN)) {
        (None, None) if require => {
            return Err(bad(
                StatusCode::PRECONDITION_REQUIRED,
                "missing Elect-Election and Elect-Fencing-Token",
            ))
        }
        (None, None) => return Ok(None),
        (Some(e), Some(t)) => (e, t),
        (None, Some(_)) => {
            return Err(bad(
                StatusCode::BAD_REQUEST,
                "Elect-Election header missing or empty",
            ))
        }
        (Some(_), None) => {
            return Err(bad(
                StatusCode::BAD_REQUEST,
                "Elect-Fencing-Token header missing or empty",
            ))
        }
    };
    let election = election.to_str().map_err(|_| {
        bad(
            StatusCode::BAD_REQUEST,
            "Elect-Election is not visible ASCII",
        )
    })?;
    let token = token
        .to_str()
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .filter(|t| (1..=i64::MAX as u64).contains(t))
        .ok_or_else(|| {
            bad(
                StatusCode::BAD_REQUEST,
                &format!("Elect-Fencing-Token is not a token in 1..{}", i64::MAX),
            )
        })?;
    Ok(Some((election.to_owned(), token)))
}

fn bad(status: StatusCode, error: &str) -> (StatusCode, serde_json::Value) {
    (status, json!({ "error": error }))
}

fn refusal<B>(status: StatusCode, body: serde_json::Value) -> Response<FencedBody<B>> {
    let mut response = Response::new(Either::Right(Full::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
