//! Command-line interface: argument definitions (clap derive) and the glue
//! from parsed arguments to library calls and an exit code.
//!
//! Exit codes: 0 no findings, 1 findings, 2 error. An error is never 0 or 1.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::{Finding, Origin, Secret};
use crate::live::revoke::{Confirm, Journal, RevokeOptions, AZURE_DEVOPS_ADMIN_VAR};
use crate::live::{self, Endpoints, Http, Policy, Status, VerifyOptions};
use crate::report::{self, Format, RenderOptions};
use crate::rules::{self, RuleSet};
use crate::scan::{self, ScanOptions, ScanReport};
use crate::scanner::Scanner;
use crate::size::parse_size;

const EXIT_CODES: &str = "\
Exit codes:
  0  no tokens found
  1  tokens found (with --fail-on active: a token verified active)
  2  error (bad arguments, a PATH that does not exist, output not writable)
  3  with --revoke or `revoke`: a token patscan was to revoke is still in
     service (a revocation failed, or only its owner can revoke it)";

#[derive(Debug, Parser)]
#[command(
    name = "patscan",
    version,
    about = "Find leaked personal access tokens, validated by their issuers' checksums",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and folders for tokens.
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// List the rules (token formats) patscan knows.
    Rules(RulesArgs),
    /// Check the tokens of an earlier `scan --format json --show-secrets`
    /// report with their issuers (network).
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Revoke one token read from standard input (never an argument: the
    /// process list is public). Dry run unless --yes or confirmed.
    #[command(after_help = EXIT_CODES)]
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to scan; `-` reads standard input. Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in full. Without it every output masks them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Also scan files excluded by .gitignore, .ignore and git's excludes.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Skip files larger than this (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// When to colour the human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not print warnings about unreadable or skipped files.
    #[arg(short, long)]
    pub quiet: bool,
    /// Ask each token's issuer whether it is still active (network; only
    /// the issuers' official HTTPS hosts are contacted).
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// What makes the exit code 1: any finding (default), only tokens
    /// verified active, or tokens active or unknown. The last two need
    /// --verify.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// After verification, revoke the tokens found active. A dry run unless
    /// --yes is given or each token is confirmed at the terminal's prompt.
    #[arg(long, requires = "verify")]
    pub revoke: bool,
    /// With --revoke: revoke without asking.
    #[arg(long, requires = "revoke")]
    pub yes: bool,
    /// With --revoke: revoke tokens whose status is not active too.
    #[arg(long, requires = "revoke")]
    pub force: bool,
    /// With --revoke: append every decision to FILE (JSON Lines; never the
    /// token).
    #[arg(long, value_name = "FILE", requires = "revoke")]
    pub audit_log: Option<PathBuf>,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 on any finding.
    Any,
    /// Exit 1 only if a token is verified active.
    Active,
    /// Exit 1 if a token is active or could not be checked.
    ActiveOrUnknown,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A JSON report written by `patscan scan --format json --show-secrets`;
    /// `-` reads standard input.
    pub report: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
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
    /// What makes the exit code 1 (see `scan --fail-on`).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
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

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // `patscan scan | head`: the reader left; nothing to report.
                return ExitCode::SUCCESS;
            }
            eprintln!("patscan: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rules(args) => run_rules(args),
        Command::Verify(args) => run_verify(args),
        Command::Revoke(args) => run_revoke(args),
    }
}

fn load_rules() -> Result<RuleSet> {
    rules::builtin().context("loading the built-in rules")
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    if args.fail_on != FailOn::Any && !args.verify {
        anyhow::bail!("--fail-on {:?} needs --verify", args.fail_on);
    }
    // Checked before scanning, so a bad override fails fast; without
    // --verify the variable is not even read.
    let endpoints = if args.verify {
        Some(Endpoints::from_env()?)
    } else {
        None
    };
    let rules = load_rules()?;
    let options = ScanOptions {
        paths: args.paths.clone(),
        include_ignored: args.no_ignore,
        follow_links: args.follow,
        max_file_size: args.max_file_size,
        threads: args.threads,
        show_secrets: args.show_secrets,
    };
    let mut report = scan::run(&rules, &options)?;
    if !args.quiet {
        let stderr = io::stderr();
        let mut err = stderr.lock();
        for problem in &report.problems {
            writeln!(
                err,
                "patscan: warning: {}: {}",
                problem.path, problem.message
            )
            .ok();
        }
    }

    if let Some(endpoints) = &endpoints {
        verify(&mut report, endpoints, &args.live, args.quiet)?;
    }
    print_report(
        &report,
        args.format,
        args.output.as_ref(),
        args.show_secrets,
        args.color,
    )?;
    if let (true, Some(endpoints)) = (args.revoke, &endpoints) {
        let stderr = io::stderr();
        let mut err = stderr.lock();
        let revocations = revoke(
            &report.findings,
            endpoints,
            &args.live,
            RevokeFlags {
                yes: args.yes,
                force: args.force,
                audit_log: args.audit_log.as_ref(),
            },
            &mut err,
        )?;
        if revocations.incomplete() {
            return Ok(ExitCode::from(3));
        }
    }
    Ok(exit_code(&report, args.fail_on))
}

struct RevokeFlags<'a> {
    yes: bool,
    force: bool,
    audit_log: Option<&'a PathBuf>,
}

fn http_policy(endpoints: &Endpoints, args: &LiveArgs) -> Policy {
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
) -> Result<live::revoke::Revocations> {
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

fn run_revoke(args: RevokeArgs) -> Result<ExitCode> {
    let endpoints = Endpoints::from_env()?;
    let rules = load_rules()?;
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

fn print_report(
    report: &ScanReport,
    format: Format,
    output: Option<&PathBuf>,
    show_secrets: bool,
    color: ColorChoice,
) -> Result<()> {
    let to_terminal = output.is_none() && io::stdout().is_terminal();
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let render = RenderOptions {
        show_secrets,
        color: color && format == Format::Human,
    };
    write_output(output, |out| {
        report::write_report(format, report, render, out)
    })
}

/// 1 when the `--fail-on` condition holds, else 0.
fn exit_code(report: &ScanReport, fail_on: FailOn) -> ExitCode {
    let has = |status| {
        report
            .findings
            .iter()
            .any(|f| live::reverify::has_status(f, status))
    };
    let fail = match fail_on {
        FailOn::Any => !report.findings.is_empty(),
        FailOn::Active => has(Status::Active),
        FailOn::ActiveOrUnknown => has(Status::Active) || has(Status::Unknown),
    };
    if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the live checks over the report's findings.
fn verify(
    report: &mut ScanReport,
    endpoints: &Endpoints,
    args: &LiveArgs,
    quiet: bool,
) -> Result<()> {
    let options = VerifyOptions {
        concurrency: usize::from(args.verify_concurrency),
        policy: http_policy(endpoints, args),
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

fn run_verify(args: VerifyArgs) -> Result<ExitCode> {
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
    verify(&mut report, &endpoints, &args.live, args.quiet)?;
    print_report(
        &report,
        args.format,
        args.output.as_ref(),
        args.show_secrets,
        args.color,
    )?;
    Ok(exit_code(&report, args.fail_on))
}

/// Writes to FILE or standard output, buffered, and flushes so that a write
/// error surfaces as an error rather than a truncated report.
fn write_output(
    path: Option<&PathBuf>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match path {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            let mut out = BufWriter::new(file);
            render(&mut out)
                .and_then(|_| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            render(&mut out)
                .and_then(|_| out.flush())
                .context("cannot write to standard output")
        }
    }
}

fn run_rules(args: RulesArgs) -> Result<ExitCode> {
    let rules = load_rules()?;
    write_output(None, |out| match args.format {
        Format::Json => {
            let specs: Vec<_> = rules.rules().iter().map(|r| &r.spec).collect();
            serde_json::to_writer_pretty(&mut *out, &specs)?;
            writeln!(out)
        }
        Format::Human => {
            for rule in rules.rules() {
                let spec = &rule.spec;
                let check = match spec.checksum {
                    Some(_) => "checksum",
                    None => "entropy",
                };
                writeln!(out, "{:<26} {:<9} {}", spec.id, check, spec.name)?;
            }
            Ok(())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
