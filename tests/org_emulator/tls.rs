//! HTTPS for the emulator: a CA made for the test run, a certificate for
//! 127.0.0.1 it issues, and the server side of each connection.

use std::net::TcpStream;
use std::sync::Arc;

/// A server configuration whose certificate (for the IP 127.0.0.1) chains
/// to a fresh CA, and that CA's certificate in PEM for the client's
/// `SSL_CERT_FILE`.
pub fn server_config_for_loopback() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "patscan test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let leaf_key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("server parameters")
        .signed_by(&leaf_key, &ca)
        .expect("server certificate");
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
        .expect("server key in DER");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .expect("server certificate and key");
    (Arc::new(config), ca.pem())
}

/// The server side of one HTTPS connection, once the handshake is done: a
/// client that does not trust the certificate ends here with an error and
/// has sent no request.
pub fn accept(
    config: Arc<rustls::ServerConfig>,
    mut tcp: TcpStream,
) -> std::io::Result<rustls::StreamOwned<rustls::ServerConnection, TcpStream>> {
    let mut connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    while connection.is_handshaking() {
        connection.complete_io(&mut tcp)?;
    }
    Ok(rustls::StreamOwned::new(connection, tcp))
}
