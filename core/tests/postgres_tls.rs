//! PostgreSQL's TLS options as libpq reads them.
//!
//! `sslmode=prefer` with `sslrootcert`: a server (here a listener of the test's own on
//! 127.0.0.1) that declines TLS must get no plain-text startup message, which would carry the
//! user name and then the password. Without `sslrootcert`, `prefer` does fall back, as libpq's
//! does: the control that the listener really offers the fallback.
//!
//! Against a real server whose certificate names `localhost` only: `verify-ca` checks the chain
//! but not the host name, `verify-full` both; `sslrootcert=system`; client certificates, with
//! the key file's mode checked as libpq checks it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use elect_core::{Election, ErrorCode};

use elect_testkit::{Server, Store};

/// PostgreSQL's SSLRequest code (protocol 1234.5679).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Accepts one connection, answers its SSLRequest with `N` (no TLS) and reports whether the
/// client then sent a startup message in plain text.
fn declining_server() -> (u16, std::thread::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut request = [0u8; 8];
        s.read_exact(&mut request).unwrap();
        assert_eq!(request, SSL_REQUEST, "expected an SSLRequest first");
        s.write_all(b"N").unwrap();
        let mut next = [0u8; 8];
        s.read_exact(&mut next).is_ok()
    });
    (port, handle)
}

fn ca_file(dir: &std::path::Path) -> String {
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=elect-test-ca",
            "-keyout",
        ])
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(dir.join("ca.crt"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl failed");
    dir.join("ca.crt").display().to_string()
}

fn open(port: u16, extra: &str) -> elect_core::Result<Election> {
    Election::open(
        &format!("postgres://elect:pw@127.0.0.1:{port}/elect?connect_timeout=3s{extra}"),
        "job",
        None,
    )
}

#[test]
fn prefer_with_a_ca_never_falls_back_to_plain_text() {
    let dir = std::env::temp_dir().join(format!("elect-pg-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = ca_file(&dir);

    let (port, server) = declining_server();
    let err = open(port, &format!("&sslrootcert={ca}")).expect_err("opened");
    assert!(
        !server.join().unwrap(),
        "a startup message went out in plain text"
    );
    assert!(
        err.message().contains("TLS") || err.message().contains("tls"),
        "{err}"
    );

    // Control: without a CA, `prefer` sends the startup message in plain text.
    let (port, server) = declining_server();
    let _ = open(port, "");
    assert!(
        server.join().unwrap(),
        "the listener did not offer the plain-text fallback"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server whose certificate names `localhost` only, so that `127.0.0.1` is the wrong name.
fn server_for_localhost() -> Server {
    Server::launch_with_env(
        Store::Postgres,
        "pg-tls-names",
        "start",
        &[],
        &[("ELECT_TLS_SAN", "DNS:localhost")],
    )
}

/// `uri` of `pg` with `host` for 127.0.0.1 and `query` appended.
fn at(pg: &Server, host: &str, query: &str) -> String {
    format!(
        "{}?connect_timeout=5s&{query}",
        pg.uri().replace("127.0.0.1", host)
    )
}

fn elects(uri: &str) {
    let e = Election::open(uri, "job", None).unwrap_or_else(|e| panic!("{e}"));
    e.start().unwrap();
    assert!(
        e.wait_leader(Some(Duration::from_secs(20))).unwrap(),
        "no leader over {uri}"
    );
}

fn refused(uri: &str) -> elect_core::Error {
    match Election::open(uri, "job", None) {
        Ok(_) => panic!("opened: {uri}"),
        Err(e) => e,
    }
}

#[test]
fn verify_ca_checks_the_chain_and_verify_full_also_the_host_name() {
    let pg = server_for_localhost();
    let ca = pg.var("ELECT_POSTGRES_CA").to_string();
    let dir = std::env::temp_dir().join(format!("elect-pg-tls-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other_ca = ca_file(&dir);

    elects(&at(
        &pg,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    elects(&at(
        &pg,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ));
    // As in libpq, `require` with a CA file checks as `verify-ca` does.
    elects(&at(
        &pg,
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={ca}"),
    ));

    let e = refused(&at(
        &pg,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e:?}");
    assert!(
        e.message().contains("certificate not valid for name"),
        "{e}"
    );
    for mode in ["verify-ca", "verify-full", "require"] {
        let e = refused(&at(
            &pg,
            "localhost",
            &format!("sslmode={mode}&sslrootcert={other_ca}"),
        ));
        assert!(e.message().contains("UnknownIssuer"), "{mode}: {e}");
        assert!(
            !e.message()
                .contains(pg.var("ELECT_POSTGRES_PASSWORD").as_str()),
            "{e}"
        );
    }

    let e = refused(&at(&pg, "localhost", "sslmode=verify-ca"));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(e.message().contains("verify-ca needs `sslrootcert`"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sslrootcert_system_trusts_the_system_roots_with_verify_full_only() {
    let pg = Server::start(Store::Postgres, "pg-tls-system");
    // The system's roots do not know the test's CA: verify-full (the default) refuses it.
    let e = refused(&at(&pg, "127.0.0.1", "sslrootcert=system"));
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e:?}");
    assert!(e.message().contains("UnknownIssuer"), "{e}");
    for mode in ["prefer", "require", "verify-ca"] {
        let e = refused(&at(
            &pg,
            "127.0.0.1",
            &format!("sslrootcert=system&sslmode={mode}"),
        ));
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
        assert!(e.message().contains("only verify-full"), "{e}");
    }
}

#[test]
fn a_client_certificate_logs_in_and_its_key_must_be_private() {
    let pg = Server::start(Store::Postgres, "pg-tls-client");
    let ca = pg.var("ELECT_POSTGRES_CA");
    let cert = pg.var("ELECT_POSTGRES_CLIENT_CERT");
    let key = pg.var("ELECT_POSTGRES_CLIENT_KEY");
    // Role `elect_cert` may log in with its certificate only (no password).
    let uri = |query: &str| {
        format!(
            "postgres://elect_cert@127.0.0.1:{}/elect?connect_timeout=5s&sslmode=verify-full&\
             sslrootcert={ca}{query}",
            pg.var("ELECT_POSTGRES_PORT")
        )
    };
    elects(&uri(&format!("&sslcert={cert}&sslkey={key}")));

    let e = refused(&uri(""));
    assert!(
        e.message().contains("requires a valid client certificate"),
        "{e}"
    );
    let e = refused(&uri(&format!("&sslcert={cert}")));
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e:?}");
    assert!(e.message().contains("option `sslkey`: missing"), "{e}");

    use std::os::unix::fs::PermissionsExt;
    for mode in [0o640, 0o604] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let e = refused(&uri(&format!("&sslcert={cert}&sslkey={key}")));
        assert_eq!(e.code(), ErrorCode::Permission, "{e:?}");
        assert!(
            e.message().contains(&format!(
                "option `sslkey`: `{key}` has group or world access"
            )),
            "{e}"
        );
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
}
