//! Turns a stream of bytes (a file, stdin, later a git blob) into findings:
//! reads it in bounded chunks, runs the engine on each, and gives every
//! token its line, column and masked snippet.
//!
//! Large inputs are read in chunks of [`CHUNK_SIZE`] with an overlap of the
//! longest token, so memory per thread stays bounded whatever the file size
//! or line length. Each chunk *owns* the tokens that start in its middle
//! part; the overlap guarantees such a token is wholly inside the chunk, so
//! every token is reported exactly once.

use std::io::{self, Read};

use memchr::memchr_iter;

use crate::engine::{find_tokens, Match, Scratch};
use crate::finding::{Finding, Origin, Secret};
use crate::rules::RuleSet;

/// Bytes read per chunk. Big enough that per-chunk overhead vanishes, small
/// enough that a thread's buffer stays a few MiB.
pub const CHUNK_SIZE: usize = 4 << 20;
/// How many leading bytes are inspected to decide that a file is binary.
const BINARY_SNIFF: usize = 8192;
/// Bytes kept before a chunk's owned part, so boundary assertions and the
/// bare scan see the token's left neighbour.
const LEFT_CONTEXT: usize = 64;
/// Characters of the line shown on each side of a token in a snippet.
const SNIPPET_CONTEXT: usize = 60;

pub enum Outcome {
    Scanned {
        bytes: u64,
    },
    /// Skipped because its first block looks binary (NUL bytes).
    Binary,
}

/// One per thread: its buffers are reused for every input it scans.
pub struct Scanner<'r> {
    rules: &'r RuleSet,
    scratch: Scratch,
    buf: Vec<u8>,
    matches: Vec<Match>,
    show_secrets: bool,
}

impl<'r> Scanner<'r> {
    pub fn new(rules: &'r RuleSet, show_secrets: bool) -> Scanner<'r> {
        Scanner {
            rules,
            scratch: Scratch::new(rules),
            buf: Vec::new(),
            matches: Vec::new(),
            show_secrets,
        }
    }

    /// Scans `reader` to its end, appending findings for `path` to `out`.
    pub fn scan_reader(
        &mut self,
        reader: &mut dyn Read,
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) -> io::Result<Outcome> {
        let overlap = self.rules.max_token_length() + 2;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut position = Position::start();
        let mut owned_start = 0;
        let mut total: u64 = 0;
        let mut first = true;
        let result = loop {
            let target = CHUNK_SIZE + owned_start + overlap;
            let before = buf.len();
            let eof = match fill(reader, &mut buf, target) {
                Ok(eof) => eof,
                Err(e) => break Err(e),
            };
            total += (buf.len() - before) as u64;
            if first {
                first = false;
                if looks_binary(&buf[..buf.len().min(BINARY_SNIFF)]) {
                    break Ok(Outcome::Binary);
                }
            }
            let owned_end = if eof { buf.len() } else { buf.len() - overlap };
            self.scan_chunk(&buf, owned_start..owned_end, &position, path, origin, out);
            if eof {
                break Ok(Outcome::Scanned { bytes: total });
            }
            let keep_from = owned_end - LEFT_CONTEXT.min(owned_end);
            position.advance(&buf[..keep_from]);
            buf.drain(..keep_from);
            owned_start = owned_end - keep_from;
        };
        self.buf = buf;
        result
    }

    /// Scans an in-memory buffer (stdin contents, git blobs).
    pub fn scan_bytes(
        &mut self,
        mut bytes: &[u8],
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) -> Outcome {
        // Reading from a slice cannot fail.
        self.scan_reader(&mut bytes, path, origin, out)
            .unwrap_or(Outcome::Scanned { bytes: 0 })
    }

    fn scan_chunk(
        &mut self,
        buf: &[u8],
        owned: std::ops::Range<usize>,
        position: &Position,
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) {
        self.matches.clear();
        find_tokens(self.rules, buf, &mut self.scratch, &mut self.matches);
        if self.matches.is_empty() {
            return;
        }
        self.matches
            .sort_unstable_by_key(|m| (m.start, m.end, m.rule));
        self.matches.dedup_by_key(|m| (m.start, m.end, m.rule));
        let mut cursor = position.clone();
        let mut cursor_at = 0;
        for m in self.matches.iter().filter(|m| owned.contains(&m.start)) {
            cursor.advance(&buf[cursor_at..m.start]);
            cursor_at = m.start;
            let rule = &self.rules.get(m.rule).spec;
            let secret = Secret::new(String::from_utf8_lossy(&buf[m.start..m.end]).into_owned());
            let width = char_count(&buf[m.start..m.end]);
            out.push(Finding {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                confidence: m.validation.confidence(rule),
                validation: m.validation.as_str(),
                path: path.to_string(),
                origin: origin.clone(),
                line: cursor.line,
                column: cursor.column,
                end_column: cursor.column + width,
                secret,
                snippet: snippet(buf, m, &self.matches, self.show_secrets),
            });
        }
    }
}

/// Reads until `buf` holds `target` bytes or the input ends; true at end.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    while buf.len() < target {
        let want = (target - buf.len()) as u64;
        match reader.take(want).read_to_end(buf) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// A NUL byte in the first block marks a binary file, as in git and ripgrep.
fn looks_binary(head: &[u8]) -> bool {
    memchr::memchr(0, head).is_some()
}

/// Line and column (1-based, in characters) of a byte offset, carried across
/// chunks so a token deep in a huge file still gets the right position.
#[derive(Clone)]
struct Position {
    line: usize,
    column: usize,
}

impl Position {
    fn start() -> Position {
        Position { line: 1, column: 1 }
    }

    fn advance(&mut self, bytes: &[u8]) {
        let mut last_newline = None;
        for i in memchr_iter(b'\n', bytes) {
            self.line += 1;
            last_newline = Some(i);
        }
        match last_newline {
            Some(i) => self.column = 1 + char_count(&bytes[i + 1..]),
            None => self.column += char_count(bytes),
        }
    }
}

/// Characters in possibly invalid UTF-8: every byte that does not continue a
/// multi-byte sequence starts one.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The token's line, cut to [`SNIPPET_CONTEXT`] characters each side, with
/// every token on it masked unless secrets are shown.
fn snippet(buf: &[u8], token: &Match, all: &[Match], show_secrets: bool) -> String {
    let line_start = memchr::memrchr(b'\n', &buf[..token.start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &buf[token.end..]).map_or(buf.len(), |i| token.end + i);
    let mut from = back_chars(buf, token.start, SNIPPET_CONTEXT).max(line_start);
    let mut to = forward_chars(buf, token.end, SNIPPET_CONTEXT).min(line_end);
    // Never cut another token in half: widen to include any that straddle.
    for other in all {
        if other.start < from && other.end > from {
            from = other.start;
        }
        if other.start < to && other.end > to {
            to = other.end;
        }
    }
    let mut text = String::new();
    if from > line_start {
        text.push('…');
    }
    let mut at = from;
    for other in all.iter().filter(|o| o.start >= from && o.end <= to) {
        if other.start < at {
            continue; // overlaps a token already masked
        }
        text.push_str(&String::from_utf8_lossy(&buf[at..other.start]));
        let value = String::from_utf8_lossy(&buf[other.start..other.end]);
        if show_secrets {
            text.push_str(&value);
        } else {
            text.push_str(&Secret::new(value.into_owned()).redacted());
        }
        at = other.end;
    }
    text.push_str(&String::from_utf8_lossy(&buf[at..to]));
    if to < line_end {
        text.push('…');
    }
    text.trim_end_matches('\r').to_string()
}

fn back_chars(buf: &[u8], from: usize, chars: usize) -> usize {
    let mut at = from;
    let mut seen = 0;
    while at > 0 && seen < chars {
        at -= 1;
        if (buf[at] & 0xC0) != 0x80 {
            seen += 1;
        }
    }
    at
}

fn forward_chars(buf: &[u8], from: usize, chars: usize) -> usize {
    let mut at = from;
    let mut seen = 0;
    while at < buf.len() && seen < chars {
        at += 1;
        while at < buf.len() && (buf[at] & 0xC0) == 0x80 {
            at += 1;
        }
        seen += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_tracks_lines_and_characters() {
        let mut p = Position::start();
        p.advance("ab\ncé".as_bytes());
        assert_eq!((p.line, p.column), (2, 3));
        p.advance(b"xyz");
        assert_eq!((p.line, p.column), (2, 6));
        p.advance(b"\n");
        assert_eq!((p.line, p.column), (3, 1));
    }
}
