//! What each fuzz target does with its input, and what it checks.
//!
//! Shared by the libFuzzer targets (`fuzz_targets/*.rs`) and by the main
//! crate's `tests/fuzz_regressions.rs`, which replays every input kept under
//! `fuzz/regressions/<target>/` through the same function in `cargo test`:
//! a crash the fuzzer once found stays fixed without a fuzz toolchain.
//!
//! A target fails by panicking. Besides "no panic, no hang, no runaway
//! allocation" (libFuzzer's `-timeout` and `-rss_limit_mb`), each checks a
//! property of its own: decoders round-trip, parsers re-read what they
//! write, scans agree with themselves, and no output shows a secret unless
//! asked to.
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use patscan::baseline::Baseline;
use patscan::decode::{self, Encoding};
use patscan::engine::{find_tokens, Scratch};
use patscan::model::{Finding, Origin, Secret};
use patscan::report::{self, Format, RenderOptions, ReportContext};
use patscan::rules::{self, RuleSet};
use patscan::scan::{self, Tally};
use patscan::scanner::Scanner;
use patscan::tokengen::{generate, TokenRng, FAMILIES};

/// The built-in rules, compiled once per process.
pub fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| rules::builtin().expect("built-in rules compile"))
}

// ------------------------------------------------------------ planting

/// Bytes before the text in an engine or report input: mode, family, an
/// 8-byte seed and the insertion point.
const HEADER: usize = 11;

/// An input with a generated token spliced in, so the fuzzer reaches the
/// validators, decoders and writers with real findings instead of hoping
/// to guess a checksum.
pub struct Planted {
    pub text: Vec<u8>,
    /// The text before any UTF-16 encoding: what a reader of it sees.
    pub plain: Vec<u8>,
    /// The token, when one was planted.
    pub token: Option<String>,
}

/// `[mode, family, seed×8, at, text…]`. Mode bits 0–1: how the token is
/// written (plain, base64 of `user:TOKEN`, percent-encoded, plain); bit 2:
/// the whole text as UTF-16LE with a BOM. Shorter inputs are scanned as
/// they are.
pub fn plant(data: &[u8]) -> Planted {
    if data.len() < HEADER {
        return Planted {
            text: data.to_vec(),
            plain: data.to_vec(),
            token: None,
        };
    }
    let mode = data[0];
    let family = FAMILIES[usize::from(data[1]) % FAMILIES.len()];
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&data[2..10]);
    let token = generate(family, &mut TokenRng::new(u64::from_le_bytes(seed)))
        .expect("every family generates");
    let rest = &data[HEADER..];
    let at = usize::from(data[10]) * rest.len() / 256;
    let written: Vec<u8> = match mode & 3 {
        1 => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .encode(format!("user:{token}"))
                .into_bytes()
        }
        2 => token
            .bytes()
            .enumerate()
            .flat_map(|(i, b)| {
                if i % 3 == 0 {
                    format!("%{b:02X}").into_bytes()
                } else {
                    vec![b]
                }
            })
            .collect(),
        _ => token.clone().into_bytes(),
    };
    let mut text = Vec::with_capacity(rest.len() + written.len() + 2);
    text.extend_from_slice(&rest[..at]);
    text.push(b' ');
    text.extend_from_slice(&written);
    text.push(b' ');
    text.extend_from_slice(&rest[at..]);
    let plain = text.clone();
    if mode & 4 != 0 {
        let utf8 = String::from_utf8_lossy(&text).into_owned();
        text = vec![0xFF, 0xFE];
        for unit in utf8.encode_utf16() {
            text.extend_from_slice(&unit.to_le_bytes());
        }
    }
    Planted {
        text,
        plain,
        token: Some(token),
    }
}

thread_local! {
    // Built once per thread: a scanner's per-rule caches cost far more to
    // make than a small input costs to scan, and would drown the fuzzer.
    static SCANNERS: RefCell<[Scanner<'static>; 2]> = RefCell::new([
        Scanner::new(rules(), false),
        Scanner::new(rules(), true),
    ]);
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new(rules()));
}

/// Scans `text` as the file `path` with the built-in rules.
fn scan_as(text: &[u8], path: &str, show_secrets: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    SCANNERS.with(|scanners| {
        scanners.borrow_mut()[usize::from(show_secrets)].scan_bytes(
            text,
            path,
            &Origin::File,
            &mut out,
        );
    });
    out
}

fn scan(text: &[u8], show_secrets: bool) -> Vec<Finding> {
    scan_as(text, "fuzz/input.txt", show_secrets)
}

/// Stand-ins for a secret that must never be printed: the whole of it and,
/// for long ones, every 12-character window past the redacted prefix (a
/// snippet cut mid-token would otherwise slip through).
pub fn secret_pieces(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return Vec::new();
    }
    let mut pieces = vec![secret.to_string()];
    for start in 4..=chars.len() - 12 {
        pieces.push(chars[start..start + 12].iter().collect());
    }
    pieces
}

/// Panics if `output` holds a piece of a secret. `input` is the scanned
/// text: a piece that also stands in it away from the secret (the fuzzer
/// copies bytes around) proves nothing.
///
/// The pieces are looked for in one pass over the output (an Aho-Corasick
/// automaton), not one search each: a report (the HTML one most) is large
/// and a long secret has a hundred pieces, which searched one by one made
/// this check most of the harnesses' time.
pub fn assert_hidden(output: &str, secrets: &[String], input: &[u8], what: &str) {
    let input = String::from_utf8_lossy(input);
    for secret in secrets {
        let pieces = secret_pieces(secret);
        if pieces.is_empty() {
            continue;
        }
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&pieces)
            .expect("pieces are short literals");
        // As a snippet shows it: the secret in its masked form, whose
        // visible prefix may complete a piece with the text before it.
        let masked = Secret::new(secret.clone()).redacted();
        let elsewhere = input.replace(secret.as_str(), &masked);
        for found in automaton.find_overlapping_iter(output) {
            let piece = &pieces[found.pattern().as_usize()];
            assert!(
                elsewhere.contains(piece.as_str()),
                "{what} shows part of a secret ({} chars) without --show-secrets",
                secret.chars().count()
            );
        }
    }
}

// ------------------------------------------------------------ targets

/// The engine and the scanner over arbitrary bytes (with a generated token
/// spliced in): spans inside the input, the same findings whether secrets
/// are shown or not, and masked snippets that hold no secret.
pub fn engine(data: &[u8]) {
    let planted = plant(data);
    let text = &planted.text;
    SCRATCH.with(|scratch| {
        let scratch = &mut *scratch.borrow_mut();
        let mut matches = Vec::new();
        find_tokens(rules(), text, scratch, &mut matches);
        for m in &matches {
            assert!(
                m.start < m.end && m.end <= text.len(),
                "match out of bounds"
            );
        }
        for &(start, end) in scratch.long_runs() {
            assert!(start < end && end <= text.len(), "run out of bounds");
        }
    });

    let hidden = scan(text, false);
    let shown = scan(text, true);
    let key = |f: &Finding| (f.line, f.column, f.end_column, f.rule_id.clone());
    assert_eq!(
        hidden.iter().map(key).collect::<Vec<_>>(),
        shown.iter().map(key).collect::<Vec<_>>(),
        "--show-secrets changed what was found"
    );
    for f in &hidden {
        assert!(f.line >= 1 && f.column >= 1 && f.end_column > f.column);
    }
    assert_snippets_hidden(&hidden, &planted.plain);
}

/// A snippet masks the secrets found on its line, wherever they stand on
/// it. (A copy of a secret on another line, where no rule matches it, is
/// not masked: finding it would cost a search per secret per snippet.)
fn assert_snippets_hidden(findings: &[Finding], input: &[u8]) {
    for f in findings {
        let line_secrets: Vec<String> = findings
            .iter()
            .filter(|other| other.line == f.line)
            .map(|other| other.secret.expose().to_string())
            .collect();
        assert_hidden(&f.snippet, &line_secrets, input, "a snippet");
    }
}

/// A reader that hands out at most `step` bytes per call, to split UTF-16
/// code units and surrogate pairs across reads.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The UTF-16 reader agrees with the standard library's decoder (every
/// unpaired surrogate and a stray last byte become one U+FFFD each),
/// whatever the read sizes; sniffing never panics.
pub fn utf16(data: &[u8]) {
    let _ = decode::sniff_utf16(data);
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    for (encoding, big_endian) in [(Encoding::Utf16Le, false), (Encoding::Utf16Be, true)] {
        let mut got = Vec::new();
        let reader = Trickle {
            data: body,
            step: usize::from(step).max(1),
        };
        decode::Utf16Reader::new(reader, encoding)
            .read_to_end(&mut got)
            .expect("reading a slice cannot fail");
        let units = body.chunks_exact(2).map(|pair| {
            if big_endian {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_le_bytes([pair[0], pair[1]])
            }
        });
        let mut expected: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        if body.len() % 2 == 1 {
            expected.push(char::REPLACEMENT_CHARACTER);
        }
        assert_eq!(
            String::from_utf8(got).expect("the reader yields UTF-8"),
            expected
        );
    }
}

/// Base64 runs stay inside the input and decode without panicking, and any
/// bytes encoded in either alphabet, padded or not, decode back to
/// themselves.
pub fn base64(data: &[u8]) {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let mut out = Vec::new();
    decode::base64_runs(data, 0..data.len(), decode::MIN_BASE64_RUN, |start, end| {
        assert!(start < end && end <= data.len(), "run out of bounds");
        if decode::decode_base64(&data[start..end], &mut out) {
            assert!(out.len() <= (end - start) / 4 * 3 + 2);
            let _ = decode::mostly_text(&out);
        }
    });
    let _ = decode::decode_base64(data, &mut out);
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        let encoded = engine.encode(data);
        assert!(
            decode::decode_base64(encoded.as_bytes(), &mut out),
            "valid base64 rejected"
        );
        assert_eq!(out, data, "base64 did not round-trip");
    }
}

/// Percent runs hold an escape and stay inside their range; every decoded
/// byte maps back to the text it came from; fully escaped bytes decode back
/// to themselves.
pub fn percent(data: &[u8]) {
    let from = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let mut out = Vec::new();
    let mut origin = Vec::new();
    decode::percent_runs(data, from..data.len(), |start, end| {
        assert!(from <= start && start < end && end <= data.len());
        let run = &data[start..end];
        assert!(run.contains(&b'%'));
        decode::decode_percent(run, &mut out, &mut origin);
        assert_eq!(origin.len(), out.len() + 1);
        assert_eq!(origin.last(), Some(&run.len()));
        assert!(
            origin.windows(2).all(|w| w[0] < w[1]),
            "origins not increasing"
        );
        for (i, &byte) in out.iter().enumerate() {
            let source = &run[origin[i]..origin[i + 1]];
            assert!(
                source == [byte] || (source.len() == 3 && source[0] == b'%'),
                "decoded byte does not map back"
            );
        }
    });
    let escaped: Vec<u8> = data
        .iter()
        .flat_map(|b| format!("%{b:02x}").into_bytes())
        .collect();
    decode::decode_percent(&escaped, &mut out, &mut origin);
    assert_eq!(out, data, "percent-decoding did not round-trip");
}

/// The config parser: any text either loads or is a one-message error; a
/// config that loads gives a rule set that scans its own text.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Only texts that are TOML of the right shape reach rule compilation,
    // which takes milliseconds; the rest fail in the parser.
    match patscan::config::from_text(Path::new("fuzz.toml"), text, &[PathBuf::from(".")]) {
        Ok(config) => {
            let mut scanner = Scanner::new(&config.rules, false);
            let mut out = Vec::new();
            scanner.scan_bytes(data, "fuzz.toml", &Origin::File, &mut out);
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

/// The baseline parser: any text loads or is an error naming a line; what
/// loads writes out and reads back the same.
pub fn baseline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Baseline::parse(Path::new("fuzz.json"), text) {
        Ok(baseline) => {
            let mut written = Vec::new();
            baseline
                .write(&mut written)
                .expect("writing to memory cannot fail");
            let written = String::from_utf8(written).expect("the baseline writer emits UTF-8");
            let again = Baseline::parse(Path::new("again.json"), &written)
                .expect("a written baseline reads back");
            assert_eq!(again.entries(), baseline.entries());
            for entry in baseline.entries() {
                let _ = entry.to_string();
            }
        }
        Err(err) => assert!(err.to_string().contains("line")),
    }
}

/// Every report format over the findings of a fuzzed scan: valid JSON where
/// promised, no secret without `--show-secrets`, every secret with it.
pub fn report(data: &[u8]) {
    let planted = plant(data);
    let path_part = String::from_utf8_lossy(&planted.text[..planted.text.len().min(12)]);
    let path = format!("dir/{path_part}");
    for show_secrets in [false, true] {
        let findings = scan_as(&planted.text, &path, show_secrets);
        if !show_secrets {
            assert_snippets_hidden(&findings, &planted.plain);
        }
        // Every token found, inline-allowed ones included: those are not
        // reported, but may share a line with one that is.
        let secrets: Vec<String> = findings
            .iter()
            .map(|f| f.secret.expose().to_string())
            .collect();
        let report = scan::finish(findings, Tally::default(), Instant::now());
        let reported: Vec<String> = report
            .findings
            .iter()
            .map(|f| f.secret.expose().to_string())
            .collect();
        let roots = [PathBuf::from(".")];
        let context = ReportContext {
            rules: rules(),
            roots: &roots,
        };
        for (format, ungrouped) in [
            (Format::Human, false),
            (Format::Json, false),
            (Format::Json, true),
            (Format::Jsonl, false),
            (Format::Sarif, false),
            (Format::Html, false),
            (Format::Github, false),
            (Format::AzurePipelines, false),
            (Format::Gitlab, false),
            (Format::Markdown, false),
        ] {
            let mut out = Vec::new();
            let options = RenderOptions {
                show_secrets,
                color: format == Format::Human,
                ungrouped,
            };
            let written = report::write_report(format, &report, &context, options, &mut out);
            if format == Format::Html && show_secrets {
                // A report that gets passed around is never unmasked.
                assert!(written.is_err(), "--show-secrets must be refused for HTML");
                continue;
            }
            written.expect("writing to memory cannot fail");
            let text = String::from_utf8(out).expect("reports are UTF-8");
            match format {
                Format::Html => {
                    // Input (path, snippets) never becomes markup: the
                    // island and the report's script are the only scripts.
                    assert_eq!(text.matches("<script").count(), 2, "markup from input");
                    assert!(text.ends_with("</html>\n"));
                }
                Format::Json | Format::Sarif | Format::Gitlab => {
                    serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON");
                }
                Format::Github | Format::AzurePipelines => {
                    // One command per place, each on one line.
                    assert_eq!(text.lines().count(), report.findings.len());
                }
                Format::Jsonl => {
                    for line in text.lines() {
                        serde_json::from_str::<serde_json::Value>(line).expect("valid JSON line");
                    }
                }
                Format::Human | Format::Markdown => {}
            }
            // The CI formats mask whatever --show-secrets says.
            if show_secrets && !format.is_public() {
                if format == Format::Json {
                    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                    // One row per place either way: grouped entries count
                    // their places.
                    let shown: Vec<&str> = if ungrouped {
                        json["findings"]
                            .as_array()
                            .expect("findings")
                            .iter()
                            .map(|f| f["secret"].as_str().expect("secret"))
                            .collect()
                    } else {
                        json["secrets"]
                            .as_array()
                            .expect("secrets")
                            .iter()
                            .flat_map(|s| {
                                let places = s["occurrences"].as_array().expect("places").len();
                                std::iter::repeat(s["secret"].as_str().expect("secret"))
                                    .take(places)
                            })
                            .collect()
                    };
                    let mut expected: Vec<&str> = reported.iter().map(String::as_str).collect();
                    let mut shown = shown;
                    expected.sort_unstable();
                    shown.sort_unstable();
                    assert_eq!(shown, expected, "--show-secrets must show every secret");
                }
            } else {
                // Snippets are checked line by line (as in `engine`); the
                // rest of the report must show no secret at all.
                let mut rest = text.clone();
                for f in &report.findings {
                    let escaped = serde_json::to_string(&f.snippet).expect("a string");
                    let escaped = &escaped[1..escaped.len() - 1];
                    rest = rest.replace(f.snippet.trim(), "").replace(escaped, "");
                    if format == Format::Html {
                        rest = rest
                            .replace(&html_escaped(&f.snippet), "")
                            .replace(&island_escaped(escaped), "");
                    }
                }
                assert_hidden(&rest, &secrets, &planted.plain, format_name(format));
            }
        }
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Human => "the human report",
        Format::Json => "the JSON report",
        Format::Jsonl => "the JSON Lines report",
        Format::Sarif => "the SARIF log",
        Format::Html => "the HTML report",
        Format::Github => "the GitHub annotations",
        Format::AzurePipelines => "the Azure Pipelines commands",
        Format::Gitlab => "the GitLab report",
        Format::Markdown => "the Markdown summary",
    }
}

/// Text as the HTML report writes it in an element.
fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A JSON string's contents as the HTML report's data island writes them.
fn island_escaped(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `image`: the bytes as an image layer blob (gzip, zstd or a plain tar,
/// as their first bytes say) and as an image index. Walking the layer
/// never panics; named by its true digest it is never called a mismatch,
/// and read whole it counts every byte; named by another digest, a layer
/// read whole is always reported as not matching. The index resolves
/// without panicking, whatever it names.
pub fn image(data: &[u8]) {
    use patscan::source::image::digest::Digest;
    use patscan::source::image::layer;
    use patscan::source::image::manifest;
    use patscan::source::image::store::{Locator, Store};

    let truth = Digest::of(data);
    let mut visit = |_: &str, _: u64, reader: &mut dyn Read| -> io::Result<()> {
        io::copy(reader, &mut io::sink()).map(|_| ())
    };
    let walked = layer::walk(Box::new(data), Some(&truth), None, 200, Some(&mut visit));
    match &walked.problem {
        Some(problem) => assert!(!problem.contains("does not match"), "{problem}"),
        None => assert_eq!(walked.stored_bytes, data.len() as u64),
    }
    let other = Digest::of(b"another blob");
    let walked = layer::walk(Box::new(data), Some(&other), None, 200, None);
    if walked.stored_bytes == data.len() as u64 && data != b"another blob" {
        // Read to its end: a mismatch, unless something else stopped it.
        assert!(walked.problem.is_some(), "a wrong digest passed");
    }

    /// A store with no blobs.
    struct Empty;
    impl Store for Empty {
        fn open(&self, at: &Locator) -> Result<Box<dyn Read + Send + '_>, String> {
            Err(format!("missing blob {}", at.describe()))
        }
    }
    let _ = manifest::resolve(&Empty, data, truth, &[]);
}
