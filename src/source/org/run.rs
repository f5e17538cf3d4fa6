//! One organisation scan: list, filter, then `jobs` repositories at once
//! (read refs, clone, scan the history, remove the clone), gathered into
//! one report. A repository that fails is a problem in the report; the
//! others go on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use globset::GlobSet;

use super::clone::Git;
use super::listing::{self, Listed, Site};
use super::{Credential, OrgError, OrgSpec, Shard};
use crate::model::{CacheSetting, CacheSummary, Finding, Repository};
use crate::model::{OrgSummary, RepoOutcome, RepoStatus};
use crate::net::{Http, Overrides, Policy};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::scan::{self, Problem, ScanOptions, ScanReport, Summary, Tally};
use crate::source::git::{self, GitError, Mode};

/// What `scan --org` was asked to do, besides the scan options.
pub struct OrgOptions {
    pub spec: OrgSpec,
    /// `--host`: a self-hosted instance (the credential goes only there).
    pub host: Option<String>,
    pub include_forks: bool,
    pub include_archived: bool,
    /// `--repo-include`: only repositories whose name matches.
    pub include: Option<GlobSet>,
    /// `--repo-exclude`.
    pub exclude: Option<GlobSet>,
    /// Where clones go; `None`: a temporary folder.
    pub clone_dir: Option<PathBuf>,
    pub keep_clones: bool,
    /// Repositories cloned and scanned at once.
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub previous: Option<Previous>,
}

/// The earlier run `--since-last` compares with.
#[derive(Debug, Clone)]
pub struct Previous {
    pub path: String,
    pub summary: OrgSummary,
}

impl Previous {
    /// Reads the organisation summary of a JSON report (either shape).
    pub fn load(path: &Path) -> Result<Previous, OrgError> {
        let display = path.display().to_string();
        let error = |message: String| OrgError::Previous {
            path: display.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| error(format!("not JSON: {e}")))?;
        let organisation = json
            .get("summary")
            .and_then(|s| s.get("organisation"))
            .ok_or_else(|| {
                error("not the JSON report of a `scan --org` (no summary.organisation)".into())
            })?;
        let summary = serde_json::from_value(organisation.clone())
            .map_err(|e| error(format!("summary.organisation: {e}")))?;
        Ok(Previous {
            path: display,
            summary,
        })
    }
}

/// What happened to one repository.
struct Done {
    outcome: RepoOutcome,
    report: Option<ScanReport>,
    problems: Vec<Problem>,
}

/// Lists the organisation's repositories, scans this shard's and returns
/// one report. Only a listing that cannot be read is an error.
pub fn scan(
    rules: &RuleSet,
    org: &OrgOptions,
    options: &ScanOptions,
    overrides: &Overrides,
) -> Result<ScanReport, OrgError> {
    let started = Instant::now();
    let spec_text = org.spec.to_string();
    let detection_key = options.detection_key(rules).to_hex();
    let credential = Credential::from_env(org.spec.platform);
    let site = Site::resolve(&org.spec, org.host.as_deref(), overrides)?;
    let http = Http::new(Policy {
        loopback_emulator: site.loopback,
        ..Policy::default()
    })
    .map_err(|e| OrgError::Setup(e.to_string()))?;
    let mut tally = Tally::with_progress(Progress::new(options.progress, "repositories"));
    tally.unit = "blobs";
    let previous = previous_digests(org, &spec_text, &detection_key, &tally)?;
    let mut listed = listing::list(&http, &site, &org.spec, credential.as_ref())?;
    if org.spec.platform == super::Platform::AzureDevops {
        // Project wikis are git repositories of their own.
        match listing::wikis(&http, &site, &org.spec, credential.as_ref()) {
            Ok(wikis) => listed.extend(wikis),
            Err(e) => tally.problem(Problem::new(
                &spec_text,
                &format!("the wikis not listed (they need the Wiki (Read) scope): {e}"),
            )),
        }
    }
    let repositories_listed = listed.len();
    // Pipeline variables and service connections: read once, by the
    // first shard.
    let settings = if org.shard.map_or(true, |s| s.index == 0) {
        let included: Vec<Listed> = listed
            .iter()
            .filter(|r| {
                let name = r.full_name();
                included(org.include.as_ref(), &name)
                    && !org.exclude.as_ref().is_some_and(|g| g.is_match(&name))
            })
            .cloned()
            .collect();
        let api = crate::source::ci::api::Api::new(
            &http,
            &site,
            site.auth(credential.as_ref()),
            org.spec.platform.credential_var(),
        )
        .also_to(crate::source::ci::azure_devops::releases_base(&site.api));
        super::settings::scan(rules, options, &api, &org.spec, &included, &tally)
    } else {
        super::settings::Settings::default()
    };

    let mut done: Vec<Done> = Vec::new();
    let mut queue: Vec<(Listed, String)> = Vec::new();
    for repo in listed {
        let platform = org.spec.platform.key();
        if org.shard.is_some_and(|s| !s.contains(platform, &repo.id)) {
            continue;
        }
        let name = repo.full_name();
        let skip = if !included(org.include.as_ref(), &name)
            || org.exclude.as_ref().is_some_and(|g| g.is_match(&name))
        {
            Some(RepoStatus::Excluded)
        } else if repo.disabled {
            Some(RepoStatus::Disabled)
        } else if repo.archived && !org.include_archived {
            Some(RepoStatus::Archived)
        } else if repo.fork && !org.include_forks {
            Some(RepoStatus::Fork)
        } else if repo.empty {
            Some(RepoStatus::Empty)
        } else {
            None
        };
        if let Some(status) = skip {
            done.push(skipped(&repo, status, Vec::new()));
            continue;
        }
        match site.check_clone_url(&repo.clone_url) {
            Ok(url) => queue.push((repo, url)),
            Err(message) => {
                let problem = Problem::new(&label(&org.spec, &repo), &message);
                done.push(skipped(&repo, RepoStatus::Failed, vec![problem]));
            }
        }
    }

    let (root, temporary) = clone_root(org.clone_dir.as_deref())?;
    let git = Git {
        platform: org.spec.platform,
        credential: credential.as_ref(),
        loopback: site.loopback,
    };
    tally.progress.set_total(queue.len() as u64, "repositories");
    let work = Work {
        rules,
        org,
        options: &ScanOptions {
            progress: false,
            cache: match options.cache {
                CacheSetting::Off => CacheSetting::Off,
                // In each clone's git dir: a kept clone re-scans only what
                // a fetch brought.
                _ => CacheSetting::Default,
            },
            ..options.clone()
        },
        git: &git,
        root: &root,
        previous: &previous,
        progress: &tally.progress,
    };
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(queue.len()));
    std::thread::scope(|scope| {
        for _ in 0..org.jobs.clamp(1, queue.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((repo, url)) = queue.get(i) else {
                    break;
                };
                let result = work.one(repo, url);
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(result);
            });
        }
    });
    done.extend(results.into_inner().unwrap_or_else(|p| p.into_inner()));
    if temporary && !org.keep_clones {
        let _ = std::fs::remove_dir_all(&root);
    }
    if temporary && org.keep_clones {
        tally.problem(Problem::new(
            &root.to_string_lossy(),
            "the clones are kept here (--keep-clones)",
        ));
    }

    let mut findings: Vec<Finding> = settings.findings;
    let mut inline = 0;
    let mut cache: Option<CacheSummary> = None;
    let mut repositories = Vec::with_capacity(done.len());
    for item in done {
        for problem in item.problems {
            tally.problem(problem);
        }
        if let Some(report) = item.report {
            add_counts(&tally, &report.summary);
            inline += report.summary.suppressed.inline_comment;
            if let Some(c) = &report.summary.cache {
                cache.get_or_insert_with(Default::default).add(c);
            }
            for problem in report.problems {
                tally.problem(problem);
            }
            findings.extend(report.findings);
        }
        repositories.push(item.outcome);
    }
    repositories.sort();
    let mut report = scan::finish(findings, tally, started);
    report.summary.suppressed.inline_comment = inline;
    report.summary.cache = cache;
    report.summary.organisation = Some(OrgSummary {
        spec: spec_text,
        api: site.api.clone(),
        detection_key,
        shard: org.shard.map(|s| s.to_string()),
        service_connections: settings.connections,
        repositories_listed,
        repositories,
    });
    Ok(report)
}

/// Whether `name` passes `--repo-include`: no globs let everything in.
fn included(set: Option<&GlobSet>, name: &str) -> bool {
    match set {
        None => true,
        Some(set) => set.is_match(name),
    }
}

/// The refs digests of the earlier run's repositories, by id; empty when
/// its rules differ (then nothing it saw can be trusted as scanned).
fn previous_digests(
    org: &OrgOptions,
    spec: &str,
    detection_key: &str,
    tally: &Tally,
) -> Result<HashMap<String, String>, OrgError> {
    let Some(previous) = &org.previous else {
        return Ok(HashMap::new());
    };
    if previous.summary.spec != spec {
        return Err(OrgError::Previous {
            path: previous.path.clone(),
            message: format!("that run audited {}, not {spec}", previous.summary.spec),
        });
    }
    if previous.summary.detection_key != detection_key {
        tally.problem(Problem::new(
            &previous.path,
            "written under other rules or settings: every repository is scanned again",
        ));
        return Ok(HashMap::new());
    }
    Ok(previous
        .summary
        .repositories
        .iter()
        .filter(|r| matches!(r.status, RepoStatus::Scanned | RepoStatus::Unchanged))
        .filter_map(|r| Some((r.id.clone(), r.refs_digest.clone()?)))
        .collect())
}

/// The shared state of the workers.
struct Work<'a> {
    rules: &'a RuleSet,
    org: &'a OrgOptions,
    options: &'a ScanOptions,
    git: &'a Git<'a>,
    root: &'a Path,
    previous: &'a HashMap<String, String>,
    progress: &'a Progress,
}

impl Work<'_> {
    fn one(&self, repo: &Listed, url: &str) -> Done {
        let done = self.fetch_and_scan(repo, url);
        let bytes = done.report.as_ref().map_or(0, |r| r.summary.bytes_scanned);
        self.progress.inc(bytes);
        done
    }

    fn fetch_and_scan(&self, repo: &Listed, url: &str) -> Done {
        let label = label(&self.org.spec, repo);
        let fail = |message: String, digest: Option<String>| {
            let mut done = skipped(
                repo,
                RepoStatus::Failed,
                vec![Problem::new(&label, &message)],
            );
            done.outcome.refs_digest = digest;
            done
        };
        // With an earlier run to compare with, the remote's refs decide
        // whether to clone at all; otherwise the clone's refs are read.
        let mut digest = None;
        if !self.previous.is_empty() {
            let refs = match self.git.refs(url) {
                Ok(refs) => refs,
                Err(message) => return fail(message, None),
            };
            let Some(now) = refs.digest else {
                return skipped(repo, RepoStatus::Empty, Vec::new());
            };
            if self.previous.get(&repo.id) == Some(&now) {
                let mut done = skipped(repo, RepoStatus::Unchanged, Vec::new());
                done.outcome.refs_digest = Some(now);
                return done;
            }
            digest = Some(now);
        }
        let dir = self.root.join(dir_name(repo));
        match self.git.clone_or_fetch(url, &dir) {
            Ok(local) => {
                if digest.is_none() {
                    digest = local.digest;
                }
            }
            Err(message) => {
                if !self.org.keep_clones {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                return fail(message, digest);
            }
        }
        let scanned = git::scan(
            self.rules,
            &dir,
            &Mode::History { range: None },
            self.options,
        );
        if !self.org.keep_clones {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let mut report = match scanned {
            Ok(report) => report,
            Err(GitError::NothingToScan { .. }) => {
                return skipped(repo, RepoStatus::Empty, Vec::new());
            }
            Err(e) => return fail(git::one_line(&e), digest),
        };
        let shared = Arc::new(Repository {
            platform: self.org.spec.platform.key(),
            organisation: self.org.spec.name.clone(),
            project: repo.project.clone(),
            name: repo.name.clone(),
            url: repo.web_url.clone(),
            id: repo.id.clone(),
        });
        for finding in &mut report.findings {
            finding.repository = Some(Arc::clone(&shared));
        }
        // Warnings name the clone's temporary folder; the reader knows
        // the repository.
        let prefix = dir.to_string_lossy().into_owned();
        for problem in &mut report.problems {
            if let Some(rest) = problem.path.strip_prefix(&prefix) {
                problem.path = format!("{label}{rest}");
            }
        }
        let mut done = skipped(repo, RepoStatus::Scanned, Vec::new());
        done.outcome.refs_digest = digest;
        done.report = Some(report);
        done
    }
}

fn skipped(repo: &Listed, status: RepoStatus, problems: Vec<Problem>) -> Done {
    Done {
        outcome: RepoOutcome {
            name: repo.full_name(),
            id: repo.id.clone(),
            url: repo.web_url.clone(),
            status,
            refs_digest: None,
            runs_scanned: Vec::new(),
        },
        report: None,
        problems,
    }
}

/// How problems name a repository: `github:acme/widgets`,
/// `azure-devops:contoso/Project/repo`.
fn label(spec: &OrgSpec, repo: &Listed) -> String {
    match spec.platform {
        super::Platform::AzureDevops => {
            format!("{}:{}/{}", spec.platform.key(), spec.name, repo.full_name())
        }
        _ => format!("{}:{}", spec.platform.key(), repo.full_name()),
    }
}

/// A folder name for a clone: readable, and unique by the platform id.
fn dir_name(repo: &Listed) -> String {
    let readable: String = repo
        .full_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let id: String = repo
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    format!("{readable}-{id}.git")
}

/// The folder clones go in, and whether it is a temporary one of ours.
fn clone_root(dir: Option<&Path>) -> Result<(PathBuf, bool), OrgError> {
    let (root, temporary) = match dir {
        Some(dir) => (dir.to_path_buf(), false),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!("patscan-org-{}-{nanos}", std::process::id());
            (std::env::temp_dir().join(name), true)
        }
    };
    std::fs::create_dir_all(&root).map_err(|e| {
        OrgError::Setup(format!(
            "cannot create the clone folder {}: {e}",
            root.display()
        ))
    })?;
    Ok((root, temporary))
}

/// Adds one repository's counts to the organisation's.
fn add_counts(tally: &Tally, summary: &Summary) {
    let add = |counter: &std::sync::atomic::AtomicU64, n: u64| {
        counter.fetch_add(n, Ordering::Relaxed);
    };
    add(&tally.files, summary.files_scanned);
    add(&tally.bytes, summary.bytes_scanned);
    add(&tally.binary_skipped, summary.binary_files_skipped);
    add(&tally.large_skipped, summary.large_files_skipped);
    add(&tally.archives, summary.archives_scanned);
    add(&tally.archive_members, summary.archive_members_scanned);
    // The HTML timeline of an organisation shows all its repositories' commits.
    let mut activity = tally.commit_activity();
    activity.merge(&summary.commit_activity);
    tally.set_commit_activity(activity);
}
