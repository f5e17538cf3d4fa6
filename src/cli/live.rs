//! The command line of live checks and revocation: `scan --verify`,
//! `scan --revoke`, `verify REPORT.json` and `revoke --rule RULE_ID`. Kept
//! apart from the core CLI so the network features stay in one place.

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::{write_output, ColorChoice, ScanArgs};
use crate::live::revoke::{Confirm, Journal, Revocations, RevokeOptions, AZURE_DEVOPS_ADMIN_VAR};
use crate::live::{self, Endpoints, VerifyOptions};
use crate::model::Confidence;
use crate::model::Status;
use crate::model::{Finding, Origin, Secret};
use crate::net::{Http, Policy};
use crate::report::{self, Format, ReportContext};
use crate::rules;
use crate::scan::ScanReport;
use crate::scanner::Scanner;

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The built-in rule the token on standard input belongs to (see
    /// `patscan rules`).
    #[arg(long, value_name = "RULE_ID")]
    pub rule: String,
    /// Revoke without asking.
    #[arg(long)]
    pub yes: bool,
    /// Revoke even if the token is not verified active.
    #[arg(long)]
    pub force: bool,
    /// Append every decision to FILE (JSON Lines; never the token).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Live-check limits, shared by `scan --verify`, `verify` and `revoke`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Live checks in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub verify_concurrency: u16,
    /// Requests per second to any one issuer host.
    #[arg(long, value_name = "N", default_value_t = 5.0, value_parser = parse_rate)]
    pub verify_rate: f64,
    /// Seconds to wait for an issuer's answer before reporting `unknown`.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub verify_timeout: f64,
}

/// `--fail-on-status`: which verified tokens make the exit code 1 (on top
/// of `--fail-on CONFIDENCE`). Without it any reported finding does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnStatus {
    /// Exit 1 only if a token is verified active.
    Active,
    /// Exit 1 if a token is active or could not be checked.
    ActiveOrUnknown,
}

impl FailOnStatus {
    fn matches(self, finding: &Finding) -> bool {
        let status = finding.live.verification.as_ref().map(|v| v.status);
        match self {
            FailOnStatus::Active => status == Some(Status::Active),
            FailOnStatus::ActiveOrUnknown => {
                matches!(status, Some(Status::Active | Status::Unknown))
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A JSON report written by `patscan scan --format json --show-secrets`;
    /// `-` reads standard input.
    pub report: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// JSON: one row per place a token was found (see `scan --ungrouped`).
    #[arg(long)]
    pub ungrouped: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in full. Without it every output masks them.
    #[arg(long)]
    pub show_secrets: bool,
    /// When to colour the human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not print progress and warnings.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// For each live Azure DevOps PAT, probe which organisations and areas
    /// it reaches (read-only GETs, bounded; see `scan --blast-radius`).
    #[arg(long)]
    pub blast_radius: bool,
    /// Only tokens verified `active` (or `active` or `unknown`) make the
    /// exit code 1; without it any finding does.
    #[arg(long, value_enum, value_name = "STATUS")]
    pub fail_on_status: Option<FailOnStatus>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("expected a positive number of requests per second".into()),
    }
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 600.0 => Ok(secs),
        _ => Err("expected seconds, more than 0 and at most 600".into()),
    }
}

/// `patscan revoke` has its own meaning of 0.
pub const REVOKE_EXIT_CODES: &str = "\
Exit codes:
  0  revoked, or nothing to do (dry run, declined, not active)
  2  error (bad arguments, unknown rule, no valid token of the rule on stdin)
  3  the token is still in service: the revocation failed, or only its
     owner can revoke it (Azure DevOps without admin credentials, Hugging Face)";

/// Reads the endpoint overrides for `scan --verify` before scanning, so a
/// bad override fails fast. Without `--verify` the variable is not even
/// read, and `None` means: no network at all.
pub(super) fn endpoints_for_scan(args: &ScanArgs) -> Result<Option<Endpoints>> {
    Ok(if args.verify {
        Some(Endpoints::from_env()?)
    } else {
        None
    })
}

/// After the report is written: revocation when asked, then the exit code
/// (3 when a token to revoke is still in service).
pub(super) fn finish_scan(
    report: &ScanReport,
    endpoints: &Endpoints,
    args: &ScanArgs,
) -> Result<ExitCode> {
    if args.revoke {
        let stderr = io::stderr();
        let mut err = stderr.lock();
        let flags = RevokeFlags {
            yes: args.yes,
            force: args.force,
            audit_log: args.audit_log.as_ref(),
        };
        if revoke(&report.findings, endpoints, &args.live, flags, &mut err)?.incomplete() {
            return Ok(ExitCode::from(3));
        }
    }
    Ok(exit_code(
        report,
        args.fail_on,
        args.fail_on_status,
        args.exit_zero,
    ))
}

struct RevokeFlags<'a> {
    yes: bool,
    force: bool,
    audit_log: Option<&'a PathBuf>,
}

pub(super) fn http_policy(endpoints: &Endpoints, args: &LiveArgs) -> Policy {
    Policy {
        timeout: Duration::from_secs_f64(args.verify_timeout),
        rate_per_host: args.verify_rate,
        loopback_emulator: endpoints.has_overrides(),
        ..Policy::default()
    }
}

/// Revokes what the flags allow, one line per decision to `out` and to the
/// audit log. Prompts go to the terminal (`/dev/tty`), never to stdin,
/// which may hold the scanned data or the token.
fn revoke(
    findings: &[Finding],
    endpoints: &Endpoints,
    args: &LiveArgs,
    flags: RevokeFlags<'_>,
    out: &mut dyn Write,
) -> Result<Revocations> {
    let log = match flags.audit_log {
        Some(path) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the audit log {}", path.display()))?,
        ),
        None => None,
    };
    let mut tty = if flags.yes || !io::stderr().is_terminal() {
        None
    } else {
        File::options().read(true).write(true).open("/dev/tty").ok()
    };
    let confirm = match (flags.yes, &tty) {
        (true, _) => Confirm::Yes,
        (false, Some(_)) => Confirm::Ask,
        (false, None) => Confirm::DryRun,
    };
    let admin = std::env::var(AZURE_DEVOPS_ADMIN_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim().to_string()));
    let options = RevokeOptions {
        confirm,
        force: flags.force,
        azure_devops_admin: admin,
    };
    let http = Http::new(http_policy(endpoints, args))?;
    let mut ask = |question: &str| -> bool {
        let Some(tty) = tty.as_mut() else {
            return false;
        };
        if write!(tty, "{question} [y/N] ")
            .and_then(|_| tty.flush())
            .is_err()
        {
            return false;
        }
        let mut answer = String::new();
        let mut reader = io::BufReader::new(&mut *tty);
        if io::BufRead::read_line(&mut reader, &mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
    };
    let mut journal = Journal::new(out, log);
    live::revoke::revoke_findings(findings, endpoints, &http, &options, &mut ask, &mut journal)?;
    let revocations = journal.finish();
    if confirm == Confirm::DryRun && revocations.count(live::revoke::Outcome::WouldRevoke) > 0 {
        writeln!(
            out,
            "revoke: dry run, nothing was revoked; add --yes to revoke (or run on a terminal to be asked)"
        )?;
    }
    Ok(revocations)
}

pub(super) fn run_revoke(args: RevokeArgs) -> Result<ExitCode> {
    let endpoints = Endpoints::from_env()?;
    let rules = rules::builtin().context("loading the built-in rules")?;
    if !rules.rules().iter().any(|r| r.spec.id == args.rule) {
        anyhow::bail!("unknown rule {:?} (see `patscan rules`)", args.rule);
    }
    let mut input = String::new();
    io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .context("cannot read the token from standard input")?;
    let token = input.trim();
    if token.is_empty() {
        anyhow::bail!("no token on standard input (pipe it in; never pass it as an argument)");
    }
    // The token must be what the rule finds, so the shape, checksum and
    // provider checks are those of a scan.
    let mut findings = Vec::new();
    let mut scanner = Scanner::new(&rules, false);
    scanner.scan_bytes(token.as_bytes(), "<stdin>", &Origin::Stdin, &mut findings);
    findings.retain(|f| f.rule_id == args.rule && f.secret.expose() == token);
    findings.truncate(1);
    if findings.is_empty() {
        anyhow::bail!(
            "standard input does not hold one valid {} token (format or checksum)",
            args.rule
        );
    }
    let mut report_line = io::stdout().lock();
    live::verify_findings(
        &mut findings,
        &endpoints,
        &VerifyOptions {
            concurrency: 1,
            policy: http_policy(&endpoints, &args.live),
            blast_radius: false,
        },
    )?;
    if let Some(v) = &findings[0].live.verification {
        writeln!(
            report_line,
            "verify: {} ({}): {}{}",
            findings[0].secret.redacted(),
            args.rule,
            v.status,
            v.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )?;
    }
    let revocations = revoke(
        &findings,
        &endpoints,
        &args.live,
        RevokeFlags {
            yes: args.yes,
            force: args.force,
            audit_log: args.audit_log.as_ref(),
        },
        &mut report_line,
    )?;
    report_line.flush()?;
    Ok(if revocations.incomplete() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// 1 when a finding reaches `fail_on` (confidence) and, with
/// `--fail-on-status`, has that verification status; 0 under `exit_zero`.
fn exit_code(
    report: &ScanReport,
    fail_on: Confidence,
    status: Option<FailOnStatus>,
    exit_zero: bool,
) -> ExitCode {
    let fails = |f: &&Finding| f.confidence >= fail_on && status.map_or(true, |s| s.matches(f));
    if !exit_zero && report.findings.iter().any(|f| fails(&f)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the live checks over the report's findings.
pub(super) fn verify(
    report: &mut ScanReport,
    endpoints: &Endpoints,
    args: &LiveArgs,
    blast_radius: bool,
    quiet: bool,
) -> Result<()> {
    let options = VerifyOptions {
        concurrency: usize::from(args.verify_concurrency),
        policy: http_policy(endpoints, args),
        blast_radius,
    };
    let stats = live::verify_findings(&mut report.findings, endpoints, &options)?;
    if !quiet && stats.distinct_tokens > 0 {
        eprintln!(
            "patscan: checked {} distinct token(s) with their issuers",
            stats.distinct_tokens
        );
    }
    Ok(())
}

pub(super) fn run_verify(args: VerifyArgs) -> Result<ExitCode> {
    super::refuse_unmasked_html(args.format, args.show_secrets)?;
    super::ci::refuse_show_secrets(args.format, args.show_secrets)?;
    let endpoints = Endpoints::from_env()?;
    let text = if args.report.as_os_str() == "-" {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the report from standard input")?;
        text
    } else {
        std::fs::read_to_string(&args.report)
            .with_context(|| format!("cannot read {}", args.report.display()))?
    };
    let mut report = live::reverify::load(&text, args.show_secrets)
        .with_context(|| format!("{}", args.report.display()))?;
    verify(
        &mut report,
        &endpoints,
        &args.live,
        args.blast_radius,
        args.quiet,
    )?;
    let render = super::render_options(
        args.color,
        args.output.as_ref(),
        args.format,
        args.show_secrets,
        args.ungrouped,
    );
    // The report's findings come from built-in rules (custom ones cannot be
    // checked anyway); paths are kept as the scan reported them.
    let rules = rules::builtin().context("loading the built-in rules")?;
    let roots = [PathBuf::from(".")];
    let context = ReportContext {
        rules: &rules,
        roots: &roots,
    };
    write_output(args.output.as_ref(), |out| {
        report::write_report(args.format, &report, &context, render, out)
    })?;
    Ok(exit_code(
        &report,
        Confidence::Low,
        args.fail_on_status,
        false,
    ))
}
