//! One CI-log scan: list the pipelines, keep this shard's, list each one's
//! runs in the window, skip those an earlier report scanned, and stream
//! every log (and artifact) of the rest to the scan stage, `jobs`
//! pipelines at once. A pipeline, run or log that fails is a problem in
//! the report; the others go on.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::{Api, CallError};
use super::marks::{Marked, Steps};
use super::{azure_devops, github, gitlab, Artifact, CiError, CiSpec, Log, Pipeline, Run};
use crate::model::{CiLogPlace, Finding, OrgSummary, Origin, RepoOutcome, RepoStatus, Repository};
use crate::net::{Http, Overrides, Policy};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::scan::intake::{Intake, Worker};
use crate::scan::sink::{Input, Key, Sink};
use crate::scan::{self, Problem, ScanOptions, ScanReport, Tally};
use crate::source::org::listing::Site;
use crate::source::org::{Credential, Platform, Previous, Shard};

/// What `scan --ci-logs` was asked to do, besides the scan options.
pub struct CiOptions {
    pub spec: CiSpec,
    /// `--host`: a self-hosted server (the credential goes only there).
    pub host: Option<String>,
    /// `--since`: runs of the last this many days (default 30 unless
    /// `--builds` is given).
    pub since_days: Option<u64>,
    /// `--builds`: at most this many runs per pipeline, newest first.
    pub builds: Option<usize>,
    /// Pipelines read at once.
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub previous: Option<Previous>,
}

/// Which runs a pipeline's listing asks for.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Seconds since the epoch: runs before this are not listed.
    pub since: Option<i64>,
    /// Newest first, at most this many.
    pub most: Option<usize>,
}

impl Window {
    /// The `--since` bound as the APIs take it (`2026-11-07T02:00:00Z`).
    pub fn since_timestamp(&self) -> Option<String> {
        self.since
            .map(|s| format!("{}Z", crate::civil_time::utc_timestamp(s)))
    }

    /// Whether a listing of `count` runs so far has enough.
    pub fn full(&self, count: usize) -> bool {
        self.most.is_some_and(|most| count >= most)
    }

    /// Adds a listing page's runs (newest first) to `runs` until the window
    /// is full, each read by `read` (an error names what an item lacks), and
    /// says whether another page is worth asking for.
    pub fn take_runs<'v>(
        &self,
        runs: &mut Vec<Run>,
        items: impl IntoIterator<Item = &'v Value>,
        read: impl Fn(&'v Value) -> Result<Run, String>,
    ) -> Result<bool, String> {
        for item in items {
            if self.full(runs.len()) {
                break;
            }
            runs.push(read(item)?);
        }
        Ok(!self.full(runs.len()))
    }
}

/// Requests per second to the platform's API host: under what each
/// documents as its limit for an authenticated client (GitHub's secondary
/// limit of 900 points a minute, GitLab.com's 2,000 requests a minute,
/// Azure DevOps' throughput-based limit, which answers `Retry-After`
/// before it refuses), so a long scan is not throttled. The loopback
/// emulator is not a host to spare.
fn rate_per_host(platform: Platform, loopback: bool) -> f64 {
    if loopback {
        return f64::INFINITY;
    }
    match platform {
        Platform::Github => 10.0,
        Platform::Gitlab | Platform::AzureDevops => 20.0,
    }
}

/// The report's summary spec: `ci-logs:` and the `--ci-logs` value, so a
/// CI-log report is never taken for an organisation scan's.
fn spec_text(spec: &CiSpec) -> String {
    format!("ci-logs:{spec}")
}

/// Reads the pipelines of `ci.spec`, scans this shard's runs and returns
/// one report. Only a top-level listing that cannot be read is an error.
pub fn scan(
    rules: &RuleSet,
    ci: &CiOptions,
    options: &ScanOptions,
    overrides: &Overrides,
) -> Result<ScanReport, CiError> {
    let started = Instant::now();
    let spec_text = spec_text(&ci.spec);
    let detection_key = options.detection_key(rules).to_hex();
    let platform = ci.spec.platform();
    let credential = Credential::from_env(platform);
    let site = Site::resolve(&ci.spec.org, ci.host.as_deref(), overrides)?;
    let http = Http::new(Policy {
        // A log may take long to start; each read waits at most this.
        timeout: Duration::from_secs(60),
        rate_per_host: rate_per_host(platform, site.loopback),
        loopback_emulator: site.loopback,
        ..Policy::default()
    })
    .map_err(|e| CiError::Listing(e.to_string()))?;
    let api = Api::new(
        &http,
        &site,
        site.auth(credential.as_ref()),
        platform.credential_var(),
    )
    .also_to(azure_devops::releases_base(&site.api));
    let tally = Tally::with_progress(Progress::new(options.progress, "pipelines"));
    let previous = previous_runs(ci, &spec_text, &detection_key, &tally)?;
    let (pipelines, listing_problems) = match platform {
        Platform::AzureDevops => azure_devops::pipelines(&api, &ci.spec)?,
        Platform::Github => github::pipelines(&api, &ci.spec)?,
        Platform::Gitlab => gitlab::pipelines(&api, &ci.spec)?,
    };
    for problem in listing_problems {
        tally.problem(Problem::new(&ci.spec.to_string(), &problem));
    }
    let listed = pipelines.len();
    let mine: Vec<Pipeline> = pipelines
        .into_iter()
        .filter(|p| ci.shard.map_or(true, |s| s.contains(platform.key(), &p.id)))
        .collect();
    let window = Window {
        since: ci
            .since_days
            .or(if ci.builds.is_some() { None } else { Some(30) })
            .map(|days| now() - (days as i64) * 86_400),
        most: ci.builds,
    };
    let options = ScanOptions {
        progress: false,
        // An artifact is a zip: opened whatever `--archives` says.
        archives: options.archives.or(Some(scan::ArchiveLimits {
            max_member_bytes: options.max_file_size,
            ..scan::ArchiveLimits::default()
        })),
        ..options.clone()
    };
    let intake = Intake::new(rules, &options, &tally);
    tally.progress.set_total(mine.len() as u64, "pipelines");
    let work = Work {
        api: &api,
        platform,
        intake: &intake,
        window,
        previous: &previous,
        max_size: options.max_file_size,
        steps: Mutex::new(HashMap::new()),
    };
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(mine.len()));
    std::thread::scope(|scope| {
        for _ in 0..ci.jobs.clamp(1, mine.len().max(1)) {
            scope.spawn(|| {
                let mut worker = intake.sink();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(pipeline) = mine.get(i) else {
                        break;
                    };
                    let outcome = work.pipeline(pipeline, &mut worker);
                    tally.progress.inc(0);
                    lock(&outcomes).push(outcome);
                }
            });
        }
    });
    let steps = work.steps.into_inner().unwrap_or_else(|p| p.into_inner());
    let homes: HashMap<&str, &Arc<Repository>> = mine
        .iter()
        .map(|p| (p.name.as_str(), &p.repository))
        .collect();
    let mut findings = intake.take_findings();
    for finding in &mut findings {
        place_line(finding, &steps);
        if let Origin::CiLog(place) = &finding.origin {
            finding.repository = homes.get(place.pipeline.as_str()).map(|r| Arc::clone(r));
        }
    }
    let _ = intake.finish();
    let mut repositories = outcomes.into_inner().unwrap_or_else(|p| p.into_inner());
    repositories.sort();
    let mut report = scan::finish(findings, tally, started);
    report.summary.organisation = Some(OrgSummary {
        spec: spec_text,
        api: site.api.clone(),
        detection_key,
        shard: ci.shard.map(|s| s.to_string()),
        service_connections: Vec::new(),
        repositories_listed: listed,
        repositories,
    });
    Ok(report)
}

/// The runs each pipeline of the earlier report had scanned; empty when
/// its rules differ (then nothing it saw can be trusted as scanned).
fn previous_runs(
    ci: &CiOptions,
    spec: &str,
    detection_key: &str,
    tally: &Tally,
) -> Result<HashMap<String, HashSet<String>>, CiError> {
    let Some(previous) = &ci.previous else {
        return Ok(HashMap::new());
    };
    if previous.summary.spec != spec {
        return Err(crate::source::org::OrgError::Previous {
            path: previous.path.clone(),
            message: format!("that run read {}, not {spec}", previous.summary.spec),
        }
        .into());
    }
    if previous.summary.detection_key != detection_key {
        tally.problem(Problem::new(
            &previous.path,
            "written under other rules or settings: every run is scanned again",
        ));
        return Ok(HashMap::new());
    }
    Ok(previous
        .summary
        .repositories
        .iter()
        .map(|p| (p.id.clone(), p.runs_scanned.iter().cloned().collect()))
        .collect())
}

/// The shared state of the workers.
struct Work<'a> {
    api: &'a Api<'a>,
    platform: Platform,
    intake: &'a Intake<'a>,
    window: Window,
    previous: &'a HashMap<String, HashSet<String>>,
    max_size: u64,
    /// Where the steps of each log with findings start, by the log's path.
    steps: Mutex<HashMap<String, Steps>>,
}

impl Work<'_> {
    fn pipeline(&self, pipeline: &Pipeline, worker: &mut Worker<'_, '_>) -> RepoOutcome {
        let mut outcome = RepoOutcome {
            name: pipeline.name.clone(),
            id: pipeline.id.clone(),
            url: pipeline.url.clone(),
            status: RepoStatus::Empty,
            refs_digest: None,
            runs_scanned: Vec::new(),
        };
        let runs = match self.runs(pipeline) {
            Ok(runs) => runs,
            Err(e) => {
                self.problem(&pipeline.name, e.message());
                outcome.status = RepoStatus::Failed;
                return outcome;
            }
        };
        let known = self.previous.get(&pipeline.id);
        let mut scanned: Vec<String> = Vec::new();
        let mut failed = false;
        for run in &runs {
            if known.is_some_and(|k| k.contains(&run.id)) {
                scanned.push(run.id.clone());
                continue;
            }
            if self.run(pipeline, run, worker) {
                scanned.push(run.id.clone());
            } else {
                failed = true;
            }
        }
        let fresh = scanned
            .iter()
            .filter(|id| !known.is_some_and(|k| k.contains(*id)))
            .count();
        outcome.status = if failed {
            RepoStatus::Failed
        } else if fresh > 0 {
            RepoStatus::Scanned
        } else if runs.is_empty() {
            RepoStatus::Empty
        } else {
            RepoStatus::Unchanged
        };
        scanned.sort_by(|a, b| natural(a).cmp(&natural(b)));
        outcome.runs_scanned = scanned;
        outcome
    }

    fn runs(&self, pipeline: &Pipeline) -> Result<Vec<Run>, CallError> {
        match self.platform {
            Platform::AzureDevops => azure_devops::runs(self.api, pipeline, &self.window),
            Platform::Github => github::runs(self.api, pipeline, &self.window),
            Platform::Gitlab => gitlab::runs(self.api, pipeline, &self.window),
        }
    }

    /// Scans one run's logs and artifacts; whether its contents could be
    /// listed (a log or artifact that fails is a problem of its own).
    fn run(&self, pipeline: &Pipeline, run: &Run, worker: &mut Worker<'_, '_>) -> bool {
        let listed = match self.platform {
            Platform::AzureDevops => azure_devops::contents(self.api, pipeline, run),
            Platform::Github => github::contents(self.api, pipeline, run),
            Platform::Gitlab => gitlab::contents(self.api, pipeline, run),
        };
        let label = format!("{} {}", pipeline.name, run.label);
        let (logs, artifacts, problems) = match listed {
            Ok(contents) => contents,
            Err(e) => {
                self.problem(&label, e.message());
                return false;
            }
        };
        // Every log and artifact is tried; the run counts as scanned only
        // when nothing failed for a reason a later scan may not meet (a
        // listing refused for want of a scope, a broken download).
        let mut done = problems.is_empty();
        for problem in problems {
            self.problem(&label, &problem);
        }
        for log in &logs {
            done &= self.log(pipeline, run, log, worker);
        }
        for artifact in &artifacts {
            done &= self.artifact(pipeline, run, artifact, worker);
        }
        done
    }

    /// Streams one log to the scan stage. Whether it is done with: read,
    /// or known gone or too large (reported); not after an error a later
    /// scan may not meet.
    fn log(&self, pipeline: &Pipeline, run: &Run, log: &Log, worker: &mut Worker<'_, '_>) -> bool {
        let mut path = format!("{} {}/{}", pipeline.name, run.label, log.job);
        if !log.step.is_empty() {
            path = format!("{path}/{}", log.step);
        }
        let download = match self.api.download(&log.url, self.scope()) {
            Ok(download) => download,
            Err(CallError::Gone(message)) => {
                self.problem(&path, &format!("log not scanned: {message}"));
                return true;
            }
            Err(e) => {
                self.problem(&path, &format!("log not scanned: {}", e.message()));
                return false;
            }
        };
        if log.archive {
            let name = format!("{path}.zip");
            return self.spooled(download, &name, pipeline, run, worker);
        }
        let input = Input {
            name: &path,
            key: Key::None,
        };
        let Some(ticket) = worker.wants(&input) else {
            return true;
        };
        let limit = self.max_size;
        if download.content_length().is_some_and(|n| n > limit) {
            self.intake
                .tally()
                .too_large(&path, download.content_length().unwrap_or(0), limit);
            worker.unread(ticket);
            return true;
        }
        let mut marked = Marked::new(download.take(limit), log.markers);
        let place = CiLogPlace {
            pipeline: pipeline.name.clone(),
            run: run.label.clone(),
            run_id: run.id.clone(),
            job: log.job.clone(),
            step: log.step.clone(),
            url: log.line_url.clone().or_else(|| Some(run.url.clone())),
        };
        let locate = || (path.clone(), Origin::CiLog(Box::new(place.clone())));
        let result = worker.stream(ticket, &input, &mut marked, &locate);
        let found = match result {
            Ok(found) => found,
            Err((ticket, err)) => {
                worker.unread(ticket);
                self.problem(&path, &format!("log not read to its end: {err}"));
                return false;
            }
        };
        let mut rest = marked.split();
        if found > 0 && !rest.1.is_empty() {
            lock(&self.steps).insert(path.clone(), rest.1);
        }
        // The limit cut it: say so rather than pass off a part as the whole.
        let mut probe = [0u8; 1];
        if rest.0.limit() == 0 && rest.0.get_mut().read(&mut probe).is_ok_and(|n| n > 0) {
            self.intake
                .tally()
                .large_skipped
                .fetch_add(1, Ordering::Relaxed);
            self.problem(
                &path,
                &format!(
                    "only the first {} scanned: the log is over --max-file-size",
                    crate::size::format_bytes(limit)
                ),
            );
        }
        true
    }

    /// Scans one artifact (a zip) through the archive support.
    fn artifact(
        &self,
        pipeline: &Pipeline,
        run: &Run,
        artifact: &Artifact,
        worker: &mut Worker<'_, '_>,
    ) -> bool {
        let path = format!(
            "{} {}/artifacts/{}.zip",
            pipeline.name, run.label, artifact.name
        );
        if artifact.gone {
            self.problem(
                &path,
                "artifact not scanned: expired or deleted by the platform",
            );
            return true;
        }
        match self.api.download(&artifact.url, self.scope()) {
            Ok(download) => self.spooled(download, &path, pipeline, run, worker),
            Err(e) => {
                self.problem(&path, &format!("artifact not scanned: {}", e.message()));
                matches!(e, CallError::Gone(_))
            }
        }
    }

    /// A zip download: written to a temporary file (a zip is read from
    /// its end), scanned as an archive under `path`, removed.
    fn spooled(
        &self,
        download: crate::net::Streaming,
        path: &str,
        pipeline: &Pipeline,
        run: &Run,
        worker: &mut Worker<'_, '_>,
    ) -> bool {
        let limit = self.max_size;
        if download.content_length().is_some_and(|n| n > limit) {
            self.intake
                .tally()
                .too_large(path, download.content_length().unwrap_or(0), limit);
            return true;
        }
        let spool = match Spool::create() {
            Ok(spool) => spool,
            Err(e) => {
                self.problem(path, &format!("cannot make a temporary file: {e}"));
                return false;
            }
        };
        let mut file = &spool.file;
        let copied = io::copy(&mut download.take(limit + 1), &mut file).and_then(|n| {
            file.flush()?;
            Ok(n)
        });
        let size = match copied {
            Ok(n) if n > limit => {
                self.intake.tally().too_large(path, n, limit);
                return true;
            }
            Ok(n) => n,
            Err(e) => {
                self.problem(path, &format!("not downloaded to its end: {e}"));
                return false;
            }
        };
        let input = Input {
            name: path,
            key: Key::None,
        };
        let Some(ticket) = worker.wants(&input) else {
            return true;
        };
        let place = CiLogPlace {
            pipeline: pipeline.name.clone(),
            run: run.label.clone(),
            run_id: run.id.clone(),
            job: String::new(),
            step: String::new(),
            url: Some(run.url.clone()),
        };
        let locate = || (path.to_string(), Origin::CiLog(Box::new(place.clone())));
        let mut reader = &spool.file;
        if let Err(e) = reader.rewind() {
            worker.unread(ticket);
            self.problem(path, &format!("cannot read the temporary file: {e}"));
            return false;
        }
        match worker.reader(ticket, &input, &mut reader, size, &locate) {
            Ok(_) => true,
            Err(e) => {
                self.problem(path, &format!("not read to its end: {e}"));
                false
            }
        }
    }

    fn scope(&self) -> &'static str {
        match self.platform {
            Platform::AzureDevops => azure_devops::BUILD_SCOPE,
            Platform::Github => github::ACTIONS_SCOPE,
            Platform::Gitlab => gitlab::API_SCOPE,
        }
    }

    fn problem(&self, path: &str, message: &str) {
        self.intake.tally().problem(Problem::new(path, message));
    }
}

/// A log's finding gets its step (from the log's markers) and the web
/// page of its line.
fn place_line(finding: &mut Finding, steps: &HashMap<String, Steps>) {
    let line = finding.line;
    let path = finding.path.clone();
    let Origin::CiLog(place) = &mut finding.origin else {
        return;
    };
    if place.step.is_empty() {
        if let Some((_, step)) = steps.get(&path).and_then(|s| s.at(line)) {
            place.step = step.to_string();
        }
    }
    if let Some(url) = &mut place.url {
        *url = url.replace("{line}", &line.to_string());
    }
}

/// A temporary file, removed when dropped.
struct Spool {
    file: File,
    path: PathBuf,
}

impl Spool {
    fn create() -> io::Result<Spool> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "patscan-artifact-{}-{n}-{}.zip",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Spool { file, path })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Run ids sort as numbers where they are.
fn natural(id: &str) -> (usize, &str) {
    (id.len(), id)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
