//! `sslmode=verify-ca`: the server's certificate must chain to a CA of `sslrootcert`, whatever
//! host names it holds. mysql_async checks a chain only together with a name: its switch to
//! skip the name (`with_danger_skip_domain_validation`) matches rustls's error by its text,
//! which rustls 0.23 no longer renders that way (mysql_async issue 404, fixed upstream after
//! 0.37.1, the latest release). So a probe of our own opens the connection as far as the TLS
//! handshake, checks the certificate's chain, and reads a name the certificate holds; the
//! session then checks the chain and that name (`tls_hostname_override`). A certificate that
//! chains to the CA passes both; one that does not fails both.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::ServerName;
use rustls::RootCertStore;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

use crate::backend::sql::verify::Lenient;
use crate::error::{Error, Result};
use crate::uri::HostPort;

/// The server's first packet is small; a longer one is not a MySQL server's.
const MAX_GREETING: usize = 64 * 1024;
/// Capability flags of the protocol: the server offers TLS; 4.1 protocol; 4.1 authentication.
const CLIENT_SSL: u32 = 0x0800;
const CLIENT_PROTOCOL_41: u32 = 0x0200;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;

/// A name the certificate of the server at `host` holds (a DNS name or an IP address), once
/// its chain is checked against `roots`. `what` heads the messages. Blocking.
pub fn name_in_certificate(
    host: &HostPort,
    roots: Arc<RootCertStore>,
    timeout: Duration,
    what: &str,
) -> Result<String> {
    let fail = |why: String| Error::unreachable(format!("{what}: verify-ca: {why}"));
    let mut tcp = crate::backend::tls::probe_connection(host, timeout)
        .ok_or_else(|| fail("cannot connect".into()))?;
    let greeting = read_packet(&mut tcp).map_err(|e| fail(format!("no server greeting: {e}")))?;
    if capabilities(&greeting) & CLIENT_SSL == 0 {
        return Err(fail("the server offers no TLS".into()));
    }
    tcp.write_all(&ssl_request())
        .map_err(|e| fail(e.to_string()))?;
    let seen = Arc::new(Mutex::new(None));
    let provider = Arc::new(crate::backend::tls::crypto_provider());
    let chain = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(
            Lenient::new(provider, Some(chain)).keeping(seen.clone()),
        ))
        .with_no_client_auth();
    let name = ServerName::try_from(host.host.clone())
        .map_err(|_| fail("the host is not a name TLS can use".into()))?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| fail(format!("TLS handshake: {e}")))?;
    }
    let der = seen.lock().unwrap().take();
    der.and_then(|der| first_name(&der))
        .ok_or_else(|| fail("the server's certificate names no host (subjectAltName)".into()))
}

/// One packet of the protocol: a 3-byte little-endian length, a sequence number, the payload.
fn read_packet(tcp: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    tcp.read_exact(&mut header)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    if len > MAX_GREETING {
        return Err(std::io::Error::other("not a MySQL server's greeting"));
    }
    let mut payload = vec![0; len];
    tcp.read_exact(&mut payload)?;
    Ok(payload)
}

/// The lower capability flags of the greeting (protocol 10): after the version byte, the
/// server version (NUL-terminated), the connection id (4), the first salt (8) and a filler.
fn capabilities(greeting: &[u8]) -> u32 {
    let Some(end) = greeting.iter().skip(1).position(|&b| b == 0) else {
        return 0;
    };
    let at = 1 + end + 1 + 4 + 8 + 1;
    match greeting.get(at..at + 2) {
        Some(b) => u32::from(u16::from_le_bytes([b[0], b[1]])),
        None => 0,
    }
}

/// The SSLRequest packet (sequence 1): capabilities, maximum packet size, character set
/// (utf8mb4), 23 reserved bytes.
fn ssl_request() -> Vec<u8> {
    let mut p = vec![32, 0, 0, 1];
    p.extend((CLIENT_SSL | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION).to_le_bytes());
    p.extend(16_777_216u32.to_le_bytes());
    p.push(45);
    p.extend([0; 23]);
    p
}

/// The first DNS name or IP address of the certificate's subjectAltName.
fn first_name(der: &[u8]) -> Option<String> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let (_, san) = cert.tbs_certificate.get::<SubjectAltName>().ok()??;
    san.0.iter().find_map(|name| match name {
        GeneralName::DnsName(dns) => Some(dns.to_string()),
        GeneralName::IpAddress(ip) => match ip.as_bytes().len() {
            4 => <[u8; 4]>::try_from(ip.as_bytes())
                .ok()
                .map(|b| IpAddr::from(b).to_string()),
            16 => <[u8; 16]>::try_from(ip.as_bytes())
                .ok()
                .map(|b| IpAddr::from(b).to_string()),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_are_read_for_their_tls_flag() {
        // Protocol 10, version "5.5.5-10.11", id, salt, filler, capabilities 0xfffe (TLS).
        let mut g = vec![10];
        g.extend(b"5.5.5-10.11\0");
        g.extend([1, 0, 0, 0]);
        g.extend([0x41; 8]);
        g.push(0);
        g.extend([0xfe, 0xff]);
        assert_ne!(capabilities(&g) & CLIENT_SSL, 0);
        let last = g.len() - 1;
        g[last] = 0xf7;
        assert_eq!(capabilities(&g) & CLIENT_SSL, 0);
        assert_eq!(
            capabilities(b"\x0a5.5"),
            0,
            "a truncated greeting offers nothing"
        );
        assert_eq!(ssl_request().len(), 36);
    }
}
