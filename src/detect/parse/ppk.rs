//! PuTTY private key files (`.ppk`, versions 2 and 3): a header naming the
//! key type, `Encryption:`, the public and private blobs in counted base64
//! lines, and a MAC.
//!
//! Why a parser: the header line alone is in PuTTY's documentation and in
//! every tool that converts keys; a finding needs the private lines that
//! follow, and whether they are encrypted (`Encryption: aes256-cbc`: low
//! confidence) or not. The public blob is decoded to check it names the
//! same key type as the header.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::pem::SshReader;
use super::Parsed;
use crate::model::Confidence;

const HEADER: &[u8] = b"PuTTY-User-Key-File-";
/// Most lines a key's blobs take (an RSA 16384-bit key's private part is
/// about 40 lines of 64 characters).
const MAX_LINES: usize = 64;

/// The file whose header starts at `start` of `text`.
pub fn parse(text: &[u8], start: usize) -> Option<Parsed> {
    let mut lines = Lines { text, at: start };
    let (_, header) = lines.next()?;
    let rest = header.strip_prefix(HEADER)?;
    let (version, key_type) = split_field(rest)?;
    if version != b"2" && version != b"3" {
        return None;
    }
    let mut encryption = None;
    let mut public = Vec::new();
    let mut private_lines = 0;
    let mut end;
    loop {
        let (line_end, line) = lines.next()?;
        end = line_end;
        let (name, value) = split_field(line)?;
        match name {
            b"Encryption" => encryption = Some(value.to_vec()),
            b"Public-Lines" => {
                let count = count(value)?;
                for _ in 0..count {
                    let (_, line) = lines.next()?;
                    public.extend_from_slice(line);
                }
            }
            b"Private-Lines" => {
                let count = count(value)?;
                for _ in 0..count {
                    let (_, line) = lines.next()?;
                    if line.is_empty() || !line.iter().all(|&b| is_base64(b)) {
                        return None;
                    }
                    private_lines += 1;
                }
            }
            b"Private-MAC" | b"Private-Hash" => break,
            _ => {}
        }
    }
    let encryption = encryption?;
    if private_lines == 0 {
        return None;
    }
    let blob = STANDARD.decode(&public).ok()?;
    let blob_type = SshReader { data: &blob }.string()?;
    if blob_type != key_type {
        return None;
    }
    let encrypted = encryption != b"none";
    let mut parsed = Parsed::new(
        start..end,
        if encrypted {
            Confidence::Low
        } else {
            Confidence::High
        },
    );
    parsed.detail(
        "type",
        match key_type {
            b"ssh-rsa" => "rsa".to_string(),
            b"ssh-dss" => "dsa".to_string(),
            b"ssh-ed25519" => "ed25519".to_string(),
            t if t.starts_with(b"ecdsa-sha2-") => "ec".to_string(),
            other => String::from_utf8_lossy(other).into_owned(),
        },
    );
    parsed.detail("format", format!("ppk-v{}", version[0] as char));
    parsed.detail("encrypted", encrypted.to_string());
    if encrypted {
        parsed.detail("cipher", String::from_utf8_lossy(&encryption));
    }
    Some(parsed)
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

fn count(value: &[u8]) -> Option<usize> {
    let n: usize = std::str::from_utf8(value).ok()?.parse().ok()?;
    (n <= MAX_LINES).then_some(n)
}

/// `Name: value` with the value trimmed.
fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    Some((&line[..colon], line[colon + 1..].trim_ascii()))
}

/// Lines of `text` from `at`, each without its line break, with the offset
/// just past its last character.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.at >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.at..];
        let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let end = self.at + line.len();
        self.at += len + 1;
        Some((end, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{structured, TokenRng};

    #[test]
    fn a_generated_ppk_parses_and_an_encrypted_one_is_low() {
        let ppk = structured::ppk(&mut TokenRng::new(1));
        let text = format!("{ppk}\n");
        let parsed = parse(text.as_bytes(), 0).unwrap();
        assert_eq!(&text[parsed.span.clone()], ppk);
        assert_eq!(parsed.confidence, Confidence::High);
        let encrypted = ppk.replace("Encryption: none", "Encryption: aes256-cbc");
        let parsed = parse(encrypted.as_bytes(), 0).unwrap();
        assert_eq!(parsed.confidence, Confidence::Low);
    }

    #[test]
    fn a_header_alone_is_not_a_key() {
        assert!(parse(b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", 0).is_none());
        let ppk = structured::ppk(&mut TokenRng::new(2));
        let wrong_type = ppk.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(parse(wrong_type.as_bytes(), 0).is_none());
    }
}
