//! Properties over generated inputs: every rule's tokens are found where
//! they are, a one-character change to a checksummed token is never
//! reported, and chunk boundaries change nothing.

use patscan::model::{Finding, Origin};
use patscan::rules::{self, RuleSet};
use patscan::scanner::Scanner;
use patscan::tokengen::{generate, TokenRng, FAMILIES};
use proptest::prelude::*;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| rules::builtin().expect("built-in rules"))
}

fn scan(bytes: &[u8], chunk: Option<usize>) -> Vec<Finding> {
    scan_showing(bytes, chunk, true)
}

fn scan_showing(bytes: &[u8], chunk: Option<usize>, show_secrets: bool) -> Vec<Finding> {
    let mut scanner = Scanner::new(rules(), show_secrets);
    if let Some(chunk) = chunk {
        scanner = scanner.with_chunk_size(chunk);
    }
    let mut out = Vec::new();
    scanner.scan_bytes(bytes, "p", &Origin::File, &mut out);
    out
}

fn key(f: &Finding) -> (usize, usize, usize, String, String) {
    (
        f.line,
        f.column,
        f.end_column,
        f.rule_id.clone(),
        f.secret.expose().to_string(),
    )
}

/// Surrounding text: words, punctuation, quotes, newlines and some
/// non-ASCII, but never characters that would extend a token.
fn filler() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(" ".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just(" = ".to_string()),
            Just("\"".to_string()),
            Just("'".to_string()),
            Just("é€ ".to_string()),
            Just(": ".to_string()),
            "[a-z]{1,8} ",
            "[0-9]{1,4},",
        ],
        0..20,
    )
    .prop_map(|parts| parts.concat())
}

/// Filler longer than the scanner's overlap between chunks (64 KiB plus a
/// little): a text shorter than a chunk plus the overlap is read in one go.
fn padding() -> String {
    "x = 1; ".repeat(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_generated_token_is_found_at_its_line_and_column(
        family in 0..FAMILIES.len(),
        seed in any::<u64>(),
        before in filler(),
        after in filler(),
    ) {
        let family = FAMILIES[family];
        let token = generate(family, &mut TokenRng::new(seed)).unwrap();
        let text = format!("{before} {token} {after}");
        let prefix = format!("{before} ");
        let line = 1 + prefix.matches('\n').count();
        let column = 1 + prefix.rsplit('\n').next().unwrap().chars().count();
        let found: Vec<_> = scan(text.as_bytes(), None).iter().map(key).collect();
        prop_assert!(
            found.contains(&(line, column, column + token.chars().count(), family.to_string(), token.clone())),
            "{family} not found at {line}:{column} in {text:?}: {found:?}"
        );
    }

    #[test]
    fn a_one_character_change_to_a_checksummed_token_is_never_reported(
        family in prop::sample::select(vec![
            "azure-devops-pat", "azure-devops-pat-legacy", "github-classic-pat", "github-oauth",
            "github-app-user", "github-refresh", "npm-token", "gitlab-pat-routable", "atlassian-api-token",
        ]),
        seed in any::<u64>(),
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".to_vec()),
    ) {
        let token = generate(family, &mut TokenRng::new(seed)).unwrap();
        let mut bytes = token.clone().into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != replacement && bytes[i].is_ascii_alphanumeric());
        bytes[i] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        let text = format!("token = \"{changed}\"\n");
        let found = scan(text.as_bytes(), None);
        prop_assert!(
            found.iter().all(|f| f.secret.expose() != changed || f.rule_id != family),
            "{family} with a changed character was reported"
        );
    }

    #[test]
    fn chunk_boundaries_do_not_change_the_findings(
        seed in any::<u64>(),
        chunk in 200usize..3000,
        layout in proptest::collection::vec((0..FAMILIES.len(), filler()), 1..12),
    ) {
        let mut rng = TokenRng::new(seed);
        let mut text = String::new();
        for (family, gap) in &layout {
            text.push_str(gap);
            text.push(' ');
            text.push_str(&generate(FAMILIES[*family], &mut rng).unwrap());
            text.push(' ');
        }
        // Without it the whole text fits in the first read and the chunk
        // size changes nothing.
        text.push_str(&padding());
        let whole: Vec<_> = scan(text.as_bytes(), None).iter().map(key).collect();
        let chunked: Vec<_> = scan(text.as_bytes(), Some(chunk)).iter().map(key).collect();
        prop_assert_eq!(whole, chunked);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Two tokens on one line with a chunk boundary near them: each is
    /// reported once, by its own chunk, and neither snippet shows the other
    /// (the chunk that does not report a token still masks it).
    #[test]
    fn neighbours_across_a_chunk_boundary_are_found_once_and_masked(
        seed in any::<u64>(),
        first in 0..FAMILIES.len(),
        second in 0..FAMILIES.len(),
        gap in "[a-z=:;, ]{1,30}",
        shift in 0usize..200,
    ) {
        let mut rng = TokenRng::new(seed);
        let a = generate(FAMILIES[first], &mut rng).unwrap();
        let b = generate(FAMILIES[second], &mut rng).unwrap();
        let pad = padding();
        let text = format!("{pad} {a} {gap} {b} {pad}");
        let boundary = pad.len() + shift;
        let whole: Vec<_> = scan_showing(text.as_bytes(), None, false).iter().map(key).collect();
        let chunked = scan_showing(text.as_bytes(), Some(boundary), false);
        prop_assert_eq!(&whole, &chunked.iter().map(key).collect::<Vec<_>>());
        prop_assert!(chunked.iter().any(|f| f.secret.expose() == a));
        prop_assert!(chunked.iter().any(|f| f.secret.expose() == b));
        for f in &chunked {
            for token in [&a, &b] {
                for piece in token.as_bytes().windows(12).skip(4) {
                    let piece = std::str::from_utf8(piece).unwrap();
                    prop_assert!(!f.snippet.contains(piece), "{} shows part of a token", f.snippet);
                }
            }
        }
    }
}

/// A reader that hands out at most `step` bytes per call, as a pipe or a
/// git blob stream does.
struct Dribble<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// The scanner's buffer starts small and grows with the input: tokens on
/// either side of each size it passes through are found at their lines,
/// whether the file comes whole or in small reads, and after a small file
/// left the kept buffer at another size.
#[test]
fn a_file_larger_than_the_first_buffer_is_scanned_whole_as_the_buffer_grows() {
    let mut rng = TokenRng::new(7);
    let filler = "let value = compute(alpha, beta); // ordinary code\n";
    let mut text = String::new();
    let mut expected = Vec::new();
    for boundary in [64usize << 10, 128 << 10, 256 << 10, 512 << 10] {
        for offset in [boundary - 120, boundary + 30] {
            while text.len() < offset {
                text.push_str(filler);
            }
            let token = generate("github-classic-pat", &mut rng).unwrap();
            text.push_str(&format!("token = \"{token}\"\n"));
            expected.push((text.lines().count(), token));
        }
    }
    for _ in 0..2000 {
        text.push_str(filler);
    }
    let found_lines = |found: Vec<Finding>| -> Vec<(usize, String)> {
        found
            .iter()
            .map(|f| (f.line, f.secret.expose().to_string()))
            .collect()
    };
    let mut scanner = Scanner::new(rules(), true);
    for (input, step) in [
        (text.as_str(), usize::MAX),
        ("small = 1\n", 4),
        (text.as_str(), 777),
    ] {
        let mut out = Vec::new();
        let mut reader = Dribble {
            bytes: input.as_bytes(),
            step,
        };
        scanner
            .scan_reader(&mut reader, "p", &Origin::File, &mut out)
            .unwrap();
        if input.len() > 100 {
            assert_eq!(found_lines(out), expected, "reads of {step} bytes");
        } else {
            assert!(out.is_empty());
        }
    }
}
