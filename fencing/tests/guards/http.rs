//! The HTTP gate, driving the tower service directly: a stale token gets 409 and never reaches
//! the handler, a newer one is admitted once the older one's requests in flight have finished.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use elect_fencing::http::{headers, FencedBody, FencingLayer, ELECTION, TOKEN};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::oneshot;
use tower::{service_fn, Layer, ServiceExt};

/// The handler's log: "<token> start" and "<token> end" lines, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// A service that logs its start and end, and first waits for the receiver sent in the request's
/// extensions, if any.
fn app(
    layer: &FencingLayer,
    log: &Log,
) -> impl tower::Service<
    Request<()>,
    Response = Response<FencedBody<String>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    let log = log.clone();
    layer.layer(service_fn(move |mut req: Request<()>| {
        let log = log.clone();
        async move {
            let token = req
                .headers()
                .get(TOKEN)
                .map_or("-".into(), |t| t.to_str().unwrap().trim().to_owned());
            log.lock().unwrap().push(format!("{token} start"));
            let hold = req.extensions_mut().remove::<Hold>();
            if let Some(rx) = hold.and_then(|h| h.0.lock().unwrap().take()) {
                rx.await.unwrap();
            }
            log.lock().unwrap().push(format!("{token} end"));
            Ok::<_, Infallible>(Response::new(String::from("done")))
        }
    }))
}

/// Keeps a request in its handler until the sender fires (shared: extensions are `Clone`).
#[derive(Clone)]
struct Hold(Arc<Mutex<Option<oneshot::Receiver<()>>>>);

fn request(token: u64) -> Request<()> {
    let mut req = Request::new(());
    for (name, value) in headers("job", token).unwrap() {
        req.headers_mut().insert(name, value);
    }
    req
}

fn raw(pairs: &[(&str, &str)]) -> Request<()> {
    let mut b = Request::builder();
    for (name, value) in pairs {
        b = b.header(*name, *value);
    }
    b.body(()).unwrap()
}

async fn status(
    svc: impl tower::Service<Request<()>, Response = Response<FencedBody<String>>, Error = Infallible>,
    req: Request<()>,
) -> (StatusCode, String) {
    let r = svc.oneshot(req).await.unwrap();
    let status = r.status();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_stale_token_is_refused_with_409_and_a_newer_one_admitted() {
    let layer = FencingLayer::new();
    let log = Log::default();
    let svc = app(&layer, &log);
    assert_eq!(status(svc.clone(), request(5)).await.0, StatusCode::OK);
    assert_eq!(status(svc.clone(), request(7)).await.0, StatusCode::OK);
    let (code, body) = status(svc.clone(), request(6)).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&body["election"], &body["token"], &body["highest"]),
        (&"job".into(), &6.into(), &7.into()),
        "{body}"
    );
    assert_eq!(status(svc.clone(), request(7)).await.0, StatusCode::OK);
    assert_eq!(layer.gate().highest("job"), 7);
    assert_eq!(
        *log.lock().unwrap(),
        ["5 start", "5 end", "7 start", "7 end", "7 start", "7 end"],
        "the stale request must not reach the handler"
    );
}

#[tokio::test]
async fn malformed_headers_get_400_and_missing_ones_428_when_required() {
    let log = Log::default();
    let lax = app(&FencingLayer::new(), &log);
    let strict = app(&FencingLayer::new().require(true), &log);
    for bad in [
        raw(&[(ELECTION, "job"), (TOKEN, "x")]),
        raw(&[(ELECTION, "job"), (TOKEN, "0")]),
        raw(&[(ELECTION, "job"), (TOKEN, "9223372036854775808")]),
        raw(&[(ELECTION, "job")]),
        raw(&[(TOKEN, "3")]),
        raw(&[(ELECTION, ""), (TOKEN, "3")]),
    ] {
        let shown = format!("{:?}", bad.headers());
        let (code, body) = status(strict.clone(), bad).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{shown}: {body}");
        assert!(body.contains("Elect-"), "{shown}: {body}");
    }
    assert_eq!(
        status(strict.clone(), raw(&[])).await.0,
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(status(lax, raw(&[])).await.0, StatusCode::OK);
    assert_eq!(
        status(strict, raw(&[(ELECTION, "job"), (TOKEN, " 3 ")]))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        *log.lock().unwrap(),
        ["- start", "- end", "3 start", "3 end"]
    );
}

#[tokio::test]
async fn a_newer_token_waits_for_the_older_tokens_requests_in_flight() {
    let layer = FencingLayer::new();
    let log = Log::default();
    let svc = app(&layer, &log);
    let (release, hold) = oneshot::channel();
    let mut old = request(5);
    old.extensions_mut()
        .insert(Hold(Arc::new(Mutex::new(Some(hold)))));
    let old = tokio::spawn(status(svc.clone(), old));
    while log.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    // A second request of the same token joins the one in flight at once.
    assert_eq!(status(svc.clone(), request(5)).await.0, StatusCode::OK);
    let new = tokio::spawn(status(svc.clone(), request(7)));
    while layer.gate().highest("job") != 7 {
        tokio::task::yield_now().await;
    }
    // Token 7 is waiting at the gate: 5's newer requests and 6 are now stale.
    assert_eq!(
        status(svc.clone(), request(5)).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        status(svc.clone(), request(6)).await.0,
        StatusCode::CONFLICT
    );
    assert!(!new.is_finished());
    release.send(()).unwrap();
    assert_eq!(new.await.unwrap().0, StatusCode::OK);
    assert_eq!(old.await.unwrap().0, StatusCode::OK);
    assert_eq!(
        *log.lock().unwrap(),
        ["5 start", "5 start", "5 end", "5 end", "7 start", "7 end"],
        "7 must start only after every request of 5 has ended"
    );
}

#[test]
fn the_client_headers_refuse_what_cannot_be_a_term() {
    let [(e, ev), (t, tv)] = headers("billing-cron", 42).unwrap();
    assert_eq!(
        (e.as_str(), ev.to_str().unwrap()),
        (ELECTION, "billing-cron")
    );
    assert_eq!((t.as_str(), tv.to_str().unwrap()), (TOKEN, "42"));
    for (election, token) in [("job", 0), ("job", u64::MAX), ("", 1), ("a\nb", 1)] {
        let err = headers(election, token).unwrap_err();
        assert!(!err.to_string().is_empty(), "{election:?} {token}");
    }
}

/// The layer plugs into an axum router (built with the features tonic already pulls in, so the
/// test costs no extra build of axum).
#[tokio::test]
async fn an_axum_router_with_the_layer_refuses_a_stale_token() {
    use axum::body::Body;
    let runs = Arc::new(Mutex::new(0));
    let counted = runs.clone();
    let router = axum::Router::new()
        .route(
            "/jobs",
            axum::routing::post(move || async move {
                *counted.lock().unwrap() += 1;
                "done"
            }),
        )
        .layer(FencingLayer::new());
    let post = |token| {
        let mut req = Request::post("/jobs").body(Body::empty()).unwrap();
        for (name, value) in headers("job", token).unwrap() {
            req.headers_mut().insert(name, value);
        }
        router.clone().oneshot(req)
    };
    assert_eq!(post(7).await.unwrap().status(), StatusCode::OK);
    let stale = post(6).await.unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(
        stale.headers()[http::header::CONTENT_TYPE],
        "application/json"
    );
    assert_eq!(
        *runs.lock().unwrap(),
        1,
        "the stale request ran the handler"
    );
}

/// Through a real hyper server on 127.0.0.1: the stale request is answered 409 on the wire.
#[tokio::test]
async fn a_hyper_server_with_the_layer_refuses_a_stale_token() {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Log::default();
    let svc = FencingLayer::new().layer(service_fn({
        let log = log.clone();
        move |req: Request<hyper::body::Incoming>| {
            log.lock()
                .unwrap()
                .push(req.headers()[TOKEN].to_str().unwrap().to_owned());
            async { Ok::<_, Infallible>(Response::new(String::from("done"))) }
        }
    }));
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let svc = TowerToHyperService::new(svc.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc),
            );
        }
    });
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut client, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut answers = Vec::new();
    for token in [7, 6] {
        let mut req = Request::post("/jobs")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        for (name, value) in headers("job", token).unwrap() {
            req.headers_mut().insert(name, value);
        }
        let r = client.send_request(req).await.unwrap();
        let status = r.status();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        answers.push((status, String::from_utf8(body.to_vec()).unwrap()));
    }
    assert_eq!(answers[0], (StatusCode::OK, "done".into()));
    assert_eq!(answers[1].0, StatusCode::CONFLICT, "{}", answers[1].1);
    assert!(answers[1].1.contains(r#""highest":7"#), "{}", answers[1].1);
    assert_eq!(
        *log.lock().unwrap(),
        ["7"],
        "the stale request ran the handler"
    );
}
