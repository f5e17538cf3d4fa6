//! age secret keys (`AGE-SECRET-KEY-1…`): an X25519 identity in bech32,
//! 32 bytes of key and a six-character BCH checksum over the whole string.
//!
//! Why a parser: bech32's checksum is the issuer's own, so a key that
//! passes it is certainly one (high confidence, `checksum` validation) and
//! a look-alike that fails is dropped, as for GitHub's CRC.

use std::ops::Range;

use super::Parsed;
use crate::model::Confidence;

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const HRP: &str = "age-secret-key-";

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GENERATOR: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for value in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(value);
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expand(hrp: &[u8]) -> impl Iterator<Item = u8> + '_ {
    hrp.iter()
        .map(|b| b >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|b| b & 31))
}

/// The 5-bit values of a bech32 data part (lowercase), or `None` for a
/// character outside the alphabet.
fn values(data: &[u8]) -> Option<Vec<u8>> {
    data.iter()
        .map(|&c| {
            CHARSET
                .iter()
                .position(|&x| x == c.to_ascii_lowercase())
                .map(|i| i as u8)
        })
        .collect()
}

/// Whether `text` (either case, not mixed) is a bech32 string whose
/// checksum holds; returns its data values without the checksum.
pub fn decode(text: &[u8]) -> Option<(String, Vec<u8>)> {
    let upper = text.iter().any(u8::is_ascii_uppercase);
    let lower = text.iter().any(u8::is_ascii_lowercase);
    if upper && lower {
        return None;
    }
    let text = text.to_ascii_lowercase();
    let separator = text.iter().rposition(|&b| b == b'1')?;
    let (hrp, data) = (&text[..separator], &text[separator + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return None;
    }
    let values = values(data)?;
    if polymod(hrp_expand(hrp).chain(values.iter().copied())) != 1 {
        return None;
    }
    let hrp = String::from_utf8(hrp.to_vec()).ok()?;
    Some((hrp, values[..values.len() - 6].to_vec()))
}

/// Bech32 of `bytes` under `hrp`, lowercase.
pub fn encode(hrp: &str, bytes: &[u8]) -> String {
    let mut data = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            data.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        data.push(((acc << (5 - bits)) & 31) as u8);
    }
    let check = polymod(
        hrp_expand(hrp.as_bytes())
            .chain(data.iter().copied())
            .chain([0u8; 6]),
    ) ^ 1;
    let mut out = format!("{hrp}1");
    for &v in &data {
        out.push(char::from(CHARSET[usize::from(v)]));
    }
    for i in 0..6 {
        out.push(char::from(
            CHARSET[((check >> (5 * (5 - i))) & 31) as usize],
        ));
    }
    out
}

/// An age identity at `span`: kept only when its checksum holds.
pub fn parse(text: &[u8], span: Range<usize>) -> Option<Parsed> {
    let (hrp, data) = decode(text.get(span.clone())?)?;
    // 32 bytes of key in 52 five-bit groups.
    if hrp != HRP || data.len() != 52 {
        return None;
    }
    let mut parsed = Parsed::new(span, Confidence::High);
    parsed.checksum = true;
    parsed.detail("type", "x25519");
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip173_vectors() {
        // Valid bech32 strings from BIP-173's test vectors.
        for valid in [
            "A12UEL5L",
            "a12uel5l",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        ] {
            assert!(decode(valid.as_bytes()).is_some(), "{valid}");
        }
        assert!(decode(b"A12uEL5L").is_none());
        assert!(decode(b"a12uel5m").is_none());
    }

    #[test]
    fn an_encoded_key_parses_and_a_changed_one_does_not() {
        let key = encode(HRP, &[7u8; 32]).to_ascii_uppercase();
        assert_eq!(key.len(), 74);
        let parsed = parse(key.as_bytes(), 0..key.len()).unwrap();
        assert!(parsed.checksum);
        let mut changed = key.into_bytes();
        changed[30] = if changed[30] == b'Q' { b'P' } else { b'Q' };
        assert!(parse(&changed, 0..changed.len()).is_none());
    }
}
