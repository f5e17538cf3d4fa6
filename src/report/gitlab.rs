//! `--format gitlab`: a GitLab Secret Detection report
//! (`gl-secret-detection-report.json`, schema version [`SCHEMA_VERSION`]),
//! for `artifacts:reports:secret_detection`. One vulnerability per place a
//! secret was found, as GitLab's own analyzer reports them, with an id that
//! is the same on every run (derived from the secret's fingerprint and the
//! place), so GitLab tracks it across pipelines. Always masked: the report
//! is an artifact anyone with access to the pipeline can download.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::group::group;
use super::ReportContext;
use crate::model::Confidence;
use crate::model::Finding;
use crate::model::Status;
use crate::relpath::relative_path;
use crate::rules::RuleSpec;
use crate::scan::ScanReport;

/// The version of GitLab's security report schemas the report follows
/// (tests/schemas/gitlab-secret-detection-report-format-15.2.1.json).
pub const SCHEMA_VERSION: &str = "15.2.1";
/// What GitLab's own analyzer writes when a finding has no commit (a scan
/// of the working tree): the field is required.
const NO_COMMIT: &str = "0000000";

pub fn write(
    report: &ScanReport,
    context: &ReportContext<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let document = build(report, context, SystemTime::now());
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// The report, for a scan that ended at `end`.
pub fn build(report: &ScanReport, context: &ReportContext<'_>, end: SystemTime) -> Value {
    let specs: HashMap<&str, &RuleSpec> = context
        .rules
        .rules()
        .iter()
        .map(|r| (r.spec.id.as_str(), &r.spec))
        .collect();
    let start = end
        .checked_sub(Duration::from_secs_f64(
            report.summary.duration_seconds.max(0.0),
        ))
        .unwrap_or(end);
    let tool = json!({
        "id": "patscan",
        "name": "patscan",
        "version": env!("CARGO_PKG_VERSION"),
        "url": env!("CARGO_PKG_REPOSITORY"),
        "vendor": {"name": "patscan"},
    });
    let mut vulnerabilities = Vec::new();
    for secret in group(&report.findings) {
        let live = secret
            .verification()
            .is_some_and(|v| v.status == Status::Active);
        for finding in &secret.occurrences {
            let spec = specs.get(finding.rule_id.as_str()).copied();
            vulnerabilities.push(vulnerability(
                finding,
                spec,
                live,
                secret.occurrences.len() - 1,
                context,
            ));
        }
    }
    let messages: Vec<Value> = report
        .problems
        .iter()
        .map(|p| json!({"level": "warn", "value": format!("{}: {}", p.path, p.message)}))
        .collect();
    let mut scan = json!({
        "analyzer": tool,
        "scanner": tool,
        "type": "secret_detection",
        "start_time": timestamp(start),
        "end_time": timestamp(end),
        "status": "success",
    });
    if !messages.is_empty() {
        scan["messages"] = Value::from(messages);
    }
    json!({
        "version": SCHEMA_VERSION,
        "schema": format!(
            "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v{SCHEMA_VERSION}/dist/secret-detection-report-format.json"
        ),
        "scan": scan,
        "vulnerabilities": vulnerabilities,
    })
}

fn vulnerability(
    finding: &Finding,
    spec: Option<&RuleSpec>,
    live: bool,
    others: usize,
    context: &ReportContext<'_>,
) -> Value {
    let path = relative_path(&finding.path, context.roots);
    let commit = finding.origin.commit();
    let sha = commit.map_or(NO_COMMIT, |c| c.commit.as_str());
    let severity =
        if live || (finding.validation == "checksum" && finding.confidence == Confidence::High) {
            "Critical"
        } else {
            match finding.confidence {
                Confidence::High => "High",
                Confidence::Medium => "Medium",
                Confidence::Low => "Low",
            }
        };
    let validated = finding.validation_words();
    let about = spec.map_or(finding.rule_name.as_str(), |s| s.description.as_str());
    let mut description =
        format!(
        "{}{}{} Found by patscan: {validated}, {} confidence. Anyone who can read this token can \
         act as its owner until it is revoked; deleting it from the file, or even from git \
         history, does not make it safe.",
        if live { "LIVE TOKEN (its issuer says it is active). " } else { "" },
        about.trim_end(),
        if about.trim_end().ends_with('.') { "" } else { "." },
        finding.confidence,
    );
    if others > 0 {
        description.push_str(&format!(
            " The same secret (fingerprint {}) is in {others} other place{}.",
            finding.fingerprint(),
            if others == 1 { "" } else { "s" }
        ));
    }
    let solution = spec.and_then(|s| s.revoke.as_deref()).unwrap_or(
        "Revoke or rotate it with its issuer, then replace it with a reference to a secret store.",
    );
    let mut location = json!({
        "file": path,
        "start_line": finding.line.max(1),
        "end_line": finding.line.max(1),
        "commit": {"sha": sha},
    });
    if let Some(commit) = commit {
        location["commit"]["author"] = Value::from(commit.author.as_str());
        location["commit"]["date"] = Value::from(commit.date.as_str());
        location["commit"]["message"] = Value::from(commit.summary.as_str());
    }
    let mut value = json!({
        "id": vulnerability_id(finding, &path, sha),
        "name": truncate(&finding.rule_name, 255),
        "description": description,
        "severity": severity,
        "solution": truncate(solution, 7000),
        "identifiers": [
            {
                "type": "patscan_rule_id",
                "name": format!("patscan rule {}", finding.rule_id),
                "value": finding.rule_id,
            },
            {
                "type": "cwe",
                "name": "CWE-798",
                "value": "798",
                "url": "https://cwe.mitre.org/data/definitions/798.html",
            },
        ],
        "location": location,
        "raw_source_code_extract": finding.secret.redacted(),
    });
    let links: Vec<Value> = spec
        .map(|s| s.references.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
        .map(|r| json!({"url": r}))
        .collect();
    if !links.is_empty() {
        value["links"] = Value::from(links);
    }
    value
}

/// A UUID-shaped id (version 5 and variant bits set) from the secret's
/// fingerprint and its place: stable across runs, different per place,
/// revealing nothing about the secret.
fn vulnerability_id(finding: &Finding, path: &str, sha: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [
        finding.fingerprint().as_str(),
        path,
        &finding.line.to_string(),
        &finding.column.to_string(),
        sha,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let mut bytes: [u8; 16] = hasher.finalize()[..16].try_into().unwrap_or([0; 16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn truncate(value: &str, max: usize) -> String {
    if value.len() <= max {
        return value.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end])
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, the form the schema requires.
fn timestamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    crate::civil_time::utc_timestamp(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_in_the_schema_s_form() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00");
        let t = UNIX_EPOCH + Duration::from_secs(951_868_800 + 3661);
        assert_eq!(timestamp(t), "2000-03-01T01:01:01");
        // Round trip with the date parser of commit dates.
        let t = UNIX_EPOCH + Duration::from_secs(1_714_557_600);
        assert_eq!(
            crate::civil_time::epoch_seconds(&format!("{}Z", timestamp(t))),
            Some(1_714_557_600)
        );
    }
}
