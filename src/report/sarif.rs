//! `--format sarif`: a SARIF 2.1.0 log that GitHub code scanning accepts.
//!
//! What GitHub needs and other scanners have got wrong (see
//! shared/reference): one run; every rule of the run once, each with a
//! description, help (what the token is, how to revoke it) and
//! `security-severity`; every result with one physical location whose path is
//! relative to the scanned root and whose columns are 1 or more; and
//! `partialFingerprints.primaryLocationLineHash` computed as GitHub does
//! ([`crate::line_hash`]), so alerts survive re-uploads through the REST API.
//! The secret appears only under `--show-secrets`; messages carry the
//! redacted form.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::{RenderOptions, ReportContext};
use crate::finding::Finding;
use crate::relpath::relative_path;
use crate::rules::{Confidence, RuleSpec};
use crate::scan::ScanReport;

/// The `$schema` GitHub's documentation uses.
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// GitHub truncates longer descriptions; SARIF viewers show the start.
const MAX_DESCRIPTION: usize = 1024;
/// The partial fingerprint GitHub code scanning reads.
pub const LINE_HASH_KEY: &str = "primaryLocationLineHash";
/// Our own stable identity of a finding: rule and secret, not position.
/// The copies of one secret share it, so a viewer can group them.
pub const FINGERPRINT_KEY: &str = "patscan/v1";
/// Other places of the same secret listed on each result: enough to show
/// that it is copied around, bounded so that a token pasted into 5,000
/// files does not make the log quadratic.
pub const MAX_RELATED_LOCATIONS: usize = 10;

pub fn write(
    report: &ScanReport,
    context: &ReportContext<'_>,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let log = build(report, context, options);
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The SARIF log of `report`.
pub fn build(report: &ScanReport, context: &ReportContext<'_>, options: RenderOptions) -> Sarif {
    let specs: Vec<&RuleSpec> = context.rules.rules().iter().map(|r| &r.spec).collect();
    let index: BTreeMap<&str, usize> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let driver = ToolComponent::builder()
        .name("patscan")
        // Where a reader of the log learns what the tool is (SARIF2005):
        // the package's own metadata, so it cannot drift from Cargo.toml.
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .version(env!("CARGO_PKG_VERSION"))
        .rules(specs.iter().map(|s| descriptor(s)).collect::<Vec<_>>())
        .build();
    // The places of each secret, so that each result can point at the
    // others: code scanning shows one alert per line, and a reviewer sees
    // from any of them where else the same token sits.
    let mut places: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        places
            .entry(finding.fingerprint())
            .or_default()
            .push(finding);
    }
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| {
            let others: Vec<&Finding> = places[&f.fingerprint()]
                .iter()
                .copied()
                .filter(|other| !std::ptr::eq(*other, f))
                .take(MAX_RELATED_LOCATIONS)
                .collect();
            let mut result = result(f, index.get(f.rule_id.as_str()).copied(), context, options);
            if !others.is_empty() {
                result.related_locations = Some(
                    others
                        .iter()
                        .enumerate()
                        .map(|(i, other)| related_location(i, other, context))
                        .collect(),
                );
            }
            result
        })
        .collect();
    // Files that could not be scanned: the run succeeded, with warnings.
    let notifications: Vec<Notification> = report
        .problems
        .iter()
        .map(|p| {
            Notification::builder()
                .message(
                    Message::builder()
                        .text(format!("{}: {}", p.path, p.message))
                        .build(),
                )
                .level(json!("warning"))
                .build()
        })
        .collect();
    let invocation = Invocation::builder()
        .execution_successful(true)
        .tool_execution_notifications(notifications)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .results(results)
        // Our columns count characters (code points), not UTF-16 units.
        .column_kind(json!("unicodeCodePoints"))
        .build();
    Sarif::builder()
        .schema(SARIF_SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// How a leaked token of this rule ranks on GitHub's 0–10 scale: any live
/// token is serious; the precision says how sure the match is.
fn severity_and_precision(spec: &RuleSpec) -> (&'static str, &'static str) {
    if spec.checksum.is_some() {
        return ("9.0", "very-high");
    }
    match spec.confidence {
        Confidence::High => ("8.0", "high"),
        Confidence::Medium => ("7.0", "medium"),
        Confidence::Low => ("5.0", "low"),
    }
}

fn level(confidence: Confidence) -> ResultLevel {
    match confidence {
        Confidence::High => ResultLevel::Error,
        Confidence::Medium => ResultLevel::Warning,
        Confidence::Low => ResultLevel::Note,
    }
}

/// What to do with a token whose rule says nothing about revoking it.
pub(super) const DEFAULT_REVOKE: &str =
    "Revoke or rotate it with its issuer, then replace it with a reference to a secret store.";

pub(super) fn revoke_text(spec: &RuleSpec) -> &str {
    spec.revoke.as_deref().unwrap_or(DEFAULT_REVOKE)
}

fn descriptor(spec: &RuleSpec) -> ReportingDescriptor {
    let (severity, precision) = severity_and_precision(spec);
    let default_level = if spec.checksum.is_some() {
        Confidence::High
    } else {
        spec.confidence
    };
    let mut help_text = format!(
        "{}\n\nAnyone who can read this token can act as its owner until it is revoked; \
         deleting it from the file, or even from git history, does not make it safe.\n\n\
         How to revoke: {}",
        spec.description,
        revoke_text(spec)
    );
    let mut help_markdown = format!(
        "**{}**\n\n{}\n\nAnyone who can read this token can act as its owner until it is \
         revoked; deleting it from the file, or even from git history, does not make it safe.\n\n\
         **How to revoke:** {}",
        spec.name,
        spec.description,
        revoke_text(spec)
    );
    if !spec.references.is_empty() {
        help_text.push_str("\n\nReferences:");
        help_markdown.push_str("\n\n**References:**\n");
        for reference in &spec.references {
            help_text.push_str(&format!("\n- {reference}"));
            help_markdown.push_str(&format!("\n- <{reference}>"));
        }
    }
    let mut properties = BTreeMap::new();
    properties.insert("security-severity".to_string(), json!(severity));
    properties.insert("precision".to_string(), json!(precision));
    properties.insert("problem.severity".to_string(), json!("error"));
    let mut tags = vec![
        "security".to_string(),
        "secret".to_string(),
        "external/cwe/cwe-798".to_string(),
    ];
    if spec.custom {
        tags.push("custom".to_string());
    }
    ReportingDescriptor::builder()
        .id(spec.id.clone())
        .name(spec.name.clone())
        .short_description(text(&spec.name))
        .full_description(text(&spec.description))
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(default_level).to_string()))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(properties)
                .build(),
        )
        .build()
}

fn text(value: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(truncate(value, MAX_DESCRIPTION))
        .build()
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

/// Where a finding is, as a SARIF physical location.
fn physical_location(finding: &Finding, context: &ReportContext<'_>) -> PhysicalLocation {
    let uri = artifact_uri(&relative_path(&finding.path, context.roots));
    let region = Region::builder()
        .start_line(finding.line.max(1) as i64)
        .start_column(finding.column.max(1) as i64)
        .end_line(finding.line.max(1) as i64)
        .end_column(finding.end_column.max(finding.column + 1) as i64)
        .build();
    PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri).build())
        .region(region)
        .build()
}

fn related_location(id: usize, other: &Finding, context: &ReportContext<'_>) -> Location {
    let text = match other.origin.commit() {
        Some(commit) => format!(
            "The same secret, in commit {}",
            commit.commit.get(..12).unwrap_or(&commit.commit)
        ),
        None => "The same secret".to_string(),
    };
    Location::builder()
        .id(id as i64)
        .physical_location(physical_location(other, context))
        .message(Message::builder().text(text).build())
        .build()
}

fn result(
    finding: &Finding,
    rule_index: Option<usize>,
    context: &ReportContext<'_>,
    options: RenderOptions,
) -> SarifResult {
    let location = Location::builder()
        .physical_location(physical_location(finding, context))
        .build();
    let validated = if finding.validation == "checksum" {
        "issuer checksum verified"
    } else {
        "shape and entropy match"
    };
    let verification = finding.live.verification.as_ref();
    let live = verification.is_some_and(|v| v.status == crate::live::Status::Active);
    let message = format!(
        "{}{} found: {} ({validated}, {} confidence). Revoke it, then remove it from the code.",
        if live { "LIVE TOKEN: " } else { "" },
        finding.rule_name,
        finding.display_secret(options.show_secrets),
        finding.confidence,
    );
    let mut partial = BTreeMap::new();
    if let Some(hash) = &finding.line_hash {
        partial.insert(LINE_HASH_KEY.to_string(), hash.clone());
    }
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_string(), finding.fingerprint());
    let mut properties: BTreeMap<String, Value> = BTreeMap::new();
    properties.insert("confidence".into(), json!(finding.confidence.as_str()));
    properties.insert("validation".into(), json!(finding.validation));
    properties.insert("snippet".into(), json!(finding.snippet));
    // Where it came from, as the JSON output says it: history findings
    // carry their commit here.
    properties.insert(
        "origin".into(),
        serde_json::to_value(&finding.origin).unwrap_or(Value::Null),
    );
    if let Some(encoding) = &finding.encoding {
        // Disguised (base64, UTF-16, percent): the location is the encoded text.
        properties.insert("encoding".into(), json!(encoding));
    }
    if let Some(verification) = verification {
        // The issuer's answer (status, owner, scopes, expiry); never the token.
        properties.insert(
            "verification".into(),
            serde_json::to_value(verification).unwrap_or(Value::Null),
        );
    }
    if options.show_secrets {
        properties.insert("secret".into(), json!(finding.secret.expose()));
    }
    // A token the issuer says is live is an error whatever its confidence.
    let result_level = if live {
        ResultLevel::Error
    } else {
        level(finding.confidence)
    };
    let mut sarif_result = SarifResult::builder()
        .rule_id(finding.rule_id.clone())
        .level(result_level)
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(partial)
        .fingerprints(fingerprints)
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    sarif_result.rule_index = rule_index.map(|i| i as i64);
    sarif_result
}

/// A relative path as a URI reference: every byte outside the unreserved
/// set and `/` percent-encoded (spaces, `#`, `%`, non-ASCII names).
/// Absolute paths become `file://` URIs.
fn artifact_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    if path.starts_with('/') {
        uri.push_str("file://");
    }
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(artifact_uri("src/a b#c.rs"), "src/a%20b%23c.rs");
        assert_eq!(artifact_uri("é.txt"), "%C3%A9.txt");
        assert_eq!(artifact_uri("/abs/x"), "file:///abs/x");
        assert_eq!(artifact_uri("<stdin>"), "%3Cstdin%3E");
    }

    #[test]
    fn long_descriptions_are_cut_on_a_character_boundary() {
        let cut = truncate(&"é".repeat(1000), MAX_DESCRIPTION);
        assert!(cut.len() <= MAX_DESCRIPTION);
        assert!(cut.ends_with('…'));
    }
}
