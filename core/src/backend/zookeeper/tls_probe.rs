//! Why no ZooKeeper server answered over TLS. The client reports only "no available hosts" and
//! logs the handshake error at debug level; a wrong CA, a certificate for another name or a
//! server that does not speak TLS deserve a message that says so. One handshake of our own
//! with the first server, with the same CA, client certificate and host name, finds out.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::backend::tls::{probe_connection, read_pem, PemOptions};
use crate::uri::HostPort;

/// The handshake's error with `host`, if it fails (`None` if it succeeds or the probe itself
/// cannot run, such as when the host does not resolve).
pub fn handshake_error(files: &PemOptions, host: &HostPort, timeout: Duration) -> Option<String> {
    let config = client_config(files)?;
    let mut tcp = probe_connection(host, timeout)?;
    let name = ServerName::try_from(host.host.clone()).ok()?;
    let mut conn = ClientConnection::new(Arc::new(config), name).ok()?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut tcp) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Some("the server closed the connection during the TLS handshake".into())
            }
            Err(e) => return Some(format!("TLS handshake: {e}")),
        }
    }
    None
}

fn client_config(files: &PemOptions) -> Option<ClientConfig> {
    let mut roots = RootCertStore::empty();
    let ca = read_pem("ca", files.ca.as_deref()?).ok()?;
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.ok()?).ok()?;
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(crate::backend::tls::crypto_provider()))
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots);
    Some(match &files.identity {
        Some((cert, key)) => {
            let (cert, key) = (read_pem("cert", cert).ok()?, read_pem("key", key).ok()?);
            let chain = CertificateDer::pem_slice_iter(&cert)
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            let key = PrivateKeyDer::from_pem_slice(&key).ok()?;
            builder.with_client_auth_cert(chain, key).ok()?
        }
        None => builder.with_no_client_auth(),
    })
}
