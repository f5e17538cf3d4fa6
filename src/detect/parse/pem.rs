//! PEM private keys: `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1), `EC`
//! (SEC 1), `DSA`, `OPENSSH`, `PRIVATE KEY` (PKCS#8) and `ENCRYPTED
//! PRIVATE KEY`, up to the matching `-----END` line.
//!
//! Why a parser: the header alone is in every TLS library, test and
//! tutorial; what makes a leak is a body that decodes to a key. So the
//! block is read to its `END` line, its base64 decoded and its DER (or
//! OpenSSH) structure walked far enough to name the key: type, modulus
//! size or curve, and whether it is encrypted. A body that does not decode
//! to the structure its label promises (`MIIE...`, `<your key here>`) is
//! no finding; an encrypted key still is, at low confidence (its
//! passphrase may be weak or nearby, but it is not usable as it stands).
//!
//! Blocks are found where people put them: on lines of their own (also
//! indented, in YAML and heredocs), inside a JSON or code string with `\n`
//! escapes, or as string pieces joined by `+` or in an array. Lines are
//! split on whitespace, quotes, `,` and backslash escapes (a lone `+` is
//! skipped), so every one of those shapes reads as the same words.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::der::{self, Reader};
use super::Parsed;
use crate::model::Confidence;

/// How far past the header a block's `END` line is looked for: an RSA
/// 16384-bit key is about 13 KB of base64; nothing real is longer.
const MAX_BLOCK: usize = 16 << 10;
/// Fewest base64 characters of a key: an Ed25519 PKCS#8 key is 64.
const MIN_BODY: usize = 60;
/// A block cut off by the end of the buffer is still reported when its
/// body is at least this long (a file read in chunks may cut one).
const MIN_TRUNCATED_BODY: usize = 256;

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

/// Standard base64, padding optional: PEM bodies are padded, but a cut
/// one is not.
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses the block whose `-----BEGIN` starts at `start` of `text`.
pub fn parse(text: &[u8], start: usize) -> Option<Parsed> {
    let block = read_block(text, start)?;
    let kind = Label::from_bytes(block.label)?;
    let mut parsed = Parsed::new(start..block.end, Confidence::Medium);
    let encrypted_header = block.proc_encrypted;
    let decoded = decode_body(&block.body)?;
    let key = match kind {
        _ if encrypted_header => Key::encrypted(
            kind.key_type(),
            "pkcs1",
            block.cipher.unwrap_or_else(|| "unknown".into()),
        ),
        Label::Rsa => pkcs1_rsa(&decoded)?,
        Label::Ec => sec1_ec(&decoded)?,
        Label::Dsa => dsa(&decoded)?,
        Label::Pkcs8 => pkcs8(&decoded)?,
        Label::EncryptedPkcs8 => encrypted_pkcs8(&decoded)?,
        Label::OpenSsh => openssh(&decoded)?,
    };
    parsed.confidence = if key.encrypted {
        Confidence::Low
    } else if key.complete {
        Confidence::High
    } else {
        Confidence::Medium
    };
    parsed.detail("type", key.key_type);
    if let Some(bits) = key.bits {
        parsed.detail("bits", bits.to_string());
    }
    if let Some(curve) = key.curve {
        parsed.detail("curve", curve);
    }
    parsed.detail("format", key.format);
    parsed.detail("encrypted", key.encrypted.to_string());
    if let Some(cipher) = key.cipher {
        parsed.detail("cipher", cipher);
    }
    if let Some(source) = super::published::lookup(&fingerprint(kind, &decoded)) {
        // A key its authors published as a test vector: everyone has it,
        // so it protects nothing and was never meant to (see `published`).
        parsed.confidence = Confidence::Low;
        parsed.detail("published_test_key", source);
    }
    if block.truncated {
        parsed.detail("truncated", "true");
    }
    Some(parsed)
}

/// What identifies a key across its encodings, hashed with SHA-256: for
/// RSA the modulus (the same key in PKCS#1, PKCS#8 or OpenSSH form gives
/// the same fingerprint; it is the public half), for other keys the
/// decoded body itself. Only such hashes are stored, never a key.
pub fn fingerprint(label: Label, decoded: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    match rsa_modulus(label, decoded) {
        Some(modulus) => {
            let start = modulus
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(modulus.len());
            Sha256::digest(&modulus[start..]).into()
        }
        None => Sha256::digest(decoded).into(),
    }
}

/// The RSA modulus of an unencrypted key, whatever its container.
fn rsa_modulus(label: Label, decoded: &[u8]) -> Option<&[u8]> {
    fn pkcs1(body: &[u8]) -> Option<&[u8]> {
        let mut seq = Reader::new(Reader::new(body).expect(der::SEQUENCE)?);
        seq.expect(der::INTEGER)?;
        seq.expect(der::INTEGER)
    }
    match label {
        Label::Rsa => pkcs1(decoded),
        Label::Pkcs8 => {
            let mut seq = Reader::new(Reader::new(decoded).expect(der::SEQUENCE)?);
            seq.expect(der::INTEGER)?;
            let mut algorithm = Reader::new(seq.expect(der::SEQUENCE)?);
            let oid = der::oid_text(algorithm.expect(der::OID)?)?;
            if der::oid_name(&oid) != Some("rsa") {
                return None;
            }
            pkcs1(seq.expect(der::OCTET_STRING)?)
        }
        Label::OpenSsh => {
            let mut reader = SshReader {
                data: decoded.strip_prefix(OPENSSH_MAGIC)?,
            };
            for _ in 0..3 {
                reader.string()?;
            }
            reader.u32()?;
            let mut public = SshReader {
                data: reader.string()?,
            };
            if public.string()? != b"ssh-rsa" {
                return None;
            }
            public.string()?;
            public.string()
        }
        _ => None,
    }
}

/// The label between `BEGIN ` and the dashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Rsa,
    Ec,
    Dsa,
    Pkcs8,
    EncryptedPkcs8,
    OpenSsh,
}

impl Label {
    pub fn from_bytes(label: &[u8]) -> Option<Label> {
        Some(match label {
            b"RSA PRIVATE KEY" => Label::Rsa,
            b"EC PRIVATE KEY" => Label::Ec,
            b"DSA PRIVATE KEY" => Label::Dsa,
            b"PRIVATE KEY" => Label::Pkcs8,
            b"ENCRYPTED PRIVATE KEY" => Label::EncryptedPkcs8,
            b"OPENSSH PRIVATE KEY" => Label::OpenSsh,
            _ => return None,
        })
    }

    fn key_type(self) -> &'static str {
        match self {
            Label::Rsa => "rsa",
            Label::Ec => "ec",
            Label::Dsa => "dsa",
            Label::Pkcs8 | Label::EncryptedPkcs8 | Label::OpenSsh => "unknown",
        }
    }
}

/// A block as read from the text.
pub(super) struct Block<'a> {
    pub(super) label: &'a [u8],
    /// The base64 body, separators removed.
    pub(super) body: Vec<u8>,
    /// Length of the body's last word (an OpenPGP armor's `=XXXX`
    /// checksum line is one).
    pub(super) last_word: usize,
    /// One past the `END` line's closing dashes (or the last body byte
    /// when the text ends first).
    pub(super) end: usize,
    pub(super) truncated: bool,
    /// `Proc-Type: 4,ENCRYPTED` (OpenSSL's legacy encrypted PEM).
    proc_encrypted: bool,
    /// The `DEK-Info:` cipher name.
    cipher: Option<String>,
}

/// Whether `b` separates the words of a block: whitespace, and the quotes
/// and commas of a key written as string pieces in code or JSON. (The `+`
/// that joins such pieces is a base64 character: it is a word of its own.)
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b',')
}

/// Reads the block at `start` up to its `END` line.
pub(super) fn read_block(text: &[u8], start: usize) -> Option<Block<'_>> {
    let after_begin = start + BEGIN.len();
    if !text.get(start..)?.starts_with(BEGIN) {
        return None;
    }
    let label_len = memchr::memmem::find(text.get(after_begin..)?, DASHES)?;
    if label_len > 40 {
        return None;
    }
    let label = &text[after_begin..after_begin + label_len];
    let limit = text.len().min(after_begin + MAX_BLOCK);
    let mut at = after_begin + label_len + DASHES.len();
    let mut block = Block {
        label,
        body: Vec::new(),
        last_word: 0,
        end: at,
        truncated: false,
        proc_encrypted: false,
        cipher: None,
    };
    loop {
        // Skip separators and backslash escapes (`\n`, `\\n`, `\r\n`).
        while at < limit {
            let b = text[at];
            if is_separator(b) {
                at += 1;
            } else if b == b'\\' {
                match escape_len(&text[at..limit]) {
                    Some(len) => at += len,
                    None => return None,
                }
            } else {
                break;
            }
        }
        if at >= limit {
            // No `END` line before the buffer (or the block limit) ends.
            if limit < text.len() || block.body.len() < MIN_TRUNCATED_BODY {
                return None;
            }
            block.truncated = true;
            return Some(block);
        }
        let word_end = (at..limit)
            .find(|&i| is_separator(text[i]) || text[i] == b'\\')
            .unwrap_or(limit);
        let word = &text[at..word_end];
        if word.starts_with(b"-----END") {
            // `-----END` then ` LABEL-----` (a separate word after the
            // space): the block ends after the closing dashes.
            let rest = &text[at..limit];
            let close = memchr::memmem::find(&rest[DASHES.len()..], DASHES)?;
            let end_label = rest.get(b"-----END ".len()..DASHES.len() + close)?;
            if end_label != label {
                return None;
            }
            block.end = at + DASHES.len() + close + DASHES.len();
            return (block.body.len() >= MIN_BODY).then_some(block);
        }
        if word.ends_with(b":") && block.body.is_empty() {
            // A header line (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-128-CBC,…`):
            // its value runs to the line's end, commas and all.
            let value_end = line_end(text, word_end, limit);
            let value = trim(&text[word_end..value_end]);
            match word {
                b"Proc-Type:" => block.proc_encrypted = value.ends_with(b"ENCRYPTED"),
                b"DEK-Info:" => {
                    let cipher = value.split(|&b| b == b',').next().unwrap_or_default();
                    block.cipher = Some(String::from_utf8_lossy(cipher).into_owned());
                }
                _ => {}
            }
            at = value_end;
            continue;
        }
        if word == b"+" {
            at = word_end;
            continue;
        }
        if !word.iter().all(|&b| is_base64(b)) {
            return None;
        }
        block.body.extend_from_slice(word);
        block.last_word = word.len();
        block.end = word_end;
        at = word_end;
    }
}

/// Length of the backslash escape at the start of `text` that stands for
/// a line break or tab (`\n`, or `\\n` in a string inside a string);
/// `None` for any other backslash.
fn escape_len(text: &[u8]) -> Option<usize> {
    let slashes = text.iter().take_while(|&&b| b == b'\\').count();
    matches!(text.get(slashes), Some(b'n' | b'r' | b't')).then_some(slashes + 1)
}

/// Where the line that `from` is on ends: a newline or a `\n`/`\r` escape.
fn line_end(text: &[u8], from: usize, limit: usize) -> usize {
    let mut at = from;
    while at < limit {
        match text[at] {
            b'\n' | b'\r' => return at,
            b'\\' if escape_len(&text[at..limit]).is_some() => return at,
            _ => at += 1,
        }
    }
    limit
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

pub(super) fn decode_body(body: &[u8]) -> Option<Vec<u8>> {
    let trimmed: Vec<u8> = body.iter().copied().filter(|&b| b != b'=').collect();
    // A cut body: decode the whole quads only.
    let usable = match trimmed.len() % 4 {
        1 => trimmed.len() - 1,
        _ => trimmed.len(),
    };
    STANDARD_LENIENT.decode(&trimmed[..usable]).ok()
}

/// What the body says about the key.
struct Key {
    key_type: String,
    bits: Option<usize>,
    curve: Option<String>,
    format: &'static str,
    encrypted: bool,
    cipher: Option<String>,
    /// The structure was read to the key material: no doubt it is a key.
    complete: bool,
}

impl Key {
    fn plain(key_type: &str, format: &'static str) -> Key {
        Key {
            key_type: key_type.to_string(),
            bits: None,
            curve: None,
            format,
            encrypted: false,
            cipher: None,
            complete: true,
        }
    }

    fn encrypted(key_type: &str, format: &'static str, cipher: String) -> Key {
        Key {
            encrypted: true,
            cipher: Some(cipher),
            complete: false,
            ..Key::plain(key_type, format)
        }
    }

    /// The body starts as the label says but is not what follows (cut,
    /// or a format variant not read here): a key still, less certainly.
    fn partial(key_type: &str, format: &'static str) -> Key {
        Key {
            complete: false,
            ..Key::plain(key_type, format)
        }
    }
}

/// The outer SEQUENCE of a DER key; a cut body yields what is there.
fn outer(decoded: &[u8]) -> Option<Reader<'_>> {
    if decoded.first() != Some(&der::SEQUENCE) {
        return None;
    }
    Some(Reader::new(
        Reader::new(decoded)
            .expect(der::SEQUENCE)
            .unwrap_or(&decoded[decoded.len().min(4)..]),
    ))
}

/// PKCS#1: SEQUENCE { version, modulus, publicExponent, … }.
fn pkcs1_rsa(decoded: &[u8]) -> Option<Key> {
    let mut seq = outer(decoded)?;
    let parsed = (|| {
        let version = der::small_int(seq.expect(der::INTEGER)?)?;
        let modulus = seq.expect(der::INTEGER)?;
        let exponent = seq.expect(der::INTEGER)?;
        (version <= 1 && !exponent.is_empty()).then_some(der::bit_length(modulus))
    })();
    Some(match parsed {
        Some(bits) if bits >= 256 => Key {
            bits: Some(bits),
            ..Key::plain("rsa", "pkcs1")
        },
        _ => Key::partial("rsa", "pkcs1"),
    })
}

/// SEC 1: SEQUENCE { version 1, privateKey OCTET STRING, [0] curve, … }.
fn sec1_ec(decoded: &[u8]) -> Option<Key> {
    let mut seq = outer(decoded)?;
    let parsed = (|| {
        let version = der::small_int(seq.expect(der::INTEGER)?)?;
        let private = seq.expect(der::OCTET_STRING)?;
        if version != 1 || private.is_empty() {
            return None;
        }
        let curve = match seq.element() {
            Some((0xA0, params)) => der::whole(params, der::OID)
                .and_then(der::oid_text)
                .map(|oid| der::oid_name(&oid).map_or(oid, str::to_string)),
            _ => None,
        };
        Some(curve)
    })();
    Some(match parsed {
        Some(curve) => Key {
            curve,
            ..Key::plain("ec", "sec1")
        },
        None => Key::partial("ec", "sec1"),
    })
}

/// OpenSSL's DSA: SEQUENCE { 0, p, q, g, y, x }.
fn dsa(decoded: &[u8]) -> Option<Key> {
    let mut seq = outer(decoded)?;
    let parsed = (|| {
        let version = der::small_int(seq.expect(der::INTEGER)?)?;
        let p = seq.expect(der::INTEGER)?;
        (version == 0).then_some(der::bit_length(p))
    })();
    Some(match parsed {
        Some(bits) if bits >= 256 => Key {
            bits: Some(bits),
            ..Key::plain("dsa", "dsa")
        },
        _ => Key::partial("dsa", "dsa"),
    })
}

/// PKCS#8: SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING }.
fn pkcs8(decoded: &[u8]) -> Option<Key> {
    let mut seq = outer(decoded)?;
    let parsed = (|| {
        let version = der::small_int(seq.expect(der::INTEGER)?)?;
        let mut algorithm = Reader::new(seq.expect(der::SEQUENCE)?);
        let oid = der::oid_text(algorithm.expect(der::OID)?)?;
        let private = seq.expect(der::OCTET_STRING)?;
        if version > 1 || private.is_empty() {
            return None;
        }
        let name = der::oid_name(&oid).unwrap_or("unknown");
        let mut key = Key::plain(name, "pkcs8");
        match name {
            "rsa" | "rsa-pss" => {
                key.bits = pkcs1_rsa(private).and_then(|k| k.bits);
            }
            "ec" => {
                key.curve = algorithm
                    .expect(der::OID)
                    .and_then(der::oid_text)
                    .map(|oid| der::oid_name(&oid).map_or(oid, str::to_string));
            }
            "dsa" => {
                let mut params = Reader::new(algorithm.expect(der::SEQUENCE)?);
                key.bits = params.expect(der::INTEGER).map(der::bit_length);
            }
            _ => {}
        }
        Some(key)
    })();
    Some(parsed.unwrap_or_else(|| Key::partial("unknown", "pkcs8")))
}

/// PKCS#8 EncryptedPrivateKeyInfo: SEQUENCE { AlgorithmIdentifier, OCTET STRING }.
fn encrypted_pkcs8(decoded: &[u8]) -> Option<Key> {
    let mut seq = outer(decoded)?;
    let scheme = Reader::new(seq.expect(der::SEQUENCE)?)
        .expect(der::OID)
        .and_then(der::oid_text)
        .map(|oid| der::oid_name(&oid).map_or(oid, str::to_string))
        .unwrap_or_else(|| "unknown".into());
    Some(Key::encrypted("unknown", "pkcs8", scheme))
}

const OPENSSH_MAGIC: &[u8] = b"openssh-key-v1\0";

/// OpenSSH's own format: magic, cipher, kdf, kdf options, key count, then
/// the public key (type and parameters, in the clear even when the private
/// part is encrypted).
fn openssh(decoded: &[u8]) -> Option<Key> {
    let rest = decoded.strip_prefix(OPENSSH_MAGIC)?;
    let mut reader = SshReader { data: rest };
    let parsed = (|| {
        let cipher = reader.string()?;
        let _kdf = reader.string()?;
        let _kdf_options = reader.string()?;
        let count = reader.u32()?;
        let public = reader.string()?;
        if count == 0 {
            return None;
        }
        let mut public = SshReader { data: public };
        let key_type = public.string()?;
        let mut key = Key::plain(ssh_type_name(key_type), "openssh");
        match key_type {
            b"ssh-rsa" => {
                let _e = public.string()?;
                key.bits = Some(der::bit_length(public.string()?));
            }
            b"ssh-dss" => key.bits = Some(der::bit_length(public.string()?)),
            t if t.starts_with(b"ecdsa-sha2-") || t.starts_with(b"sk-ecdsa-sha2-") => {
                let curve = public.string()?;
                key.curve = Some(match curve {
                    b"nistp256" => "P-256".into(),
                    b"nistp384" => "P-384".into(),
                    b"nistp521" => "P-521".into(),
                    other => String::from_utf8_lossy(other).into_owned(),
                });
            }
            _ => {}
        }
        if cipher != b"none" {
            key.encrypted = true;
            key.complete = false;
            key.cipher = Some(String::from_utf8_lossy(cipher).into_owned());
        }
        Some(key)
    })();
    Some(parsed.unwrap_or_else(|| Key::partial("unknown", "openssh")))
}

fn ssh_type_name(key_type: &[u8]) -> &'static str {
    match key_type {
        b"ssh-rsa" => "rsa",
        b"ssh-dss" => "dsa",
        b"ssh-ed25519" | b"sk-ssh-ed25519@openssh.com" => "ed25519",
        t if t.starts_with(b"ecdsa-sha2-") || t.starts_with(b"sk-ecdsa-sha2-") => "ec",
        _ => "unknown",
    }
}

/// SSH wire format: big-endian u32 lengths before strings.
pub(super) struct SshReader<'a> {
    pub(super) data: &'a [u8],
}

impl<'a> SshReader<'a> {
    pub(super) fn u32(&mut self) -> Option<u32> {
        let bytes: [u8; 4] = self.data.get(..4)?.try_into().ok()?;
        self.data = &self.data[4..];
        Some(u32::from_be_bytes(bytes))
    }

    pub(super) fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let value = self.data.get(..len)?;
        self.data = &self.data[len..];
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{structured, TokenRng};

    use crate::parse::test_details as details;

    #[test]
    fn generated_keys_of_every_label_parse_with_their_type() {
        let mut rng = TokenRng::new(7);
        for (label, key_type, confidence) in [
            ("RSA PRIVATE KEY", "rsa", Confidence::High),
            ("EC PRIVATE KEY", "ec", Confidence::High),
            ("PRIVATE KEY", "rsa", Confidence::High),
            ("OPENSSH PRIVATE KEY", "ed25519", Confidence::High),
            ("ENCRYPTED PRIVATE KEY", "unknown", Confidence::Low),
        ] {
            let pem = structured::pem_block(label, &mut rng, structured::Lines::Plain);
            let text = format!("key:\n{pem}\nmore\n");
            let parsed = parse(text.as_bytes(), 5).unwrap_or_else(|| panic!("{label}"));
            assert_eq!(&text[parsed.span.clone()], pem, "{label}");
            assert_eq!(parsed.confidence, confidence, "{label}");
            assert!(details(&parsed).contains(&("type", key_type)), "{label}");
        }
    }

    #[test]
    fn rsa_size_and_curve_are_read() {
        let mut rng = TokenRng::new(1);
        let pem = structured::pem_block("RSA PRIVATE KEY", &mut rng, structured::Lines::Plain);
        let parsed = parse(pem.as_bytes(), 0).unwrap();
        assert!(details(&parsed).contains(&("bits", "2048")));
        let pem = structured::pem_block("EC PRIVATE KEY", &mut rng, structured::Lines::Plain);
        let parsed = parse(pem.as_bytes(), 0).unwrap();
        assert!(details(&parsed).contains(&("curve", "P-256")));
    }

    #[test]
    fn a_key_in_a_json_string_is_read_through_its_escapes() {
        let mut rng = TokenRng::new(3);
        let pem = structured::pem_block("PRIVATE KEY", &mut rng, structured::Lines::JsonEscaped);
        let text = format!("{{\"private_key\": \"{pem}\\n\", \"x\": 1}}");
        let start = text.find("-----BEGIN").unwrap();
        let parsed = parse(text.as_bytes(), start).unwrap();
        assert_eq!(&text[parsed.span.clone()], pem);
        assert_eq!(parsed.confidence, Confidence::High);
    }

    #[test]
    fn legacy_encrypted_pem_is_low_with_its_cipher() {
        let mut rng = TokenRng::new(5);
        let pem = structured::pem_block("RSA PRIVATE KEY", &mut rng, structured::Lines::Plain);
        let mut lines: Vec<&str> = pem.lines().collect();
        let header =
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n";
        let first = lines.remove(0);
        let text = format!("{first}\n{header}\n{}", lines.join("\n"));
        let parsed = parse(text.as_bytes(), 0).unwrap();
        assert_eq!(parsed.confidence, Confidence::Low);
        assert!(details(&parsed).contains(&("encrypted", "true")));
        assert!(details(&parsed).contains(&("cipher", "AES-128-CBC")));
    }

    #[test]
    fn headers_without_a_key_are_not_keys() {
        for text in [
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----",
            "const HEADER = \"-----BEGIN PRIVATE KEY-----\";",
            "-----BEGIN PRIVATE KEY-----\n<your private key here>\n-----END PRIVATE KEY-----",
            // Base64 that is no DER key.
            "-----BEGIN PRIVATE KEY-----\nQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n-----END PRIVATE KEY-----",
        ] {
            assert!(parse(text.as_bytes(), 0).is_none(), "{text}");
        }
    }

    #[test]
    fn mismatched_end_label_is_rejected() {
        let mut rng = TokenRng::new(9);
        let pem = structured::pem_block("EC PRIVATE KEY", &mut rng, structured::Lines::Plain);
        let text = pem.replace("END EC PRIVATE", "END RSA PRIVATE");
        assert!(parse(text.as_bytes(), 0).is_none());
    }
}
