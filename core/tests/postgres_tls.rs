//! `sslmode=prefer` with `sslrootcert`: a server (here a listener of the test's own on
//! 127.0.0.1) that declines TLS must get no plain-text startup message, which would carry the
//! user name and then the password. Without `sslrootcert`, `prefer` does fall back, as libpq's
//! does: the control that the listener really offers the fallback.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use elect_core::Election;

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
