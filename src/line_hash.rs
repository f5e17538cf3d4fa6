//! GitHub code scanning's `primaryLocationLineHash`, computed the way GitHub
//! computes it, so alerts keep their identity across uploads even when the
//! SARIF is sent through the REST API (which, unlike the upload action, does
//! not fill the value in and otherwise opens duplicate alerts).
//!
//! The algorithm, as GitHub documents it for its upload action: the text is
//! read as UTF-16 code units with spaces and tabs dropped and `\r\n`/`\r`
//! turned into `\n`. A polynomial rolling hash (base 37, wrapping 64-bit)
//! runs over a window of the last 100 such units. A line's hash is the
//! window's value once the 100 units from the line's first non-blank unit
//! have been taken in; a marker unit (0xFFFF) and zeros pad the end of the
//! input. The value is written as lowercase hex, then `:` and how many lines
//! so far (this one included) had the same hash.
//!
//! A line's hash therefore depends on the text after it and its count on
//! the lines before it: it needs the whole input up to shortly after the
//! line. The scanner computes it from its buffer when the input fitted in
//! one chunk (nearly always); the file source re-reads larger files that
//! have findings. Only inputs with findings pay for it.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};

use crate::model::Finding;

/// Units in the rolling window.
const WINDOW: usize = 100;
const BASE: u64 = 37;
/// Appended after the last unit, so the last lines hash differently from
/// lines followed by NULs.
const END_OF_INPUT: u16 = 0xFFFF;
const SPACE: u16 = b' ' as u16;
const TAB: u16 = b'\t' as u16;
const LF: u16 = b'\n' as u16;
const CR: u16 = b'\r' as u16;
/// Bytes read at a time when hashing from a reader.
const READ_BLOCK: usize = 64 << 10;

/// Streaming hasher; collects the hashes of the wanted lines (or of every
/// line when built with [`LineHasher::all`]).
pub struct LineHasher {
    window: [u16; WINDOW],
    /// The line that starts at each window slot; 0 when none does.
    starts: [usize; WINDOW],
    slot: usize,
    hash: u64,
    /// BASE^WINDOW: the weight of the unit leaving the window.
    leaving_weight: u64,
    line: usize,
    at_line_start: bool,
    after_cr: bool,
    seen: HashMap<u64, u32>,
    /// Sorted; `None` wants every line.
    wanted: Option<Vec<usize>>,
    found: BTreeMap<usize, String>,
    /// Every wanted line has its hash: the rest of the input is skipped.
    complete: bool,
}

impl LineHasher {
    /// A hasher for the given 1-based lines.
    pub fn new(lines: &[usize]) -> LineHasher {
        let mut wanted = lines.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        LineHasher::with(Some(wanted))
    }

    /// A hasher that keeps every line's hash.
    pub fn all() -> LineHasher {
        LineHasher::with(None)
    }

    fn with(wanted: Option<Vec<usize>>) -> LineHasher {
        let leaving_weight = (0..WINDOW).fold(1u64, |w, _| w.wrapping_mul(BASE));
        LineHasher {
            window: [0; WINDOW],
            starts: [0; WINDOW],
            slot: 0,
            hash: 0,
            leaving_weight,
            line: 0,
            at_line_start: true,
            after_cr: false,
            seen: HashMap::new(),
            complete: wanted.as_ref().is_some_and(|w| w.is_empty()),
            wanted,
            found: BTreeMap::new(),
        }
    }

    /// True once every wanted line has its hash; later text cannot change
    /// them (counts depend only on earlier lines).
    pub fn done(&self) -> bool {
        self.complete
    }

    pub fn feed_str(&mut self, text: &str) {
        for unit in text.encode_utf16() {
            if self.complete {
                return;
            }
            self.unit(unit);
        }
    }

    /// Feeds bytes decoded as UTF-8, invalid sequences as U+FFFD (as a
    /// UTF-8 reader replaces them). Returns how many bytes were consumed: an
    /// incomplete sequence at the end is left for the next call.
    pub fn feed_utf8(&mut self, bytes: &[u8]) -> usize {
        let mut at = 0;
        loop {
            if self.complete {
                return bytes.len();
            }
            match std::str::from_utf8(&bytes[at..]) {
                Ok(text) => {
                    self.feed_str(text);
                    return bytes.len();
                }
                Err(err) => {
                    let good = at + err.valid_up_to();
                    if let Ok(text) = std::str::from_utf8(&bytes[at..good]) {
                        self.feed_str(text);
                    }
                    match err.error_len() {
                        Some(len) => {
                            self.unit(0xFFFD);
                            at = good + len;
                        }
                        None => return good,
                    }
                }
            }
        }
    }

    fn unit(&mut self, unit: u16) {
        if unit == SPACE || unit == TAB || (self.after_cr && unit == LF) {
            self.after_cr = false;
            return;
        }
        let unit = if unit == CR {
            self.after_cr = true;
            LF
        } else {
            self.after_cr = false;
            unit
        };
        if self.starts[self.slot] != 0 {
            self.emit();
        }
        if self.at_line_start {
            self.at_line_start = false;
            self.line += 1;
            self.starts[self.slot] = self.line;
        }
        if unit == LF {
            self.at_line_start = true;
        }
        self.roll(unit);
    }

    fn roll(&mut self, unit: u16) {
        let leaving = self.window[self.slot];
        self.window[self.slot] = unit;
        self.hash = self
            .hash
            .wrapping_mul(BASE)
            .wrapping_add(u64::from(unit))
            .wrapping_sub(self.leaving_weight.wrapping_mul(u64::from(leaving)));
        self.slot = (self.slot + 1) % WINDOW;
    }

    fn emit(&mut self) {
        let line = std::mem::take(&mut self.starts[self.slot]);
        let count = self.seen.entry(self.hash).or_insert(0);
        *count += 1;
        let wanted = match &self.wanted {
            Some(lines) => lines.binary_search(&line).is_ok(),
            None => true,
        };
        if wanted {
            self.found
                .insert(line, format!("{:x}:{}", self.hash, *count));
            self.complete = self
                .wanted
                .as_ref()
                .is_some_and(|w| w.len() == self.found.len());
        }
    }

    /// Ends the input and returns the hashes found, by line.
    pub fn finish(mut self) -> BTreeMap<usize, String> {
        if !self.done() {
            self.unit(END_OF_INPUT);
            for _ in 0..WINDOW {
                if self.starts[self.slot] != 0 {
                    self.emit();
                }
                self.roll(0);
            }
        }
        self.found
    }
}

/// Fills `line_hash` of `findings`, all from the input `text`.
pub fn fill_from_bytes(text: &[u8], findings: &mut [Finding]) {
    let lines: Vec<usize> = findings.iter().map(|f| f.line).collect();
    let mut hasher = LineHasher::new(&lines);
    let consumed = hasher.feed_utf8(text);
    if consumed < text.len() {
        // A truncated sequence at the very end: one replacement character.
        hasher.feed_str("\u{FFFD}");
    }
    assign(hasher.finish(), findings);
}

/// Fills `line_hash` of `findings` by reading their input again, stopping
/// as soon as every line has its hash.
pub fn fill_from_reader(reader: &mut dyn Read, findings: &mut [Finding]) -> io::Result<()> {
    let lines: Vec<usize> = findings.iter().map(|f| f.line).collect();
    let mut hasher = LineHasher::new(&lines);
    let mut pending = Vec::with_capacity(READ_BLOCK + 4);
    let mut block = vec![0u8; READ_BLOCK];
    while !hasher.done() {
        let read = match reader.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        pending.extend_from_slice(&block[..read]);
        let consumed = hasher.feed_utf8(&pending);
        pending.drain(..consumed);
    }
    if !pending.is_empty() && !hasher.done() {
        hasher.feed_str("\u{FFFD}");
    }
    assign(hasher.finish(), findings);
    Ok(())
}

fn assign(hashes: BTreeMap<usize, String>, findings: &mut [Finding]) {
    for finding in findings {
        if let Some(hash) = hashes.get(&finding.line) {
            finding.line_hash = Some(hash.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(text: &str) -> Vec<String> {
        let mut hasher = LineHasher::all();
        hasher.feed_str(text);
        hasher.finish().into_values().collect()
    }

    // Expected values: the published test vectors of GitHub's implementation.
    #[test]
    fn matches_githubs_published_vectors() {
        assert_eq!(hashes(""), vec!["c129715d7a2bc9a3:1"]);
        assert_eq!(
            hashes(" a\nb\n  \t\tc\n d"),
            vec![
                "271789c17abda88f:1",
                "54703d4cd895b18:1",
                "180aee12dab6264:1",
                "a23a3dc5e078b07b:1"
            ]
        );
        let expected = vec![
            "e9496ae3ebfced30:1",
            "fb7c023a8b9ccb3f:1",
            "ce8ba1a563dcdaca:1",
            "e20e36e16fcb0cc8:1",
            "b3edc88f2938467e:1",
            "c8e28b0b4002a3a0:1",
            "c129715d7a2bc9a3:1",
        ];
        for text in [
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
            " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
        ] {
            assert_eq!(hashes(text), expected, "{text:?}");
        }
        let repeated = hashes(&"Lorem ipsum dolor sit amet.\n".repeat(10));
        assert_eq!(repeated[0], "a7f2ff13bc495cf2:1");
        assert_eq!(repeated[5], "a7f2ff13bc495cf2:6");
        assert_eq!(repeated[6], "a7f2ff1481e87703:1");
        assert_eq!(repeated[10], "c129715d7a2bc9a3:1");
    }

    #[test]
    fn wanted_lines_and_streaming_agree_with_the_full_pass() {
        let text = "α line\r\n\tsecond ✓ line\nthird\n".repeat(50);
        let all = hashes(&text);
        let mut some = LineHasher::new(&[3, 77]);
        some.feed_str(&text);
        let some = some.finish();
        assert_eq!(some[&3], all[2]);
        assert_eq!(some[&77], all[76]);

        // Byte-at-a-time feeding splits multi-byte characters.
        let mut streamed = LineHasher::all();
        let bytes = text.as_bytes();
        let mut pending = Vec::new();
        for &b in bytes {
            pending.push(b);
            let used = streamed.feed_utf8(&pending);
            pending.drain(..used);
        }
        assert_eq!(streamed.finish().into_values().collect::<Vec<_>>(), all);
    }
}
