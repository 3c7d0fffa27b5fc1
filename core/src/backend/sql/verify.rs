//! The checks of a server certificate short of `verify-full` that both SQL stores make: none
//! (libpq's `require` without a CA), or its chain up to a trusted root without the host name
//! (`verify-ca`). The handshake signatures are checked either way, so the session keys are
//! sound.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Where [`Lenient`] keeps the DER of the certificate it accepted.
pub(crate) type Seen = Arc<Mutex<Option<Vec<u8>>>>;

#[derive(Debug)]
pub(crate) struct Lenient {
    provider: Arc<CryptoProvider>,
    /// Checks the chain when set (not the name: `chain_verdict`).
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// Keeps the accepted certificate when set.
    seen: Option<Seen>,
}

impl Lenient {
    /// Checks the chain with `chain`, or nothing of the certificate if `None`.
    pub fn new(provider: Arc<CryptoProvider>, chain: Option<Arc<WebPkiServerVerifier>>) -> Self {
        Lenient {
            provider,
            chain,
            seen: None,
        }
    }

    /// Keeps the certificate it accepts in `seen`.
    pub fn keeping(self, seen: Seen) -> Self {
        Lenient {
            seen: Some(seen),
            ..self
        }
    }
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
        let checked = match &self.chain {
            Some(chain) => crate::backend::tls::chain_verdict(chain.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ))?,
            None => ServerCertVerified::assertion(),
        };
        if let Some(seen) = &self.seen {
            *seen.lock().unwrap() = Some(end_entity.to_vec());
        }
        Ok(checked)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
