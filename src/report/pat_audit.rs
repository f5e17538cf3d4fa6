//! The outputs of `patscan azure-devops audit`: human text, JSON, and a
//! self-contained HTML page in the style (and with the escaper and CSP) of
//! the scan's HTML report. The audit holds no token values: Azure DevOps
//! never returns them.

use std::io::{self, Write};

use super::html::escape::Esc;
use super::html::write_head;
use crate::model::{AuditReport, AuditToken};

/// The audit's output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Html,
}

pub fn write(report: &AuditReport, format: AuditFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        AuditFormat::Human => human(report, out),
        AuditFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
            writeln!(out)
        }
        AuditFormat::Html => html(report, out),
    }
}

fn summary(report: &AuditReport) -> String {
    format!(
        "{} valid PAT(s) of {} user(s) in {} on {}, {} flagged; {} no longer valid (not listed); \
         {} request(s)",
        report.tokens.len(),
        report.users,
        report.organisation,
        report.date,
        report.flagged(),
        report.not_valid,
        report.requests
    )
}

fn flags(token: &AuditToken) -> String {
    if token.flags.is_empty() {
        "ok".to_string()
    } else {
        let names: Vec<&str> = token.flags.iter().map(|f| f.as_str()).collect();
        names.join(", ")
    }
}

fn lifetime(token: &AuditToken) -> String {
    token
        .lifetime_days
        .map_or_else(|| "?".to_string(), |d| format!("{d} days"))
}

fn human(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Azure DevOps PAT audit of {}", report.organisation)?;
    for t in &report.tokens {
        writeln!(out, "\n{} \"{}\" [{}]", t.owner, t.display_name, flags(t))?;
        writeln!(out, "    authorization {}", t.authorization_id)?;
        writeln!(out, "    scopes {}", t.scopes.join(" "))?;
        writeln!(
            out,
            "    created {}, valid to {} ({}); reach: {}",
            t.created,
            t.valid_to,
            lifetime(t),
            t.reach.as_str()
        )?;
        if !t.leak_candidate_for.is_empty() {
            writeln!(
                out,
                "    LEAK CANDIDATE for {}",
                t.leak_candidate_for.join(", ")
            )?;
        }
    }
    if let Some(leaks) = &report.leaks {
        writeln!(out, "\nLeaked tokens from the scan report: {}", leaks.len())?;
        for leak in leaks {
            writeln!(
                out,
                "  {} ({}, fingerprint {}), owner {}: {}",
                leak.secret,
                leak.rule_id,
                leak.fingerprint,
                leak.owner,
                if leak.candidates.is_empty() {
                    "no candidate".to_string()
                } else {
                    format!("candidate authorization(s) {}", leak.candidates.join(", "))
                }
            )?;
            writeln!(out, "    {}", leak.note)?;
        }
    }
    writeln!(out, "\n{}", summary(report))?;
    writeln!(
        out,
        "flags: full-access (scope app_token), long-lived (lifetime over {} days), \
         valid-over-a-year, global (all accessible organisations), owner-deleted (owner \
         deleted in the identity provider)",
        report.max_days
    )
}

fn html(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    write_head(
        &format!("patscan PAT audit of {}", report.organisation),
        out,
    )?;
    writeln!(
        out,
        "<header><h1>Azure DevOps PAT audit of {}</h1>\n<p class=\"note\">{}</p></header>\n<main>",
        Esc(&report.organisation),
        Esc(&summary(report))
    )?;
    writeln!(
        out,
        "<table class=\"secrets\" id=\"pat-audit\"><thead><tr><th scope=\"col\">Owner</th>\
         <th scope=\"col\">Name</th><th scope=\"col\">Scopes</th><th scope=\"col\">Created</th>\
         <th scope=\"col\">Valid to</th><th scope=\"col\" class=\"num\">Lifetime</th>\
         <th scope=\"col\">Reach</th><th scope=\"col\">Flags</th><th scope=\"col\">Leak candidate</th>\
         </tr></thead><tbody>"
    )?;
    for t in &report.tokens {
        let flag_badges: Vec<String> = t
            .flags
            .iter()
            .map(|f| format!("<span class=\"badge high\">{}</span>", f.as_str()))
            .collect();
        writeln!(
            out,
            "<tr data-authorization=\"{id}\"><td>{owner}</td><td>{name}</td><td><code>{scopes}</code></td>\
             <td>{created}</td><td>{valid_to}</td><td class=\"num\">{lifetime}</td><td>{reach}</td>\
             <td>{flags}</td><td>{leak}</td></tr>",
            id = Esc(&t.authorization_id),
            owner = Esc(&t.owner),
            name = Esc(&t.display_name),
            scopes = Esc(&t.scopes.join(" ")),
            created = Esc(&t.created),
            valid_to = Esc(&t.valid_to),
            lifetime = Esc(&lifetime(t)),
            reach = Esc(t.reach.as_str()),
            flags = if flag_badges.is_empty() {
                "ok".to_string()
            } else {
                flag_badges.join(" ")
            },
            leak = Esc(&t.leak_candidate_for.join(", ")),
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if let Some(leaks) = &report.leaks {
        writeln!(
            out,
            "<h2>Leaked tokens from the scan report</h2>\n<ul class=\"leaks\">"
        )?;
        for leak in leaks {
            writeln!(
                out,
                "<li><code>{}</code> ({}, fingerprint <code>{}</code>), owner {}: candidates {}. {}</li>",
                Esc(&leak.secret),
                Esc(&leak.rule_id),
                Esc(&leak.fingerprint),
                Esc(&leak.owner),
                Esc(&if leak.candidates.is_empty() {
                    "none".to_string()
                } else {
                    leak.candidates.join(", ")
                }),
                Esc(&leak.note)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</main>\n</body>\n</html>")
}
