//! Output formats. Each is a pure function of the scan report: the same
//! findings always render to the same bytes (the GitLab report's times
//! aside), and the secret appears only when the caller passed
//! `show_secrets`, never in the CI formats ([`Format::is_public`]).

pub mod annotation;
pub mod azure_pipelines;
pub mod github;
pub mod gitlab;
pub mod group;
pub mod html;
pub mod human;
pub mod json;
pub mod jsonl;
pub mod markdown;
pub mod merge;
pub mod pat_audit;
pub mod printable;
pub mod risk;
pub mod rules;
pub mod sarif;

use std::io::{self, Write};
use std::path::PathBuf;

use crate::rules::RuleSet;
use crate::scan::ScanReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings for people: location, rule, masked line, then a summary.
    Human,
    /// One JSON document: {"secrets": [{..., "occurrences": [...]}], "summary": {...}};
    /// with --ungrouped, {"findings": [...]} (one row per place).
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// One self-contained HTML page for auditors (always masked).
    Html,
    /// GitHub Actions annotations (workflow commands), always masked.
    Github,
    /// Azure Pipelines logging commands (`##vso[task.logissue]`), always masked.
    #[value(name = "azure-pipelines", alias = "azure")]
    AzurePipelines,
    /// GitLab Secret Detection report (gl-secret-detection-report.json), always masked.
    Gitlab,
    /// A summary per secret, for pull-request comments; always masked.
    Markdown,
}

impl Format {
    /// Formats read by everyone with access to a pull request or pipeline:
    /// they never show a secret, and `--show-secrets` is refused with them.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Format::Github | Format::AzurePipelines | Format::Gitlab | Format::Markdown
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub show_secrets: bool,
    pub color: bool,
    /// JSON: one row per place (`--ungrouped`) instead of one entry per
    /// secret with its places.
    pub ungrouped: bool,
}

/// What some formats need besides the findings: SARIF lists every rule of
/// the run and makes paths relative to the scanned roots.
pub struct ReportContext<'a> {
    pub rules: &'a RuleSet,
    /// The scanned PATH arguments (`.` when none was given).
    pub roots: &'a [PathBuf],
}

pub fn write_report(
    format: Format,
    report: &ScanReport,
    context: &ReportContext<'_>,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, options, out),
        Format::Json => json::write(report, options, out),
        Format::Jsonl => jsonl::write(report, options, out),
        Format::Sarif => sarif::write(report, context, options, out).map(drop),
        Format::Github => github::write(report, context, out),
        Format::AzurePipelines => azure_pipelines::write(report, context, out),
        Format::Gitlab => gitlab::write(report, context, out),
        Format::Markdown => markdown::write(report, context, out),
        Format::Html => html::write(report, context, options, out),
    }
}
