//! What the TLS setups of the stores share: for etcd and ZooKeeper, options `ca`, `cert` and
//! `key` (PEM files, any of them switches the connection to TLS); for PostgreSQL and MySQL,
//! libpq's `sslcert` and `sslkey` (a client certificate and its private key file); and, for the
//! clients that build their rustls configuration from the process-wide default, the choice of
//! that default (ring, [`crypto_provider`]).

#[cfg(any(
    feature = "etcd",
    feature = "zookeeper",
    feature = "postgres",
    feature = "mysql"
))]
use crate::error::{Error, Result};
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
use crate::uri::Config;

/// Options `ca`, `cert` and `key`, checked, their files not read yet.
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
#[derive(Debug, Clone, Default)]
pub struct PemOptions {
    /// `ca`: the CA that signed the servers' certificates (required for TLS: the system's trust
    /// store is not consulted).
    pub ca: Option<String>,
    /// `cert` and `key`: a client certificate and its key, for servers that require one; both
    /// or neither.
    pub identity: Option<(String, String)>,
}

/// Parses `ca`, `cert` and `key`; `servers` names the servers in messages (`etcd servers'`).
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
pub fn pem_options(config: &Config, servers: &str) -> Result<PemOptions> {
    let get = |k: &str| config.params.get(k).cloned();
    let (ca, cert, key) = (get("ca"), get("cert"), get("key"));
    if ca.is_none() && (cert.is_some() || key.is_some()) {
        return Err(Error::invalid(format!(
            "option `ca`: required for TLS: the PEM file of the CA that signed the {servers} certificates"
        )));
    }
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err(Error::invalid("option `cert`: needs `key` as well")),
        (None, Some(_)) => return Err(Error::invalid("option `key`: needs `cert` as well")),
    };
    Ok(PemOptions { ca, identity })
}

/// The PEM file that option `option` names, read.
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
pub fn read_pem(option: &str, path: &str) -> Result<Vec<u8>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("option `{option}`: cannot read `{path}`: {e}")))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN") {
        return Err(Error::invalid(format!(
            "option `{option}`: `{path}` is not a PEM file"
        )));
    }
    Ok(pem)
}

/// The crypto provider of every TLS configuration elect builds itself: ring, the one provider
/// elect compiles rustls with (aws-lc-rs, rustls' default, is a long C build).
#[cfg(any(
    feature = "redis",
    feature = "zookeeper",
    feature = "postgres",
    feature = "mysql"
))]
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The redis, ZooKeeper and MySQL clients build their rustls configuration from the
/// process-wide default provider. A host application that links rustls with aws-lc-rs as well
/// leaves two providers compiled in, and rustls then panics rather than pick one: install
/// [`crypto_provider`] unless the host process already chose one (then `install_default` fails
/// and theirs stays).
#[cfg(any(feature = "redis", feature = "zookeeper", feature = "mysql"))]
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = crypto_provider().install_default();
    }
}

/// Options `sslcert` and `sslkey` of the SQL stores (libpq's names): both or neither.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub fn ssl_identity(cert: Option<&str>, key: Option<&str>) -> Result<Option<(String, String)>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some((cert.to_string(), key.to_string()))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::invalid(
            "option `sslkey`: missing: `sslcert` needs the key file that goes with it",
        )),
        (None, Some(_)) => Err(Error::invalid(
            "option `sslcert`: missing: `sslkey` needs the certificate file that goes with it",
        )),
    }
}

/// Why the SQL stores refuse `sslmode=verify-ca` without `sslrootcert`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub const VERIFY_CA_NEEDS_ROOT: &str = "option `sslmode`: verify-ca needs `sslrootcert` (the CA \
     file that signed the server's certificate): against public roots, a check of the chain alone \
     would accept any certificate a public CA issued";

/// A client certificate chain and its key, read from the files of options `sslcert` and
/// `sslkey` and checked: as PEM text (what a driver that reads PEM itself takes) and parsed.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub struct ClientPem {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
}

/// Reads and checks the client certificate `cert` and its key `key` (options `sslcert` and
/// `sslkey`); the key file must be private, as libpq requires.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub fn read_client_pem(cert: &str, key: &str) -> Result<ClientPem> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |option: &str, path: &str, why: String| {
        Error::invalid(format!("option `{option}`: `{path}`: {why}"))
    };
    let cert_pem = std::fs::read(cert).map_err(|e| bad("sslcert", cert, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad("sslcert", cert, format!("not a PEM certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(bad("sslcert", cert, "contains no certificate".into()));
    }
    key_file_is_private(key)?;
    let key_pem = std::fs::read(key).map_err(|e| bad("sslkey", key, e.to_string()))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| bad("sslkey", key, format!("no PEM private key: {e}")))?;
    Ok(ClientPem {
        cert_pem,
        key_pem,
        chain,
        key: key_der,
    })
}

/// libpq's rule for the key file: whoever else may read it holds the client's identity.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn key_file_is_private(path: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::invalid(format!("option `sslkey`: `{path}`: {e}")))?;
    let mode = meta.mode() & 0o777;
    let too_open = if meta.uid() == rustix::process::geteuid().as_raw() {
        mode & 0o077 != 0
    } else if meta.uid() == 0 {
        mode & 0o137 != 0
    } else {
        false
    };
    if too_open {
        return Err(Error::new(
            crate::error::ErrorCode::Permission,
            format!(
                "option `sslkey`: `{path}` has group or world access (mode {mode:o}): it must \
                 have permissions u=rw (0600) or less if owned by the current user, or u=rw,g=r \
                 (0640) or less if owned by root"
            ),
        ));
    }
    Ok(())
}

/// Whether the server at `host` answers a TLS handshake, for the message of a connection that
/// failed without saying why: a plain client of a TLS-only server sees only a closed or reset
/// connection, a TLS client of a plain server only silence. `Some(true)` when the server sent
/// TLS (its certificate, which an empty trust store then refuses, or an alert), `Some(false)`
/// when it sent something else, closed the connection or stayed silent for `timeout`, `None`
/// when it could not be reached at all. Blocking: run it with `spawn_blocking`.
#[cfg(any(feature = "redis", feature = "zookeeper"))]
pub fn speaks_tls(host: &crate::uri::HostPort, timeout: std::time::Duration) -> Option<bool> {
    use std::sync::Arc;

    let mut tcp = probe_connection(host, timeout)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    // The name only goes into the ClientHello; nothing is verified against it here.
    let name = rustls::pki_types::ServerName::try_from(host.host.clone())
        .unwrap_or_else(|_| rustls::pki_types::ServerName::try_from("localhost").unwrap());
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            let tls_error = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            return Some(matches!(
                tls_error,
                Some(
                    rustls::Error::InvalidCertificate(_)
                        | rustls::Error::AlertReceived(_)
                        | rustls::Error::PeerIncompatible(_)
                )
            ));
        }
    }
    Some(true)
}

/// A blocking TCP connection to `host` for a probe, every step bounded by `timeout`.
#[cfg(any(feature = "redis", feature = "zookeeper", feature = "mysql"))]
pub fn probe_connection(
    host: &crate::uri::HostPort,
    timeout: std::time::Duration,
) -> Option<std::net::TcpStream> {
    use std::net::{TcpStream, ToSocketAddrs};
    let addr = (host.host.as_str(), host.port)
        .to_socket_addrs()
        .ok()?
        .next()?;
    let tcp = TcpStream::connect_timeout(&addr, timeout).ok()?;
    tcp.set_read_timeout(Some(timeout)).ok()?;
    tcp.set_write_timeout(Some(timeout)).ok()?;
    Some(tcp)
}

/// A server verifier's verdict with a name mismatch forgiven: rustls checks the host name last,
/// after the chain and its revocation data, so its name error means all else passed (the
/// chain-only check of `sslmode=verify-ca`).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub fn chain_verdict(
    verdict: std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error>,
) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
    use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
    match verdict {
        Err(rustls::Error::InvalidCertificate(NotValidForName | NotValidForNameContext { .. })) => {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        other => other,
    }
}
