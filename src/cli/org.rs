//! The command line of organisation audits: `scan --org SPEC` and its
//! flags, and `patscan merge`. Kept apart from the core CLI so that the
//! network-and-clones feature stays in one place.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::source::ci::{CiOptions, CiSpec};
use crate::source::org::{OrgOptions, OrgSpec, Previous, Shard};

#[derive(Debug, Args)]
pub struct OrgArgs {
    /// Scan the full history of every repository of an organisation:
    /// azure-devops:ORG[/PROJECT], github:ORG, github-user:USER or
    /// gitlab:GROUP (with subgroups). The credential comes from
    /// AZURE_DEVOPS_EXT_PAT, GITHUB_TOKEN or GITLAB_TOKEN.
    #[arg(long, value_name = "SPEC", conflicts_with_all = ["staged", "range"], help_heading = "Organisation")]
    pub org: Option<String>,
    /// A self-hosted instance (GitHub Enterprise Server, GitLab
    /// self-managed, an Azure DevOps Server collection's server): the
    /// listing and clones go there, and the credential only there.
    #[arg(long, value_name = "URL", help_heading = "Organisation")]
    pub host: Option<String>,
    /// Scan forks too.
    #[arg(long, requires = "org", help_heading = "Organisation")]
    pub include_forks: bool,
    /// Scan archived repositories too.
    #[arg(long, requires = "org", help_heading = "Organisation")]
    pub include_archived: bool,
    /// Only repositories whose name (`owner/name`, `group/sub/name`,
    /// `project/name`) matches GLOB; repeatable.
    #[arg(
        long,
        value_name = "GLOB",
        requires = "org",
        help_heading = "Organisation"
    )]
    pub repo_include: Vec<String>,
    /// Leave out repositories whose name matches GLOB; repeatable.
    #[arg(
        long,
        value_name = "GLOB",
        requires = "org",
        help_heading = "Organisation"
    )]
    pub repo_exclude: Vec<String>,
    /// Where to clone (default: a temporary folder).
    #[arg(
        long,
        value_name = "DIR",
        requires = "org",
        help_heading = "Organisation"
    )]
    pub clone_dir: Option<PathBuf>,
    /// Keep the clones after scanning (with --clone-dir, a later run
    /// fetches into them and scans only new blobs).
    #[arg(long, requires = "org", help_heading = "Organisation")]
    pub keep_clones: bool,
    /// Repositories cloned and scanned at once.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Organisation")]
    pub org_jobs: u16,
    /// Scan only shard I of N (0-based) of an --org's repositories, the
    /// --ci-logs runs or an --image list: a stable split, for N CI jobs or
    /// pods; `patscan merge` joins their reports.
    #[arg(long, value_name = "I/N", help_heading = "Organisation")]
    pub shard: Option<Shard>,
    /// Skip repositories whose branches and tags are those of an earlier
    /// run's JSON report (with --ci-logs: the runs it scanned).
    #[arg(long, value_name = "RUN.json", help_heading = "Organisation")]
    pub since_last: Option<PathBuf>,
    /// Scan the logs and artifacts of pipeline runs: azure-devops:ORG[/PROJECT],
    /// github:ORG[/REPO] or gitlab:GROUP[/PROJECT] (credential as for --org).
    #[arg(long, value_name = "SPEC", conflicts_with_all = ["org", "staged", "range", "history"], help_heading = "Organisation")]
    pub ci_logs: Option<String>,
    /// With --ci-logs: runs of the last N days (`30d`; the default unless
    /// --builds is given).
    #[arg(long, value_name = "DAYS", requires = "ci_logs", value_parser = parse_days, help_heading = "Organisation")]
    pub since: Option<u64>,
    /// With --ci-logs: at most N runs per pipeline, newest first.
    #[arg(
        long,
        value_name = "N",
        requires = "ci_logs",
        help_heading = "Organisation"
    )]
    pub builds: Option<usize>,
}

fn parse_days(value: &str) -> Result<u64, String> {
    let digits = value.strip_suffix('d').unwrap_or(value);
    digits
        .parse::<u64>()
        .ok()
        .filter(|d| (1..=3650).contains(d))
        .ok_or_else(|| format!("{value:?} is not a number of days (1d to 3650d, e.g. 30d)"))
}

impl OrgArgs {
    /// The CI-log scan asked for, if any.
    pub fn ci_options(&self) -> Result<Option<CiOptions>> {
        let Some(spec) = &self.ci_logs else {
            return Ok(None);
        };
        let previous = self.since_last.as_deref().map(Previous::load).transpose()?;
        Ok(Some(CiOptions {
            spec: CiSpec::parse(spec)?,
            host: self.host.clone(),
            since_days: self.since,
            builds: self.builds,
            jobs: usize::from(self.org_jobs),
            shard: self.shard,
            previous,
        }))
    }

    /// The organisation scan asked for, if any.
    pub fn options(&self) -> Result<Option<OrgOptions>> {
        if self.org.is_none()
            && self.ci_logs.is_none()
            && (self.host.is_some() || self.since_last.is_some())
        {
            // (--shard also splits an --image list: checked with it.)
            anyhow::bail!("--host and --since-last need --org or --ci-logs");
        }
        let Some(spec) = &self.org else {
            return Ok(None);
        };
        let previous = self.since_last.as_deref().map(Previous::load).transpose()?;
        Ok(Some(OrgOptions {
            spec: OrgSpec::parse(spec)?,
            host: self.host.clone(),
            include_forks: self.include_forks,
            include_archived: self.include_archived,
            include: globs("--repo-include", &self.repo_include)?,
            exclude: globs("--repo-exclude", &self.repo_exclude)?,
            clone_dir: self.clone_dir.clone(),
            keep_clones: self.keep_clones,
            jobs: usize::from(self.org_jobs),
            shard: self.shard,
            previous,
        }))
    }
}

fn globs(flag: &str, patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).with_context(|| format!("{flag} {pattern:?}"))?);
    }
    Ok(Some(builder.build().with_context(|| flag.to_string())?))
}
