//! Extra views of the same bytes, where tokens hide: UTF-16 text, base64
//! runs and percent-encoding.
//!
//! The common case must stay fast, so nothing here decodes blindly: base64 is
//! decoded only for runs of the right alphabet and a plausible length, found
//! with the same checkpoint trick as the bare base32 scan; percent-decoding
//! only around `%XX` escapes; UTF-16 only when the first block looks like it.
//! Decoded bytes then go through the ordinary engine, prefilter first.

use std::io::{self, Read};

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine as _};

use crate::runs::{cases_in, CASE_DIGIT, CASE_LOWER, CASE_UPPER};

/// How a finding's text was encoded in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Utf16Le,
    Utf16Be,
    Base64,
    Percent,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
        }
    }
}

// ---------------------------------------------------------------- UTF-16

/// Recognises UTF-16 text by its byte-order mark, or, without one, by the
/// NUL bytes that interleave ASCII text (Windows PowerShell 5 `.ps1`, `.reg`
/// exports, many logs). Returns the order and the BOM's length.
pub fn sniff_utf16(head: &[u8]) -> Option<(Encoding, usize)> {
    // Every UTF-16 text we care about holds ASCII, hence NUL bytes; most
    // files have none, and this check is all they cost.
    memchr::memchr(0, head)?;
    // A BOM alone is not enough: `FF FE` also starts binary and Latin-1
    // files. UTF-16 that holds any ASCII (and every token is ASCII) has NULs.
    let has_nul = |rest: &[u8]| rest.contains(&0);
    match head {
        [0xFF, 0xFE, rest @ ..] if has_nul(rest) => return Some((Encoding::Utf16Le, 2)),
        [0xFE, 0xFF, rest @ ..] if has_nul(rest) => return Some((Encoding::Utf16Be, 2)),
        _ => {}
    }
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut even_nul, mut odd_nul) = (0, 0);
    for pair in head.chunks_exact(2) {
        even_nul += usize::from(pair[0] == 0);
        odd_nul += usize::from(pair[1] == 0);
    }
    // Mostly-ASCII text: nearly every high byte is NUL, almost no low byte is.
    if odd_nul * 10 >= pairs * 7 && even_nul * 10 <= pairs {
        Some((Encoding::Utf16Le, 0))
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 10 <= pairs {
        Some((Encoding::Utf16Be, 0))
    } else {
        None
    }
}

/// A reader that turns UTF-16 into UTF-8 as it goes, so the scanner's
/// chunking, line numbers and columns work on the text unchanged.
/// Unpaired surrogates become U+FFFD.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    input: Vec<u8>,
    output: Vec<u8>,
    output_at: usize,
    pending_high: Option<u16>,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, encoding: Encoding) -> Utf16Reader<R> {
        Utf16Reader {
            inner,
            big_endian: encoding == Encoding::Utf16Be,
            input: Vec::with_capacity(64 << 10),
            output: Vec::with_capacity(96 << 10),
            output_at: 0,
            pending_high: None,
            eof: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.output.clear();
        self.output_at = 0;
        while self.output.is_empty() && !self.eof {
            let mut chunk = [0u8; 32 << 10];
            let n = match self.inner.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.eof = true;
                // One U+FFFD per defect, as `char::decode_utf16` does: a
                // high surrogate left unpaired, then a stray last byte.
                if self.pending_high.take().is_some() {
                    push_char(&mut self.output, char::REPLACEMENT_CHARACTER);
                }
                if !self.input.is_empty() {
                    push_char(&mut self.output, char::REPLACEMENT_CHARACTER);
                }
                self.input.clear();
                break;
            }
            self.input.extend_from_slice(&chunk[..n]);
            let whole = self.input.len() / 2 * 2;
            for pair in self.input[..whole].chunks_exact(2) {
                let unit = if self.big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                };
                decode_unit(unit, &mut self.pending_high, &mut self.output);
            }
            self.input.drain(..whole);
        }
        Ok(())
    }
}

fn decode_unit(unit: u16, pending_high: &mut Option<u16>, out: &mut Vec<u8>) {
    match unit {
        0xD800..=0xDBFF => {
            if pending_high.replace(unit).is_some() {
                push_char(out, char::REPLACEMENT_CHARACTER);
            }
        }
        0xDC00..=0xDFFF => match pending_high.take() {
            Some(high) => {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push_char(
                    out,
                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
                );
            }
            None => push_char(out, char::REPLACEMENT_CHARACTER),
        },
        _ => {
            if pending_high.take().is_some() {
                push_char(out, char::REPLACEMENT_CHARACTER);
            }
            push_char(
                out,
                char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
            );
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut utf8 = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.output_at >= self.output.len() {
            self.refill()?;
        }
        let available = &self.output[self.output_at..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.output_at += n;
        Ok(n)
    }
}

// ---------------------------------------------------------------- base64

/// Shortest base64 run ever decoded. The engine collects runs from the
/// rule set's own minimum ([`crate::rules::RuleSet::min_encoded_run`]: the
/// shortest token, encoded), which is never below this floor.
pub const MIN_BASE64_RUN: usize = crate::rules::MIN_ENCODED_RUN_FLOOR;
/// Longest run decoded. Longer ones are images, fonts and archives inlined
/// in data URIs or manifests, not credentials.
pub const MAX_BASE64_RUN: usize = 64 << 10;

/// Whether the maximal base64-alphabet run `start..end` of `buf` (as the
/// engine collects them) is worth decoding; if so, its span with up to two
/// `=` of padding.
pub fn base64_candidate(buf: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let run = end - start;
    if !(MIN_BASE64_RUN..=MAX_BASE64_RUN).contains(&run) || !looks_encoded(&buf[start..end]) {
        return None;
    }
    let mut padded = end;
    while padded < buf.len() && padded - end < 2 && buf[padded] == b'=' {
        padded += 1;
    }
    Some((start, padded))
}

/// Calls `found(start, end)` for each base64 run in `range` worth decoding,
/// at least `min` long (clamped to [`MIN_BASE64_RUN`]). The scanner gets the
/// runs from the engine's pass instead; this is the stand-alone form.
pub fn base64_runs(
    buf: &[u8],
    range: std::ops::Range<usize>,
    min: usize,
    mut found: impl FnMut(usize, usize),
) {
    crate::runs::maximal_runs(
        &crate::runs::BASE64_ANY,
        buf,
        range,
        min.max(MIN_BASE64_RUN),
        |s, e| {
            if let Some((s, e)) = base64_candidate(buf, s, e) {
                found(s, e);
            }
        },
    );
}

/// Encoded tokens mix cases and digits; identifiers and words rarely do all
/// three over a token's length. Hex digests (no upper case) are skipped too.
///
/// One pass that stops once all three are seen (most encoded runs within a
/// dozen bytes): three `any` passes read every hex digest, which has no
/// upper case, twice to its end, and this runs for every long run.
fn looks_encoded(run: &[u8]) -> bool {
    const ALL: u8 = CASE_UPPER | CASE_LOWER | CASE_DIGIT;
    let seen = cases_in(run);
    // A short encoded token may well have no digit (a 27-character run has
    // none one time in a hundred); an identifier that long is rarer than
    // that, and decoding one costs little.
    seen == ALL
        || seen & (CASE_UPPER | CASE_LOWER) == CASE_UPPER | CASE_LOWER && run.len() < SHORT_RUN
}

/// Below this length a run needs no digit to be decoded (see `looks_encoded`).
const SHORT_RUN: usize = 36;

const INDIFFERENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, INDIFFERENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, INDIFFERENT);

/// Decodes a run into `out` (cleared first). False when the run is not
/// valid base64 in either alphabet or mixes them.
pub fn decode_base64(run: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let body = trim_padding(run);
    let url_safe = body.iter().any(|&b| b == b'-' || b == b'_');
    let standard = body.iter().any(|&b| b == b'+' || b == b'/');
    if url_safe && standard {
        return false;
    }
    // A length of 4n+1 cannot be base64; drop the stray last character.
    let body = if body.len() % 4 == 1 {
        &body[..body.len() - 1]
    } else {
        body
    };
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    engine.decode_vec(body, out).is_ok()
}

fn trim_padding(run: &[u8]) -> &[u8] {
    let mut end = run.len();
    while end > 0 && run[end - 1] == b'=' {
        end -= 1;
    }
    &run[..end]
}

/// Decoded bytes worth scanning: text, not the binary inside an image or a
/// hash. Tokens are ASCII; a few control or high bytes are tolerated.
pub fn mostly_text(bytes: &[u8]) -> bool {
    let printable = bytes
        .iter()
        .filter(|&&b| b.is_ascii_graphic() || b == b' ' || b == b'\n' || b == b'\r' || b == b'\t')
        .count();
    printable * 10 >= bytes.len() * 9
}

// ---------------------------------------------------------------- percent

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn url_char(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\')
}

/// Calls `found(start, end)` for each run of URL characters in `range` that
/// holds at least one `%XX` escape.
pub fn percent_runs(
    buf: &[u8],
    range: std::ops::Range<usize>,
    mut found: impl FnMut(usize, usize),
) {
    let limit = range.end.min(buf.len());
    let mut from = range.start;
    while let Some(i) = memchr::memchr(b'%', &buf[from..limit]).map(|i| from + i) {
        if i + 2 < limit && is_hex(buf[i + 1]) && is_hex(buf[i + 2]) {
            let mut start = i;
            while start > range.start && url_char(buf[start - 1]) {
                start -= 1;
            }
            let mut end = i + 3;
            while end < limit && url_char(buf[end]) {
                end += 1;
            }
            found(start, end);
            from = end;
        } else {
            from = i + 1;
        }
    }
}

/// Percent-decodes `run` into `out`, recording for every output byte the
/// offset in `run` it came from (so a finding points at the encoded text).
pub fn decode_percent(run: &[u8], out: &mut Vec<u8>, origin: &mut Vec<usize>) {
    out.clear();
    origin.clear();
    let mut i = 0;
    while i < run.len() {
        if run[i] == b'%' && i + 2 < run.len() {
            if let (Some(h), Some(l)) = (hex_value(run[i + 1]), hex_value(run[i + 2])) {
                out.push(h << 4 | l);
                origin.push(i);
                i += 3;
                continue;
            }
        }
        out.push(run[i]);
        origin.push(i);
        i += 1;
    }
    origin.push(run.len());
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_encoded_is_upper_lower_and_a_digit_or_a_short_run() {
        // The rule as first written, three passes.
        let reference = |run: &[u8]| {
            let upper = run.iter().any(u8::is_ascii_uppercase);
            let lower = run.iter().any(u8::is_ascii_lowercase);
            let digit = run.iter().any(u8::is_ascii_digit);
            upper && lower && (digit || run.len() < SHORT_RUN)
        };
        let pools: [&[u8]; 4] = [
            b"abcdef0123456789",
            b"abcXYZ+/-_",
            b"aZ09",
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ];
        let mut state = 0x853C_49E6_748F_EA9Bu64;
        let mut both = [0, 0];
        for round in 0..4_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let pool = pools[round % pools.len()];
            let len = 16 + (state % 60) as usize;
            let run: Vec<u8> = (0..len)
                .map(|i| pool[((state >> (i % 50)) as usize + i * 7) % pool.len()])
                .collect();
            let expected = reference(&run);
            both[usize::from(expected)] += 1;
            assert_eq!(
                looks_encoded(&run),
                expected,
                "{}",
                String::from_utf8_lossy(&run)
            );
        }
        assert!(both[0] > 100 && both[1] > 100, "{both:?}");
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if big_endian {
                &[0xFE, 0xFF]
            } else {
                &[0xFF, 0xFE]
            });
        }
        for unit in text.encode_utf16() {
            out.extend_from_slice(&if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn utf16_is_sniffed_with_and_without_bom() {
        let text = "$pat = \"abc\"\r\nWrite-Host $pat\r\n";
        assert_eq!(
            sniff_utf16(&utf16(text, false, true)),
            Some((Encoding::Utf16Le, 2))
        );
        assert_eq!(
            sniff_utf16(&utf16(text, true, true)),
            Some((Encoding::Utf16Be, 2))
        );
        assert_eq!(
            sniff_utf16(&utf16(text, false, false)),
            Some((Encoding::Utf16Le, 0))
        );
        assert_eq!(
            sniff_utf16(&utf16(text, true, false)),
            Some((Encoding::Utf16Be, 0))
        );
        assert_eq!(sniff_utf16(text.as_bytes()), None);
        assert_eq!(sniff_utf16(&[0u8; 64]), None);
    }

    #[test]
    fn utf16_reader_round_trips_including_surrogates() {
        let text = "héllo 😀 wörld\nline two";
        for big_endian in [false, true] {
            let bytes = utf16(text, big_endian, false);
            let order = if big_endian {
                Encoding::Utf16Be
            } else {
                Encoding::Utf16Le
            };
            let mut decoded = String::new();
            // A one-byte-at-a-time reader exercises split code units.
            let slow = OneByte(&bytes[..]);
            Utf16Reader::new(slow, order)
                .read_to_string(&mut decoded)
                .unwrap();
            assert_eq!(decoded, text);
        }
    }

    struct OneByte<'a>(&'a [u8]);
    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn lone_surrogates_and_odd_lengths_do_not_break_decoding() {
        let bytes = [0x41, 0x00, 0x00, 0xD8, 0x42, 0x00, 0x43];
        let mut decoded = String::new();
        Utf16Reader::new(&bytes[..], Encoding::Utf16Le)
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, "A\u{FFFD}B\u{FFFD}");
    }

    fn runs(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        base64_runs(text.as_bytes(), 0..text.len(), 36, |s, e| {
            out.push(&text[s..e])
        });
        out
    }

    #[test]
    fn base64_runs_need_length_and_mixed_classes() {
        let encoded = "dXNlcjpnaHBfYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=";
        assert_eq!(
            runs(&format!("Authorization: Basic {encoded}\n")),
            vec![encoded]
        );
        assert!(runs("short c2hvcnQ= text").is_empty());
        assert!(runs("9fceb02d0ae598e95dc970b74767f19372d61af8 hex digest").is_empty());
        assert!(runs("thisIsAVeryLongIdentifierWithoutAnyDigitsInsideIt").is_empty());
    }

    #[test]
    fn base64_decodes_both_alphabets_and_rejects_mixtures() {
        let mut out = Vec::new();
        assert!(decode_base64(b"dXNlcjpwYXNz", &mut out));
        assert_eq!(out, b"user:pass");
        assert!(decode_base64(b"dXNlcjpwYXNzd29yZA", &mut out));
        assert_eq!(out, b"user:password");
        assert!(decode_base64(b"-_-_", &mut out));
        assert!(!decode_base64(b"ab+_", &mut out));
    }

    #[test]
    fn percent_runs_and_offsets() {
        let text = b"url=https://h/x?t=%22abc%3D%22&y=1 next";
        let mut found = Vec::new();
        percent_runs(text, 0..text.len(), |s, e| found.push((s, e)));
        assert_eq!(found, vec![(0, 34)]);
        let mut out = Vec::new();
        let mut origin = Vec::new();
        decode_percent(&text[0..34], &mut out, &mut origin);
        assert_eq!(&out, b"url=https://h/x?t=\"abc=\"&y=1");
        assert_eq!(origin[18], 18); // the first %22
        assert_eq!(origin[19], 21); // 'a' after it
        assert_eq!(*origin.last().unwrap(), 34);
    }

    #[test]
    fn mostly_text_rejects_binary() {
        assert!(mostly_text(b"user:ghp_abc"));
        assert!(!mostly_text(&[0, 1, 2, 3, 200, 201, 202, 65]));
    }
}
