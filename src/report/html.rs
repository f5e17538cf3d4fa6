//! `--format html`: one self-contained file an auditor opens in a browser.
//! A summary (secrets by provider and confidence, live status after
//! `--verify`), a timeline of the commits that hold secrets, and a table
//! of secrets that sorts, filters and expands to every place with its
//! masked snippet and how to revoke the secret.
//!
//! Everything is inline (CSS, script, SVG) and a Content-Security-Policy
//! forbids loading anything else, so the report works offline and opening
//! it tells no server. The table is rendered here, in Rust, so it reads
//! without JavaScript and every string from input goes through one
//! escaper; the script only hides, reorders and expands rows. The same
//! data sits in a JSON island (the grouped `--format json` entries plus
//! provider and revoke text) for the script and for anyone who wants to
//! extract it. A report gets passed around, so it is always masked:
//! `show_secrets` is refused.

pub(crate) mod escape;
mod timeline;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use self::escape::{script_safe_json, Esc};
use super::group::{group, verification_counts, SecretGroup};
use super::json::JsonSecret;
use super::{RenderOptions, ReportContext};
use crate::model::Finding;
use crate::model::{Status, Verification};
use crate::rules::{RuleSet, RuleSpec};
use crate::scan::ScanReport;

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Only inline styles and scripts, and `data:` images; no fetch, no
/// frame, no form target: nothing leaves the machine.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Why `--show-secrets` does not combine with this format.
pub const SHOW_SECRETS_REFUSED: &str =
    "--show-secrets does not combine with --format html: a report gets passed around, so it is always masked";

/// The status column of a secret nobody checked.
const NOT_CHECKED: &str = "not checked";

/// What the island holds for each secret: its grouped JSON entry and what
/// the table shows besides.
#[derive(Serialize)]
struct IslandSecret<'a> {
    provider: &'a str,
    revoke: &'a str,
    #[serde(flatten)]
    secret: JsonSecret<'a>,
}

#[derive(Serialize)]
struct Island<'a> {
    secrets: Vec<IslandSecret<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_summary: Option<BTreeMap<Status, usize>>,
}

/// The rule facts the report shows, by rule id.
struct RuleFacts<'a> {
    by_id: HashMap<&'a str, &'a RuleSpec>,
}

impl<'a> RuleFacts<'a> {
    fn new(rules: &'a RuleSet) -> RuleFacts<'a> {
        RuleFacts {
            by_id: rules
                .rules()
                .iter()
                .map(|r| (r.spec.id.as_str(), &r.spec))
                .collect(),
        }
    }

    /// The rule's `family`: the issuer whose console revokes the token.
    fn provider(&self, rule_id: &str) -> &'a str {
        match self.by_id.get(rule_id) {
            Some(spec) if !spec.family.is_empty() => &spec.family,
            Some(spec) if spec.custom => "Custom rules",
            _ => "Other",
        }
    }

    fn revoke(&self, rule_id: &str) -> &'a str {
        match self.by_id.get(rule_id) {
            Some(spec) => super::sarif::revoke_text(spec),
            None => super::sarif::DEFAULT_REVOKE,
        }
    }
}

pub fn write(
    report: &ScanReport,
    context: &ReportContext<'_>,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if options.show_secrets {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            SHOW_SECRETS_REFUSED,
        ));
    }
    let masked = RenderOptions {
        show_secrets: false,
        ..options
    };
    let facts = RuleFacts::new(context.rules);
    let groups = group(&report.findings);
    let island = Island {
        secrets: groups
            .iter()
            .map(|g| IslandSecret {
                provider: facts.provider(g.rule_id()),
                revoke: facts.revoke(g.rule_id()),
                secret: JsonSecret::new(g, masked),
            })
            .collect(),
        verification_summary: verification_counts(&groups),
    };

    write_head("patscan audit report", out)?;
    write_header(report, context, &groups, out)?;
    write_summary(&groups, &facts, out)?;
    writeln!(
        out,
        "<section id=\"timeline\">\n<h2>Timeline</h2>\n\
         <p class=\"note\">The bottom row is the scanned history: commits per period, by \
         committer date. Above it, the commits that hold a secret, by author date (larger: \
         more occurrences); each secret is marked at the commit that introduced it, on its \
         confidence's lane. Hover for details; click a mark to go to its secret.</p>"
    )?;
    if !timeline::write(&groups, &report.summary.commit_activity, out)? {
        writeln!(
            out,
            "<p class=\"empty\" id=\"no-history\">No git history in this scan: run \
             <code>patscan scan --history</code> on a repository to see when secrets were \
             introduced.</p>"
        )?;
    }
    writeln!(out, "</section>")?;
    write_table(&groups, &facts, out)?;
    write_connections(report, out)?;
    write_problems(report, out)?;
    let json = serde_json::to_string(&island).map_err(io::Error::other)?;
    write!(
        out,
        "<script type=\"application/json\" id=\"patscan-data\">{}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        script_safe_json(&json)
    )
}

/// The document's start up to `<body>`: the inline style and the CSP
/// that keeps the page offline. Shared with the Azure DevOps PAT audit.
pub(crate) fn write_head(title: &str, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"patscan {version}\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        version = env!("CARGO_PKG_VERSION"),
        title = Esc(title),
    )
}

fn write_header(
    report: &ScanReport,
    context: &ReportContext<'_>,
    groups: &[SecretGroup<'_>],
    out: &mut dyn Write,
) -> io::Result<()> {
    let roots: Vec<String> = context
        .roots
        .iter()
        .map(|r| r.display().to_string())
        .collect();
    let summary = &report.summary;
    writeln!(
        out,
        "<header>\n<h1>patscan audit report</h1>\n<p class=\"meta\">Scanned <code>{roots}</code>: \
         {files} {unit}, <span title=\"{bytes} bytes\">{size}</span>, by patscan {version}. Secrets are masked (first four \
         characters and the length); revoke every one that is real, since deleting it from \
         the files or the history does not make it safe.</p>\n</header>",
        roots = Esc(&roots.join(" ")),
        files = summary.files_scanned,
        unit = Esc(if summary.unit.is_empty() {
            "files"
        } else {
            summary.unit
        }),
        bytes = summary.bytes_scanned,
        size = crate::size::format_bytes(summary.bytes_scanned),
        version = env!("CARGO_PKG_VERSION"),
    )?;
    let occurrences: usize = groups.iter().map(|g| g.occurrences.len()).sum();
    writeln!(
        out,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">"
    )?;
    card(out, "secrets", groups.len(), "distinct secrets")?;
    card(out, "occurrences", occurrences, "places found")?;
    for (confidence, label) in [
        ("high", "high confidence"),
        ("medium", "medium"),
        ("low", "low"),
    ] {
        let count = groups
            .iter()
            .filter(|g| g.confidence().as_str() == confidence)
            .count();
        card(out, confidence, count, label)?;
    }
    if let Some(counts) = verification_counts(groups) {
        for status in [Status::Active, Status::Inactive, Status::Unknown] {
            let label = match status {
                Status::Active => "live (active)",
                Status::Inactive => "inactive",
                Status::Unknown => "unknown",
            };
            let count = counts.get(&status).copied().unwrap_or(0);
            card(out, status.as_str(), count, label)?;
        }
    }
    writeln!(out, "</div>")
}

fn card(out: &mut dyn Write, class: &str, count: usize, label: &str) -> io::Result<()> {
    writeln!(
        out,
        "<div class=\"card {class}\" data-count=\"{class}\"><span class=\"count\">{count}</span> {label}</div>"
    )
}

/// Distinct secrets per provider and confidence, and per live status when
/// any was checked.
fn write_summary(
    groups: &[SecretGroup<'_>],
    facts: &RuleFacts<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let verified = groups.iter().any(|g| g.verification().is_some());
    // high, medium, low, active, inactive, unknown, not checked, total
    let mut rows: BTreeMap<&str, [usize; 8]> = BTreeMap::new();
    for g in groups {
        let row = rows.entry(facts.provider(g.rule_id())).or_default();
        row[match g.confidence().as_str() {
            "high" => 0,
            "medium" => 1,
            _ => 2,
        }] += 1;
        row[match g.verification().map(|v| v.status) {
            Some(Status::Active) => 3,
            Some(Status::Inactive) => 4,
            Some(Status::Unknown) => 5,
            None => 6,
        }] += 1;
        row[7] += 1;
    }
    if rows.is_empty() {
        return writeln!(
            out,
            "<p class=\"empty\" id=\"no-secrets\">No secrets found.</p>\n</section>"
        );
    }
    write!(
        out,
        "<table class=\"providers\" id=\"providers\">\n<thead><tr><th scope=\"col\">Provider</th>\
         <th scope=\"col\" class=\"num\">High</th><th scope=\"col\" class=\"num\">Medium</th>\
         <th scope=\"col\" class=\"num\">Low</th>"
    )?;
    if verified {
        write!(
            out,
            "<th scope=\"col\" class=\"num\">Live</th><th scope=\"col\" class=\"num\">Inactive</th>\
             <th scope=\"col\" class=\"num\">Unknown</th><th scope=\"col\" class=\"num\">Not checked</th>"
        )?;
    }
    writeln!(
        out,
        "<th scope=\"col\" class=\"num\">Secrets</th></tr></thead>\n<tbody>"
    )?;
    for (provider, row) in &rows {
        write!(out, "<tr><th scope=\"row\">{}</th>", Esc(provider))?;
        let columns: &[usize] = if verified {
            &[0, 1, 2, 3, 4, 5, 6, 7]
        } else {
            &[0, 1, 2, 7]
        };
        for &column in columns {
            write!(out, "<td class=\"num\">{}</td>", row[column])?;
        }
        writeln!(out, "</tr>")?;
    }
    if !verified {
        writeln!(
            out,
            "</tbody></table>\n<p class=\"note\">Live status was not checked: \
             <code>patscan scan --verify</code> asks each issuer whether a token still works.</p>\n</section>"
        )
    } else {
        writeln!(out, "</tbody></table>\n</section>")
    }
}

const COLUMNS: &[(&str, &str, &str)] = &[
    ("provider", "Provider", ""),
    ("rule", "Rule", ""),
    ("confidence", "Confidence", ""),
    ("status", "Status", ""),
    ("severity", "Severity", ""),
    ("first_seen", "First seen", ""),
    ("author", "Author", ""),
    ("occurrences", "Occurrences", " num"),
];

fn write_table(
    groups: &[SecretGroup<'_>],
    facts: &RuleFacts<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<section id=\"secrets\">\n<h2>Secrets</h2>\n\
         <div class=\"controls\" id=\"controls\" hidden>\
         <label for=\"filter\">Filter</label> <input type=\"search\" id=\"filter\" \
         placeholder=\"text, or provider: rule: status: confidence: author: path: commit:\" \
         autocomplete=\"off\" spellcheck=\"false\"> \
         <button type=\"button\" id=\"expand-all\">Expand all</button> \
         <button type=\"button\" id=\"collapse-all\">Collapse all</button> \
         <span id=\"shown\" aria-live=\"polite\"></span></div>\n\
         <noscript><p class=\"note\">Scripts are off: every secret is shown with its \
         places; sorting and filtering need JavaScript.</p></noscript>"
    )?;
    if groups.is_empty() {
        return writeln!(out, "<p class=\"empty\">No secrets found.</p>\n</section>");
    }
    write!(
        out,
        "<table class=\"secrets\" id=\"secrets-table\">\n<thead><tr>\
         <th scope=\"col\" class=\"toggle-col\"><span class=\"visually-hidden\">Places</span></th>"
    )?;
    for (key, label, class) in COLUMNS {
        write!(
            out,
            "<th scope=\"col\" class=\"sortable{class}\" data-sort=\"{key}\" aria-sort=\"none\">\
             <button type=\"button\">{label}</button></th>"
        )?;
    }
    writeln!(out, "</tr></thead>")?;
    for (index, g) in groups.iter().enumerate() {
        write_secret(index, g, facts, out)?;
    }
    writeln!(
        out,
        "<tbody id=\"no-match\" hidden><tr><td colspan=\"{}\" class=\"empty\">No secret \
         matches the filter.</td></tr></tbody>\n</table>\n</section>",
        COLUMNS.len() + 1
    )
}

fn write_secret(
    index: usize,
    g: &SecretGroup<'_>,
    facts: &RuleFacts<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let first = g.first();
    let fp = Esc(&g.fingerprint);
    let confidence = g.confidence().as_str();
    let status = g.verification().map_or(NOT_CHECKED, |v| v.status.as_str());
    let status_class = status.replace(' ', "-");
    write!(
        out,
        "<tbody class=\"secret\" id=\"secret-{fp}\" data-index=\"{index}\" data-fingerprint=\"{fp}\">\n\
         <tr class=\"row\"><td class=\"toggle-col\"><button type=\"button\" class=\"toggle\" \
         aria-expanded=\"true\" aria-controls=\"places-{fp}\" aria-label=\"Places of this secret\">\
         </button></td>\
         <td class=\"provider\">{provider}</td>\
         <td class=\"rule\"><span class=\"rule-name\">{name}</span> <code class=\"rule-id\">{id}</code> \
         <code class=\"masked\">{secret}</code></td>\
         <td><span class=\"badge {confidence}\">{confidence}</span></td>\
         <td class=\"status\"><span class=\"badge {status_class}\">{status}</span></td>\
         <td class=\"severity\">{severity}</td>",
        provider = Esc(facts.provider(g.rule_id())),
        name = Esc(&first.rule_name),
        id = Esc(&first.rule_id),
        secret = Esc(&first.display_secret(false)),
        severity = match g.verification().and_then(|v| v.severity) {
            Some(severity) => format!("<span class=\"badge sev-{severity}\">{severity}</span>"),
            None => "<span class=\"none\">—</span>".to_string(),
        },
    )?;
    match g.first_seen {
        Some(meta) => write!(
            out,
            "<td class=\"first-seen\"><time datetime=\"{date}\">{day}</time> \
             <code title=\"{commit}\">{short}</code></td><td class=\"author\">{author}</td>",
            date = Esc(&meta.date),
            day = Esc(meta.date.get(..10).unwrap_or(&meta.date)),
            commit = Esc(&meta.commit),
            short = Esc(timeline::short(&meta.commit)),
            author = Esc(&meta.author),
        )?,
        None => write!(
            out,
            "<td class=\"first-seen none\">{}</td><td class=\"author none\">—</td>",
            Esc(first.origin.kind())
        )?,
    }
    writeln!(
        out,
        "<td class=\"num occurrences\">{}</td></tr>",
        g.occurrences.len()
    )?;
    writeln!(
        out,
        "<tr class=\"places\" id=\"places-{fp}\"><td></td><td colspan=\"{}\">\n\
         <p class=\"revoke\"><strong>How to revoke:</strong> <span class=\"revoke-text\">{}</span></p>",
        COLUMNS.len(),
        Esc(facts.revoke(g.rule_id()))
    )?;
    if let Some(v) = g.verification() {
        write_verification(v, out)?;
    }
    writeln!(
        out,
        "<table class=\"occurrences\"><thead><tr><th scope=\"col\">Where</th>\
         <th scope=\"col\">Origin</th><th scope=\"col\">Commit</th><th scope=\"col\">Date</th>\
         <th scope=\"col\">Author</th><th scope=\"col\">Snippet (masked)</th></tr></thead><tbody>"
    )?;
    for finding in &g.occurrences {
        write_place(finding, out)?;
    }
    writeln!(out, "</tbody></table>\n</td></tr>\n</tbody>")
}

fn write_verification(v: &Verification, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "<p class=\"verification\"><strong>Live check:</strong> {}",
        Esc(v.status.as_str())
    )?;
    let details = [
        ("reason", v.reason.as_deref()),
        ("owner", v.owner.as_deref()),
        ("organisation", v.organisation.as_deref()),
        ("checked with", v.endpoint.as_deref()),
    ];
    for (label, value) in details {
        if let Some(value) = value {
            write!(out, "; {label}: {}", Esc(value))?;
        }
    }
    if !v.scopes.is_empty() {
        write!(out, "; scopes: {}", Esc(&v.scopes.join(", ")))?;
    }
    if let Some(severity) = super::risk::severity(v) {
        write!(out, "; severity: {}", Esc(&severity))?;
    }
    if let Some(expiry) = super::risk::expiry(v) {
        write!(out, "; {}", Esc(&expiry))?;
    }
    writeln!(out, "</p>")?;
    if let Some(access) = &v.access {
        writeln!(out, "<ul class=\"reach\">")?;
        for line in super::risk::reach(access) {
            writeln!(out, "<li>{}</li>", Esc(&line))?;
        }
        writeln!(out, "</ul>")?;
    }
    Ok(())
}

fn write_place(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "<tr><td class=\"where\"><code>{path}:{line}:{column}</code>",
        path = Esc(&finding.path),
        line = finding.line,
        column = finding.column,
    )?;
    if let Some(encoding) = &finding.encoding {
        write!(out, " <span class=\"encoding\">({})</span>", Esc(encoding))?;
    }
    match super::human::image_place(&finding.origin) {
        Some(place) => write!(
            out,
            "</td><td>{} <span class=\"image\">{}</span></td>",
            Esc(finding.origin.kind()),
            Esc(&place)
        )?,
        None => write!(out, "</td><td>{}</td>", Esc(finding.origin.kind()))?,
    }
    match finding.origin.commit() {
        Some(meta) => write!(
            out,
            "<td><code title=\"{commit}\">{short}</code> <span class=\"summary\">{summary}</span></td>\
             <td><time datetime=\"{date}\" title=\"{date}\">{shown}</time></td><td>{author}</td>",
            commit = Esc(&meta.commit),
            short = Esc(timeline::short(&meta.commit)),
            summary = Esc(&meta.summary),
            date = Esc(&meta.date),
            shown = Esc(&meta.date.get(..16).unwrap_or(&meta.date).replace('T', " ")),
            author = Esc(&meta.author),
        )?,
        None => write!(out, "<td>—</td><td>—</td><td>—</td>")?,
    }
    writeln!(
        out,
        "<td><code class=\"snippet\">{}</code></td></tr>",
        Esc(&finding.snippet)
    )
}

/// An Azure DevOps organisation's service connections, by type and
/// scheme; those that hold a PAT first.
fn write_connections(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let Some(org) = &report.summary.organisation else {
        return Ok(());
    };
    if org.service_connections.is_empty() {
        return Ok(());
    }
    let mut connections: Vec<_> = org.service_connections.iter().collect();
    connections.sort_by_key(|c| !c.pat_based);
    let pat = connections.iter().filter(|c| c.pat_based).count();
    writeln!(
        out,
        "<section id=\"service-connections\">\n<h2>Service connections</h2>\n\
         <p class=\"note\">{} service connections, {pat} of them authenticated by a personal \
         access token: one more PAT to rotate each, readable by the connection's \
         administrators. Listed by type and scheme only.</p>\n<table><thead><tr><th>project</th>\
         <th>name</th><th>type</th><th>scheme</th><th>PAT</th></tr></thead><tbody>",
        connections.len()
    )?;
    for c in connections {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&c.project),
            Esc(&c.name),
            Esc(&c.kind),
            Esc(&c.scheme),
            if c.pat_based { "yes" } else { "" }
        )?;
    }
    writeln!(out, "</tbody></table>\n</section>")
}

fn write_problems(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    if report.problems.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section id=\"problems\">\n<h2>Not scanned</h2>\n<details><summary>{} \
         places could not be read</summary><ul>",
        report.problems.len()
    )?;
    for problem in &report.problems {
        writeln!(
            out,
            "<li><code>{}</code>: {}</li>",
            Esc(&problem.path),
            Esc(&problem.message)
        )?;
    }
    writeln!(out, "</ul></details>\n</section>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Confidence;
    use crate::model::{Origin, Secret};
    use std::path::PathBuf;

    fn finding(rule: &str, secret: &str, status: Option<Status>) -> Finding {
        Finding {
            repository: None,
            details: Vec::new(),
            rule_id: rule.into(),
            rule_name: rule.into(),
            confidence: Confidence::High,
            validation: "checksum",
            path: "a.env".into(),
            origin: Origin::File,
            line: 1,
            column: 1,
            end_column: 2,
            secret: Secret::new(secret.into()),
            snippet: "T=ghp_…[40 chars]".into(),
            encoding: None,
            line_hash: None,
            allowed_by: None,
            live: crate::model::LiveInfo {
                verification: status.map(|status| {
                    let mut v = Verification::new(status, crate::model::Provider::Github)
                        .with_reason("<b>bad</b> credentials");
                    v.scopes = vec!["repo".into()];
                    v
                }),
                ..Default::default()
            },
        }
    }

    fn render(findings: Vec<Finding>, show_secrets: bool) -> io::Result<String> {
        let rules = crate::rules::builtin().unwrap();
        let roots = [PathBuf::from(".")];
        let report = ScanReport {
            findings,
            problems: Vec::new(),
            summary: Default::default(),
        };
        let context = ReportContext {
            rules: &rules,
            roots: &roots,
        };
        let options = RenderOptions {
            show_secrets,
            color: false,
            ungrouped: false,
        };
        let mut out = Vec::new();
        write(&report, &context, options, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn live_status_is_counted_per_secret_and_shown_per_row() {
        let html = render(
            vec![
                finding(
                    "github-classic-pat",
                    "secret-one-0000",
                    Some(Status::Active),
                ),
                finding(
                    "github-classic-pat",
                    "secret-two-0000",
                    Some(Status::Inactive),
                ),
                finding("github-fine-grained-pat", "secret-three-00", None),
            ],
            false,
        )
        .unwrap();
        let count = |class: &str| {
            let start = html.find(&format!("data-count=\"{class}\"")).unwrap();
            let rest = &html[start..];
            let at = rest.find("class=\"count\">").unwrap() + "class=\"count\">".len();
            rest[at..rest[at..].find('<').unwrap() + at].to_string()
        };
        assert_eq!(count("secrets"), "3");
        assert_eq!(count("active"), "1");
        assert_eq!(count("inactive"), "1");
        assert_eq!(count("unknown"), "0");
        // GitHub: 3 high; live 1, inactive 1, unknown 0, not checked 1.
        assert!(html.contains(
            "<tr><th scope=\"row\">GitHub</th><td class=\"num\">3</td><td class=\"num\">0</td>\
             <td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">1</td>\
             <td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">3</td></tr>"
        ));
        assert!(html.contains("<span class=\"badge active\">active</span>"));
        assert!(html.contains("<span class=\"badge not-checked\">not checked</span>"));
        assert!(html.contains("reason: &lt;b&gt;bad&lt;/b&gt; credentials; scopes: repo"));
        assert!(!html.contains("secret-one"), "masked");
        assert!(html.contains("\"verification_summary\":{\"active\":1,\"inactive\":1}"));
    }

    #[test]
    fn show_secrets_is_refused_by_the_writer_too() {
        let err = render(
            vec![finding("github-classic-pat", "s3cr3t-s3cr3t", None)],
            true,
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
