//! Checksums described as data: a CRC-32, CRC-32C or XOR of part of the
//! token, written in its last characters in one of a few encodings. Most
//! issuers that embed a checksum do exactly this, differing only in what the
//! checksum covers and how its value is spelt, so a rule file can describe
//! such a format completely (see [`ChecksumSpec`]) and needs no code.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::rules::{CheckEncoding, ChecksumInput, ChecksumKind, ChecksumSpec};

/// Longest check accepted, in characters (a CRC in any of the encodings
/// needs at most 8).
pub const MAX_CHECK_LENGTH: usize = 8;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE62_LOWER_FIRST: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const BASE62_LETTERS_FIRST: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";

/// Whether `algorithm` is one this module computes.
pub fn is_computed(algorithm: ChecksumKind) -> bool {
    matches!(
        algorithm,
        ChecksumKind::Crc32 | ChecksumKind::Crc32c | ChecksumKind::Xor
    )
}

/// Where the parts of a token are, for a computed checksum: the covered
/// input and the check characters. `None` when the token is too short or the
/// separator is not where the spec puts it.
fn split<'t>(
    spec: &ChecksumSpec,
    keyword_len: usize,
    token: &'t [u8],
) -> Option<(&'t [u8], usize)> {
    let length = spec.length?;
    let separator = spec.separator.as_deref().unwrap_or("").as_bytes();
    let check_start = token.len().checked_sub(length)?;
    let input_end = check_start.checked_sub(separator.len())?;
    if &token[input_end..check_start] != separator {
        return None;
    }
    let input_start = match spec.input {
        ChecksumInput::All => 0,
        ChecksumInput::Body => keyword_len,
    };
    // An empty input would make a constant check "valid".
    if input_start >= input_end {
        return None;
    }
    Some((&token[input_start..input_end], check_start))
}

/// The check characters `spec` expects for `input`, in `out`; returns their
/// count.
fn expected(spec: &ChecksumSpec, input: &[u8], out: &mut [u8; MAX_CHECK_LENGTH]) -> Option<usize> {
    let length = spec.length?;
    if length == 0 || length > MAX_CHECK_LENGTH {
        return None;
    }
    let value = match spec.algorithm {
        ChecksumKind::Crc32 => crc32fast::hash(input),
        ChecksumKind::Crc32c => crc32c(input),
        ChecksumKind::Xor => u32::from(input.iter().fold(0u8, |acc, &b| acc ^ b)),
        _ => return None,
    };
    let out = &mut out[..length];
    match spec.encoding? {
        CheckEncoding::Base62 => digits(value, BASE62, out),
        CheckEncoding::Base62LowerFirst => digits(value, BASE62_LOWER_FIRST, out),
        CheckEncoding::Base62LettersFirst => digits(value, BASE62_LETTERS_FIRST, out),
        CheckEncoding::Base36 => digits(value, BASE36, out),
        CheckEncoding::Base58 => digits(value, BASE58, out),
        CheckEncoding::Hex => digits(value, HEX, out),
        CheckEncoding::HexUpper => digits(value, HEX_UPPER, out),
        CheckEncoding::HexLe => {
            let mut text = [0u8; 8];
            for (i, byte) in value.to_le_bytes().iter().enumerate() {
                text[2 * i] = HEX[usize::from(byte >> 4)];
                text[2 * i + 1] = HEX[usize::from(byte & 15)];
            }
            out.copy_from_slice(&text[..length]);
        }
        CheckEncoding::Base64Le => {
            let mut text = [0u8; 8];
            STANDARD.encode_slice(value.to_le_bytes(), &mut text).ok()?;
            out.copy_from_slice(&text[..length]);
        }
    }
    Some(length)
}

/// `value` in `alphabet`'s base, most significant digit first, right-aligned
/// in `out` and padded with the zero digit. Digits that do not fit are
/// dropped, so a one-character check is the value modulo the base (the
/// crates.io scheme).
fn digits(mut value: u32, alphabet: &[u8], out: &mut [u8]) {
    let base = alphabet.len() as u32;
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(value % base) as usize];
        value /= base;
    }
}

/// Whether `token`'s computed checksum holds. `keyword_len` is the length of
/// the rule keyword the token starts with (the prefix a `body` input skips).
pub fn holds(spec: &ChecksumSpec, keyword_len: usize, token: &[u8]) -> bool {
    let Some((input, check_start)) = split(spec, keyword_len, token) else {
        return false;
    };
    let mut want = [0u8; MAX_CHECK_LENGTH];
    match expected(spec, input, &mut want) {
        Some(n) => want[..n] == token[check_start..],
        None => false,
    }
}

/// Rewrites `token`'s check characters so that the checksum holds: how the
/// test-token generator turns a string of the right shape into a token.
#[cfg(any(test, feature = "test-support"))]
pub fn repair(spec: &ChecksumSpec, keyword_len: usize, token: &mut [u8]) -> bool {
    let Some((input, check_start)) = split(spec, keyword_len, token) else {
        return false;
    };
    let mut want = [0u8; MAX_CHECK_LENGTH];
    let Some(n) = expected(spec, input, &mut want) else {
        return false;
    };
    token[check_start..].copy_from_slice(&want[..n]);
    true
}

/// CRC-32C (Castagnoli, reflected, as Go's `crc32.MakeTable(crc32.Castagnoli)`).
pub fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = i as u32;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    !data.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        algorithm: ChecksumKind,
        input: ChecksumInput,
        encoding: CheckEncoding,
        length: usize,
        separator: Option<&str>,
    ) -> ChecksumSpec {
        ChecksumSpec {
            input,
            encoding: Some(encoding),
            length: Some(length),
            separator: separator.map(str::to_string),
            ..ChecksumSpec::named(algorithm)
        }
    }

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn github_scheme_as_data_matches_the_named_validator() {
        let github = spec(
            ChecksumKind::Crc32,
            ChecksumInput::Body,
            CheckEncoding::Base62,
            6,
            None,
        );
        let mut token = b"ghp_abcdefghijklmnopqrstuvwxyzABCD000000".to_vec();
        assert!(repair(&github, 4, &mut token));
        assert!(holds(&github, 4, &token));
        assert!(crate::checksum::crc32_base62_valid(&token, 4));
        token[10] = b'Z';
        assert!(!holds(&github, 4, &token));
    }

    #[test]
    fn separator_and_little_endian_hex() {
        let grafana = spec(
            ChecksumKind::Crc32,
            ChecksumInput::All,
            CheckEncoding::HexLe,
            8,
            Some("_"),
        );
        let mut token = b"glsa_0123456789abcdefghijABCDEFGHIJKL_00000000".to_vec();
        assert!(repair(&grafana, 5, &mut token));
        let crc = crc32fast::hash(&token[..37]).to_le_bytes();
        let hex: String = crc.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(&token[38..], hex.as_bytes());
        // The separator must be where the spec puts it.
        token[37] = b'-';
        assert!(!holds(&grafana, 5, &token));
    }

    #[test]
    fn one_character_check_is_the_value_modulo_the_base() {
        let xor = spec(
            ChecksumKind::Xor,
            ChecksumInput::Body,
            CheckEncoding::Base62LettersFirst,
            1,
            None,
        );
        let mut token = b"cio_tp_abcdefghijklmnopqrstuvwxyz01234x".to_vec();
        assert!(repair(&xor, 7, &mut token));
        let value = token[7..38].iter().fold(0u8, |a, &b| a ^ b);
        assert_eq!(token[38], BASE62_LETTERS_FIRST[usize::from(value) % 62]);
    }

    #[test]
    fn empty_input_never_holds() {
        let s = spec(
            ChecksumKind::Crc32,
            ChecksumInput::Body,
            CheckEncoding::Hex,
            8,
            None,
        );
        assert!(!holds(&s, 4, b"abcd00000000"));
        assert!(!holds(&s, 4, b"abc"));
    }
}
