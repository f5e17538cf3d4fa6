//! `patscan azure-devops audit`: the command line of the organisation PAT
//! audit ([`crate::live::pat_audit`]). The administrator's credential comes
//! from the environment only: a command-line argument would sit in the
//! process list and the shell history.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::live::{http_policy, LiveArgs};
use super::write_output;
use crate::detect::context::is_org_name;
use crate::live::pat_audit;
use crate::live::revoke::AZURE_DEVOPS_ADMIN_VAR;
use crate::live::{severity, Endpoints};
use crate::model::Provider;
use crate::net::Http;
use crate::report::pat_audit::AuditFormat;

#[derive(Debug, Args)]
pub struct AzureDevopsArgs {
    #[command(subcommand)]
    pub command: AzureDevopsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AzureDevopsCommand {
    /// List an organisation's PATs (Graph and Token Administration APIs)
    /// and flag risky ones. Credential: PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The organisation (as in dev.azure.com/ORG).
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// Flag PATs whose lifetime is longer than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub max_days: u32,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    /// Write the audit to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A `patscan scan --verify --format json` report: its live Azure DevOps
    /// tokens are matched to their owners' authorizations here.
    #[arg(long, value_name = "REPORT")]
    pub scan_report: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub(super) fn run(args: AzureDevopsArgs) -> Result<ExitCode> {
    match args.command {
        AzureDevopsCommand::Audit(args) => run_audit(args),
    }
}

fn run_audit(args: AuditArgs) -> Result<ExitCode> {
    let org = args.org.trim().to_ascii_lowercase();
    if !is_org_name(&org) {
        anyhow::bail!(
            "--org {:?} is not an Azure DevOps organisation name (letters, digits, inner hyphens)",
            args.org
        );
    }
    let admin = std::env::var(AZURE_DEVOPS_ADMIN_VAR)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .with_context(|| {
            format!(
                "set {AZURE_DEVOPS_ADMIN_VAR} to an organisation administrator's Entra ID \
                 access token, or a PAT with the Token Administration and Graph (read) scopes"
            )
        })?;
    let leaks = match &args.scan_report {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JSON report", path.display()))?;
            Some(pat_audit::leaks_in_scan_report(&json))
        }
        None => None,
    };
    let endpoints = Endpoints::from_env()?;
    let http = Http::new(http_policy(&endpoints, &args.live))?;
    let base = endpoints.base(Provider::AzureDevops);
    let mut report = pat_audit::run(&http, base, &org, &admin, args.max_days, severity::today())
        .map_err(|e| anyhow::anyhow!(scrub(e.to_string(), &admin)))?;
    if let Some(leaks) = &leaks {
        pat_audit::match_leaks(&mut report, leaks);
    }
    write_output(args.output.as_ref(), |out| {
        crate::report::pat_audit::write(&report, args.format, out)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A last guard: no message may carry the credential.
fn scrub(text: String, admin: &str) -> String {
    text.replace(admin, "[credential]")
}
