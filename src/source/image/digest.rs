//! Content digests (`sha256:<hex>`, `sha512:<hex>`): parsed strictly, so a
//! digest read from an archive or a registry can name a file or a URL path
//! without escaping it, and computed while a blob streams past.

use std::io::{self, Read};

use ring::digest::{Algorithm, Context, SHA256, SHA512};

/// A digest as the OCI specification writes it, checked: a known
/// algorithm and lower-case hex of its length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    pub fn parse(text: &str) -> Option<Digest> {
        let (algorithm, hex) = text.split_once(':')?;
        let length = match algorithm {
            "sha256" => 64,
            "sha512" => 128,
            _ => return None,
        };
        let hex_ok = hex.len() == length
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex_ok.then(|| Digest(text.to_string()))
    }

    /// `sha256:<hex>` of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let mut hasher = Hasher::new(&SHA256);
        hasher.update(bytes);
        hasher.finish()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map_or("", |(a, _)| a)
    }

    pub fn hex(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, h)| h)
    }

    /// `sha256:0123456789ab`, for messages.
    pub fn short(&self) -> &str {
        self.0.get(..self.algorithm().len() + 13).unwrap_or(&self.0)
    }

    /// A hasher of this digest's algorithm.
    pub fn hasher(&self) -> Hasher {
        Hasher::new(match self.algorithm() {
            "sha512" => &SHA512,
            _ => &SHA256,
        })
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A running hash (ring's SHA-2, with the CPU's SHA extensions where it
/// has them: the layer bytes of a large image all pass through it).
pub struct Hasher {
    context: Context,
    prefix: &'static str,
}

impl Hasher {
    fn new(algorithm: &'static Algorithm) -> Hasher {
        let prefix = if algorithm == &SHA512 {
            "sha512"
        } else {
            "sha256"
        };
        Hasher {
            context: Context::new(algorithm),
            prefix,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.context.update(bytes);
    }

    pub fn finish(self) -> Digest {
        let prefix = self.prefix;
        let hash = self.context.finish();
        let mut text = String::with_capacity(prefix.len() + 1 + 2 * hash.as_ref().len());
        text.push_str(prefix);
        text.push(':');
        for b in hash.as_ref() {
            text.push_str(&format!("{b:02x}"));
        }
        Digest(text)
    }
}

/// A reader that hashes and counts what passes through it.
pub struct Hashing<R> {
    inner: R,
    hasher: Option<Hasher>,
    pub count: u64,
}

impl<R: Read> Hashing<R> {
    /// Hashes with `expected`'s algorithm; `None` only counts.
    pub fn new(inner: R, expected: Option<&Digest>) -> Hashing<R> {
        Hashing {
            inner,
            hasher: expected.map(Digest::hasher),
            count: 0,
        }
    }

    /// Reads what is left, then the digest of everything read.
    pub fn finish(&mut self) -> io::Result<Option<Digest>> {
        io::copy(self, &mut io::sink())?;
        Ok(self.hasher.take().map(Hasher::finish))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_parsed_strictly_and_computed() {
        let empty = Digest::of(b"");
        assert_eq!(
            empty.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(empty.as_str()), Some(empty.clone()));
        assert_eq!(empty.short(), "sha256:e3b0c44298fc");
        for bad in [
            "sha256:E3B0",
            "md5:00",
            "sha256:../../etc/passwd",
            "sha256",
            &format!("sha256:{}", "g".repeat(64)),
        ] {
            assert!(Digest::parse(bad).is_none(), "{bad}");
        }
        let mut reader = Hashing::new(&b"abc"[..], Some(&empty));
        let digest = reader.finish().unwrap().unwrap();
        assert_eq!(digest, Digest::of(b"abc"));
        assert_eq!(reader.count, 3);
    }
}
