//! What a CI annotation says about one place a secret was found, before a
//! platform's syntax is applied ([`super::github`], [`super::azure_pipelines`]).
//! Annotations land in pull-request diffs and build logs that everyone with
//! read access sees, so they always carry the masked secret, whatever
//! `--show-secrets` says.

use super::group::group;
use super::ReportContext;
use crate::model::Confidence;
use crate::model::Finding;
use crate::model::Status;
use crate::relpath::relative_path;
use crate::scan::ScanReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    /// GitHub's `notice`; Azure Pipelines has none and shows a warning.
    Notice,
}

/// One annotation: a place, a level, a one-line title and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    /// The path relative to the scanned root, as the checkout has it;
    /// `None` for places that are not a file of the tree (standard input,
    /// a commit message, an unreachable blob): the message says where.
    pub file: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_column: usize,
    pub rule_id: String,
    pub title: String,
    pub message: String,
}

/// Every place of every secret, most serious secrets first (the order of
/// [`group`]), so that a platform that shows only the first few
/// annotations of a step shows those.
pub fn annotations(report: &ScanReport, context: &ReportContext<'_>) -> Vec<Annotation> {
    let mut out = Vec::with_capacity(report.findings.len());
    for secret in group(&report.findings) {
        let live = secret
            .verification()
            .is_some_and(|v| v.status == Status::Active);
        let count = secret.occurrences.len();
        for finding in &secret.occurrences {
            out.push(annotation(finding, live, count - 1, context));
        }
    }
    out
}

fn annotation(
    finding: &Finding,
    live: bool,
    others: usize,
    context: &ReportContext<'_>,
) -> Annotation {
    // Pseudo-paths (`<stdin>`, `<commit message>`, `<unreachable blob>`)
    // name no file of the checkout.
    let file =
        (!finding.path.starts_with('<')).then(|| relative_path(&finding.path, context.roots));
    let level = if live {
        Level::Error
    } else {
        match finding.confidence {
            Confidence::High => Level::Error,
            Confidence::Medium => Level::Warning,
            Confidence::Low => Level::Notice,
        }
    };
    let validated = finding.validation_words();
    let mut message = format!(
        "{}{} found: {} ({validated}, {} confidence)",
        if live { "LIVE TOKEN: " } else { "" },
        finding.rule_name,
        finding.secret.redacted(),
        finding.confidence,
    );
    if file.is_none() {
        message.push_str(&format!(" in {}", finding.path));
    }
    if let Some(commit) = finding.origin.commit() {
        message.push_str(&format!(
            ", commit {}",
            commit.commit.get(..12).unwrap_or(&commit.commit)
        ));
    } else if let Some(blob) = finding.origin.blob() {
        message.push_str(&format!(", blob {}", blob.get(..12).unwrap_or(blob)));
    }
    message.push_str(". Revoke it with its issuer, then remove it from the code.");
    match others {
        0 => {}
        1 => message.push_str(" The same secret is in 1 other place."),
        n => message.push_str(&format!(" The same secret is in {n} other places.")),
    }
    Annotation {
        level,
        file,
        line: finding.line.max(1),
        column: finding.column.max(1),
        end_column: finding.end_column.max(finding.column + 1),
        rule_id: finding.rule_id.clone(),
        title: format!("Leaked {}", finding.rule_name),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Secret};
    use crate::model::{Provider, Verification};
    use crate::scan::{finish, Tally};
    use crate::tokengen::{generate, TokenRng};

    #[test]
    fn a_token_verified_active_is_loud_in_every_ci_format() {
        let rules = crate::rules::builtin().expect("built-in rules");
        let roots = [std::path::PathBuf::from(".")];
        let context = ReportContext {
            rules: &rules,
            roots: &roots,
        };
        let secret = generate("huggingface-token", &mut TokenRng::new(3)).expect("family");
        let finding = Finding {
            repository: None,
            details: Vec::new(),
            rule_id: "huggingface-token".into(),
            rule_name: "Hugging Face access token".into(),
            confidence: Confidence::Medium,
            validation: "entropy",
            path: "./app.py".into(),
            origin: Origin::File,
            line: 2,
            column: 5,
            end_column: 42,
            secret: Secret::new(secret.clone()),
            snippet: String::new(),
            encoding: None,
            line_hash: None,
            allowed_by: None,
            live: crate::model::LiveInfo {
                organisations: Vec::new(),
                verification: Some(Verification::new(Status::Active, Provider::Huggingface)),
            },
        };
        let report = finish(vec![finding], Tally::default(), std::time::Instant::now());
        let notes = annotations(&report, &context);
        assert_eq!(notes.len(), 1);
        // A medium-confidence rule, but the issuer says it works.
        assert_eq!(notes[0].level, Level::Error);
        assert_eq!(notes[0].file.as_deref(), Some("app.py"));
        assert!(
            notes[0].message.starts_with("LIVE TOKEN: "),
            "{}",
            notes[0].message
        );
        let md = super::super::markdown::render(&report, &context);
        assert!(md.contains("| Status |"), "{md}");
        assert!(md.contains("| `app.py:2` | — | **LIVE** |"), "{md}");
        let gitlab = super::super::gitlab::build(&report, &context, std::time::SystemTime::now());
        assert_eq!(gitlab["vulnerabilities"][0]["severity"], "Critical");
        for text in [notes[0].message.clone(), md, gitlab.to_string()] {
            assert!(!text.contains(&secret[4..]), "{text}");
        }
    }
}
