//! HTTPS for a county network: an office certificate authority, the server's certificate for
//! its names and addresses, and the rustls configurations of the server and of the
//! command-line device.
//!
//! `lianxin admin tls init --name NAME... [--ip ADDR...]` writes, in `DATA/tls/`:
//! `ca.pem` (the office CA's certificate, which tablets install and the server offers at
//! `/ca.pem`), `ca-key.pem` (its key: keep it off the server once the certificate is made),
//! `server.pem` (the server's certificate followed by the CA's) and `server-key.pem`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
};
use sha2::{Digest, Sha256};

/// What `tls init` wrote.
#[derive(Debug)]
pub struct Issued {
    pub ca_cert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// base64(SHA-256(SubjectPublicKeyInfo)) of the server's key: what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes, and a fingerprint to read out on the
    /// phone when installing the CA.
    pub spki_sha256: String,
}

/// The files `tls init` writes under a data directory.
pub fn paths(data: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let dir = data.join("tls");
    (
        dir.join("ca.pem"),
        dir.join("ca-key.pem"),
        dir.join("server.pem"),
        dir.join("server-key.pem"),
    )
}

/// The calendar year of a Unix time in milliseconds (UTC; a certificate's dates are coarse).
fn year_of(now_ms: i64) -> i32 {
    lianxin_shared::Date::from_unix_ms_china(now_ms).ymd().0
}

fn validity(params: &mut CertificateParams, now_ms: i64, years: i32) {
    let year = year_of(now_ms);
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + years, 1, 1);
}

/// Makes the office CA (kept if it exists already, so re-running for a new name does not
/// make tablets install a new CA) and a server certificate for `names` and `ips`.
pub fn init(
    data: &Path,
    county: &str,
    names: &[String],
    ips: &[IpAddr],
    now_ms: i64,
) -> anyhow::Result<Issued> {
    anyhow::ensure!(
        !names.is_empty() || !ips.is_empty(),
        "give the server's names (--name) and/or addresses (--ip) as tablets will type them"
    );
    let (ca_path, ca_key_path, cert_path, key_path) = paths(data);
    std::fs::create_dir_all(data.join("tls"))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("{county} 连心 office CA"));
    dn.push(DnType::OrganizationName, county);
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca_params, now_ms, 20);
    let ca_key = if ca_key_path.is_file() && ca_path.is_file() {
        KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path)?)?
    } else {
        let key = KeyPair::generate()?;
        let cert = ca_params.self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&ca_path, cert.pem())?;
        key
    };
    let ca_pem = std::fs::read_to_string(&ca_path)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key)?;

    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .subject_alt_names
        .extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| ips[0].to_string()),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, now_ms, 2);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    std::fs::write(&cert_path, format!("{}{}", cert.pem(), ca_pem))?;
    write_private(&key_path, &key.serialize_pem())?;
    Ok(Issued {
        ca_cert: ca_path,
        cert: cert_path,
        key: key_path,
        spki_sha256: spki_sha256(&key),
    })
}

pub fn spki_sha256(key: &impl PublicKeyData) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(key.subject_public_key_info()))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(text.as_bytes())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's TLS configuration from PEM files (the certificate chain and its key).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("bad certificate in {}: {e}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "no certificate in {}", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("cannot read the key {}: {e}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // HTTP/1.1 only: the sync WebSocket is an HTTP/1.1 upgrade.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting exactly the CA certificates in `ca` (PEM), as a tablet
/// that installed the office CA does.
pub fn client_config(ca: &Path) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", ca.display()))?
    {
        roots
            .add(cert.map_err(|e| anyhow::anyhow!("bad certificate in {}: {e}", ca.display()))?)?;
    }
    anyhow::ensure!(!roots.is_empty(), "no certificate in {}", ca.display());
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}
