//! A document's text in, its diagnostics out: the scanner run on the bytes
//! in memory, what the team allowed taken out (inline comments, the config's
//! allowlists, the baseline), and each token left turned into a diagnostic
//! that names the rule, says how sure it is and how to revoke it, and shows
//! the token only masked.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use lsp_types::{CodeDescription, Diagnostic, DiagnosticSeverity, NumberOrString, Range, Url};

use crate::baseline::{Baseline, SecretHash};
use crate::config::Config;
use crate::model::{Confidence, Finding, Origin};
use crate::rules::{RuleSpec, BUILTIN_RULE_FILES};
use crate::scanner::Scanner;

use super::text::{advance_chars, Positions};

/// The `source` of every diagnostic.
pub const SOURCE: &str = "patscan";

/// What the server keeps of a token it reported: where it is and what the
/// code actions need, never the token itself (its hash is what a baseline
/// entry holds).
#[derive(Debug, Clone)]
pub struct Found {
    /// Byte span in the text that was scanned (the encoded text, for a token
    /// found base64- or percent-encoded).
    pub start: usize,
    pub end: usize,
    pub range: Range,
    pub rule_id: String,
    pub secret_sha256: SecretHash,
    /// The token is the text itself, not a decoding of it: only then can
    /// it be replaced by a variable.
    pub plain: bool,
}

/// What a scan of one document honours.
pub struct Scope<'a> {
    pub config: &'a Config,
    pub baseline: Option<&'a Baseline>,
    /// The path a scan of the folder would report (relative to its root),
    /// which rules about test files and generic secrets look at.
    pub path: &'a str,
}

/// Scans `text` and returns the tokens to report, with their diagnostics.
pub fn scan(text: &str, scope: &Scope<'_>) -> (Vec<Found>, Vec<Diagnostic>) {
    let mut findings = Vec::new();
    let mut scanner = Scanner::new(&scope.config.rules, false).with_line_hashes(false);
    scanner.scan_bytes(text.as_bytes(), scope.path, &Origin::File, &mut findings);
    findings.retain(|f| {
        f.allowed_by.is_none()
            && !scope.config.allowlist.allows(&f.secret)
            && !matches!(scope.baseline, Some(b) if b.position(&f.rule_id, &f.secret).is_some())
    });
    findings.sort_by_key(|f| (f.line, f.column));
    let mut positions = Positions::new(text);
    let mut found = Vec::with_capacity(findings.len());
    let mut diagnostics = Vec::with_capacity(findings.len());
    for finding in &findings {
        let start = positions.offset_of_line_column(finding.line, finding.column);
        let end = advance_chars(text, start, finding.end_column - finding.column);
        let range = positions.range(start, end);
        let spec = scope
            .config
            .rules
            .rules()
            .iter()
            .map(|r| &r.spec)
            .find(|s| s.id == finding.rule_id);
        diagnostics.push(diagnostic(
            finding,
            spec,
            range,
            scope.config.source.as_deref(),
        ));
        found.push(Found {
            start,
            end,
            range,
            rule_id: finding.rule_id.clone(),
            secret_sha256: SecretHash::of(&finding.secret),
            plain: finding.encoding.is_none(),
        });
    }
    (found, diagnostics)
}

/// How the editor marks a finding: a checksum-verified token is an error,
/// a likely one a warning, a generic secret information.
pub fn severity(confidence: Confidence) -> DiagnosticSeverity {
    match confidence {
        Confidence::High => DiagnosticSeverity::ERROR,
        Confidence::Medium => DiagnosticSeverity::WARNING,
        Confidence::Low => DiagnosticSeverity::INFORMATION,
    }
}

/// Said when a rule has no revoke text of its own.
const DEFAULT_REVOKE: &str =
    "Revoke or rotate it with its issuer, then replace it with a reference to a secret store.";

fn diagnostic(
    finding: &Finding,
    spec: Option<&RuleSpec>,
    range: Range,
    config_file: Option<&Path>,
) -> Diagnostic {
    let mut message = format!(
        "{}: {} ({}, {} confidence)",
        finding.rule_name,
        finding.secret.redacted(),
        finding.validation_words(),
        finding.confidence
    );
    if let Some(encoding) = &finding.encoding {
        message.push_str(&format!(", found {encoding}-encoded"));
    }
    message.push_str(". ");
    message.push_str(
        spec.and_then(|s| s.revoke.as_deref())
            .unwrap_or(DEFAULT_REVOKE),
    );
    let custom = spec.is_some_and(|s| s.custom);
    let href = if custom {
        config_file.and_then(|path| Url::from_file_path(path).ok())
    } else {
        rule_docs(&finding.rule_id)
    };
    Diagnostic {
        range,
        severity: Some(severity(finding.confidence)),
        code: Some(NumberOrString::String(finding.rule_id.clone())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: None,
        tags: None,
        data: None,
    }
}

/// A built-in rule's documentation: its definition in `rules/`, at its line
/// (description, how to revoke, the issuer's references).
pub fn rule_docs(rule_id: &str) -> Option<Url> {
    static PLACES: OnceLock<HashMap<String, (&'static str, usize)>> = OnceLock::new();
    let places = PLACES.get_or_init(|| {
        let mut places = HashMap::new();
        for (file, text) in BUILTIN_RULE_FILES {
            for (number, line) in text.lines().enumerate() {
                let Some(value) = line.trim().strip_prefix("id") else {
                    continue;
                };
                let Some(value) = value.trim_start().strip_prefix('=') else {
                    continue;
                };
                let id = value.trim().trim_matches(['"', '\'']);
                places.insert(id.to_string(), (*file, number + 1));
            }
        }
        places
    });
    let (file, line) = places.get(rule_id)?;
    Url::parse(&format!(
        "{}/blob/main/rules/{file}#L{line}",
        env!("CARGO_PKG_REPOSITORY")
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{generate, TokenRng};
    use lsp_types::Position;

    #[test]
    fn every_built_in_rule_links_to_its_definition() {
        let rules = crate::rules::builtin().unwrap();
        for rule in rules.rules() {
            let url = rule_docs(&rule.spec.id)
                .unwrap_or_else(|| panic!("{} has no documentation link", rule.spec.id));
            let fragment = url.fragment().unwrap();
            let line: usize = fragment.trim_start_matches('L').parse().unwrap();
            let file = url.path().rsplit('/').next().unwrap();
            let (_, text) = BUILTIN_RULE_FILES.iter().find(|(f, _)| *f == file).unwrap();
            let at = text.lines().nth(line - 1).unwrap();
            let id = &rule.spec.id;
            assert!(
                at.contains(&format!("\"{id}\"")) || at.contains(&format!("'{id}'")),
                "{url}: {at}"
            );
        }
    }

    #[test]
    fn a_token_after_an_emoji_is_ranged_in_utf16_and_masked() {
        let token = generate("github-classic-pat", &mut TokenRng::new(3)).unwrap();
        let text = format!("first line\nlet x = \"😀\"; let t = \"{token}\";\n");
        let config = Config {
            source: None,
            rules: crate::rules::builtin().unwrap(),
            allowlist: Default::default(),
            skip_paths: None,
        };
        let (found, diagnostics) = scan(
            &text,
            &Scope {
                config: &config,
                baseline: None,
                path: "src/a.js",
            },
        );
        assert_eq!(found.len(), 1);
        let d = &diagnostics[0];
        // `let x = "😀"; let t = "` is 22 characters and 23 UTF-16 units.
        assert_eq!(
            d.range,
            Range::new(Position::new(1, 23), Position::new(1, 63))
        );
        assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
        assert!(d.message.contains("ghp_…[40 chars]"), "{}", d.message);
        assert!(d.message.contains("checksum verified"), "{}", d.message);
        assert!(!d.message.contains(&token));
        assert_eq!(&text[found[0].start..found[0].end], token);
        assert!(found[0].plain);

        // Base64-encoded: the range is the encoded text, the message says so,
        // and the token is no literal to replace.
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("x-token:{token}"));
        let text = format!("auth: {encoded}\n");
        let (found, diagnostics) = scan(
            &text,
            &Scope {
                config: &config,
                baseline: None,
                path: "ci.yml",
            },
        );
        assert_eq!(found.len(), 1, "{diagnostics:?}");
        assert!(!found[0].plain);
        assert_eq!(&text[found[0].start..found[0].end], encoded);
        assert!(
            diagnostics[0].message.contains("base64-encoded"),
            "{}",
            diagnostics[0].message
        );
        assert!(!diagnostics[0].message.contains(&token));
    }
}
