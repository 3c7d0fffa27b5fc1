//! TLS for the postgres store, following libpq's `sslmode` where the words overlap.
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default, as in libpq): TLS if the server offers it, plain otherwise.
//! - `require`: TLS or no connection.
//! - `verify-full`: TLS, and the server certificate must chain to a trusted root and name the host.
//!
//! As in libpq, `prefer` and `require` encrypt without authenticating the server (protection
//! against passive eavesdropping only) unless `sslrootcert` names a CA file, in which case the
//! certificate is verified as with `verify-full`. Unlike libpq, `prefer` with `sslrootcert`
//! does not fall back to plain text when the server offers no TLS: it fails as `require` does. `verify-full` without `sslrootcert` trusts the
//! system's root certificates.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;

use super::options::{PgOptions, SslMode as PgSslMode};
use crate::error::{Error, Result};

/// What the connection string asks of TLS.
#[derive(Clone)]
pub(super) struct Tls {
    pub mode: SslMode,
    /// `None` when `mode` is `Disable`.
    pub client: Option<Arc<ClientConfig>>,
}

pub(super) fn from_options(options: &PgOptions) -> Result<Tls> {
    let (mode, verify) = match options.sslmode {
        PgSslMode::Disable => {
            return Ok(Tls {
                mode: SslMode::Disable,
                client: None,
            })
        }
        // A CA given is a request to authenticate the server: no plain-text fallback then.
        PgSslMode::Prefer if options.sslrootcert.is_some() => (SslMode::Require, true),
        PgSslMode::Prefer => (SslMode::Prefer, false),
        PgSslMode::Require => (SslMode::Require, false),
        PgSslMode::VerifyFull => (SslMode::Require, true),
    };
    // Both of rustls' providers may be compiled in (other stores pull in ring); name one so
    // that rustls never has to guess at run time.
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
    let client = match options.sslrootcert.as_deref() {
        Some(path) => builder
            .with_root_certificates(roots_from_file(path)?)
            .with_no_client_auth(),
        None if verify => builder
            .with_root_certificates(system_roots()?)
            .with_no_client_auth(),
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth(),
    };
    Ok(Tls {
        mode,
        client: Some(Arc::new(client)),
    })
}

fn roots_from_file(path: &str) -> Result<RootCertStore> {
    let bad = |why: String| Error::invalid(format!("option `sslrootcert`: `{path}`: {why}"));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("unusable certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("contains no certificate".into()));
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(Error::invalid(
            "option `sslmode`: verify-full needs trusted roots, and the system has none: set `sslrootcert`",
        ));
    }
    Ok(roots)
}

/// libpq's `sslmode=require` without a root certificate: encrypt, accept any server
/// certificate, but still check the handshake signatures so the session keys are sound.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
