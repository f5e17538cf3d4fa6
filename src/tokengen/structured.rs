//! Test data for the structured rules (see `crate::parse`): PEM blocks
//! built from random DER-shaped bytes, JWTs from JSON claims with a random
//! signature, age keys with a valid bech32 checksum, passwords for
//! connection strings. None of it is a usable key or a token that verifies
//! anywhere: the RSA "modulus" is random bytes, the signatures are noise.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::families::{B62, HEX_LOWER};
use super::TokenRng;
use crate::rules::ParserKind;

/// How a PEM block's lines are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Real newlines, as in a key file.
    Plain,
    /// `\n` escapes, as inside a JSON string (a service account file).
    JsonEscaped,
}

/// A token for a rule with a parser: what its examples' `{{token:ID}}`
/// placeholders become. `None` for a parser without a generator.
pub fn generate(rule: &str, parser: ParserKind, rng: &mut TokenRng) -> Option<String> {
    Some(match parser {
        ParserKind::PrivateKey => {
            const LABELS: &[&str] = &[
                "RSA PRIVATE KEY",
                "EC PRIVATE KEY",
                "PRIVATE KEY",
                "OPENSSH PRIVATE KEY",
            ];
            let label = LABELS[rng.below(LABELS.len() as u64) as usize];
            pem_block(label, rng, Lines::Plain)
        }
        ParserKind::Jwt => jwt(rng, Claims::Generic),
        ParserKind::Age => age_secret_key(rng),
        ParserKind::Ppk => ppk(rng),
        ParserKind::Pgp => pgp_private_key(rng),
        // A key store in base64, as in an Azure `certificate` value.
        ParserKind::Pkcs12 => STANDARD.encode(pkcs12_der(rng, Pkcs12Kind::PlainKey)),
        // An account key without an identifiable signature: 64 random
        // bytes in base64.
        ParserKind::ConnectionString if rule.starts_with("azure-") => {
            STANDARD.encode(random(rng, 64))
        }
        ParserKind::ConnectionUrl | ParserKind::ConnectionString => password(rng),
        // Docker's and npm's `auth`: base64 of `user:password`.
        ParserKind::CredentialFile if rule.ends_with("-auth") => {
            STANDARD.encode(format!("deploy:{}", password(rng)))
        }
        // npm's `_password`: base64 of the password alone.
        ParserKind::CredentialFile if rule == "npmrc-password" => STANDARD.encode(password(rng)),
        ParserKind::CredentialFile => password(rng),
    })
}

/// A password as people and generators make them: letters and digits
/// with a symbol or two, 16 to 28 characters.
pub fn password(rng: &mut TokenRng) -> String {
    let len = 16 + rng.below(13) as usize;
    let mut out = rng.string(B62, len);
    // A symbol in the middle, of those URLs and `key=value;` strings carry
    // unescaped.
    let symbols = b"!*-_.~";
    let at = 1 + rng.below((len - 2) as u64) as usize;
    out.replace_range(at..at + 1, &char::from(rng.pick(symbols)).to_string());
    out
}

// --- PEM -----------------------------------------------------------------

fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(contents);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// A positive INTEGER of `bytes` random bytes with its top bit set (so the
/// bit length is exact), with the leading zero DER then needs.
fn big_int(rng: &mut TokenRng, bytes: usize) -> Vec<u8> {
    let mut value = vec![0u8; bytes + 1];
    rng.fill_bytes(&mut value[1..]);
    value[1] |= 0x80;
    der(0x02, &value)
}

fn small_int(value: u8) -> Vec<u8> {
    der(0x02, &[value])
}

fn random(rng: &mut TokenRng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];

/// PKCS#1 RSAPrivateKey shape, 2048-bit: random integers, not a key.
fn pkcs1_rsa(rng: &mut TokenRng) -> Vec<u8> {
    let mut parts = vec![small_int(0), big_int(rng, 256), der(0x02, &[1, 0, 1])];
    parts.push(big_int(rng, 256));
    for _ in 0..5 {
        parts.push(big_int(rng, 128));
    }
    seq(&parts)
}

/// SEC 1 ECPrivateKey shape on P-256.
fn sec1_ec(rng: &mut TokenRng) -> Vec<u8> {
    let mut point = vec![0x00, 0x04];
    point.extend(random(rng, 64));
    seq(&[
        small_int(1),
        der(0x04, &random(rng, 32)),
        der(0xA0, &der(0x06, OID_P256)),
        der(0xA1, &der(0x03, &point)),
    ])
}

fn pkcs8_rsa(rng: &mut TokenRng) -> Vec<u8> {
    seq(&[
        small_int(0),
        seq(&[der(0x06, OID_RSA), der(0x05, &[])]),
        der(0x04, &pkcs1_rsa(rng)),
    ])
}

fn pkcs8_encrypted(rng: &mut TokenRng) -> Vec<u8> {
    seq(&[
        seq(&[der(0x06, OID_PBES2), seq(&[der(0x04, &random(rng, 16))])]),
        der(0x04, &random(rng, 1232)),
    ])
}

fn ssh_string(out: &mut Vec<u8>, value: &[u8]) {
    out.extend((value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// OpenSSH `openssh-key-v1` with an Ed25519 key and no cipher.
fn openssh_ed25519(rng: &mut TokenRng) -> Vec<u8> {
    let public_key = random(rng, 32);
    let mut public = Vec::new();
    ssh_string(&mut public, b"ssh-ed25519");
    ssh_string(&mut public, &public_key);
    let check = random(rng, 4);
    let mut private = Vec::new();
    private.extend(&check);
    private.extend(&check);
    ssh_string(&mut private, b"ssh-ed25519");
    ssh_string(&mut private, &public_key);
    let mut secret = random(rng, 32);
    secret.extend(&public_key);
    ssh_string(&mut private, &secret);
    ssh_string(&mut private, b"");
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut out = b"openssh-key-v1\0".to_vec();
    ssh_string(&mut out, b"none");
    ssh_string(&mut out, b"none");
    ssh_string(&mut out, b"");
    out.extend(1u32.to_be_bytes());
    ssh_string(&mut out, &public);
    ssh_string(&mut out, &private);
    out
}

/// A PEM block with `label` whose body has the structure the label names
/// (random contents). Unknown labels get a PKCS#8 body.
pub fn pem_block(label: &str, rng: &mut TokenRng, lines: Lines) -> String {
    let (body, width) = match label {
        "RSA PRIVATE KEY" => (pkcs1_rsa(rng), 64),
        "EC PRIVATE KEY" => (sec1_ec(rng), 64),
        "ENCRYPTED PRIVATE KEY" => (pkcs8_encrypted(rng), 64),
        "OPENSSH PRIVATE KEY" => (openssh_ed25519(rng), 70),
        _ => (pkcs8_rsa(rng), 64),
    };
    let encoded = STANDARD.encode(body);
    let newline = match lines {
        Lines::Plain => "\n",
        Lines::JsonEscaped => "\\n",
    };
    let mut out = format!("-----BEGIN {label}-----{newline}");
    for chunk in encoded.as_bytes().chunks(width) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str(newline);
    }
    out.push_str(&format!("-----END {label}-----"));
    out
}

// --- PKCS#12 -------------------------------------------------------------

/// What a generated PKCS#12 key store holds and how it is protected.
/// (The fixtures use one kind; the tests, through the test-support API,
/// all of them.)
#[cfg_attr(not(any(test, feature = "test-support")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkcs12Kind {
    /// A key bag in the clear and no MAC (`openssl pkcs12 -export -nomac
    /// -keypbe NONE -certpbe NONE`).
    PlainKey,
    /// A password-encrypted key and a SHA-256 MAC keyed by the empty
    /// password (`-passout pass:`).
    EmptyPassword,
    /// The same with a password that is not empty.
    Password,
    /// Certificates only, no key: a trust store.
    CertificatesOnly,
}

const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
const OID_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01];
const OID_X509_CERT: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// A SafeBag of PKCS#12 bag type `kind` (1 key, 2 shrouded key, 3 cert).
fn safe_bag(kind: u8, value: Vec<u8>) -> Vec<u8> {
    let mut oid = OID_BAG.to_vec();
    oid.push(kind);
    seq(&[der(0x06, &oid), der(0xA0, &value)])
}

fn data_info(contents: &[u8]) -> Vec<u8> {
    seq(&[der(0x06, OID_DATA), der(0xA0, &der(0x04, contents))])
}

/// A certificate bag around random DER-shaped bytes (no certificate).
fn cert_bag(rng: &mut TokenRng) -> Vec<u8> {
    let cert = seq(&[seq(&[big_int(rng, 16), der(0x04, &random(rng, 600))])]);
    safe_bag(
        3,
        seq(&[der(0x06, OID_X509_CERT), der(0xA0, &der(0x04, &cert))]),
    )
}

/// A PKCS#12 PFX of `kind` with random contents: its structure, bags and
/// (for the password kinds) a MAC computed as RFC 7292 says, but no usable
/// key or certificate inside.
pub fn pkcs12_der(rng: &mut TokenRng, kind: Pkcs12Kind) -> Vec<u8> {
    use crate::parse::pkcs12::{kdf, MacHash};
    let certs = data_info(&seq(&[cert_bag(rng)]));
    let parts = match kind {
        Pkcs12Kind::PlainKey => vec![certs, data_info(&seq(&[safe_bag(1, pkcs8_rsa(rng))]))],
        Pkcs12Kind::EmptyPassword | Pkcs12Kind::Password => {
            // As OpenSSL writes them: certificates in an encryptedData
            // part, the key shrouded in a data part.
            let encrypted = seq(&[
                der(0x06, OID_ENCRYPTED_DATA),
                der(
                    0xA0,
                    &seq(&[
                        small_int(0),
                        seq(&[
                            der(0x06, OID_DATA),
                            seq(&[der(0x06, OID_PBES2), seq(&[der(0x04, &random(rng, 16))])]),
                            der(0x80, &random(rng, 640)),
                        ]),
                    ]),
                ),
            ]);
            vec![
                encrypted,
                data_info(&seq(&[safe_bag(2, pkcs8_encrypted(rng))])),
            ]
        }
        Pkcs12Kind::CertificatesOnly => vec![certs],
    };
    let authenticated = seq(&parts);
    let mut pfx = vec![small_int(3), data_info(&authenticated)];
    if matches!(kind, Pkcs12Kind::EmptyPassword | Pkcs12Kind::Password) {
        let salt = random(rng, 8);
        // The empty password is its BMPString's NUL; another is UTF-16BE
        // with one.
        let password: Vec<u8> = match kind {
            Pkcs12Kind::EmptyPassword => vec![0, 0],
            _ => rng
                .string(B62, 12)
                .bytes()
                .flat_map(|b| [0, b])
                .chain([0, 0])
                .collect(),
        };
        let key = kdf(MacHash::Sha256, &password, &salt, 2048, 3, 32);
        let mac = MacHash::Sha256.hmac(&key, &authenticated);
        pfx.push(seq(&[
            seq(&[
                seq(&[der(0x06, OID_SHA256), der(0x05, &[])]),
                der(0x04, &mac),
            ]),
            der(0x04, &salt),
            der(0x02, &[0x08, 0x00]),
        ]));
    }
    seq(&pfx)
}

// --- JWT -----------------------------------------------------------------

/// Which claims a generated JWT carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claims {
    /// An API's own token: issuer, subject, audience, expiry far ahead.
    Generic,
    /// The same, expired in 2020.
    Expired,
    /// An Entra ID (Azure AD) access token as `az account
    /// get-access-token` prints it: tenant, app id, v1 issuer.
    Entra,
    /// A Kubernetes service-account token (no expiry: a legacy secret).
    Kubernetes,
}

/// 2100-01-01: far enough that a generated token is never expired.
const FAR_FUTURE: u64 = 4_102_444_800;
/// 2020-01-01.
const PAST: u64 = 1_577_836_800;

fn uuid(rng: &mut TokenRng) -> String {
    let hex = rng.string(HEX_LOWER, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A signed-looking JWT: JSON header and claims, random RS256-sized
/// signature.
pub fn jwt(rng: &mut TokenRng, claims: Claims) -> String {
    let kid = rng.string(B62, 27);
    let day = rng.below(3650) * 86_400;
    let (header, payload) = match claims {
        Claims::Generic | Claims::Expired => {
            let exp = if claims == Claims::Expired {
                PAST + day % (86_400 * 300)
            } else {
                FAR_FUTURE + day
            };
            (
                format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#),
                format!(
                    r#"{{"iss":"https://auth.contoso.net/","sub":"{}","aud":"orders-api","iat":{},"exp":{exp}}}"#,
                    uuid(rng),
                    exp - 3600
                ),
            )
        }
        Claims::Entra => {
            let tenant = uuid(rng);
            let exp = FAR_FUTURE + day;
            (
                format!(r#"{{"typ":"JWT","alg":"RS256","x5t":"{kid}","kid":"{kid}"}}"#),
                format!(
                    r#"{{"aud":"https://management.core.windows.net/","iss":"https://sts.windows.net/{tenant}/","iat":{},"nbf":{},"exp":{exp},"appid":"{}","appidacr":"0","idtyp":"user","oid":"{}","scp":"user_impersonation","tid":"{tenant}","ver":"1.0"}}"#,
                    exp - 4000,
                    exp - 4000,
                    uuid(rng),
                    uuid(rng)
                ),
            )
        }
        Claims::Kubernetes => (
            format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#),
            format!(
                r#"{{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"build","kubernetes.io/serviceaccount/secret.name":"deployer-token-{}","kubernetes.io/serviceaccount/service-account.name":"deployer","sub":"system:serviceaccount:build:deployer"}}"#,
                rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 5)
            ),
        ),
    };
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(random(rng, 256))
    )
}

// --- age -----------------------------------------------------------------

/// An age X25519 identity: 32 random bytes, bech32 with a valid checksum.
pub fn age_secret_key(rng: &mut TokenRng) -> String {
    let key = random(rng, 32);
    crate::parse::age::encode("age-secret-key-", &key).to_ascii_uppercase()
}

/// An age key with one data character changed: its bech32 checksum fails.
pub fn corrupt_age(rng: &mut TokenRng) -> Option<String> {
    let valid = age_secret_key(rng);
    let mut bytes = valid.into_bytes();
    let prefix = "AGE-SECRET-KEY-1".len();
    let at = prefix + rng.below(50) as usize;
    const UPPER: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
    let others: Vec<u8> = UPPER.iter().copied().filter(|&c| c != bytes[at]).collect();
    bytes[at] = rng.pick(&others);
    String::from_utf8(bytes).ok()
}

// --- OpenPGP -------------------------------------------------------------

/// An armored OpenPGP private key: a v4 EdDSA Secret-Key packet with an
/// unprotected (random) secret and a User ID, and a valid armor CRC-24.
pub fn pgp_private_key(rng: &mut TokenRng) -> String {
    let mut key = vec![4u8];
    key.extend(random(rng, 4));
    key.push(22);
    key.extend([9, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]);
    key.extend([0x01, 0x07, 0x40]);
    key.extend(random(rng, 32));
    key.push(0);
    let mut secret = random(rng, 32);
    secret[0] |= 0x80;
    let sum = secret
        .iter()
        .fold(0u16, |acc, &b| acc.wrapping_add(u16::from(b)));
    key.extend([0x01, 0x00]);
    key.extend(&secret);
    key.extend(sum.to_be_bytes());
    let uid = b"CI Release Bot <release@contoso.net>";
    let mut packets = vec![0xC5, key.len() as u8];
    packets.extend(&key);
    packets.extend([0xCD, uid.len() as u8]);
    packets.extend(uid);
    let crc = crate::parse::pgp::crc24(&packets).to_be_bytes();
    let body = STANDARD.encode(&packets);
    let mut out = String::from("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push('=');
    out.push_str(&STANDARD.encode(&crc[1..]));
    out.push_str("\n-----END PGP PRIVATE KEY BLOCK-----");
    out
}

// --- PuTTY ---------------------------------------------------------------

/// A PuTTY v3 `.ppk` file with an Ed25519 key and no encryption.
pub fn ppk(rng: &mut TokenRng) -> String {
    let mut public = Vec::new();
    ssh_string(&mut public, b"ssh-ed25519");
    ssh_string(&mut public, &random(rng, 32));
    let mut private = Vec::new();
    ssh_string(&mut private, &random(rng, 32));
    let public = STANDARD.encode(public);
    let private = STANDARD.encode(private);
    let lines = |text: &str| -> Vec<String> {
        text.as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    };
    let (public, private) = (lines(&public), lines(&private));
    format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@build-agent\nPublic-Lines: {}\n{}\nPrivate-Lines: {}\n{}\nPrivate-MAC: {}",
        public.len(),
        public.join("\n"),
        private.len(),
        private.join("\n"),
        rng.string(HEX_LOWER, 64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_vary_and_have_a_symbol() {
        let mut rng = TokenRng::new(1);
        let a = password(&mut rng);
        let b = password(&mut rng);
        assert_ne!(a, b);
        assert!(a.bytes().any(|c| b"!*-_.~".contains(&c)));
    }

    #[test]
    fn a_json_escaped_block_has_no_real_newline() {
        let mut rng = TokenRng::new(2);
        let pem = pem_block("EC PRIVATE KEY", &mut rng, Lines::JsonEscaped);
        assert!(!pem.contains('\n'));
        assert!(pem.contains("\\n"));
    }
}
