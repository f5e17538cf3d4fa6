//! `--format json`: one document with every finding and the summary.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::RenderOptions;
use crate::finding::{Finding, Origin};
use crate::live::{self, Status, Verification};
use crate::scan::{Problem, ScanReport, Summary};

/// A finding as JSON shows it. Built from [`Finding`] so the secret goes
/// through the redaction choice exactly once, here.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: String,
    pub fingerprint: String,
    pub confidence: &'a str,
    pub validation: &'a str,
    pub snippet: &'a str,
    /// Present when the token was found encoded (`base64`, `utf-16le`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'a str>,
    /// Instances named near the token (Azure DevOps organisations, Grafana
    /// Cloud stacks, Shopify shops, Vault addresses), kept so that
    /// `patscan verify` can check an organisation-scoped PAT later.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub nearby_organisations: &'a [String],
    /// Present after `--verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'a Verification>,
    /// Where the token is: `file`, `stdin`, `staged`, `commit`,
    /// `unreachable-commit`, `commit-message`, `tag-message` or `unreachable`.
    pub origin: &'static str,
    /// Git provenance; absent for files and stdin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<&'a str>,
}

impl<'a> JsonFinding<'a> {
    pub fn new(finding: &'a Finding, options: RenderOptions) -> JsonFinding<'a> {
        let git = finding.origin.commit();
        let tag = match &finding.origin {
            Origin::TagMessage {
                tag, author, date, ..
            } => Some((tag.as_str(), author.as_str(), date.as_str())),
            _ => None,
        };
        JsonFinding {
            rule_id: &finding.rule_id,
            rule_name: &finding.rule_name,
            path: &finding.path,
            line: finding.line,
            column: finding.column,
            end_line: finding.line,
            end_column: finding.end_column,
            secret: finding.display_secret(options.show_secrets),
            fingerprint: finding.fingerprint(),
            confidence: finding.confidence.as_str(),
            validation: finding.validation,
            snippet: &finding.snippet,
            encoding: finding.encoding.as_deref(),
            nearby_organisations: &finding.live.organisations,
            verification: finding.live.verification.as_ref(),
            origin: finding.origin.kind(),
            commit: git.map(|c| c.commit.as_str()),
            author: git.map(|c| c.author.as_str()).or(tag.map(|t| t.1)),
            date: git.map(|c| c.date.as_str()).or(tag.map(|t| t.2)),
            summary: git.map(|c| c.summary.as_str()),
            blob: finding.origin.blob(),
            tag: tag.map(|t| t.0),
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    findings: Vec<JsonFinding<'a>>,
    problems: &'a [Problem],
    summary: &'a Summary,
    /// Findings per verification status, after `--verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_summary: Option<BTreeMap<Status, usize>>,
}

pub fn write(report: &ScanReport, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding::new(f, options))
            .collect(),
        problems: &report.problems,
        summary: &report.summary,
        verification_summary: live::tally(&report.findings),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
