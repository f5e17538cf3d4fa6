//! [`SniffFirst`]: a stream that stops once its first bytes say the scan
//! will skip it as binary, so a source that inflates as it is read (a
//! large git blob) inflates no more of it than the scanner looks at.

use std::io::{self, Read};

use crate::scanner::{self, BINARY_SNIFF_BYTES};

/// Passes a stream through to the scanner, but ends it after its first
/// [`BINARY_SNIFF_BYTES`] when they make the scan skip it as binary: the
/// scanner decides on exactly those bytes either way, and the rest of the
/// input is never read.
pub struct SniffFirst<'h, R> {
    inner: R,
    head: &'h mut Vec<u8>,
    decided: bool,
    binary: bool,
}

impl<'h, R> SniffFirst<'h, R> {
    /// `head` is where the first bytes are kept (a worker's, reused).
    pub fn new(inner: R, head: &'h mut Vec<u8>) -> SniffFirst<'h, R> {
        head.clear();
        SniffFirst {
            inner,
            head,
            decided: false,
            binary: false,
        }
    }
}

impl<R: Read> Read for SniffFirst<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.binary {
            return Ok(0);
        }
        if self.decided {
            return self.inner.read(out);
        }
        let want = (BINARY_SNIFF_BYTES - self.head.len()).min(out.len());
        let read = self.inner.read(&mut out[..want])?;
        self.head.extend_from_slice(&out[..read]);
        if read == 0 {
            self.decided = true;
        } else if self.head.len() == BINARY_SNIFF_BYTES {
            self.decided = true;
            self.binary = scanner::is_binary_head(self.head);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_head_ends_the_stream_and_text_passes_whole() {
        let mut binary = vec![0u8; BINARY_SNIFF_BYTES * 3];
        binary[1] = b'a';
        let mut head = Vec::new();
        let mut out = Vec::new();
        SniffFirst::new(&binary[..], &mut head)
            .read_to_end(&mut out)
            .expect("in memory");
        assert_eq!(out.len(), BINARY_SNIFF_BYTES);

        let text = vec![b'x'; BINARY_SNIFF_BYTES * 3 + 7];
        let mut out = Vec::new();
        SniffFirst::new(&text[..], &mut head)
            .read_to_end(&mut out)
            .expect("in memory");
        assert_eq!(out, text);
    }
}
