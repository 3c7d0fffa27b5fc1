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

use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;

use crate::error::{Error, Result};
use crate::uri::Config;

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

/// Where the trusted roots come from.
enum Roots<'a> {
    None,
    File(&'a str),
    System,
}

pub(super) fn from_config(config: &Config) -> Result<Tls> {
    let roots = match config.param("sslrootcert") {
        None => Roots::None,
        Some("system") => Roots::System,
        Some(path) => Roots::File(path),
    };
    let default = match roots {
        Roots::System => "verify-full",
        _ => "prefer",
    };
    let sslmode = config.param("sslmode").unwrap_or(default);
    let (mode, check) = match (sslmode, &roots) {
        ("disable", _) => {
            return Ok(Tls {
                mode: SslMode::Disable,
                client: None,
            })
        }
        (other, Roots::System) if other != "verify-full" => {
            return Err(Error::invalid(format!(
                "option `sslmode`: `{other}` with sslrootcert=system: the system's roots vouch                  for whatever host names they certified, so only verify-full checks enough                  (as in libpq)"
            )))
        }
        // A CA given is a request to authenticate the server: no plain-text fallback then.
        ("prefer" | "require", Roots::File(_)) => (SslMode::Require, Check::Chain),
        ("prefer", _) => (SslMode::Prefer, Check::Nothing),
        ("require", _) => (SslMode::Require, Check::Nothing),
        ("verify-ca", Roots::None) => {
            return Err(Error::invalid(
                "option `sslmode`: verify-ca needs `sslrootcert` (the CA file that signed the                  server's certificate): against the system's roots, a check of the chain alone                  would accept any certificate a public CA issued",
            ))
        }
        ("verify-ca", _) => (SslMode::Require, Check::Chain),
        ("verify-full", _) => (SslMode::Require, Check::ChainAndName),
        (other, _) => {
            return Err(Error::invalid(format!(
                "option `sslmode`: bad value `{other}`: expected disable, prefer, require, \
                 verify-ca or verify-full"
            )))
        }
    };
    // Both of rustls' providers may be compiled in (other stores pull in ring); name one so
    // that rustls never has to guess at run time.
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if check == Check::Nothing {
        Arc::new(Lenient {
            provider,
            chain: None,
        })
    } else {
        let roots = match roots {
            Roots::File(path) => roots_from_file(path)?,
            Roots::System | Roots::None => system_roots()?,
        };
        let webpki =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::internal(format!("TLS setup: {e}")))?;
        match check {
            Check::Chain => Arc::new(Lenient {
                provider,
                chain: Some(webpki),
            }),
            _ => webpki,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let client = match client_identity(config)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| {
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
    config: &Config,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    let (cert, key) = match (config.param("sslcert"), config.param("sslkey")) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => {
            return Err(Error::invalid(
                "option `sslkey`: missing: `sslcert` needs the key file that goes with it",
            ))
        }
        (None, Some(_)) => {
            return Err(Error::invalid(
                "option `sslcert`: missing: `sslkey` needs the certificate file that goes with it",
            ))
        }
    };
    let bad = |option: &str, path: &str, why: String| {
        Error::invalid(format!("option `{option}`: `{path}`: {why}"))
    };
    let bytes = std::fs::read(cert).map_err(|e| bad("sslcert", cert, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("sslcert", cert, format!("not a PEM certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(bad("sslcert", cert, "contains no certificate".into()));
    }
    key_file_is_private(key)?;
    let bytes = std::fs::read(key).map_err(|e| bad("sslkey", key, e.to_string()))?;
    let key_der = PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| bad("sslkey", key, format!("no PEM private key: {e}")))?;
    Ok(Some((chain, key_der)))
}

/// libpq's rule for the key file: whoever else may read it holds the client's identity.
fn key_file_is_private(path: &str) -> Result<()> {
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
                "option `sslkey`: `{path}` has group or world access (mode {mode:o}): it must                  have permissions u=rw (0600) or less if owned by the current user, or u=rw,g=r                  (0640) or less if owned by root"
            ),
        ));
    }
    Ok(())
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

/// The checks short of `verify-full`: none of the certificate (libpq's `require` without a CA),
/// or its chain without the host name (`verify-ca`). The handshake signatures are checked
/// either way, so the session keys are sound.
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    /// Checks the chain when set. rustls' verifier checks the host name last, after the chain
    /// and its revocation data, so its name error means all else passed.
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
