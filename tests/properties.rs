//! Properties over generated inputs: every rule's tokens are found where
//! they are, a one-character change to a checksummed token is never
//! reported, and chunk boundaries change nothing.

use patscan::finding::{Finding, Origin};
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
    let mut scanner = Scanner::new(rules(), true);
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
        chunk in 1usize..3000,
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
        let whole: Vec<_> = scan(text.as_bytes(), None).iter().map(key).collect();
        let chunked: Vec<_> = scan(text.as_bytes(), Some(chunk)).iter().map(key).collect();
        prop_assert_eq!(whole, chunked);
    }
}
