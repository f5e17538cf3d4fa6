//! The binary fields of patscan's own files (the cache's entries, a
//! history run's record): LEB128 integers, length-prefixed bytes and fixed
//! arrays. A reader never panics and never allocates on a length it has
//! not checked against what is left: a damaged file reads as `None`.

/// Appends the body's fields.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A writer with room for `bytes` before it grows (a large record
    /// otherwise grows, and is copied, a dozen times).
    pub fn with_capacity(bytes: usize) -> Writer {
        Writer {
            buf: Vec::with_capacity(bytes),
        }
    }

    pub fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    /// LEB128.
    pub fn varint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self, value: &[u8]) {
        self.varint(value.len() as u64);
        self.buf.extend_from_slice(value);
    }

    pub fn raw(&mut self, value: &[u8]) {
        self.buf.extend_from_slice(value);
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads the body's fields; every read is `None` past the end or on a
/// malformed field, never a panic.
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, at: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.at
    }

    pub fn u8(&mut self) -> Option<u8> {
        let byte = *self.data.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    pub fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    pub fn slice(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let bytes = self.data.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        self.slice(len)
    }

    pub fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    pub fn raw<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.slice(N)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_overlong_ones_fail() {
        let mut out = Writer::default();
        for value in [0, 1, 127, 128, 300, u64::MAX] {
            out.varint(value);
        }
        let bytes = out.into_inner();
        let mut input = Reader::new(&bytes);
        for value in [0, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(input.varint(), Some(value));
        }
        assert_eq!(input.varint(), None);
        assert_eq!(Reader::new(&[0xff; 11]).varint(), None);
    }
}
