//! What the cache keeps about one input: how it was scanned (text and how
//! many bytes, binary, too large, an archive) and a summary of each token
//! found — rule, position, encoding, fingerprint. Never the token: the
//! fingerprint is a truncated SHA-256 of rule and token, as in every
//! report, and a finding's snippet and secret come from reading the input
//! again.

use crate::model::Finding;

use crate::codec::{Reader, Writer};

/// How an input was scanned, enough to count it in the summary as the
/// scan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Scanned as text: `bytes` of it.
    Text { bytes: u64 },
    /// Skipped as binary.
    Binary,
    /// Skipped for being over `--max-file-size` (which is in the key).
    Large,
    /// Opened as an archive.
    Archive {
        bytes: u64,
        members: u64,
        binary_members: u64,
    },
}

/// One token found in an input, without the token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub rule_id: String,
    /// An archive member's `!/member` part of the path; empty otherwise.
    pub member: String,
    pub line: u64,
    pub column: u64,
    pub end_column: u64,
    pub encoding: String,
    /// [`Finding::fingerprint`], as bytes.
    pub fingerprint: [u8; 8],
}

impl Hit {
    /// `scanned` is the path the input was scanned under (a finding in an
    /// archive member extends it).
    pub fn of(finding: &Finding, scanned: &str) -> Hit {
        let mut fingerprint = [0u8; 8];
        let hex = finding.fingerprint();
        for (i, byte) in fingerprint.iter_mut().enumerate() {
            *byte = hex
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0);
        }
        Hit {
            rule_id: finding.rule_id.clone(),
            member: finding.path.strip_prefix(scanned).unwrap_or("").to_string(),
            line: finding.line as u64,
            column: finding.column as u64,
            end_column: finding.end_column as u64,
            encoding: finding.encoding.clone().unwrap_or_default(),
            fingerprint,
        }
    }
}

/// The cached result of scanning one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub outcome: Outcome,
    /// Sorted.
    pub hits: Vec<Hit>,
}

impl Entry {
    pub fn new(outcome: Outcome, findings: &[Finding], scanned: &str) -> Entry {
        Entry {
            outcome,
            hits: hits_of(findings, scanned),
        }
    }

    pub fn is_clean(&self) -> bool {
        self.hits.is_empty()
    }

    pub(crate) fn write(&self, out: &mut Writer) {
        match self.outcome {
            Outcome::Text { bytes } => {
                out.u8(0);
                out.varint(bytes);
            }
            Outcome::Binary => out.u8(1),
            Outcome::Large => out.u8(2),
            Outcome::Archive {
                bytes,
                members,
                binary_members,
            } => {
                out.u8(3);
                out.varint(bytes);
                out.varint(members);
                out.varint(binary_members);
            }
        }
        out.varint(self.hits.len() as u64);
        for hit in &self.hits {
            out.bytes(hit.rule_id.as_bytes());
            out.bytes(hit.member.as_bytes());
            out.varint(hit.line);
            out.varint(hit.column);
            out.varint(hit.end_column);
            out.bytes(hit.encoding.as_bytes());
            out.raw(&hit.fingerprint);
        }
    }

    pub(crate) fn read(input: &mut Reader<'_>) -> Option<Entry> {
        let outcome = match input.u8()? {
            0 => Outcome::Text {
                bytes: input.varint()?,
            },
            1 => Outcome::Binary,
            2 => Outcome::Large,
            3 => Outcome::Archive {
                bytes: input.varint()?,
                members: input.varint()?,
                binary_members: input.varint()?,
            },
            _ => return None,
        };
        let count = input.varint()?;
        // Each hit takes well over one byte: a count beyond what is left
        // is corruption, not a reason to allocate.
        if count > input.remaining() as u64 {
            return None;
        }
        let mut hits = Vec::with_capacity(count as usize);
        for _ in 0..count {
            hits.push(Hit {
                rule_id: input.string()?,
                member: input.string()?,
                line: input.varint()?,
                column: input.varint()?,
                end_column: input.varint()?,
                encoding: input.string()?,
                fingerprint: input.raw::<8>()?,
            });
        }
        Some(Entry { outcome, hits })
    }
}

/// The hits of `findings`, sorted, so two scans compare equal.
pub fn hits_of(findings: &[Finding], scanned: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = findings.iter().map(|f| Hit::of(f, scanned)).collect();
    hits.sort();
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let entry = Entry {
            outcome: Outcome::Archive {
                bytes: 1 << 40,
                members: 3,
                binary_members: 1,
            },
            hits: vec![Hit {
                rule_id: "github-pat".into(),
                member: "!/a.txt".into(),
                line: 7,
                column: 300,
                end_column: 340,
                encoding: "base64".into(),
                fingerprint: [1, 2, 3, 4, 5, 6, 7, 8],
            }],
        };
        let mut out = Writer::default();
        entry.write(&mut out);
        Entry {
            outcome: Outcome::Binary,
            hits: Vec::new(),
        }
        .write(&mut out);
        let bytes = out.into_inner();
        let mut input = Reader::new(&bytes);
        assert_eq!(Entry::read(&mut input), Some(entry));
        assert_eq!(
            Entry::read(&mut input).map(|e| e.outcome),
            Some(Outcome::Binary)
        );
        assert_eq!(input.remaining(), 0);
        // Cut anywhere, it reads as nothing rather than as garbage.
        for len in 0..bytes.len() - 3 {
            let mut cut = Reader::new(&bytes[..len]);
            let first = Entry::read(&mut cut);
            assert!(first.is_none() || Entry::read(&mut cut).is_none());
        }
    }
}
