//! OpenPGP private keys: an ASCII-armored `PGP PRIVATE KEY BLOCK`.
//!
//! Why a parser: the armor header is in every PGP tool and tutorial; what
//! leaks is a body that decodes to a Secret-Key packet. The armor's
//! CRC-24 (`=XXXX` before the END line) is a checksum over the decoded
//! body, so a block whose CRC holds and whose first packet is an
//! unencrypted secret key is certain (`checksum` validation). The packet
//! says whether the secret part is protected by a passphrase (S2K usage
//! other than 0: low confidence), and the key's algorithm and size.

use super::pem::{decode_body, read_block};
use super::Parsed;
use crate::model::Confidence;

const LABEL: &[u8] = b"PGP PRIVATE KEY BLOCK";

/// OpenPGP's CRC-24 (RFC 4880 §6.1).
pub fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xB704CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x1000000 != 0 {
                crc ^= 0x1864CFB;
            }
        }
    }
    crc & 0xFFFFFF
}

/// The armored block whose `-----BEGIN` is at `start`.
pub fn parse(text: &[u8], start: usize) -> Option<Parsed> {
    let block = read_block(text, start)?;
    if block.label != LABEL {
        return None;
    }
    let (body, crc) = split_checksum(&block.body, block.last_word);
    let decoded = decode_body(body)?;
    let crc_holds = match crc {
        Some(crc) => {
            let expected = decode_body(crc)?;
            if expected.len() != 3 {
                return None;
            }
            let value = u32::from_be_bytes([0, expected[0], expected[1], expected[2]]);
            if value != crc24(&decoded) {
                // A checksum that fails: the armor was altered, or made up.
                return None;
            }
            true
        }
        None => false,
    };
    let key = secret_key(&decoded)?;
    let mut parsed = Parsed::new(
        start..block.end,
        if key.encrypted {
            Confidence::Low
        } else {
            Confidence::High
        },
    );
    parsed.checksum = crc_holds && !key.encrypted;
    parsed.detail("type", key.algorithm);
    if let Some(bits) = key.bits {
        parsed.detail("bits", bits.to_string());
    }
    parsed.detail("format", format!("openpgp-v{}", key.version));
    parsed.detail("encrypted", key.encrypted.to_string());
    if block.truncated {
        parsed.detail("truncated", "true");
    }
    Some(parsed)
}

/// The body without its `=XXXX` checksum word, and that word's base64.
fn split_checksum(body: &[u8], last_word: usize) -> (&[u8], Option<&[u8]>) {
    let (head, last) = body.split_at(body.len() - last_word.min(body.len()));
    match last {
        [b'=', crc @ ..] if crc.len() == 4 => (head, Some(crc)),
        _ => (body, None),
    }
}

struct SecretKey {
    version: u8,
    algorithm: &'static str,
    bits: Option<usize>,
    encrypted: bool,
}

/// The first packet, if it is a Secret-Key packet (tag 5).
fn secret_key(data: &[u8]) -> Option<SecretKey> {
    let (&first, rest) = data.split_first()?;
    if first & 0x80 == 0 {
        return None;
    }
    let (tag, body) = if first & 0x40 != 0 {
        // New format: the length follows in one, two or five octets.
        let (&l0, rest) = rest.split_first()?;
        let (len, rest) = match l0 {
            0..=191 => (usize::from(l0), rest),
            192..=223 => {
                let (&l1, rest) = rest.split_first()?;
                (((usize::from(l0) - 192) << 8) + usize::from(l1) + 192, rest)
            }
            255 => {
                let bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
                (u32::from_be_bytes(bytes) as usize, &rest[4..])
            }
            _ => return None,
        };
        (first & 0x3F, rest.get(..len).unwrap_or(rest))
    } else {
        let len_bytes = match first & 3 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 0,
        };
        let len = rest
            .get(..len_bytes)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let rest = &rest[len_bytes..];
        let body = if len_bytes == 0 {
            rest
        } else {
            rest.get(..len).unwrap_or(rest)
        };
        ((first >> 2) & 0x0F, body)
    };
    if tag != 5 {
        return None;
    }
    let (&version, rest) = body.split_first()?;
    if !(4..=6).contains(&version) {
        return None;
    }
    // Creation time, then (v5 and v6) the key material's length.
    let mut rest = rest.get(4..)?;
    let (&algorithm, after) = rest.split_first()?;
    rest = after;
    if version >= 5 {
        rest = rest.get(4..)?;
    }
    let mut bits = None;
    let name = match algorithm {
        1..=3 => {
            let n_bits = mpi_bits(rest)?;
            bits = Some(n_bits);
            rest = skip_mpis(rest, 2)?;
            "rsa"
        }
        16 => {
            bits = Some(mpi_bits(rest)?);
            rest = skip_mpis(rest, 3)?;
            "elgamal"
        }
        17 => {
            bits = Some(mpi_bits(rest)?);
            rest = skip_mpis(rest, 4)?;
            "dsa"
        }
        18 => {
            rest = skip_oid(rest)?;
            rest = skip_mpis(rest, 1)?;
            // KDF parameters: a length octet and that many bytes.
            let (&len, after) = rest.split_first()?;
            rest = after.get(usize::from(len)..)?;
            "ecdh"
        }
        19 => {
            rest = skip_mpis(skip_oid(rest)?, 1)?;
            "ecdsa"
        }
        22 => {
            rest = skip_mpis(skip_oid(rest)?, 1)?;
            "ed25519"
        }
        25 => {
            rest = rest.get(32..)?;
            "x25519"
        }
        27 => {
            rest = rest.get(32..)?;
            "ed25519"
        }
        _ => return None,
    };
    let usage = *rest.first()?;
    Some(SecretKey {
        version,
        algorithm: name,
        bits,
        encrypted: usage != 0,
    })
}

/// Bit count of the MPI at the start of `data`.
fn mpi_bits(data: &[u8]) -> Option<usize> {
    let bytes: [u8; 2] = data.get(..2)?.try_into().ok()?;
    Some(usize::from(u16::from_be_bytes(bytes)))
}

fn skip_mpis(mut data: &[u8], count: usize) -> Option<&[u8]> {
    for _ in 0..count {
        let bits = mpi_bits(data)?;
        data = data.get(2 + bits.div_ceil(8)..)?;
    }
    Some(data)
}

fn skip_oid(data: &[u8]) -> Option<&[u8]> {
    let (&len, rest) = data.split_first()?;
    rest.get(usize::from(len)..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{structured, TokenRng};

    #[test]
    fn crc24_of_known_input() {
        // RFC 4880's algorithm: CRC-24 of the empty input is the init value.
        assert_eq!(crc24(b""), 0xB704CE);
        assert_ne!(crc24(b"a"), crc24(b"b"));
    }

    #[test]
    fn a_generated_block_verifies_and_a_changed_one_does_not() {
        let block = structured::pgp_private_key(&mut TokenRng::new(1));
        let parsed = parse(block.as_bytes(), 0).unwrap();
        assert!(parsed.checksum);
        assert_eq!(parsed.span, 0..block.len());
        assert!(parsed.details.contains(&("type".into(), "ed25519".into())));
        // One body character changed: the CRC fails.
        let line_start = block.find("\n\n").unwrap() + 2;
        let mut bytes = block.into_bytes();
        bytes[line_start + 10] = if bytes[line_start + 10] == b'A' {
            b'B'
        } else {
            b'A'
        };
        assert!(parse(&bytes, 0).is_none());
    }
}
