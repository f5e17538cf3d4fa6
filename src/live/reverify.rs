//! `patscan verify REPORT.json`: rebuilds findings from an earlier JSON
//! report so they can be checked again.
//!
//! A report normally holds redacted secrets (`ghp_…[40 chars]`), which
//! cannot be checked. Only a report written with `--show-secrets` can be;
//! a finding's secret counts as real only when it reproduces the finding's
//! fingerprint, so a redacted or edited value is never sent anywhere.
//!
//! The snippets of such a report show the secrets too: unless `show_secrets`
//! is passed again, every known secret is masked in them on loading, so the
//! output of `verify` is as safe as a normal report.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::LiveError;
use crate::model::Confidence;
use crate::model::{fingerprint, Finding, Origin, Secret};
use crate::model::{LiveInfo, Status};
use crate::scan::{Problem, ScanReport, Summary};

/// Either shape of `--format json`: grouped by secret (the default) or one
/// row per place (`--ungrouped`).
#[derive(Deserialize)]
struct ReportIn {
    #[serde(default)]
    findings: Option<Vec<FindingIn>>,
    #[serde(default)]
    secrets: Option<Vec<SecretIn>>,
    #[serde(default)]
    problems: Vec<ProblemIn>,
    #[serde(default)]
    summary: Value,
}

#[derive(Deserialize)]
struct FindingIn {
    rule_id: String,
    #[serde(default)]
    rule_name: String,
    path: String,
    line: usize,
    column: usize,
    end_column: usize,
    secret: String,
    fingerprint: String,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    validation: Option<String>,
    #[serde(default)]
    snippet: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    nearby_organisations: Vec<String>,
}

#[derive(Deserialize)]
struct SecretIn {
    rule_id: String,
    #[serde(default)]
    rule_name: String,
    secret: String,
    fingerprint: String,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    validation: Option<String>,
    #[serde(default)]
    nearby_organisations: Vec<String>,
    occurrences: Vec<PlaceIn>,
}

#[derive(Deserialize)]
struct PlaceIn {
    path: String,
    line: usize,
    column: usize,
    end_column: usize,
    #[serde(default)]
    snippet: String,
    #[serde(default)]
    encoding: Option<String>,
}

impl SecretIn {
    /// One row per place, as `--ungrouped` would have written them.
    fn into_findings(self) -> impl Iterator<Item = FindingIn> {
        let SecretIn {
            rule_id,
            rule_name,
            secret,
            fingerprint,
            confidence,
            validation,
            nearby_organisations,
            occurrences,
        } = self;
        occurrences.into_iter().map(move |place| FindingIn {
            rule_id: rule_id.clone(),
            rule_name: rule_name.clone(),
            path: place.path,
            line: place.line,
            column: place.column,
            end_column: place.end_column,
            secret: secret.clone(),
            fingerprint: fingerprint.clone(),
            confidence: confidence.clone(),
            validation: validation.clone(),
            snippet: place.snippet,
            encoding: place.encoding,
            nearby_organisations: nearby_organisations.clone(),
        })
    }
}

#[derive(Deserialize)]
struct ProblemIn {
    path: String,
    message: String,
}

/// Parses a JSON report of `patscan scan --format json --show-secrets`.
/// A report whose secrets are all redacted is refused with its own error;
/// one where only some secrets match their fingerprints (an edited report)
/// is refused too, naming the first such finding.
pub fn load(text: &str, show_secrets: bool) -> Result<ScanReport, LiveError> {
    let input: ReportIn =
        serde_json::from_str(text).map_err(|e| LiveError::Report(e.to_string()))?;
    let found: Vec<FindingIn> = match (input.findings, input.secrets) {
        (Some(findings), None) => findings,
        (None, Some(secrets)) => secrets
            .into_iter()
            .flat_map(SecretIn::into_findings)
            .collect(),
        _ => {
            return Err(LiveError::Report(
                "not a patscan JSON report: expected a \"secrets\" or a \"findings\" list".into(),
            ))
        }
    };
    let genuine: Vec<bool> = found
        .iter()
        .map(|f| fingerprint(&f.rule_id, &Secret::new(f.secret.clone())) == f.fingerprint)
        .collect();
    if !genuine.is_empty() && genuine.iter().all(|g| !g) {
        return Err(LiveError::RedactedReport);
    }
    if let Some(bad) = genuine.iter().position(|g| !g) {
        let f = &found[bad];
        return Err(LiveError::Report(format!(
            "finding {} ({}:{}:{}): its secret does not match its fingerprint \
             (redacted or edited)",
            bad + 1,
            f.path,
            f.line,
            f.column
        )));
    }
    let secrets: Vec<Secret> = found
        .iter()
        .map(|f| Secret::new(f.secret.clone()))
        .collect();
    let mask = |snippet: String| {
        if show_secrets {
            return snippet;
        }
        secrets.iter().fold(snippet, |text, secret| {
            if secret.is_empty() {
                text
            } else {
                text.replace(secret.expose(), &secret.redacted())
            }
        })
    };
    let findings: Vec<Finding> = found
        .into_iter()
        .map(|f| Finding {
            repository: None,
            details: Vec::new(),
            confidence: f
                .confidence
                .and_then(|c| c.parse().ok())
                .unwrap_or(Confidence::Medium),
            validation: match f.validation.as_deref() {
                Some("checksum") => "checksum",
                Some("structure") => "structure",
                _ => "entropy",
            },
            origin: if f.path == "<stdin>" {
                Origin::Stdin
            } else {
                Origin::File
            },
            rule_name: f.rule_name,
            path: f.path,
            line: f.line,
            column: f.column,
            end_column: f.end_column,
            secret: Secret::new(f.secret),
            snippet: mask(f.snippet),
            encoding: f.encoding,
            line_hash: None,
            allowed_by: None,
            live: LiveInfo {
                organisations: f.nearby_organisations,
                verification: None,
            },
            rule_id: f.rule_id,
        })
        .collect();
    let mut findings_by_rule = BTreeMap::new();
    for finding in &findings {
        *findings_by_rule.entry(finding.rule_id.clone()).or_insert(0) += 1;
    }
    let problems: Vec<Problem> = input
        .problems
        .iter()
        .map(|p| Problem::new(&p.path, &p.message))
        .collect();
    // The scan's own counts as reported; what verify recomputes, it sets.
    let number = |key: &str| input.summary[key].as_u64().unwrap_or(0);
    let summary = Summary {
        files_scanned: number("files_scanned"),
        bytes_scanned: number("bytes_scanned"),
        binary_files_skipped: number("binary_files_skipped"),
        large_files_skipped: number("large_files_skipped"),
        problems: problems.len(),
        findings: findings.len(),
        findings_by_rule,
        duration_seconds: input.summary["duration_seconds"].as_f64().unwrap_or(0.0),
        ..Summary::default()
    };
    Ok(ScanReport {
        findings,
        problems,
        summary,
    })
}

/// True when the finding's verification says `status`.
pub fn has_status(finding: &Finding, status: Status) -> bool {
    finding
        .live
        .verification
        .as_ref()
        .is_some_and(|v| v.status == status)
}
