//! Just enough DER to tell a private key from base64 noise and to name it:
//! tag, length, contents; integers' bit lengths; object identifiers as
//! dotted text. No allocation but the OID text, no recursion limit needed
//! (callers descend a fixed, shallow path), and every read is bounds-checked:
//! the input is whatever a file held.

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;
pub const BIT_STRING: u8 = 0x03;
pub const NULL: u8 = 0x05;

/// A cursor over DER elements.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next element: its tag and contents.
    pub fn element(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.data.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7F);
            // Indefinite (0x80) is BER, not DER; more than 4 length bytes
            // is no key anyone stores in a file.
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return None;
        }
        self.data = &rest[len..];
        Some((tag, &rest[..len]))
    }

    /// The next element if it has `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.element()? {
            (t, contents) if t == tag => Some(contents),
            _ => None,
        }
    }
}

/// The contents of the single element `data` is, if it has `tag` and
/// nothing follows it.
pub fn whole(data: &[u8], tag: u8) -> Option<&[u8]> {
    let mut reader = Reader::new(data);
    let contents = reader.expect(tag)?;
    reader.is_empty().then_some(contents)
}

/// Bits in an unsigned big-endian integer (leading zero bytes ignored).
pub fn bit_length(integer: &[u8]) -> usize {
    let mut bytes = integer;
    while let Some((&0, rest)) = bytes.split_first() {
        bytes = rest;
    }
    match bytes.first() {
        Some(&top) => bytes.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// A small non-negative INTEGER's value (versions, counts).
pub fn small_int(integer: &[u8]) -> Option<u64> {
    if integer.is_empty() || integer.len() > 8 || integer[0] & 0x80 != 0 {
        return None;
    }
    Some(
        integer
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

/// An OBJECT IDENTIFIER's contents as dotted text (`1.2.840.113549.1.1.1`).
pub fn oid_text(contents: &[u8]) -> Option<String> {
    let (&first, rest) = contents.split_first()?;
    let mut arcs = vec![u64::from(first / 40).min(2), 0];
    arcs[1] = u64::from(first) - arcs[0] * 40;
    let mut value: u64 = 0;
    for &b in rest {
        value = value.checked_mul(128)? | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    if contents.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    Some(
        arcs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The usual name of a key algorithm or curve OID.
pub fn oid_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.1" => "rsa",
        "1.2.840.113549.1.1.10" => "rsa-pss",
        "1.2.840.10045.2.1" => "ec",
        "1.2.840.10040.4.1" => "dsa",
        "1.3.101.110" => "x25519",
        "1.3.101.111" => "x448",
        "1.3.101.112" => "ed25519",
        "1.3.101.113" => "ed448",
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.113549.1.5.13" => "pbes2",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut data = vec![0x30, 0x82, 0x01, 0x00];
        data.extend(std::iter::repeat(0u8).take(256));
        let mut reader = Reader::new(&data);
        let (tag, contents) = reader.element().unwrap();
        assert_eq!((tag, contents.len()), (0x30, 256));
        assert!(reader.is_empty());
        // A length past the end is no element.
        assert!(Reader::new(&[0x30, 0x05, 0x00]).element().is_none());
        assert!(Reader::new(&[0x30, 0x80]).element().is_none());
    }

    #[test]
    fn integers_and_oids() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(small_int(&[0x01]), Some(1));
        let rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert_eq!(oid_text(&rsa).as_deref(), Some("1.2.840.113549.1.1.1"));
        assert_eq!(oid_name("1.2.840.113549.1.1.1"), Some("rsa"));
        assert_eq!(
            oid_text(&[0x2b, 0x65, 0x70]).as_deref(),
            Some("1.3.101.112")
        );
    }
}
