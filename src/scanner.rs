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

use std::ops::Range;

use crate::decode::{self, Encoding};
use crate::detect::precedence::{standing, Claim, Class, Rank, Ranks};
use crate::engine::{find_tokens, Match, Scratch};
use crate::line_hash;
use crate::model::{Confidence, Finding, Origin, Secret};
use crate::parse::pkcs12;
use crate::rules::validate::Validation;
use crate::rules::{OptIn, ParserKind, RuleSet};
use crate::suppress::allow_comment;

/// Bytes read per chunk. Big enough that per-chunk overhead vanishes, small
/// enough that a thread's buffer stays a few MiB.
pub const CHUNK_SIZE: usize = 4 << 20;
/// What a scanner's buffer starts at; most files and blobs fit.
const INITIAL_BUFFER: usize = 64 << 10;
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
    /// For the decoded views (base64, percent), made on first use.
    decoded_scratch: Option<Scratch>,
    buf: Vec<u8>,
    matches: Vec<Match>,
    hits: Vec<Hit>,
    show_secrets: bool,
    /// Set while scanning a transcoded (UTF-16) stream.
    text_encoding: Option<Encoding>,
    chunk_size: usize,
    /// Fill in each finding's [`line_hash`] (on unless turned off).
    line_hashes: bool,
    /// Which rule stands where two claim one secret, read per rule on need.
    ranks: Ranks,
}

/// A token located in the chunk: `start..end` is the span of the text as it
/// stands in the file (the encoded run for a decoded token), `secret` the
/// decoded token when it differs from that text.
struct Hit {
    rule: usize,
    start: usize,
    end: usize,
    validation: Validation,
    decoded: Option<(Vec<u8>, Vec<Encoding>)>,
    /// A structured rule's details, read where the decoded text was still
    /// at hand (for a plain hit they are read from the buffer later).
    details: Option<Vec<(String, String)>>,
}

impl<'r> Scanner<'r> {
    pub fn new(rules: &'r RuleSet, show_secrets: bool) -> Scanner<'r> {
        Scanner {
            rules,
            scratch: Scratch::new(rules),
            decoded_scratch: None,
            buf: Vec::new(),
            matches: Vec::new(),
            hits: Vec::new(),
            show_secrets,
            text_encoding: None,
            chunk_size: CHUNK_SIZE,
            line_hashes: true,
            ranks: Ranks::default(),
        }
    }

    /// Whether findings get their line's [`line_hash`] (SARIF needs it;
    /// it costs a pass over the text of each input with findings).
    pub fn with_line_hashes(mut self, on: bool) -> Scanner<'r> {
        self.line_hashes = on;
        self
    }

    /// Reads in chunks of `bytes` instead of [`CHUNK_SIZE`]. For tests that
    /// put tokens across chunk boundaries without writing megabytes.
    pub fn with_chunk_size(mut self, bytes: usize) -> Scanner<'r> {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Scans `reader` to its end, appending findings for `path` to `out`.
    pub fn scan_reader(
        &mut self,
        reader: &mut dyn Read,
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) -> io::Result<Outcome> {
        // Enough overlap for the longest token, and for the longest base64
        // run that is decoded, to be wholly inside the chunk that owns it.
        let overlap = self.rules.max_token_length().max(decode::MAX_BASE64_RUN) + 2;
        // Kept before the next owned part, so that any token or decoded run
        // a snippet there can reach is whole, so it is found and masked (see
        // `scan_chunk`).
        let keep = overlap + 4 * SNIPPET_CONTEXT + LEFT_CONTEXT;
        // The buffer is read into directly (a small file costs one `read`
        // for its bytes and one for the end) and kept by the scanner. It
        // starts small and grows only for a larger input: zeroing a whole
        // chunk up front cost each new scanner megabytes of page faults and
        // `memset` (the allocator reuses freed heap memory, which is not
        // zero), and a history scan makes a few scanners per repository.
        let mut buf = std::mem::take(&mut self.buf);
        if buf.is_empty() {
            buf = vec![0; INITIAL_BUFFER.min(self.chunk_size + keep + overlap)];
        }
        let mut filled = 0;
        let mut position = Position::start();
        let mut owned_start = 0;
        let mut total: u64 = 0;
        let mut first = true;
        let mut chunks = 0;
        let found_from = out.len();
        let result = loop {
            chunks += 1;
            let target = self.chunk_size + owned_start + overlap;
            let before = filled;
            let eof = match fill_growing(reader, &mut buf, target, &mut filled) {
                Ok(eof) => eof,
                Err(e) => break Err(e),
            };
            total += (filled - before) as u64;
            if first {
                first = false;
                let head = &buf[..filled.min(BINARY_SNIFF)];
                if self.text_encoding.is_none() {
                    if let Some((encoding, bom)) = decode::sniff_utf16(head) {
                        // Re-read what was consumed, then the rest, as UTF-8.
                        let consumed = io::Cursor::new(buf[bom..filled].to_vec());
                        let mut text = decode::Utf16Reader::new(consumed.chain(reader), encoding);
                        self.buf = buf;
                        self.text_encoding = Some(encoding);
                        let result = self.scan_reader(&mut text, path, origin, out);
                        self.text_encoding = None;
                        return result;
                    }
                }
                if looks_binary(head) {
                    // A key store is binary and still a secret: read it
                    // whole (it is small) instead of skipping it.
                    if eof && pkcs12::looks_like_pfx(head) {
                        if let Some(finding) = self.pkcs12_file(&buf[..filled], path, origin) {
                            out.push(finding);
                            break Ok(Outcome::Scanned { bytes: total });
                        }
                    }
                    break Ok(Outcome::Binary);
                }
            }
            let owned_end = if eof { filled } else { filled - overlap };
            self.scan_chunk(
                &buf[..filled],
                owned_start..owned_end,
                &position,
                path,
                origin,
                out,
            );
            if eof {
                break Ok(Outcome::Scanned { bytes: total });
            }
            let keep_from = owned_end - keep.min(owned_end);
            position.advance(&buf[..keep_from]);
            buf.copy_within(keep_from..filled, 0);
            filled -= keep_from;
            owned_start = owned_end - keep_from;
        };
        if self.line_hashes
            && chunks == 1
            && out.len() > found_from
            && matches!(result, Ok(Outcome::Scanned { .. }))
        {
            // The whole input is in the buffer: hash the findings' lines now.
            // Larger inputs are hashed by their source, which can re-read them.
            line_hash::fill_from_bytes(&buf[..filled], &mut out[found_from..]);
        }
        self.buf = buf;
        result
    }

    /// The finding for a binary PKCS#12 file (`.p12`, `.pfx`) that holds a
    /// private key, reported under the rule that finds the same store in
    /// base64 (when that rule is in the set).
    fn pkcs12_file(&self, bytes: &[u8], path: &str, origin: &Origin) -> Option<Finding> {
        let rule = self
            .rules
            .rules()
            .iter()
            .find(|r| r.spec.parser == Some(ParserKind::Pkcs12))?;
        let (pfx, secret) = pkcs12::from_file(bytes)?;
        let mut details = pfx.details();
        details.push(("encoding".into(), "binary".into()));
        let mut confidence = pfx.confidence();
        demote_test_keys(&rule.spec, path, &mut confidence, &mut details);
        let secret = Secret::new(secret);
        // No line to show: what the file is, never its bytes.
        let snippet = format!("(binary PKCS#12 key store, {} bytes)", bytes.len());
        Some(Finding {
            repository: None,
            rule_id: rule.spec.id.clone(),
            rule_name: rule.spec.name.clone(),
            confidence,
            validation: "structure",
            path: path.to_string(),
            origin: origin.clone(),
            line: 1,
            column: 1,
            end_column: 1,
            secret,
            snippet,
            encoding: None,
            line_hash: None,
            allowed_by: None,
            live: Default::default(),
            details,
        })
    }

    /// What [`Scanner::scan_reader`] does with an input of one chunk, on
    /// the bytes where they lie: a git blob made whole in memory (a delta
    /// chain's result) was copied into the scanner's buffer before, 5% of
    /// a history scan's scanning threads on azure-pipelines-tasks.
    fn scan_in_place(
        &mut self,
        bytes: &[u8],
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) -> Outcome {
        let head = &bytes[..bytes.len().min(BINARY_SNIFF)];
        if looks_binary(head) {
            if pkcs12::looks_like_pfx(head) {
                if let Some(finding) = self.pkcs12_file(bytes, path, origin) {
                    out.push(finding);
                    return Outcome::Scanned {
                        bytes: bytes.len() as u64,
                    };
                }
            }
            return Outcome::Binary;
        }
        self.scan_chunk(bytes, 0..bytes.len(), &Position::start(), path, origin, out);
        Outcome::Scanned {
            bytes: bytes.len() as u64,
        }
    }

    /// Scans an in-memory buffer (stdin contents, git blobs).
    pub fn scan_bytes(
        &mut self,
        mut bytes: &[u8],
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) -> Outcome {
        let whole = bytes;
        let from = out.len();
        let head = &bytes[..bytes.len().min(BINARY_SNIFF)];
        let outcome = if bytes.len() <= self.chunk_size && decode::sniff_utf16(head).is_none() {
            self.scan_in_place(bytes, path, origin, out)
        } else {
            // Reading from a slice cannot fail.
            self.scan_reader(&mut bytes, path, origin, out)
                .unwrap_or(Outcome::Scanned { bytes: 0 })
        };
        // Over one chunk the reader could not hash the lines; the whole
        // input is at hand here.
        // (UTF-16 is hashed as the text it decodes to, which needs the
        // reader's pass.)
        if self.line_hashes
            && matches!(outcome, Outcome::Scanned { .. })
            && decode::sniff_utf16(&whole[..whole.len().min(BINARY_SNIFF)]).is_none()
            && out[from..].iter().any(|f| f.line_hash.is_none())
        {
            line_hash::fill_from_bytes(whole, &mut out[from..]);
        }
        outcome
    }

    fn scan_chunk(
        &mut self,
        buf: &[u8],
        owned: Range<usize>,
        position: &Position,
        path: &str,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) {
        self.matches.clear();
        find_tokens(self.rules, buf, &mut self.scratch, &mut self.matches);
        self.hits.clear();
        self.hits.extend(self.matches.iter().map(|m| Hit {
            rule: m.rule,
            start: m.start,
            end: m.end,
            validation: m.validation,
            decoded: None,
            details: None,
        }));
        decoded_hits(
            self.rules,
            buf,
            0..buf.len(),
            &self.matches,
            self.scratch.long_runs(),
            &mut self.hits,
            &mut self.decoded_scratch,
        );
        // Every token in the buffer is masked in snippets, also those another
        // chunk reports: a neighbour on the same line, just across the
        // boundary, must not show in this chunk's snippet.
        let mut masks: Vec<(usize, usize)> = self.hits.iter().map(|h| (h.start, h.end)).collect();
        masks.sort_unstable();
        // A decoded token's secret differs from the encoded text it is
        // masked by; a plain copy of it near the token is masked too.
        let decoded: Vec<((usize, usize), Vec<u8>)> = self
            .hits
            .iter()
            .filter_map(|h| h.decoded.as_ref().map(|d| ((h.start, h.end), d.0.clone())))
            .collect();
        self.hits.retain(|h| owned.contains(&h.start));
        // Generic (keyword-assignment) findings mean nothing in lock,
        // localisation and minified files; the path is known only here.
        let rules = self.rules;
        let generic = |h: &Hit| rules.get(h.rule).spec.opt_in == Some(OptIn::Generic);
        if self.hits.iter().any(generic) && crate::generic::skips_path(path) {
            self.hits.retain(|h| !generic(h));
        }
        if self.hits.is_empty() {
            return;
        }
        self.hits.sort_unstable_by_key(|h| (h.start, h.end, h.rule));
        self.hits.dedup_by(|a, b| {
            (a.start, a.end, a.rule) == (b.start, b.end, b.rule)
                && a.decoded.as_ref().map(|d| &d.0) == b.decoded.as_ref().map(|d| &d.0)
        });
        resolve_claims(self.rules, &mut self.ranks, &mut self.hits);
        let mut cursor = position.clone();
        let mut cursor_at = 0;
        for hit in &self.hits {
            cursor.advance(&buf[cursor_at..hit.start]);
            cursor_at = hit.start;
            let rule = &self.rules.get(hit.rule).spec;
            let (secret_bytes, layers): (&[u8], &[Encoding]) = match &hit.decoded {
                Some((bytes, layers)) => (bytes, layers),
                None => (&buf[hit.start..hit.end], &[]),
            };
            let encoding = self
                .text_encoding
                .iter()
                .chain(layers)
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join("+");
            let mut details = match (&hit.details, rule.parser) {
                (Some(details), _) => details.clone(),
                (None, Some(kind)) => crate::parse::describe(kind, buf, hit.start..hit.end),
                (None, None) => Vec::new(),
            };
            let mut confidence = hit.validation.confidence(rule);
            demote_test_keys(rule, path, &mut confidence, &mut details);
            out.push(Finding {
                repository: None,
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                confidence,
                validation: hit.validation.as_str(),
                path: path.to_string(),
                origin: origin.clone(),
                line: cursor.line,
                column: cursor.column,
                end_column: cursor.column + char_count(&buf[hit.start..hit.end]),
                secret: Secret::new(String::from_utf8_lossy(secret_bytes).into_owned()),
                snippet: snippet(
                    buf,
                    (hit.start, hit.end),
                    (&masks, &decoded),
                    self.show_secrets,
                ),
                encoding: (!encoding.is_empty()).then_some(encoding),
                line_hash: None,
                allowed_by: allow_comment(buf, hit.start, hit.end),
                live: crate::detect::context::context_for(&rule.id, buf, hit.start, hit.end),
                details,
            });
        }
    }
}

/// A private key (PEM, PuTTY, PGP, age, PKCS#12) in a test, fixture or
/// example path is reported at low confidence, with the part of the path
/// that decided it (see [`crate::detect::testdata`]).
fn demote_test_keys(
    rule: &crate::rules::RuleSpec,
    path: &str,
    confidence: &mut Confidence,
    details: &mut Vec<(String, String)>,
) {
    let key = matches!(
        rule.parser,
        Some(
            ParserKind::PrivateKey
                | ParserKind::Ppk
                | ParserKind::Pgp
                | ParserKind::Age
                | ParserKind::Pkcs12
        )
    );
    if !key || *confidence == Confidence::Low {
        return;
    }
    if let Some(part) = crate::detect::testdata::test_path(path) {
        *confidence = Confidence::Low;
        details.push(("test_path".into(), part));
    }
}

/// Where two rules claim one secret (a connection string's password that is
/// a GitHub token, the AWS secret-key rule on a Yandex Cloud key), only the
/// more specific finding stands: see [`crate::detect::precedence`].
fn resolve_claims(rules: &RuleSet, ranks: &mut Ranks, hits: &mut Vec<Hit>) {
    if hits.len() < 2 {
        return;
    }
    let claims: Vec<Claim> = hits
        .iter()
        .map(|h| Claim {
            start: h.start,
            end: h.end,
            decoded: h.decoded.as_ref().map(|d| d.0.as_slice()),
            class: Class::of(&rules.get(h.rule).spec),
        })
        .collect();
    let keep = standing(&claims, |i| {
        let hit = &hits[i];
        let spec = &rules.get(hit.rule).spec;
        Rank {
            evidence: ranks.evidence(hit.rule, spec),
            checksum: hit.validation == Validation::Checksum,
            confidence: hit.validation.confidence(spec),
            span_len: hit
                .decoded
                .as_ref()
                .map_or(hit.end - hit.start, |d| d.0.len()),
            rule_id: &spec.id,
        }
    });
    let mut flags = keep.into_iter();
    hits.retain(|_| flags.next().unwrap_or(true));
}

/// How many encodings deep a token is looked for (base64 in base64, as in a
/// Kubernetes secret holding a docker config).
const MAX_DECODE_DEPTH: usize = 2;

/// Tokens visible only once base64 runs or percent escapes starting in
/// `owned` are decoded. A token that also stands in plain text at the same
/// place (`raw`), or that the same rule found over the same bytes, is not
/// reported twice.
fn decoded_hits(
    rules: &RuleSet,
    buf: &[u8],
    owned: Range<usize>,
    raw: &[Match],
    long_runs: &[(usize, usize)],
    hits: &mut Vec<Hit>,
    scratch: &mut Option<Scratch>,
) {
    let mut found = Vec::new();
    let mut push = |rule: usize,
                    start: usize,
                    end: usize,
                    validation,
                    secret: &[u8],
                    layers: &[Encoding],
                    details: Option<Vec<(String, String)>>| {
        // The same rule already found a token over these bytes in plain
        // text: this is that token seen again (a SAS signature's `%2B`
        // decoded is still the signature), not a second one.
        if raw
            .iter()
            .any(|m| m.rule == rule && m.start < end && start < m.end)
        {
            return;
        }
        hits.push(Hit {
            rule,
            start,
            end,
            validation,
            decoded: Some((secret.to_vec(), layers.to_vec())),
            details,
        });
    };
    // A structured rule's details come from the decoded text around the
    // token, which is gone once the hit is kept.
    let details_of = |m: &Match, bytes: &[u8]| {
        rules
            .get(m.rule)
            .spec
            .parser
            .map(|kind| crate::parse::describe(kind, bytes, m.start..m.end))
    };
    let mut decode_layer = |span: (usize, usize), layers: &mut Vec<Encoding>, bytes: &[u8]| {
        let scratch = scratch.get_or_insert_with(|| Scratch::new(rules));
        scan_decoded(
            rules,
            scratch,
            bytes,
            layers,
            &mut found,
            &mut |m, bytes, layers| {
                push(
                    m.rule,
                    span.0,
                    span.1,
                    m.validation,
                    &bytes[m.start..m.end],
                    layers,
                    details_of(m, bytes),
                )
            },
        );
    };

    let mut decoded = Vec::new();
    for &(start, end) in long_runs.iter().filter(|r| owned.contains(&r.0)) {
        let Some((start, end)) = decode::base64_candidate(buf, start, end) else {
            continue;
        };
        if decode::decode_base64(&buf[start..end], &mut decoded) && decode::mostly_text(&decoded) {
            decode_layer((start, end), &mut vec![Encoding::Base64], &decoded);
        }
    }

    let mut origin = Vec::new();
    decode::percent_runs(buf, 0..buf.len(), |start, end| {
        if !owned.contains(&start) {
            return;
        }
        decode::decode_percent(&buf[start..end], &mut decoded, &mut origin);
        let scratch = scratch.get_or_insert_with(|| Scratch::new(rules));
        found.clear();
        find_tokens(rules, &decoded, scratch, &mut found);
        for m in &found {
            let (from, to) = (start + origin[m.start], start + origin[m.end]);
            push(
                m.rule,
                from,
                to,
                m.validation,
                &decoded[m.start..m.end],
                &[Encoding::Percent],
                details_of(m, &decoded),
            );
        }
    });
}

/// Receives a match in a decoded view, the decoded text it is in and the
/// encodings around it.
type ReportDecoded<'a> = dyn FnMut(&Match, &[u8], &[Encoding]) + 'a;

/// Scans one decoded view, and the base64 runs inside it, down to
/// [`MAX_DECODE_DEPTH`]. `report` gets each match with its secret and the
/// encodings it sat in.
fn scan_decoded(
    rules: &RuleSet,
    scratch: &mut Scratch,
    bytes: &[u8],
    layers: &mut Vec<Encoding>,
    found: &mut Vec<Match>,
    report: &mut ReportDecoded,
) {
    found.clear();
    find_tokens(rules, bytes, scratch, found);
    for m in found.iter() {
        report(m, bytes, layers);
    }
    if layers.len() >= MAX_DECODE_DEPTH {
        return;
    }
    let mut inner = Vec::new();
    let nested: Vec<(usize, usize)> = scratch
        .long_runs()
        .iter()
        .filter_map(|&(start, end)| decode::base64_candidate(bytes, start, end))
        .collect();
    for (start, end) in nested {
        if decode::decode_base64(&bytes[start..end], &mut inner) && decode::mostly_text(&inner) {
            layers.push(Encoding::Base64);
            let mut inner_found = Vec::new();
            scan_decoded(rules, scratch, &inner, layers, &mut inner_found, report);
            layers.pop();
        }
    }
}

/// Reads into `buf[*filled..]` until it is full or the input ends; true at
/// the end. Reads go straight into the buffer, as large as the room left.
fn fill(reader: &mut dyn Read, buf: &mut [u8], filled: &mut usize) -> io::Result<bool> {
    while *filled < buf.len() {
        match reader.read(&mut buf[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// [`fill`] up to `target` bytes, growing `buf` (doubling, at most to
/// `target`) only while the input has more than it holds.
fn fill_growing(
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    target: usize,
    filled: &mut usize,
) -> io::Result<bool> {
    loop {
        let limit = target.min(buf.len());
        if fill(reader, &mut buf[..limit], filled)? {
            return Ok(true);
        }
        if limit == target {
            return Ok(false);
        }
        let grown = (buf.len() * 2).clamp(1, target);
        buf.resize(grown, 0);
    }
}

/// A NUL byte in the first block marks a binary file, as in git and ripgrep.
/// How many leading bytes decide whether an input is binary.
pub const BINARY_SNIFF_BYTES: usize = BINARY_SNIFF;

/// Whether a scan skips an input that starts with `head` (its first
/// [`BINARY_SNIFF_BYTES`], or all of a shorter one) as binary: a source that
/// inflates as it is read can stop there.
pub fn is_binary_head(head: &[u8]) -> bool {
    decode::sniff_utf16(head).is_none() && looks_binary(head)
}

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
        // Counted in one vectorised pass (memchr's `count`), not a call per
        // line: a file with findings has its lines counted up to each one.
        self.line += memchr_iter(b'\n', bytes).count();
        match memchr::memrchr(b'\n', bytes) {
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
fn snippet(buf: &[u8], token: (usize, usize), masks: Masks<'_>, show_secrets: bool) -> String {
    let (start, end) = token;
    let line_start = memchr::memrchr(b'\n', &buf[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &buf[end..]).map_or(buf.len(), |i| end + i);
    let mut from = back_chars(buf, start, SNIPPET_CONTEXT).max(line_start);
    let mut to = forward_chars(buf, end, SNIPPET_CONTEXT).min(line_end);
    let spans = masked_spans(buf, (from, to), (line_start, line_end), masks, show_secrets);
    // Never cut a secret in half: widen to include any that straddle.
    for &(other_start, other_end) in &spans {
        if other_start < from && other_end > from {
            from = other_start;
        }
        if other_start < to && other_end > to {
            to = other_end;
        }
    }
    let mut text = String::new();
    if from > line_start {
        text.push('…');
    }
    let mut at = from;
    for &(other_start, other_end) in spans.iter().filter(|m| m.0 >= from && m.1 <= to) {
        text.push_str(&String::from_utf8_lossy(&buf[at..other_start]));
        let value = String::from_utf8_lossy(&buf[other_start..other_end]);
        if show_secrets {
            text.push_str(&value);
        } else {
            text.push_str(&Secret::new(value.into_owned()).redacted());
        }
        at = other_end;
    }
    text.push_str(&String::from_utf8_lossy(&buf[at..to]));
    if to < line_end {
        text.push('…');
    }
    text.trim_end_matches('\r').to_string()
}

/// The spans a snippet covering `window` masks, sorted and disjoint: the
/// tokens near it and, unless secrets are shown, every other copy of their
/// text on the line (the same secret glued to other letters is no token,
/// but still the secret), overlaps merged so none shows half unmasked.
fn masked_spans(
    buf: &[u8],
    window: (usize, usize),
    line: (usize, usize),
    (masks, decoded): Masks<'_>,
    show_secrets: bool,
) -> Vec<(usize, usize)> {
    // Where a span that reaches into the window, or a copy of one, can be.
    let near = (
        window.0.saturating_sub(MAX_SNIPPET_REACH).max(line.0),
        (window.1 + MAX_SNIPPET_REACH).min(line.1),
    );
    let mut spans: Vec<(usize, usize)> = masks
        .iter()
        .filter(|m| m.1 > near.0 && m.0 < near.1)
        .copied()
        .collect();
    if !show_secrets {
        let values = spans.iter().map(|&(start, end)| &buf[start..end]).chain(
            decoded
                .iter()
                .filter(|(span, _)| span.1 > near.0 && span.0 < near.1)
                .map(|(_, value)| value.as_slice()),
        );
        let mut copies = Vec::new();
        for value in values {
            if value.len() < MIN_MASKED_REPEAT || near.0 >= near.1 {
                continue;
            }
            for at in memchr::memmem::find_iter(&buf[near.0..near.1], value) {
                copies.push((near.0 + at, near.0 + at + value.len()));
            }
        }
        spans.extend(copies);
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// What a snippet masks: the spans of every token in the buffer (sorted),
/// and the decoded secret of each one found in an encoding, by its span.
type Masks<'a> = (&'a [(usize, usize)], &'a [((usize, usize), Vec<u8>)]);

/// Shortest secret whose other copies in a snippet are masked too: shorter
/// spans are no tokens (the shortest token is 26 characters).
const MIN_MASKED_REPEAT: usize = 16;
/// How far from a snippet's window a masked span can start and still reach
/// into it: the longest token a rule allows.
const MAX_SNIPPET_REACH: usize = crate::rules::MAX_TOKEN_LENGTH;

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
    use crate::tokengen::{generate, TokenRng};

    /// A blob in memory is scanned where it lies, a stream through the
    /// buffer: the same findings either way (lines, columns, snippets,
    /// line hashes), binary or text, small or over a chunk.
    #[test]
    fn bytes_in_place_and_the_same_bytes_read_find_the_same() {
        let rules = crate::rules::builtin().unwrap_or_else(|e| panic!("{e}"));
        let token = generate("npm-token", &mut TokenRng::new(7)).expect("a token");
        let text = format!("first line\n  NPM_TOKEN={token}\nlast\n");
        let mut binary = b"\0\x01binary".to_vec();
        binary.extend_from_slice(token.as_bytes());
        let mut long = "filler line of text\n".repeat(3000);
        long.push_str(&format!("key: {token}\n"));
        for (input, chunk) in [
            (text.as_bytes(), CHUNK_SIZE),
            (&binary[..], CHUNK_SIZE),
            (&b""[..], CHUNK_SIZE),
            (long.as_bytes(), CHUNK_SIZE),
            (long.as_bytes(), 4096),
        ] {
            let mut scanner = Scanner::new(&rules, false).with_chunk_size(chunk);
            let (mut in_place, mut read) = (Vec::new(), Vec::new());
            let a = scanner.scan_bytes(input, "f.txt", &Origin::Stdin, &mut in_place);
            let mut reader = io::Cursor::new(input);
            let b = scanner
                .scan_reader(&mut reader, "f.txt", &Origin::Stdin, &mut read)
                .expect("a slice reads");
            let kind = |o: Outcome| match o {
                Outcome::Scanned { bytes } => Some(bytes),
                Outcome::Binary => None,
            };
            assert_eq!(kind(a), kind(b));
            let show = |f: &Finding| (f.line, f.column, f.snippet.clone(), f.line_hash.clone());
            assert_eq!(
                in_place.iter().map(show).collect::<Vec<_>>(),
                read.iter().map(show).collect::<Vec<_>>()
            );
            assert_eq!(
                in_place.len(),
                usize::from(input == text.as_bytes() || input == long.as_bytes())
            );
        }
    }

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
