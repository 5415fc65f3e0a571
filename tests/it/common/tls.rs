//! TLS for test servers: a private certificate authority and a server certificate it signed
//! for `127.0.0.1` and `localhost`, or a self-signed one nobody trusts; and a [`Hostile`]
//! server speaking TLS with either (rustls with ring, as reqwest uses).
//!
//! ```ignore
//! let ca = PrivateCa::new();
//! let h = serve_tls(Behaviour::Body(finished.into()), ca.server_config());
//! // trust it: .env("SSL_CERT_FILE", ca.write_pem(&dir))
//! ```

use super::hostile::{Behaviour, Conn, Hostile};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The names every test server certificate is for.
const NAMES: &[&str] = &["127.0.0.1", "localhost"];

/// A certificate authority of our own, and a server certificate it signed.
pub struct PrivateCa {
    /// The CA's certificate, PEM: what a client must trust.
    pub ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: Vec<u8>,
}

impl PrivateCa {
    pub fn new() -> PrivateCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "dli-wait test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(params, ca_key);
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf = leaf_params("dli-wait test server")
            .signed_by(&leaf_key, &issuer)
            .expect("server certificate");
        PrivateCa {
            ca_pem: ca_cert.pem(),
            server_cert: leaf.der().clone(),
            server_key: leaf_key.serialize_der(),
        }
    }

    /// A TLS server configuration presenting the certificate this CA signed.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        server_config(self.server_cert.clone(), self.server_key.clone())
    }

    /// Write the CA's certificate as `ca.pem` in `dir`; its path.
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write ca.pem");
        path
    }
}

fn leaf_params(common_name: &str) -> CertificateParams {
    let mut params =
        CertificateParams::new(NAMES.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("server params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params
}

/// A server configuration with a self-signed certificate (an issuer nobody trusts).
pub fn self_signed() -> Arc<rustls::ServerConfig> {
    let key = KeyPair::generate().expect("key");
    let cert = leaf_params("dli-wait self-signed test server")
        .self_signed(&key)
        .expect("self-signed certificate");
    server_config(cert.der().clone(), key.serialize_der())
}

fn server_config(cert: CertificateDer<'static>, key: Vec<u8>) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .expect("server certificate and key");
    Arc::new(config)
}

/// A [`Hostile`] server speaking TLS with `config` (endpoint `https://127.0.0.1:<port>`).
pub fn serve_tls(behaviour: Behaviour, config: Arc<rustls::ServerConfig>) -> Hostile {
    Hostile::serve(
        behaviour,
        "https",
        Arc::new(move |tcp: TcpStream| {
            let conn = rustls::ServerConnection::new(config.clone()).ok()?;
            Some(Box::new(rustls::StreamOwned::new(conn, tcp)) as Box<dyn Conn>)
        }),
    )
}
