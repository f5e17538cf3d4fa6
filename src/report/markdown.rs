//! `--format markdown`: a summary per secret for a pull-request comment,
//! GitHub's job summary (`$GITHUB_STEP_SUMMARY`) or Azure Pipelines' build
//! summary. One row per distinct secret (rule, provider, masked secret,
//! where, first commit, live status), bounded so a history audit with
//! thousands of secrets still gives a comment GitHub accepts, then how to
//! revoke each kind. Always masked: a comment or summary is public to
//! everyone who can read the pull request.

use std::collections::HashMap;
use std::io::{self, Write};

use super::group::{group, verification_counts, SecretGroup};
use super::ReportContext;
use crate::model::Status;
use crate::relpath::relative_path;
use crate::rules::RuleSpec;
use crate::scan::ScanReport;
use crate::size::format_bytes;

/// Rows in the table; the rest are counted ("and 12 more secrets").
pub const MAX_ROWS: usize = 50;

const GENERIC_REVOKE: &str =
    "Revoke or rotate it with its issuer, then replace it with a reference to a secret store.";

pub fn write(
    report: &ScanReport,
    context: &ReportContext<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    out.write_all(render(report, context).as_bytes())
}

/// The summary as one string (the CLI also appends it to step summaries).
pub fn render(report: &ScanReport, context: &ReportContext<'_>) -> String {
    let specs: HashMap<&str, &RuleSpec> = context
        .rules
        .rules()
        .iter()
        .map(|r| (r.spec.id.as_str(), &r.spec))
        .collect();
    let groups = group(&report.findings);
    let summary = &report.summary;
    let scanned = format!(
        "scanned {} {}, {}",
        summary.files_scanned,
        summary.unit,
        format_bytes(summary.bytes_scanned)
    );
    let mut md = String::new();
    if groups.is_empty() {
        md.push_str("## patscan: no leaked secrets\n\n");
        md.push_str(&format!("No tokens found ({scanned}).\n"));
        push_problems(report, &mut md);
        return md;
    }
    md.push_str(&format!(
        "## patscan: {} leaked {}\n\n",
        groups.len(),
        plural(groups.len(), "secret", "secrets")
    ));
    md.push_str(&format!(
        "{} {} in {} {} ({scanned}). Secrets are masked; anyone who can read one can use it \
         until it is revoked, and removing it from the code or from git history does not make it safe.\n\n",
        groups.len(),
        plural(groups.len(), "secret", "secrets"),
        report.findings.len(),
        plural(report.findings.len(), "place", "places"),
    ));
    let verified = verification_counts(&groups).is_some();
    md.push_str("| # | Secret | Token | Provider | Found in | First seen |");
    md.push_str(if verified { " Status |\n" } else { "\n" });
    md.push_str("|--:|---|---|---|---|---|");
    md.push_str(if verified { "---|\n" } else { "\n" });
    let shown = &groups[..groups.len().min(MAX_ROWS)];
    for (i, secret) in shown.iter().enumerate() {
        md.push_str(&row(i + 1, secret, &specs, context.roots, verified));
    }
    if groups.len() > shown.len() {
        let more = groups.len() - shown.len();
        md.push_str(&format!(
            "\nand {more} more {}: `patscan scan --format json` lists every one.\n",
            plural(more, "secret", "secrets")
        ));
    }
    push_problems(report, &mut md);
    md.push_str("\n### How to revoke\n\n");
    let mut seen: Vec<&str> = Vec::new();
    for secret in shown {
        let rule = secret.rule_id();
        if seen.contains(&rule) {
            continue;
        }
        seen.push(rule);
        let revoke = specs
            .get(rule)
            .and_then(|s| s.revoke.as_deref())
            .unwrap_or(GENERIC_REVOKE);
        md.push_str(&format!(
            "- **{}** (`{}`): {}\n",
            text(&secret.first().rule_name),
            rule,
            text(revoke)
        ));
    }
    md
}

fn row(
    n: usize,
    secret: &SecretGroup<'_>,
    specs: &HashMap<&str, &RuleSpec>,
    roots: &[std::path::PathBuf],
    verified: bool,
) -> String {
    let first = secret.first();
    let provider = specs
        .get(first.rule_id.as_str())
        .map(|s| super::rules::family(s))
        .unwrap_or("other");
    // As the annotations name it: relative to the scanned root.
    let place =
        |f: &crate::model::Finding| code(&format!("{}:{}", relative_path(&f.path, roots), f.line));
    let mut places = place(first);
    match secret.occurrences.len() {
        1 => {}
        2 => places.push_str(&format!(" and {}", place(secret.occurrences[1]))),
        n => places.push_str(&format!(" and {} more places", n - 1)),
    }
    let first_seen = match secret.first_seen {
        Some(commit) => format!(
            "{} ({})",
            code(commit.commit.get(..12).unwrap_or(&commit.commit)),
            text(commit.date.get(..10).unwrap_or(&commit.date))
        ),
        None => "—".to_string(),
    };
    let mut line = format!(
        "| {n} | {} | {} | {} | {places} | {first_seen} |",
        code(&first.secret.redacted()),
        text(&first.rule_name),
        text(provider),
    );
    if verified {
        let status = match secret.verification() {
            Some(v) if v.status == Status::Active => match v.severity {
                Some(severity) => format!("**LIVE** ({severity})"),
                None => "**LIVE**".to_string(),
            },
            Some(v) => v.status.to_string(),
            None => "—".to_string(),
        };
        line.push_str(&format!(" {status} |"));
    }
    line.push('\n');
    line
}

fn push_problems(report: &ScanReport, md: &mut String) {
    let n = report.problems.len();
    if n > 0 {
        md.push_str(&format!(
            "\n{n} {} could not be scanned (see the warnings in the log).\n",
            plural(n, "file", "files")
        ));
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Text in a table cell or list item: no HTML, no cell break, one line.
fn text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// A code span that holds any text: a longer fence than any run of
/// backticks inside, pipes escaped (GitHub splits cells on them even in
/// code), one line.
fn code(value: &str) -> String {
    let value = value.replace('|', "\\|").replace(['\r', '\n'], " ");
    let longest = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{value}{fence}")
    } else {
        format!("{fence} {value} {fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_hold_html() {
        assert_eq!(text("a|b<script>\nc"), "a\\|b&lt;script&gt; c");
        assert_eq!(code("src/a.rs:3"), "`src/a.rs:3`");
        assert_eq!(code("we`ird|x"), "`` we`ird\\|x ``");
    }
}
