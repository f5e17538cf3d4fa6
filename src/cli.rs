//! Command-line interface: argument definitions (clap derive) and the glue
//! from parsed arguments to library calls and an exit code.
//!
//! Exit codes: 0 no findings, 1 findings, 2 error, 3 a token patscan was
//! to revoke is still in service. An error is never 0 or 1.

mod azure_devops;
mod ci;
mod docs;
mod image;
mod live;
mod merge;
mod org;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use live::{FailOnStatus, LiveArgs, RevokeArgs, VerifyArgs};

use crate::baseline::Baseline;
use crate::config::{self, Config};
use crate::model::CacheSetting;
use crate::model::Confidence;
use crate::model::Finding;
use crate::redact::redact_tokens;
use crate::report::{self, Format, RenderOptions, ReportContext};
use crate::rules::OptIn;
use crate::scan::ArchiveLimits;
use crate::scan::{self, ScanOptions, ScanReport};
use crate::size::parse_size;
use crate::source::git::{self, Mode as GitMode};
use crate::suppress;
use crate::{hook, progress};

const EXIT_CODES: &str = "\
Exit codes:
  0  no tokens found (or only tokens below --fail-on, or --exit-zero)
  1  tokens found (with --fail-on-status: a token verified with that status)
  2  error (bad arguments, a PATH that does not exist, output not writable,
     an invalid config file or baseline, not a git repository, nothing to scan)
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
    Scan(Box<ScanArgs>),
    /// List the rules (token formats) patscan knows.
    Rules(RulesArgs),
    /// Record the tokens found now, so `scan --baseline FILE` reports only
    /// new ones.
    Baseline(BaselineArgs),
    /// Check the tokens of an earlier `scan --format json --show-secrets`
    /// report with their issuers (network).
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Revoke one token read from standard input (never an argument: the
    /// process list is public). Dry run unless --yes or confirmed.
    #[command(after_help = live::REVOKE_EXIT_CODES)]
    Revoke(RevokeArgs),
    /// Install a git pre-commit hook that runs `patscan scan --staged`.
    InstallHook(InstallHookArgs),
    /// Azure DevOps administration: `audit` an organisation's PATs.
    AzureDevops(azure_devops::AzureDevopsArgs),
    /// Join JSON, JSON Lines or SARIF reports of the same rules into one
    /// (separate folders, repositories, or `scan --org --shard` runs):
    /// secrets deduplicated, summary recomputed.
    Merge(merge::MergeArgs),
    /// Print a completion script for bash, zsh, fish, powershell or elvish.
    Completions(docs::CompletionsArgs),
    /// Print the manual page (roff), e.g. `patscan man > patscan.1`.
    Man(docs::ManArgs),
    /// Run the language server (on standard input and output) that shows
    /// tokens in the editor as they are typed; offline, never a live check.
    Lsp(LspArgs),
}

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Ignored: the server always speaks on standard input and output.
    /// Accepted because some clients (vscode-languageclient) add it.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// The repository (default: the one containing the current folder).
    pub repo: Option<PathBuf>,
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to scan; `-` reads standard input. Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// JSON: one row per place a token was found, instead of one entry per
    /// distinct secret listing its places.
    #[arg(long)]
    pub ungrouped: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in full. Without it every output masks them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Under GitHub Actions (GITHUB_ACTIONS=true) or Azure Pipelines
    /// (TF_BUILD=True): also print the platform's annotations on standard
    /// output and write its job summary, whatever --format says.
    #[arg(long)]
    pub annotations: bool,
    #[command(flatten)]
    pub walk: WalkArgs,
    /// When to colour the human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not print warnings about unreadable or skipped files.
    #[arg(short, long)]
    pub quiet: bool,
    /// Treat zip and tar files as opaque instead of scanning their members.
    #[arg(long)]
    pub no_archives: bool,
    /// Open archives in --staged and --history scans too (folder scans
    /// always do, unless --no-archives).
    #[arg(long, conflicts_with = "no_archives")]
    pub archives: bool,
    /// How deep to open archives inside archives (1: only top-level members).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub archive_depth: u32,
    /// Stop expanding one archive after this many uncompressed bytes.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub archive_max_bytes: u64,
    /// Settings file (default: .patscan.toml in the scanned folder).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also report generic secrets: high-entropy values assigned to keys
    /// such as password, secret, token or api_key (low confidence; off by
    /// default, or `generic = true` in the config).
    #[arg(long)]
    pub generic: bool,
    /// Report only tokens not recorded in this baseline (see `patscan baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 0 even when tokens are found (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Lowest confidence (low, medium or high) of a finding that makes the
    /// exit code 1.
    #[arg(long, value_name = "CONFIDENCE", default_value = "low", value_parser = parse_confidence)]
    pub fail_on: Confidence,
    /// Ask each token's issuer whether it is still active (network; only
    /// the issuers' official HTTPS hosts are contacted).
    #[arg(long)]
    pub verify: bool,
    /// With --verify: for each live Azure DevOps PAT, probe which
    /// organisations and areas (code, build, packaging, pools, …) it
    /// reaches, with read-only GETs (bounded; listed in the README).
    #[arg(long, requires = "verify")]
    pub blast_radius: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// With --verify: only tokens verified `active` (or `active` or
    /// `unknown`) make the exit code 1.
    #[arg(long, value_enum, value_name = "STATUS", requires = "verify")]
    pub fail_on_status: Option<FailOnStatus>,
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
    /// Draw the progress bar on stderr even when it is not a terminal
    /// (by default only a terminal outside CI gets one).
    #[arg(long)]
    pub progress: bool,
    /// Scan what the next commit would add: blobs added or modified in the
    /// git index relative to HEAD, read from the index, not the work tree.
    /// PATH is the repository (default `.`). The pre-commit hook's mode.
    #[arg(long, conflicts_with = "history", help_heading = "Git")]
    pub staged: bool,
    /// With --staged: report every token in the staged blobs, including
    /// those HEAD already has.
    #[arg(long, requires = "staged", help_heading = "Git")]
    pub all: bool,
    /// Scan the whole git history of the repository at PATH (default `.`):
    /// every blob once, at the commit that introduced it; blobs no ref
    /// reaches; commit and annotated tag messages.
    #[arg(long, help_heading = "Git")]
    pub history: bool,
    /// With --history: only what the commits in A..B introduce (the
    /// commits reachable from B and not from A), e.g. a pull request.
    #[arg(long, value_name = "A..B", requires = "history", help_heading = "Git")]
    pub range: Option<String>,
    /// Remember in DIR what was scanned (never a secret), so that a repeat
    /// scan reads only what changed. Off by default for folders; on by
    /// default for --history, in the repository's git dir.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["no_cache", "staged"])]
    pub cache: Option<PathBuf>,
    /// With --history: neither use nor write the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// With --history: the memory the scan may use (K, M, G suffixes); its
    /// caches shrink to fit, which costs speed, never the scan. Default:
    /// caches of fixed size (about 100 MiB per core).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Git")]
    pub max_memory: Option<u64>,
    #[command(flatten)]
    pub org: org::OrgArgs,
    #[command(flatten)]
    pub images: image::ImageArgs,
}

/// How the file walk behaves; shared by `scan` and `baseline` so that a
/// baseline is recorded from exactly what a scan would see.
#[derive(Debug, Args)]
pub struct WalkArgs {
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
}

impl WalkArgs {
    /// The scan options these flags set; the rest are the defaults.
    fn options(&self, paths: &[PathBuf]) -> ScanOptions {
        ScanOptions {
            paths: paths.to_vec(),
            include_ignored: self.no_ignore,
            follow_links: self.follow,
            max_file_size: self.max_file_size,
            threads: self.threads,
            ..ScanOptions::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// A Markdown table grouped by provider (the README's "Supported
    /// tokens" table is this output).
    #[arg(long)]
    pub markdown: bool,
    /// Settings file whose custom and disabled rules to apply (default:
    /// .patscan.toml in the current folder).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// List the opt-in generic rules too.
    #[arg(long)]
    pub generic: bool,
    /// How each rule's candidates are found (the keyword pass's literals,
    /// run prefixes, anchors, context words): for rule authors, since
    /// every literal of the keyword pass costs every scanned byte.
    #[arg(long, conflicts_with = "markdown")]
    pub prefilter: bool,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Files or folders to scan. Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Write the baseline to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Settings file (default: .patscan.toml in the scanned folder).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Record generic secrets too (as `scan --generic`).
    #[arg(long)]
    pub generic: bool,
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Do not print warnings about unreadable or skipped files.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_confidence(value: &str) -> Result<Confidence, String> {
    value.parse()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    crate::redact::install_panic_hook();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // `patscan scan | head`: the reader left; nothing to report.
                return ExitCode::SUCCESS;
            }
            // An error can quote input (a config line, a rejected value).
            let mut lines = error_lines(&err).into_iter();
            eprintln!("patscan: error: {}", lines.next().unwrap_or_default());
            for line in lines {
                eprintln!("    {line}");
            }
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each said once: the library's
/// errors already quote their cause in their own message.
fn describe(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The error as lines for standard error. A parser that explains a fault
/// over several lines (TOML: the quoted line, a caret under the column,
/// the verdict) keeps its lines; everything else is one line. Each line is
/// masked and has its control characters escaped, so a `\n` or an escape
/// sequence in the input still prints as `\n` or `\u{1b}`: only the
/// parser's own line breaks break lines.
fn error_lines(err: &anyhow::Error) -> Vec<String> {
    let safe = |text: &str| ci::log_safe(&redact_tokens(text));
    let text = describe(err);
    let Some((at, message)) =
        parser_message(err).and_then(|message| text.find(message).map(|at| (at, message)))
    else {
        return vec![safe(&text)];
    };
    let before = &text[..at];
    let after = &text[at + message.len()..];
    let mut lines: Vec<String> = message.split('\n').map(safe).collect();
    lines[0] = format!("{}{}", safe(before), lines[0]);
    if let Some(last) = lines.last_mut() {
        last.push_str(&safe(after));
    }
    lines
}

/// The multi-line text of a parser quoted by an invalid config, baseline
/// or rule file, if the error holds one.
fn parser_message(err: &anyhow::Error) -> Option<&str> {
    use crate::baseline::BaselineError;
    use crate::config::ConfigError;
    use crate::error::RuleError;
    let message = err.chain().find_map(|cause| {
        if let Some(ConfigError::Parse { message, .. }) = cause.downcast_ref() {
            Some(message.as_str())
        } else if let Some(BaselineError::Malformed { message, .. }) = cause.downcast_ref() {
            Some(message.as_str())
        } else if let Some(RuleError::Parse { message, .. }) = cause.downcast_ref() {
            Some(message.as_str())
        } else {
            None
        }
    })?;
    message.contains('\n').then_some(message)
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
        Command::Scan(args) => run_scan(*args),
        Command::Rules(args) => run_rules(args),
        Command::Baseline(args) => run_baseline(args),
        Command::Verify(args) => live::run_verify(args),
        Command::Revoke(args) => live::run_revoke(args),
        Command::InstallHook(args) => run_install_hook(args),
        Command::AzureDevops(args) => azure_devops::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Completions(args) => docs::run_completions(args),
        Command::Man(args) => docs::run_man(args),
        Command::Lsp(_) => run_lsp(),
    }
}

/// `patscan lsp`: 0 after the client's `shutdown` and `exit`, 1 after an
/// `exit` alone (as the protocol asks), 2 when the connection breaks.
fn run_lsp() -> Result<ExitCode> {
    let clean = crate::lsp::run_stdio().context("language server")?;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The scanned roots as reports see them: `.` when no PATH was given.
fn roots_of(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// The config, with the generic rules on if `generic` (the flag) says so;
/// the file's own `generic = true` turns them on too.
fn load_config(explicit: Option<&PathBuf>, roots: &[PathBuf], generic: bool) -> Result<Config> {
    let opt_ins: &[OptIn] = if generic { &[OptIn::Generic] } else { &[] };
    Ok(config::load_with(
        explicit.map(PathBuf::as_path),
        roots,
        opt_ins,
    )?)
}

fn warn_problems(report: &ScanReport, quiet: bool) {
    if quiet {
        return;
    }
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for problem in &report.problems {
        // Messages were masked when the scan finished (`scan::finish`).
        let line = format!("{}: {}", problem.path, problem.message);
        writeln!(err, "patscan: warning: {}", ci::log_safe(&line)).ok();
    }
}

/// 1 when a reported finding reaches `fail_on`, unless `exit_zero`.
fn findings_exit_code(findings: &[Finding], fail_on: Confidence, exit_zero: bool) -> ExitCode {
    if !exit_zero && findings.iter().any(|f| f.confidence >= fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    refuse_unmasked_html(args.format, args.show_secrets)?;
    ci::refuse_show_secrets(args.format, args.show_secrets)?;
    // Read before scanning, so a bad override fails fast; `None` (no
    // --verify) means no network at all.
    let endpoints = live::endpoints_for_scan(&args)?;
    let org = args.org.options()?;
    let ci_logs = args.org.ci_options()?;
    if ci_logs.is_some() && !args.paths.is_empty() {
        anyhow::bail!("--ci-logs scans pipelines' logs; it takes no PATH");
    }
    let images = args.images.options(args.org.shard)?;
    if images.is_some() && !args.paths.is_empty() {
        anyhow::bail!("--image scans container images; it takes no PATH");
    }
    if args.org.shard.is_some() && org.is_none() && ci_logs.is_none() && images.is_none() {
        anyhow::bail!("--shard splits the work of --org, --ci-logs or --image");
    }
    if org.is_some() && !args.paths.is_empty() {
        anyhow::bail!("--org scans an organisation's repositories; it takes no PATH");
    }
    if org.is_some() && args.cache.is_some() {
        anyhow::bail!(
            "--org keeps each repository's cache in its clone; --cache DIR does not apply"
        );
    }
    let roots = roots_of(&args.paths);
    let config = load_config(args.config.as_ref(), &roots, args.generic)?;
    // A bad baseline stops the run before the scan: never a silent full
    // report, never a silent empty one.
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let options = ScanOptions {
        show_secrets: args.show_secrets,
        // Git scans (the pre-commit hook above all) leave archives closed
        // unless asked; folder scans open them unless told not to.
        archives: (if args.staged || args.history || org.is_some() {
            args.archives
        } else {
            !args.no_archives
        })
        .then_some(ArchiveLimits {
            max_depth: args.archive_depth as usize,
            max_member_bytes: args.walk.max_file_size,
            max_total_bytes: args.archive_max_bytes,
            ..ArchiveLimits::default()
        }),
        skip_paths: config.skip_paths.clone(),
        // A staged scan takes milliseconds: a bar would only flicker.
        progress: progress::wanted(args.progress, args.quiet || args.staged),
        // Only SARIF reports them, and they cost a pass over each file
        // with findings.
        line_hashes: args.format == Format::Sarif,
        max_memory: args.max_memory,
        cache: match &args.cache {
            _ if args.no_cache || args.staged => CacheSetting::Off,
            Some(dir) => CacheSetting::Dir(dir.clone()),
            None if args.history || org.is_some() || images.is_some() => CacheSetting::Default,
            None => CacheSetting::Off,
        },
        ..args.walk.options(&args.paths)
    };
    let git_mode = if args.staged {
        Some(GitMode::Staged { all: args.all })
    } else if args.history {
        Some(GitMode::History {
            range: args.range.clone(),
        })
    } else {
        None
    };
    let mut report = match &git_mode {
        _ if images.is_some() => {
            let images = images.as_ref().context("image options")?;
            crate::source::image::scan(&config.rules, images, &options)?
        }
        _ if ci_logs.is_some() => {
            let ci = ci_logs.as_ref().context("CI-log options")?;
            let endpoints = crate::live::Endpoints::from_env()?;
            crate::source::ci::scan(&config.rules, ci, &options, endpoints.overrides())?
        }
        _ if org.is_some() => {
            let org = org.as_ref().context("organisation options")?;
            // The listing API's host may be redirected for tests only
            // (loopback), exactly as the live checks' are.
            let listing = crate::live::Endpoints::from_env()?;
            crate::source::org::scan(&config.rules, org, &options, listing.overrides())?
        }
        Some(mode) => {
            let repo = match args.paths.as_slice() {
                [] => PathBuf::from("."),
                [one] => one.clone(),
                _ => anyhow::bail!("--staged and --history take one repository path"),
            };
            git::scan(&config.rules, &repo, mode, &options)?
        }
        None => crate::source::fs::scan(&config.rules, &options)?,
    };
    // The rule set's digest is for `patscan merge`, which reads the machine
    // formats; it serialises every rule, a third of a pre-commit hook's
    // start-up, so the human output does without it.
    if args.format != Format::Human {
        report.summary.rule_set = Some(scan::RuleSetId::new(&config.rules));
    }
    suppress::apply(&mut report, &config.allowlist, baseline.as_ref());
    warn_problems(&report, args.quiet);
    if let Some(path) = &args.baseline {
        // Stale entries are always shown, --quiet or not: they are how a
        // baseline gets cleaned up.
        let stderr = io::stderr();
        let mut err = stderr.lock();
        for entry in &report.summary.stale_baseline_entries {
            writeln!(
                err,
                "patscan: warning: stale baseline entry in {}: {entry} no longer matches any token; remove it",
                path.display()
            )
            .ok();
        }
    }

    if let Some(endpoints) = &endpoints {
        live::verify(
            &mut report,
            endpoints,
            &args.live,
            args.blast_radius,
            args.quiet,
        )?;
    }

    let render = render_options(
        args.color,
        args.output.as_ref(),
        args.format,
        args.show_secrets,
        args.ungrouped,
    );
    let context = ReportContext {
        rules: &config.rules,
        roots: &roots,
    };
    let paused = ci::pause_commands(args.format, args.output.is_none(), args.annotations)?;
    let mut omitted = 0;
    write_output(args.output.as_ref(), |out| {
        let mut out = ci::guard_stdout(args.format, args.output.is_none(), out);
        let written = match args.format {
            // The one format that may leave results out (code scanning's limits).
            Format::Sarif => {
                report::sarif::write(&report, &context, render, &mut out).map(|n| omitted = n)
            }
            format => report::write_report(format, &report, &context, render, &mut out),
        };
        written.and_then(|_| out.flush())
    })?;
    ci::warn_omitted(omitted);
    ci::after_report(
        args.format,
        args.output.is_none(),
        args.annotations,
        args.quiet,
        paused,
        &report,
        &context,
    )?;

    if args.staged && !report.findings.is_empty() && !args.quiet {
        eprint!("{}", blocked_message(report.findings.len()));
    }
    if let Some(failed) = every_image_failed(&report) {
        // The report (with each image's problem) is written: a CI job
        // uploads it. But a gate whose images could not be read at all
        // (a wrong path or tag, a refused pull) scanned nothing, and must
        // not pass as if it had found nothing.
        anyhow::bail!(
            "none of the {failed} image(s) could be read (see the warnings): nothing was scanned"
        );
    }
    if let Some(endpoints) = &endpoints {
        return live::finish_scan(&report, endpoints, &args);
    }
    Ok(findings_exit_code(
        &report.findings,
        args.fail_on,
        args.exit_zero,
    ))
}

/// How many images an image scan had, when it had some and not one of them
/// could be read.
fn every_image_failed(report: &scan::ScanReport) -> Option<usize> {
    let images = &report.summary.images.as_ref()?.images;
    let failed = |i: &crate::model::ImageOutcome| i.status == crate::model::ImageStatus::Failed;
    (!images.is_empty() && images.iter().all(failed)).then_some(images.len())
}

fn run_baseline(args: BaselineArgs) -> Result<ExitCode> {
    let roots = roots_of(&args.paths);
    let config = load_config(args.config.as_ref(), &roots, args.generic)?;
    let options = ScanOptions {
        skip_paths: config.skip_paths.clone(),
        ..args.walk.options(&args.paths)
    };
    let mut report = crate::source::fs::scan(&config.rules, &options)?;
    suppress::apply(&mut report, &config.allowlist, None);
    warn_problems(&report, args.quiet);
    let baseline = Baseline::from_findings(&report.findings, &roots);
    write_output(args.output.as_ref(), |out| baseline.write(out))?;
    if let Some(path) = &args.output {
        eprintln!(
            "patscan: wrote {} baseline entries ({} findings) to {}",
            baseline.entries().len(),
            report.findings.len(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What a blocked commit tells the committer: what happened, what to do,
/// and how to let a false positive through.
fn blocked_message(count: usize) -> String {
    let tokens = if count == 1 { "a token" } else { "tokens" };
    format!(
        "\npatscan: commit blocked: the staged changes add {tokens} (listed above).\n\
         \x20 - Remove it from the file and `git add` it again; if it was ever pushed or shared,\n\
         \x20   revoke it with its issuer: removing it from git does not make it safe.\n\
         \x20 - A false positive (a test fixture, a documented example)? Put `patscan:allow` in a\n\
         \x20   comment on its line, or skip the check once with `git commit --no-verify`.\n"
    )
}

fn run_install_hook(args: InstallHookArgs) -> Result<ExitCode> {
    let repo = args.repo.unwrap_or_else(|| PathBuf::from("."));
    let path = hook::install(&repo, args.force)?;
    eprintln!(
        "patscan: installed {}: each commit now runs `patscan scan --staged`",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A report file gets passed around: the HTML one is always masked, and
/// asking otherwise stops the run before it scans or checks anything.
pub(crate) fn refuse_unmasked_html(format: Format, show_secrets: bool) -> Result<()> {
    if format == Format::Html && show_secrets {
        anyhow::bail!(report::html::SHOW_SECRETS_REFUSED);
    }
    Ok(())
}

/// Colour only for the human format on a terminal (unless forced), and
/// never when `NO_COLOR` is set.
pub(crate) fn render_options(
    color: ColorChoice,
    output: Option<&PathBuf>,
    format: Format,
    show_secrets: bool,
    ungrouped: bool,
) -> RenderOptions {
    let to_terminal = output.is_none() && io::stdout().is_terminal();
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    RenderOptions {
        show_secrets,
        color: color && format == Format::Human,
        ungrouped,
    }
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
    let rules = load_config(args.config.as_ref(), &[], args.generic)?.rules;
    if args.markdown && args.format != Format::Human {
        anyhow::bail!("--markdown is a table for people; it does not combine with --format");
    }
    if !matches!(args.format, Format::Human | Format::Json | Format::Jsonl) {
        anyhow::bail!("`rules` prints human, json or jsonl; the other formats report a scan");
    }
    write_output(None, |out| match args.format {
        Format::Json => {
            let specs: Vec<_> = rules.rules().iter().map(|r| &r.spec).collect();
            serde_json::to_writer_pretty(&mut *out, &specs)?;
            writeln!(out)
        }
        Format::Human if args.markdown => crate::report::rules::write_markdown(&rules, out),
        Format::Human if args.prefilter => crate::report::rules::write_prefilter(&rules, out),
        Format::Human => crate::report::rules::write_human(&rules, out),
        _ => {
            for rule in rules.rules() {
                serde_json::to_writer(&mut *out, &rule.spec)?;
                writeln!(out)?;
            }
            Ok(())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
