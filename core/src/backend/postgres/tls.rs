//! TLS for the postgres store, following libpq's `sslmode`, `sslrootcert`, `sslcert` and
//! `sslkey`.
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default, as in libpq): TLS if the server offers it, plain otherwise.
//! - `require`: TLS or no connection.
//! - `verify-ca`: TLS, and the server certificate must chain to a CA of `sslrootcert`; its host
//!   names are not checked.
//! - `verify-full`: as `verify-ca`, and the certificate must also name the host connected to.
//!
//! As in libpq, `prefer` and `require` encrypt without authenticating the server (protection
//! against passive eavesdropping only) unless `sslrootcert` names a CA file: then they verify
//! the chain as `verify-ca` does. Unlike libpq, `prefer` with `sslrootcert` does not fall back
//! to plain text when the server offers no TLS: it fails as `require` does.
//!
//! `sslrootcert=system` trusts the system's roots and, as in libpq, allows only `verify-full`
//! (its default then): a public CA vouches for any host name it certified, so a chain check
//! alone would accept any site's certificate. Unlike libpq (which reads
//! `~/.postgresql/root.crt`), `verify-full` without `sslrootcert` also trusts the system roots;
//! `verify-ca` without it is refused for the reason above.
//!
//! `sslcert` and `sslkey` (PEM files) present a client certificate. The key file is refused,
//! as libpq refuses it, when group or others may read it: mode 0600 or less when it belongs to
//! the current user, 0640 or less when it belongs to root.

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres::config::SslMode;

use super::options::{PgOptions, RootCert, SslMode as PgSslMode};
use crate::backend::sql::verify::Lenient;
use crate::error::{Error, Result};

/// What the connection string asks of TLS.
#[derive(Clone)]
pub(super) struct Tls {
    pub mode: SslMode,
    /// `None` when `mode` is `Disable`.
    pub client: Option<Arc<ClientConfig>>,
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Check {
    /// Nothing but the handshake signatures (libpq's `require` without a CA).
    Nothing,
    /// The chain up to a trusted root, not the host names (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    ChainAndName,
}

pub(super) fn from_options(options: &PgOptions) -> Result<Tls> {
    let (mode, check) = match (options.sslmode, &options.sslrootcert) {
        (PgSslMode::Disable, _) => {
            return Ok(Tls {
                mode: SslMode::Disable,
                client: None,
            })
        }
        // A CA given is a request to authenticate the server: no plain-text fallback then.
        (PgSslMode::Prefer | PgSslMode::Require, Some(RootCert::File(_))) => {
            (SslMode::Require, Check::Chain)
        }
        (PgSslMode::Prefer, _) => (SslMode::Prefer, Check::Nothing),
        (PgSslMode::Require, _) => (SslMode::Require, Check::Nothing),
        (PgSslMode::VerifyCa, _) => (SslMode::Require, Check::Chain),
        (PgSslMode::VerifyFull, _) => (SslMode::Require, Check::ChainAndName),
    };
    // Named rather than the process default: a host application may link a second provider.
    let provider = Arc::new(crate::backend::tls::crypto_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if check == Check::Nothing {
        Arc::new(Lenient::new(provider, None))
    } else {
        let roots = match &options.sslrootcert {
            Some(RootCert::File(path)) => roots_from_file(path)?,
            Some(RootCert::System) | None => system_roots()?,
        };
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
        match check {
            Check::Chain => Arc::new(Lenient::new(provider, Some(webpki))),
            _ => webpki,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let client = match client_identity(options)? {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            Error::invalid(format!(
                "options `sslcert` and `sslkey`: not usable as a client certificate and its \
                     key: {e}"
            ))
        })?,
        None => builder.with_no_client_auth(),
    };
    Ok(Tls {
        mode,
        client: Some(Arc::new(client)),
    })
}

/// The client certificate chain of `sslcert` and the key of `sslkey`, if given.
fn client_identity(
    options: &PgOptions,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    let Some((cert, key)) = &options.identity else {
        return Ok(None);
    };
    let pem = crate::backend::tls::read_client_pem(cert, key)?;
    Ok(Some((pem.chain, pem.key)))
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
            "option `sslrootcert`: the system has no trusted roots: name a CA file",
        ));
    }
    Ok(roots)
}
