//! Command-line interface: argument definitions (clap derive) and the glue
//! from parsed arguments to library calls and an exit code.
//!
//! Exit codes: 0 no findings, 1 findings, 2 error, 3 a token patscan was
//! to revoke is still in service. An error is never 0 or 1.

mod live;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use live::{FailOn, LiveArgs, RevokeArgs, VerifyArgs};

use crate::report::{self, Format, RenderOptions};
use crate::rules::{self, RuleSet};
use crate::scan::{self, ScanOptions, ScanReport};
use crate::size::parse_size;
use crate::source::archive::ArchiveLimits;

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
    #[command(after_help = live::REVOKE_EXIT_CODES)]
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
    /// Treat zip and tar files as opaque instead of scanning their members.
    #[arg(long)]
    pub no_archives: bool,
    /// How deep to open archives inside archives (1: only top-level members).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub archive_depth: u32,
    /// Stop expanding one archive after this many uncompressed bytes.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub archive_max_bytes: u64,
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
        Command::Verify(args) => live::run_verify(args),
        Command::Revoke(args) => live::run_revoke(args),
    }
}

fn load_rules() -> Result<RuleSet> {
    rules::builtin().context("loading the built-in rules")
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    let endpoints = live::endpoints_for_scan(&args)?;
    let rules = load_rules()?;
    let options = ScanOptions {
        paths: args.paths.clone(),
        include_ignored: args.no_ignore,
        follow_links: args.follow,
        max_file_size: args.max_file_size,
        threads: args.threads,
        show_secrets: args.show_secrets,
        archives: (!args.no_archives).then_some(ArchiveLimits {
            max_depth: args.archive_depth as usize,
            max_member_bytes: args.max_file_size,
            max_total_bytes: args.archive_max_bytes,
            ..ArchiveLimits::default()
        }),
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
        live::verify(&mut report, endpoints, &args.live, args.quiet)?;
    }
    print_report(
        &report,
        args.format,
        args.output.as_ref(),
        args.show_secrets,
        args.color,
    )?;
    live::finish_scan(&report, endpoints.as_ref(), &args)
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
