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
use crate::model::Confidence;
use crate::model::Finding;
use crate::model::Severity;
use crate::relpath::relative_path;
use crate::rules::RuleSpec;
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

/// What GitHub code scanning accepts in one upload: more results in a run,
/// or a larger gzip-compressed file, and the whole upload is rejected.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_results: usize,
    pub max_gzip_bytes: usize,
}

impl Limits {
    /// 25,000 results per run, 10 MB gzip-compressed.
    pub const CODE_SCANNING: Limits = Limits {
        max_results: 25_000,
        max_gzip_bytes: 10_000_000,
    };
}

/// Run property: how many results were left out to stay within [`Limits`].
pub const OMITTED_KEY: &str = "patscan/omittedResults";
/// Run property: why.
pub const OMITTED_REASON_KEY: &str = "patscan/omittedReason";

/// Writes the log within code scanning's limits; returns how many results
/// were left out (0 almost always) so the caller can say so.
pub fn write(
    report: &ScanReport,
    context: &ReportContext<'_>,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<usize> {
    let (bytes, omitted) = render(report, context, options, Limits::CODE_SCANNING)?;
    out.write_all(&bytes)?;
    Ok(omitted)
}

/// The log of `report`, serialized, within `limits`: when a run would
/// exceed them, the highest-ranked results are kept (level error, then
/// warning, then note; checksum-verified first; then report order), the
/// run's `properties` say how many were left out, and the file is still a
/// valid log. Returns the bytes and the number left out.
pub fn render(
    report: &ScanReport,
    context: &ReportContext<'_>,
    options: RenderOptions,
    limits: Limits,
) -> io::Result<(Vec<u8>, usize)> {
    let mut parts = Parts::new(report, context, options);
    let total = parts.results.len();
    let mut ranked: Vec<usize> = (0..total).collect();
    ranked.sort_by_key(|&i| (parts.ranks[i], i));
    let mut place = vec![0; total];
    for (p, &i) in ranked.iter().enumerate() {
        place[i] = p;
    }
    let mut keep = total.min(limits.max_results);
    // The kept results with their report positions, in report order; a
    // cut moves them out of the log and back, never copying one.
    let mut kept: Vec<(usize, SarifResult)> = std::mem::take(&mut parts.results)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| place[*i] < keep)
        .collect();
    loop {
        let (positions, results): (Vec<usize>, Vec<SarifResult>) = kept.into_iter().unzip();
        let log = parts.log(results, total - keep, limits);
        let mut bytes = serde_json::to_vec_pretty(&log)?;
        bytes.push(b'\n');
        // A file no larger than the limit cannot compress to more.
        if bytes.len() <= limits.max_gzip_bytes || keep == 0 {
            return Ok((bytes, total - keep));
        }
        let compressed = gzip_len(&bytes)?;
        if compressed <= limits.max_gzip_bytes {
            return Ok((bytes, total - keep));
        }
        // Cut in proportion, with a margin, and always by at least one.
        let target = keep as f64 * limits.max_gzip_bytes as f64 / compressed as f64 * 0.95;
        keep = (target as usize).min(keep - 1);
        let results = log
            .runs
            .into_iter()
            .next()
            .and_then(|run| run.results)
            .unwrap_or_default();
        kept = positions
            .into_iter()
            .zip(results)
            .filter(|(i, _)| place[*i] < keep)
            .collect();
    }
}

/// The gzip-compressed size of `bytes` at the fastest level, which
/// compresses no better than the uploader's, so the estimate is safe.
fn gzip_len(bytes: &[u8]) -> io::Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

/// The SARIF log of `report`, every result included.
pub fn build(report: &ScanReport, context: &ReportContext<'_>, options: RenderOptions) -> Sarif {
    let mut parts = Parts::new(report, context, options);
    let results = std::mem::take(&mut parts.results);
    parts.log(results, 0, Limits::CODE_SCANNING)
}

/// A log's pieces, built once, so that a run cut to fit the limits is
/// assembled again without rebuilding every result.
struct Parts {
    driver: ToolComponent,
    invocation: Invocation,
    results: Vec<SarifResult>,
    /// Each result's rank for [`render`]'s cut: lower is kept first.
    ranks: Vec<(u8, u8)>,
    /// An organisation scan's run properties, which `patscan merge` checks.
    organisation: BTreeMap<String, Value>,
}

impl Parts {
    fn new(report: &ScanReport, context: &ReportContext<'_>, options: RenderOptions) -> Parts {
        let specs: Vec<&RuleSpec> = context.rules.rules().iter().map(|r| &r.spec).collect();
        let index: BTreeMap<&str, usize> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        // The worst severity of a token verified active, per rule: it
        // raises the rule's `security-severity`, which code scanning reads.
        let mut live: BTreeMap<&str, Severity> = BTreeMap::new();
        for finding in &report.findings {
            if let Some(severity) = live_severity(finding) {
                let worst = live.entry(finding.rule_id.as_str()).or_insert(severity);
                *worst = (*worst).max(severity);
            }
        }
        let driver = ToolComponent::builder()
            .name("patscan")
            // Where a reader of the log learns what the tool is (SARIF2005):
            // the package's own metadata, so it cannot drift from Cargo.toml.
            .information_uri(env!("CARGO_PKG_REPOSITORY"))
            .semantic_version(env!("CARGO_PKG_VERSION"))
            .version(env!("CARGO_PKG_VERSION"))
            .rules(
                specs
                    .iter()
                    .map(|s| descriptor(s, live.get(s.id.as_str()).copied()))
                    .collect::<Vec<_>>(),
            )
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
        let mut ranks = Vec::with_capacity(report.findings.len());
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
                let mut result =
                    result(f, index.get(f.rule_id.as_str()).copied(), context, options);
                if !others.is_empty() {
                    result.related_locations = Some(
                        others
                            .iter()
                            .enumerate()
                            .map(|(i, other)| related_location(i, other, context))
                            .collect(),
                    );
                }
                let level = match result.level {
                    Some(ResultLevel::Error) => 0,
                    Some(ResultLevel::Warning) => 1,
                    Some(ResultLevel::Note) => 2,
                    _ => 3,
                };
                ranks.push((level, u8::from(f.validation != "checksum")));
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
        let mut organisation = BTreeMap::new();
        if let Some(org) = &report.summary.organisation {
            organisation.insert(
                super::merge::SARIF_ORGANISATION.to_string(),
                json!(org.spec),
            );
            organisation.insert(
                super::merge::SARIF_DETECTION_KEY.to_string(),
                json!(org.detection_key),
            );
            if let Some(shard) = &org.shard {
                organisation.insert(super::merge::SARIF_SHARD.to_string(), json!(shard));
            }
        }
        if let Some(images) = &report.summary.images {
            // An image list's shards merge as an organisation's do.
            organisation.insert(
                super::merge::SARIF_DETECTION_KEY.to_string(),
                json!(images.detection_key),
            );
            if let Some(shard) = &images.shard {
                organisation.insert(super::merge::SARIF_SHARD.to_string(), json!(shard));
            }
        }
        Parts {
            driver,
            invocation,
            results,
            ranks,
            organisation,
        }
    }

    /// The log with `results`, saying so in the run's properties when
    /// `omitted` were left out.
    fn log(&self, results: Vec<SarifResult>, omitted: usize, limits: Limits) -> Sarif {
        let mut run = Run::builder()
            .tool(Tool::builder().driver(self.driver.clone()).build())
            .invocations(vec![self.invocation.clone()])
            .results(results)
            // Our columns count characters (code points), not UTF-16 units.
            .column_kind(json!("unicodeCodePoints"))
            .build();
        let mut properties = self.organisation.clone();
        if omitted > 0 {
            properties.insert(OMITTED_KEY.to_string(), json!(omitted));
            properties.insert(
                OMITTED_REASON_KEY.to_string(),
                json!(format!(
                    "GitHub code scanning accepts at most {} results and {} MB gzip-compressed per upload; \
                     the {omitted} lowest-ranked results (by level, then checksum validation) were left out. \
                     `patscan scan --format json` lists every finding.",
                    limits.max_results,
                    limits.max_gzip_bytes as f64 / 1e6
                )),
            );
        }
        if !properties.is_empty() {
            run.properties = Some(
                PropertyBag::builder()
                    .additional_properties(properties)
                    .build(),
            );
        }
        Sarif::builder()
            .schema(SARIF_SCHEMA_URI)
            .version(json!("2.1.0"))
            .runs(vec![run])
            .build()
    }
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

/// The severity of a finding whose token is verified active.
fn live_severity(finding: &Finding) -> Option<Severity> {
    finding
        .live
        .verification
        .as_ref()
        .filter(|v| v.status == crate::model::Status::Active)
        .and_then(|v| v.severity)
}

/// GitHub's `security-severity` for a live token of this severity, when it
/// is above the rule's own: critical 10.0, high 9.5 (GitHub's "critical"
/// band starts at 9.0); medium and low leave the rule's score alone.
fn raised_security_severity(base: &'static str, live: Option<Severity>) -> &'static str {
    let raised = match live {
        Some(Severity::Critical) => "10.0",
        Some(Severity::High) => "9.5",
        _ => return base,
    };
    let score = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    if score(raised) > score(base) {
        raised
    } else {
        base
    }
}

fn descriptor(spec: &RuleSpec, live: Option<Severity>) -> ReportingDescriptor {
    let (severity, precision) = severity_and_precision(spec);
    let severity = raised_security_severity(severity, live);
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
    let validated = finding.validation_words();
    let verification = finding.live.verification.as_ref();
    let live = verification.is_some_and(|v| v.status == crate::model::Status::Active);
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
    if !finding.details.is_empty() {
        properties.insert(
            "details".into(),
            json!(super::json::Details(&finding.details)),
        );
    }
    // Where it came from, as the JSON output says it: history findings
    // carry their commit here.
    properties.insert(
        "origin".into(),
        serde_json::to_value(&finding.origin).unwrap_or(Value::Null),
    );
    if let Some(repository) = super::json::JsonRepository::new(finding) {
        // An organisation scan: which repository, with links.
        properties.insert(
            "repository".into(),
            serde_json::to_value(&repository).unwrap_or(Value::Null),
        );
    }
    if let Some(encoding) = &finding.encoding {
        // Disguised (base64, UTF-16, percent): the location is the encoded text.
        properties.insert("encoding".into(), json!(encoding));
    }
    if let Some(severity) = live_severity(finding) {
        let base = context
            .rules
            .rules()
            .iter()
            .find(|r| r.spec.id == finding.rule_id)
            .map_or("9.0", |r| severity_and_precision(&r.spec).0);
        properties.insert(
            "security-severity".into(),
            json!(raised_security_severity(base, Some(severity))),
        );
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
    use crate::model::{Origin, Secret};
    use crate::scan::{finish, Tally};
    use crate::tokengen::{generate, TokenRng};

    fn finding(i: usize, rng: &mut TokenRng) -> Finding {
        let (rule, confidence, validation) = if i % 2 == 0 {
            ("npm-token", Confidence::High, "checksum")
        } else {
            ("huggingface-token", Confidence::Medium, "entropy")
        };
        let secret = generate(rule, rng).expect("a known family");
        Finding {
            repository: None,
            details: Vec::new(),
            rule_id: rule.into(),
            rule_name: rule.into(),
            confidence,
            validation,
            path: format!("f{i:04}.txt"),
            origin: Origin::File,
            line: 1,
            column: 1,
            end_column: secret.len() + 1,
            snippet: format!("t={}", Secret::new(secret.clone()).redacted()),
            secret: Secret::new(secret),
            encoding: None,
            line_hash: None,
            allowed_by: None,
            live: Default::default(),
        }
    }

    #[test]
    fn a_log_over_the_gzip_limit_is_cut_to_fit_keeping_the_highest_ranked() {
        let rules = crate::rules::builtin().expect("built-in rules");
        let roots = [std::path::PathBuf::from(".")];
        let context = ReportContext {
            rules: &rules,
            roots: &roots,
        };
        let mut rng = TokenRng::new(5);
        let findings = (0..400).map(|i| finding(i, &mut rng)).collect();
        let report = finish(findings, Tally::default(), std::time::Instant::now());
        let options = RenderOptions {
            show_secrets: false,
            color: false,
            ungrouped: false,
        };
        let unlimited = Limits {
            max_results: 1000,
            max_gzip_bytes: usize::MAX,
        };
        let (full, omitted) = render(&report, &context, options, unlimited).expect("in memory");
        assert_eq!(omitted, 0);
        // The rules alone take some room; a third of what the results take
        // on top of that is left for them.
        let empty = finish(Vec::new(), Tally::default(), std::time::Instant::now());
        let (base, _) = render(&empty, &context, options, unlimited).expect("in memory");
        let base = gzip_len(&base).expect("in memory");
        let limit = base + (gzip_len(&full).expect("in memory") - base) / 3;
        let limits = Limits {
            max_results: 1000,
            max_gzip_bytes: limit,
        };
        let (cut, omitted) = render(&report, &context, options, limits).expect("in memory");
        assert!(omitted > 200, "{omitted}");
        assert!(gzip_len(&cut).expect("in memory") <= limit);
        let log: Value = serde_json::from_slice(&cut).expect("valid JSON");
        let run = &log["runs"][0];
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 400 - omitted);
        assert_eq!(run["properties"][OMITTED_KEY], omitted);
        // Warnings go first: what is left is errors, the first in report order.
        assert!(results.iter().all(|r| r["level"] == "error"));
        let uris: Vec<&str> = results
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri")
            })
            .collect();
        let expected: Vec<String> = (0..results.len())
            .map(|k| format!("f{:04}.txt", 2 * k))
            .collect();
        assert_eq!(uris, expected);
    }

    #[test]
    fn a_run_over_the_result_limit_keeps_every_error_then_the_first_warnings() {
        // What `sarif_over_code_scanning_s_limit…` checks through the
        // binary at GitHub's 25,000, at a limit of 250: 200 checksum-verified
        // npm tokens (error) and 200 Hugging Face tokens (warning),
        // interleaved in report order.
        let rules = crate::rules::builtin().expect("built-in rules");
        let roots = [std::path::PathBuf::from(".")];
        let context = ReportContext {
            rules: &rules,
            roots: &roots,
        };
        let mut rng = TokenRng::new(25);
        let findings = (0..400).map(|i| finding(i, &mut rng)).collect();
        let report = finish(findings, Tally::default(), std::time::Instant::now());
        let options = RenderOptions {
            show_secrets: false,
            color: false,
            ungrouped: false,
        };
        let limits = Limits {
            max_results: 250,
            max_gzip_bytes: usize::MAX,
        };
        let (bytes, omitted) = render(&report, &context, options, limits).expect("in memory");
        assert_eq!(omitted, 150);
        let log: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        let run = &log["runs"][0];
        assert_eq!(run["properties"][OMITTED_KEY], 150);
        assert!(run["properties"][OMITTED_REASON_KEY]
            .as_str()
            .expect("a reason")
            .contains("250 results"));
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 250);
        let uri = |r: &Value| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
                .to_string()
        };
        // Every error is kept; the 50 warnings kept are the first 50 in
        // report order; the results stay in report order.
        let errors = results.iter().filter(|r| r["level"] == "error").count();
        assert_eq!(errors, 200);
        let uris: Vec<String> = results.iter().map(uri).collect();
        assert!(uris.windows(2).all(|w| w[0] < w[1]));
        let warned: Vec<String> = results
            .iter()
            .filter(|r| r["level"] == "warning")
            .map(uri)
            .collect();
        let expected: Vec<String> = (0..50).map(|k| format!("f{:04}.txt", 2 * k + 1)).collect();
        assert_eq!(warned, expected);
    }

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
