//! PKCS#12 key stores (`.p12`, `.pfx`): the binary files that carry a
//! certificate with its private key (Windows certificate export, Azure App
//! Service and Key Vault certificates, Java and .NET key stores), and the
//! same bytes in base64 inside configuration (an Azure `certificate` JSON
//! value, a Kubernetes secret).
//!
//! Why a parser: a PFX is DER, so the file is found by its structure, not
//! by text: `SEQUENCE { INTEGER 3, ContentInfo authSafe, MacData? }`. The
//! authSafe's bags say what it holds: a `keyBag` is a private key in the
//! clear, a `pkcs8ShroudedKeyBag` one encrypted with the file's password, a
//! `certBag` only a certificate (a trust store holding only certificates is
//! no secret and gives no finding). Bags inside an `encryptedData` part
//! cannot be seen without the password.
//!
//! The password is usually unknowable, but one case is common and
//! decidable offline: an empty one (`openssl pkcs12 -export -passout
//! pass:`, many scripted exports). The MAC over the authSafe is an HMAC
//! keyed from the password (RFC 7292, appendix B); if it verifies with the
//! empty password, whoever has the file has the key. So:
//!
//! | what the file shows | confidence |
//! | --- | --- |
//! | a key bag in the clear, or a key and a MAC that verifies with the empty password | high |
//! | a password-protected key (or parts encrypted with the password) | low, `password=unknown` |
//! | certificates only | no finding |
//!
//! Nothing is decrypted; iterations above [`MAX_ITERATIONS`] are not run.

use base64::Engine as _;

use super::der::{self, Reader};
use super::Parsed;
use crate::model::Confidence;

const OID_DATA: &str = "1.2.840.113549.1.7.1";
const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
const OID_ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const OID_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
const OID_SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
const OID_CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
const OID_SAFE_CONTENTS_BAG: &str = "1.2.840.113549.1.12.10.1.6";

/// Most MAC iterations run to test the empty password: OpenSSL uses 2,048,
/// newer tools up to a few hundred thousand; a crafted file must not make
/// the scan spin.
pub const MAX_ITERATIONS: u64 = 1_000_000;
/// Largest PFX read: key stores are a few KB; a chain with many
/// certificates some tens.
pub const MAX_PFX: usize = 1 << 20;

/// What a PFX holds, as far as can be seen without its password.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pfx {
    /// Private keys in the clear (`keyBag`).
    pub plain_keys: usize,
    /// Private keys encrypted with the password (`pkcs8ShroudedKeyBag`).
    pub shrouded_keys: usize,
    pub certificates: usize,
    /// authSafe parts encrypted with the password (or to a recipient):
    /// what they hold is unknown.
    pub encrypted_parts: usize,
    /// The authSafe is signed (public-key integrity) or not DER: its
    /// contents were not read.
    pub unreadable: bool,
    /// The MAC's digest algorithm, when the file has one.
    pub mac: Option<&'static str>,
    /// The MAC verifies with the empty password.
    pub empty_password: bool,
}

impl Pfx {
    /// Whether the file may hold a private key at all.
    pub fn may_hold_key(&self) -> bool {
        self.plain_keys + self.shrouded_keys + self.encrypted_parts > 0 || self.unreadable
    }

    /// The finding's confidence (see the module doc).
    pub fn confidence(&self) -> Confidence {
        if self.plain_keys > 0 || (self.empty_password && self.may_hold_key()) {
            Confidence::High
        } else {
            Confidence::Low
        }
    }

    /// The finding's details: never the key, only what the file shows.
    pub fn details(&self) -> Vec<(String, String)> {
        let mut out = vec![("format".to_string(), "pkcs12".to_string())];
        let mut push = |k: &str, v: String| out.push((k.to_string(), v));
        push("keys", (self.plain_keys + self.shrouded_keys).to_string());
        if self.plain_keys > 0 {
            push("unencrypted_keys", self.plain_keys.to_string());
        }
        push("certificates", self.certificates.to_string());
        if self.encrypted_parts > 0 || self.unreadable {
            push("contents", "partly unreadable without the password".into());
        }
        push("mac", self.mac.unwrap_or("none").to_string());
        let password = if self.empty_password {
            "empty"
        } else if self.plain_keys > 0 && self.shrouded_keys == 0 && self.encrypted_parts == 0 {
            "none"
        } else {
            "unknown"
        };
        push("password", password.into());
        out
    }
}

/// Whether `bytes` start like a PFX: `SEQUENCE { INTEGER 3, SEQUENCE {
/// OID pkcs7-data or -signedData …` (a cheap test for every binary file).
pub fn looks_like_pfx(bytes: &[u8]) -> bool {
    let Some(rest) = skip_header(bytes, der::SEQUENCE) else {
        return false;
    };
    if !rest.starts_with(&[der::INTEGER, 0x01, 0x03]) {
        return false;
    }
    let Some(info) = skip_header(&rest[3..], der::SEQUENCE) else {
        return false;
    };
    let Some(oid) = Reader::new(info).expect(der::OID) else {
        return false;
    };
    matches!(
        der::oid_text(oid).as_deref(),
        Some(OID_DATA | OID_SIGNED_DATA)
    )
}

/// After the tag and length of the element at the start of `bytes`
/// (definite or indefinite length), if its tag is `tag`.
fn skip_header(bytes: &[u8], tag: u8) -> Option<&[u8]> {
    let (&t, rest) = bytes.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    if first < 0x80 {
        return Some(rest);
    }
    let n = usize::from(first & 0x7F);
    if n > 4 {
        return None;
    }
    rest.get(n..)
}

/// Reads a whole PFX. `None` when `bytes` is not one.
pub fn read(bytes: &[u8]) -> Option<Pfx> {
    if bytes.len() > MAX_PFX || !looks_like_pfx(bytes) {
        return None;
    }
    let mut pfx = Pfx::default();
    if bytes.get(1) == Some(&0x80) {
        // Indefinite lengths (BER, some Windows exports): a PFX, unread.
        pfx.unreadable = true;
        return Some(pfx);
    }
    let outer = Reader::new(bytes).expect(der::SEQUENCE)?;
    let mut outer = Reader::new(outer);
    let _version = outer.expect(der::INTEGER)?;
    let Some(auth_safe) = outer.expect(der::SEQUENCE) else {
        pfx.unreadable = true;
        return Some(pfx);
    };
    let mac_data = outer.expect(der::SEQUENCE);
    let mut info = Reader::new(auth_safe);
    let content_type = der::oid_text(info.expect(der::OID)?)?;
    let authenticated = match content_type.as_str() {
        OID_DATA => explicit_octets(&mut info),
        _ => None,
    };
    match &authenticated {
        Some(safe) => read_authenticated_safe(safe, &mut pfx),
        None => pfx.unreadable = true,
    }
    if let Some(mac_data) = mac_data {
        if let Some((name, verified)) = check_mac(mac_data, authenticated.as_deref()) {
            pfx.mac = Some(name);
            pfx.empty_password = verified;
        }
    }
    Some(pfx)
}

/// `[0] EXPLICIT OCTET STRING` (also BER's constructed OCTET STRING of
/// pieces): the bytes inside.
fn explicit_octets(info: &mut Reader) -> Option<Vec<u8>> {
    let content = info.expect(0xA0)?;
    let mut inner = Reader::new(content);
    match inner.element()? {
        (der::OCTET_STRING, bytes) => Some(bytes.to_vec()),
        (0x24, pieces) => {
            let mut out = Vec::new();
            let mut pieces = Reader::new(pieces);
            while let Some(piece) = pieces.expect(der::OCTET_STRING) {
                out.extend_from_slice(piece);
            }
            Some(out)
        }
        _ => None,
    }
}

/// AuthenticatedSafe: SEQUENCE OF ContentInfo.
fn read_authenticated_safe(bytes: &[u8], pfx: &mut Pfx) {
    let Some(list) = der::whole(bytes, der::SEQUENCE) else {
        pfx.unreadable = true;
        return;
    };
    let mut list = Reader::new(list);
    while let Some(info) = list.expect(der::SEQUENCE) {
        let mut info = Reader::new(info);
        let Some(kind) = info.expect(der::OID).and_then(der::oid_text) else {
            pfx.unreadable = true;
            continue;
        };
        match kind.as_str() {
            OID_DATA => match explicit_octets(&mut info) {
                Some(contents) => read_safe_contents(&contents, pfx, 0),
                None => pfx.unreadable = true,
            },
            OID_ENCRYPTED_DATA | OID_ENVELOPED_DATA => pfx.encrypted_parts += 1,
            _ => pfx.unreadable = true,
        }
    }
}

/// SafeContents: SEQUENCE OF SafeBag { OID, [0] value, attributes? }.
fn read_safe_contents(bytes: &[u8], pfx: &mut Pfx, depth: usize) {
    let Some(bags) = der::whole(bytes, der::SEQUENCE) else {
        pfx.unreadable = true;
        return;
    };
    let mut bags = Reader::new(bags);
    while let Some(bag) = bags.expect(der::SEQUENCE) {
        let mut bag = Reader::new(bag);
        let Some(kind) = bag.expect(der::OID).and_then(der::oid_text) else {
            continue;
        };
        match kind.as_str() {
            OID_KEY_BAG => pfx.plain_keys += 1,
            OID_SHROUDED_KEY_BAG => pfx.shrouded_keys += 1,
            OID_CERT_BAG => pfx.certificates += 1,
            OID_SAFE_CONTENTS_BAG if depth < 4 => {
                if let Some(value) = bag.expect(0xA0) {
                    read_safe_contents(value, pfx, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// MacData { DigestInfo { AlgorithmIdentifier, digest }, salt, iterations }:
/// the digest's name and whether the MAC verifies with the empty password.
fn check_mac(mac_data: &[u8], authenticated: Option<&[u8]>) -> Option<(&'static str, bool)> {
    let whole_mac_data = mac_data;
    let mut mac_data = Reader::new(mac_data);
    let mut digest_info = Reader::new(mac_data.expect(der::SEQUENCE)?);
    let mut algorithm = Reader::new(digest_info.expect(der::SEQUENCE)?);
    let oid = der::oid_text(algorithm.expect(der::OID)?)?;
    let digest = digest_info.expect(der::OCTET_STRING)?;
    let salt = mac_data.expect(der::OCTET_STRING)?;
    let iterations = match mac_data.expect(der::INTEGER) {
        Some(value) => der::small_int(value)?,
        None => 1,
    };
    let hash = MacHash::from_oid(&oid)?;
    let verified = match authenticated {
        Some(data) if (1..=MAX_ITERATIONS).contains(&iterations) => {
            remembered_mac_check(whole_mac_data, data, || {
                // OpenSSL writes the empty password as the BMPString's
                // terminating NUL alone; some tools use no bytes at all.
                [&[0u8, 0][..], &[][..]].iter().any(|password| {
                    let key = kdf(hash, password, salt, iterations, 3, hash.output_len());
                    hash.hmac_verify(&key, data, digest)
                })
            })
        }
        _ => false,
    };
    Some((hash.name(), verified))
}

/// A MAC check: the MacData, the data it covers, whether the empty
/// password verified it.
type MacCheck = (Vec<u8>, Vec<u8>, bool);

thread_local! {
    /// This thread's last MAC check.
    static LAST_MAC_CHECK: std::cell::RefCell<Option<MacCheck>> =
        const { std::cell::RefCell::new(None) };
}

/// `check()`'s answer for this MacData over `data`, remembered for the
/// next call. A store is read once to confirm a finding and right after
/// to describe it, and each check derives a key per candidate password
/// (thousands of SHA rounds): the second was 40% of a cached history
/// replay's CPU on azure-pipelines-tasks, whose test stores it re-reads.
/// Compared whole, so only the same store gets the same answer.
fn remembered_mac_check(mac_data: &[u8], data: &[u8], check: impl FnOnce() -> bool) -> bool {
    let known = LAST_MAC_CHECK.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(mac, covered, _)| mac == mac_data && covered == data)
            .map(|(_, _, verified)| *verified)
    });
    if let Some(verified) = known {
        return verified;
    }
    let verified = check();
    LAST_MAC_CHECK.with(|last| {
        *last.borrow_mut() = Some((mac_data.to_vec(), data.to_vec(), verified));
    });
    verified
}

/// The MAC digests PKCS#12 files use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl MacHash {
    fn from_oid(oid: &str) -> Option<MacHash> {
        Some(match oid {
            "1.3.14.3.2.26" => MacHash::Sha1,
            "2.16.840.1.101.3.4.2.1" => MacHash::Sha256,
            "2.16.840.1.101.3.4.2.2" => MacHash::Sha384,
            "2.16.840.1.101.3.4.2.3" => MacHash::Sha512,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MacHash::Sha1 => "sha1",
            MacHash::Sha256 => "sha256",
            MacHash::Sha384 => "sha384",
            MacHash::Sha512 => "sha512",
        }
    }

    fn digest_alg(self) -> &'static ring::digest::Algorithm {
        match self {
            MacHash::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            MacHash::Sha256 => &ring::digest::SHA256,
            MacHash::Sha384 => &ring::digest::SHA384,
            MacHash::Sha512 => &ring::digest::SHA512,
        }
    }

    fn hmac_alg(self) -> ring::hmac::Algorithm {
        match self {
            MacHash::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            MacHash::Sha256 => ring::hmac::HMAC_SHA256,
            MacHash::Sha384 => ring::hmac::HMAC_SHA384,
            MacHash::Sha512 => ring::hmac::HMAC_SHA512,
        }
    }

    pub fn output_len(self) -> usize {
        self.digest_alg().output_len()
    }

    fn block_len(self) -> usize {
        self.digest_alg().block_len()
    }

    fn hmac_verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        let key = ring::hmac::Key::new(self.hmac_alg(), key);
        ring::hmac::verify(&key, data, tag).is_ok()
    }

    /// The MAC of `data` under `key` (for building test files).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let key = ring::hmac::Key::new(self.hmac_alg(), key);
        ring::hmac::sign(&key, data).as_ref().to_vec()
    }
}

/// RFC 7292, appendix B.2: `n` bytes of key material of purpose `id` (3:
/// MAC key) from a BMPString `password` (with its NUL, as the caller gives
/// it), `salt` and `iterations`.
pub fn kdf(
    hash: MacHash,
    password: &[u8],
    salt: &[u8],
    iterations: u64,
    id: u8,
    n: usize,
) -> Vec<u8> {
    let u = hash.output_len();
    let v = hash.block_len();
    let fill = |data: &[u8]| -> Vec<u8> {
        if data.is_empty() {
            return Vec::new();
        }
        let len = v * data.len().div_ceil(v);
        data.iter().copied().cycle().take(len).collect()
    };
    let mut i: Vec<u8> = fill(salt);
    i.extend(fill(password));
    let mut out = Vec::with_capacity(n);
    loop {
        let mut context = ring::digest::Context::new(hash.digest_alg());
        context.update(&vec![id; v]);
        context.update(&i);
        let mut a = context.finish().as_ref().to_vec();
        for _ in 1..iterations {
            a = ring::digest::digest(hash.digest_alg(), &a)
                .as_ref()
                .to_vec();
        }
        out.extend_from_slice(&a[..u.min(n - out.len())]);
        if out.len() >= n {
            return out;
        }
        // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for block in i.chunks_mut(v) {
            let mut carry = 1u16;
            for k in (0..v).rev() {
                let sum = u16::from(block[k]) + u16::from(b[k]) + carry;
                block[k] = sum as u8;
                carry = sum >> 8;
            }
        }
    }
}

/// The base64 that starts at `start` of `text` (standard alphabet, `=`
/// padding), decoded if it is a PFX: the span and what it holds. The
/// base64 is one run, or lines of one width (64, 76: a YAML block, a
/// PowerShell here-string) each indented alike, the last one shorter.
pub fn parse(text: &[u8], start: usize) -> Option<Parsed> {
    let (encoded, end) = read_base64(text, start)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&encoded)
        .ok()?;
    let pfx = read(&bytes)?;
    if !pfx.may_hold_key() {
        return None;
    }
    let mut parsed = Parsed::new(start..end, pfx.confidence());
    parsed.details = pfx.details();
    parsed.detail("encoding", "base64");
    Some(parsed)
}

/// The base64 at `start` without its line breaks, and where it ends.
fn read_base64(text: &[u8], start: usize) -> Option<(Vec<u8>, usize)> {
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let run_at = |at: usize| text[at..].iter().take_while(|&&b| is_b64(b)).count();
    let indent_of = |line_start: usize| {
        text[line_start..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count()
    };
    let width = run_at(start);
    let line_start = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // Wrapped only when the first line is the base64 alone after its
    // indentation, at a width a wrapping tool uses.
    let wrapped = width % 4 == 0 && width >= 60 && indent_of(line_start) == start - line_start;
    let mut encoded = text[start..start + width].to_vec();
    let mut end = start + width;
    let mut line = width;
    while wrapped && line == width {
        let mut next = end;
        if text.get(next) == Some(&b'\r') {
            next += 1;
        }
        if text.get(next) != Some(&b'\n') {
            break;
        }
        next += 1;
        if indent_of(next) != start - line_start {
            break;
        }
        next += start - line_start;
        line = run_at(next);
        if line == 0 || line > width {
            break;
        }
        encoded.extend_from_slice(&text[next..next + line]);
        end = next + line;
        if encoded.len() > base64_len(MAX_PFX) {
            return None;
        }
    }
    let padding = text[end..]
        .iter()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    encoded.extend_from_slice(&text[end..end + padding]);
    if encoded.len() > base64_len(MAX_PFX) {
        return None;
    }
    Some((encoded, end + padding))
}

const fn base64_len(n: usize) -> usize {
    4 * n.div_ceil(3)
}

/// A binary file's finding: what it holds and the whole file as its
/// secret (in base64, so it prints and fingerprints like the base64 form).
pub fn from_file(bytes: &[u8]) -> Option<(Pfx, String)> {
    let pfx = read(bytes)?;
    if !pfx.may_hold_key() {
        return None;
    }
    Some((pfx, base64::engine::general_purpose::STANDARD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{structured, TokenRng};

    #[test]
    fn the_kdf_matches_openssl() {
        // Computed offline by an independent implementation of RFC 7292
        // appendix B, which verified the MACs of files OpenSSL 3 wrote with
        // the empty password (SHA-1 and SHA-256, 2,048 iterations): here the
        // empty password (the BMPString's NUL), salt 01..08, id 3 (MAC key).
        // Vectors, not secrets.
        let salt = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let sha1 = kdf(MacHash::Sha1, &[0, 0], &salt, 2048, 3, 20);
        assert_eq!(hex(&sha1), KDF_SHA1_EMPTY);
        let sha256 = kdf(MacHash::Sha256, &[0, 0], &salt, 2048, 3, 32);
        assert_eq!(hex(&sha256), KDF_SHA256_EMPTY);
        // A longer output (two hash blocks) exercises the I_j update.
        let long = kdf(MacHash::Sha1, &[0, 0x61, 0, 0], &salt, 1, 1, 24);
        assert_eq!(hex(&long), KDF_SHA1_A_24);
    }

    const KDF_SHA1_EMPTY: &str = "422271a0229a8e68e59672d9278fe548eb74b013";
    const KDF_SHA256_EMPTY: &str =
        "878f85ff6db5c92f2da873fdb0ecae4bdc9dcc3cb5faf9226d10ee23af02546a";
    const KDF_SHA1_A_24: &str = "e8cc5869dc4ebe7b628433e19598b378eb7dc0553ebece5b";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn generated_stores_say_what_they_hold() {
        let mut rng = TokenRng::new(4);
        for (kind, confidence, password) in [
            (structured::Pkcs12Kind::PlainKey, Confidence::High, "none"),
            (
                structured::Pkcs12Kind::EmptyPassword,
                Confidence::High,
                "empty",
            ),
            (structured::Pkcs12Kind::Password, Confidence::Low, "unknown"),
        ] {
            let der = structured::pkcs12_der(&mut rng, kind);
            let (pfx, secret) = from_file(&der).unwrap_or_else(|| panic!("{kind:?}"));
            assert_eq!(pfx.confidence(), confidence, "{kind:?}");
            let details = pfx.details();
            assert!(
                details.contains(&("password".to_string(), password.to_string())),
                "{kind:?}: {details:?}"
            );
            assert!(!secret.is_empty());
        }
        // A trust store (certificates only) is no finding.
        let der = structured::pkcs12_der(&mut rng, structured::Pkcs12Kind::CertificatesOnly);
        assert!(read(&der).is_some());
        assert!(from_file(&der).is_none());
    }

    #[test]
    fn the_base64_form_is_read_to_the_end_of_its_run() {
        let mut rng = TokenRng::new(5);
        let der = structured::pkcs12_der(&mut rng, structured::Pkcs12Kind::Password);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let text = format!("{{\"certificate\": \"{b64}\", \"password\": \"\"}}");
        let start = text.find("MII").unwrap();
        let parsed = parse(text.as_bytes(), start).unwrap();
        assert_eq!(&text[parsed.span.clone()], b64);
        assert_eq!(parsed.confidence, Confidence::Low);
    }

    #[test]
    fn wrapped_base64_is_read_line_by_line() {
        let mut rng = TokenRng::new(7);
        let der = structured::pkcs12_der(&mut rng, structured::Pkcs12Kind::PlainKey);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        for (width, newline) in [(64, "\n"), (76, "\r\n")] {
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(width)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let block = lines.join(&format!("{newline}    "));
            let text = format!("data:\n  tls.pfx: |\n    {block}{newline}  other: value\n");
            let start = text.find("MII").unwrap();
            let parsed = parse(text.as_bytes(), start).unwrap_or_else(|| panic!("{width}"));
            assert_eq!(&text[parsed.span.clone()], block, "{width}");
            assert_eq!(parsed.confidence, Confidence::High);
        }
        // Cut after its first line, it is no PFX.
        let first = &b64[..64];
        let text = format!("  pfx: {first}\n  next: {}\n", &b64[64..]);
        assert!(parse(text.as_bytes(), text.find("MII").unwrap()).is_none());
    }

    #[test]
    fn other_der_and_cut_files_are_not_pfx() {
        let mut rng = TokenRng::new(6);
        let der = structured::pkcs12_der(&mut rng, structured::Pkcs12Kind::PlainKey);
        // A cut file still starts like one, but is not read as one.
        assert!(looks_like_pfx(&der[..40]));
        assert!(read(&der[..40]).is_none());
        // Version 1 (a PKCS#8 key, a certificate) is not a PFX.
        let mut other = der.clone();
        let at = other.windows(3).position(|w| w == [2, 1, 3]).unwrap();
        other[at + 2] = 1;
        assert!(!looks_like_pfx(&other));
        assert!(read(b"MZ\x90\x00\x03\x00\x00\x00").is_none());
    }
}
