//! A repeat `--history` scan of an unchanged repository, without walking
//! it again. The blob cache spares reading blobs, but listing them still
//! means reading every commit and tree (most of a repeat scan's time). So
//! a full scan also records its run: the refs' tips, a fingerprint of the
//! object store (its pack files and loose objects), the blobs with
//! findings and where they were found, the commits those findings need,
//! and the scan's counts. When the next scan finds the same tips and the
//! same store, under the same detection key, the listing would be the
//! same: only the recorded commits are read (their messages scanned, as
//! always) and the recorded blobs scanned again; everything else is
//! known clean. Any difference — a new commit, a fetched pack, a moved
//! ref, a `git gc` — and the scan walks the history as usual (with the
//! blob cache, reading only new blobs) and records the new run.
//!
//! A run's warnings (a partial clone's missing blobs, a missing tree) are
//! recorded with it and given again by its replay: the store they were
//! found in is the same, or the run would not be replayed.
//!
//! After new commits, [`super::extend`] adds what they introduced to the
//! recorded run instead of walking the whole history again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use gix::bstr::BString;
use gix::hash::ObjectId;
use sha2::{Digest, Sha256};

use super::blobs::{self, Memory};
use super::budget::{self, Plan};
use super::commits::{self, Graph};
use super::introduce::{Found, Job};
use super::packread::{PackReader, Packs};
use super::{history, warn};
use crate::codec::{Reader, Writer};
use crate::model::CommitActivity;
use crate::model::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::intake::Intake;
use crate::scan::{Problem, ScanOptions, Tally};
use crate::scanner::Scanner;

/// The scan's counts, restored as they were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub files: u64,
    pub bytes: u64,
    pub binary: u64,
    pub large: u64,
    pub archives: u64,
    pub members: u64,
    /// Blobs listed.
    pub blobs: u64,
    /// Commits read, per day (the HTML timeline).
    pub activity: CommitActivity,
}

impl Counts {
    pub fn of(tally: &Tally, blobs: usize) -> Counts {
        Counts {
            files: tally.files.load(Ordering::Relaxed),
            bytes: tally.bytes.load(Ordering::Relaxed),
            binary: tally.binary_skipped.load(Ordering::Relaxed),
            large: tally.large_skipped.load(Ordering::Relaxed),
            archives: tally.archives.load(Ordering::Relaxed),
            members: tally.archive_members.load(Ordering::Relaxed),
            blobs: blobs as u64,
            activity: tally.commit_activity(),
        }
    }

    /// Sets `tally` to these counts (what the replay itself counted is
    /// part of them).
    pub fn restore(&self, tally: &Tally) {
        tally.files.store(self.files, Ordering::Relaxed);
        tally.bytes.store(self.bytes, Ordering::Relaxed);
        tally.binary_skipped.store(self.binary, Ordering::Relaxed);
        tally.large_skipped.store(self.large, Ordering::Relaxed);
        tally.archives.store(self.archives, Ordering::Relaxed);
        tally.archive_members.store(self.members, Ordering::Relaxed);
        tally.set_commit_activity(self.activity.clone());
    }
}

/// Where a recorded blob was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Commit(ObjectId),
    Dangling(ObjectId),
    Unreachable,
}

/// One scan of a whole history, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    /// Tips, object store and shallow boundary, hashed ([`state`]).
    pub state: [u8; 32],
    pub counts: Counts,
    /// Reachable commits whose message had a finding, or that introduced
    /// a blob with one.
    pub commits: Vec<ObjectId>,
    /// The same among the commits no ref reaches.
    pub dangling: Vec<ObjectId>,
    /// The blobs with findings.
    pub blobs: Vec<(ObjectId, BString, Place)>,
    /// The walk's warnings (place, message; tokens masked): a partial
    /// clone's missing blobs are missing again next time, so a replay
    /// gives them again instead of walking to find them.
    pub problems: Vec<(String, String)>,
    /// The findings of recorded blobs that the walk dropped as carried (a
    /// parent of the introducing commit had the same token at the same
    /// path, [`super::carried`]), sorted: a replay drops them again without
    /// reading the parents' blobs, which is the same decision on the same
    /// history.
    pub carried: Vec<Carried>,
    /// The recorded blobs whose every finding was carried, sorted: a
    /// replay reports nothing of them, so it does not read them.
    pub quiet: Vec<ObjectId>,
    /// What a later scan needs to extend this run after new commits
    /// instead of walking the history again (see [`super::extend`]).
    pub base: Base,
}

/// A finding dropped as carried, named by its blob and place: the blob is
/// scanned at one commit and path only, so this names one finding of the
/// walk. The fingerprint (rule and token hashed, never the token) tells
/// apart two tokens at one place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Carried {
    pub blob: ObjectId,
    pub rule: String,
    pub line: u64,
    pub column: u64,
    pub fingerprint: String,
}

impl Carried {
    /// The key of a finding in a reachable commit's blob; `None` for any
    /// other (only those can be carried).
    pub fn of(finding: &Finding) -> Option<Carried> {
        let Origin::Commit { blob, .. } = &finding.origin else {
            return None;
        };
        Some(Carried {
            blob: ObjectId::from_hex(blob.as_bytes()).ok()?,
            rule: finding.rule_id.clone(),
            line: finding.line as u64,
            column: finding.column as u64,
            fingerprint: finding.fingerprint(),
        })
    }
}

/// The history a run saw, for [`super::extend`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Base {
    /// The commits the refs led to.
    pub tips: Vec<ObjectId>,
    /// The object store (`None`: one that cannot be compared, as with
    /// alternates).
    pub store: Option<Store>,
    /// Every object the walk of the reachable commits saw: commits, tags,
    /// trees, blobs.
    pub known: Ids,
    /// What was listed after them: the commits no ref reaches and the
    /// blobs only those commits, or no commit at all, have.
    pub late: Ids,
}

/// An object store as a run saw it: its pack files (name, size,
/// modification time) and loose objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    pub packs: Vec<(Vec<u8>, u64, u64)>,
    pub loose: Ids,
}

impl Store {
    /// The store of `repo`; `None` with alternates, or packs this reader
    /// could not open (their objects would go unnoticed).
    pub fn of(repo: &gix::Repository, packs: &Packs) -> Option<Store> {
        let objects = repo.common_dir().join("objects");
        if packs.incomplete || objects.join("info").join("alternates").exists() {
            return None;
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(objects.join("pack")).ok()?.flatten() {
            let name = entry.file_name();
            if !name.as_encoded_bytes().ends_with(b".pack") {
                continue;
            }
            let meta = entry.metadata().ok()?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as u64);
            files.push((name.as_encoded_bytes().to_vec(), meta.len(), modified));
        }
        files.sort();
        let loose = gix::odb::loose::Store::at(objects, repo.object_hash());
        let loose: Vec<ObjectId> = loose.iter().filter_map(Result::ok).collect();
        Some(Store {
            packs: files,
            loose: Ids::new(loose),
        })
    }
}

/// A sorted set of object ids, 20 bytes each and nothing else: what a run
/// saw, kept on disk and searched in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids(Vec<u8>);

const ID: usize = 20;

impl Ids {
    pub fn new(mut ids: Vec<ObjectId>) -> Ids {
        ids.sort_unstable();
        ids.dedup();
        let mut bytes = Vec::with_capacity(ids.len() * ID);
        for id in &ids {
            bytes.extend_from_slice(id.as_bytes());
        }
        Ids(bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Option<Ids> {
        if bytes.len() % ID != 0 {
            return None;
        }
        let ids = Ids(bytes.to_vec());
        // Sorted and distinct, or binary search would miss ids. The first
        // 8 bytes as a number decide nearly every pair (a third of a
        // replay's reading of the record went to comparing whole ids).
        let head = |i: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&ids.at(i)[..8]);
            u64::from_be_bytes(word)
        };
        let sorted = (1..ids.len()).all(|i| {
            let (a, b) = (head(i - 1), head(i));
            a < b || (a == b && ids.at(i - 1) < ids.at(i))
        });
        sorted.then_some(ids)
    }

    pub fn len(&self) -> usize {
        self.0.len() / ID
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn at(&self, i: usize) -> &[u8] {
        &self.0[i * ID..(i + 1) * ID]
    }

    pub fn contains(&self, id: &gix::hash::oid) -> bool {
        let wanted = id.as_bytes();
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = (low + high) / 2;
            match self.at(mid).cmp(wanted) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.0.chunks_exact(ID).map(ObjectId::from_bytes_or_panic)
    }

    /// These and `more`: the few more sorted, then merged in (these are
    /// sorted already).
    pub fn with(&self, more: impl IntoIterator<Item = ObjectId>) -> Ids {
        let more = Ids::new(more.into_iter().collect());
        let mut out = Vec::with_capacity(self.0.len() + more.0.len());
        let (mut a, mut b) = (0, 0);
        while a < self.len() && b < more.len() {
            let (x, y) = (self.at(a), more.at(b));
            let next = match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a += 1;
                    x
                }
                std::cmp::Ordering::Greater => {
                    b += 1;
                    y
                }
                std::cmp::Ordering::Equal => {
                    a += 1;
                    b += 1;
                    x
                }
            };
            out.extend_from_slice(next);
        }
        out.extend_from_slice(&self.0[a * ID..]);
        out.extend_from_slice(&more.0[b * ID..]);
        Ids(out)
    }
}

impl Run {
    /// The record for `jobs` (the blobs that had findings), resolved to
    /// commit ids with `commit_of`.
    pub fn new(
        state: [u8; 32],
        counts: Counts,
        jobs: &[Job],
        message_commits: impl IntoIterator<Item = Place>,
        commit_of: impl Fn(Found) -> Place,
    ) -> Run {
        let mut run = Run {
            state,
            counts,
            ..Run::default()
        };
        let mut commits = HashSet::new();
        let mut dangling = HashSet::new();
        let mut add = |place: Place| match place {
            Place::Commit(id) => {
                commits.insert(id);
            }
            Place::Dangling(id) => {
                dangling.insert(id);
            }
            Place::Unreachable => {}
        };
        for job in jobs {
            let place = commit_of(job.found);
            add(place);
            run.blobs.push((job.id, job.path.clone(), place));
        }
        for place in message_commits {
            add(place);
        }
        run.commits = commits.into_iter().collect();
        run.commits.sort_unstable();
        run.dangling = dangling.into_iter().collect();
        run.dangling.sort_unstable();
        run.blobs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        run
    }

    /// Adds what [`super::carried::split_carried`] decided for the findings of
    /// this run's blobs: `kept` and `dropped`.
    pub fn with_carried(mut self, kept: &[Finding], dropped: &[Finding]) -> Run {
        self.carried.extend(dropped.iter().filter_map(Carried::of));
        self.carried.sort();
        self.carried.dedup();
        let reported: HashSet<ObjectId> = kept
            .iter()
            .filter_map(Carried::of)
            .map(|c| c.blob)
            .collect();
        let recorded: HashSet<ObjectId> = self.blobs.iter().map(|(id, _, _)| *id).collect();
        self.quiet.extend(
            self.carried
                .iter()
                .map(|c| c.blob)
                .filter(|id| recorded.contains(id) && !reported.contains(id)),
        );
        self.quiet.sort_unstable();
        self.quiet.dedup();
        self
    }

    /// Without what it recorded of the blobs `gone` (blobs a later run
    /// lists, and decides about, again).
    pub fn without(mut self, gone: &HashSet<ObjectId>) -> Run {
        self.blobs.retain(|(id, _, _)| !gone.contains(id));
        self.carried.retain(|c| !gone.contains(&c.blob));
        self.quiet.retain(|id| !gone.contains(id));
        self
    }

    /// Whether the walk dropped `finding` as carried.
    pub fn carries(&self, finding: &Finding) -> bool {
        Carried::of(finding).is_some_and(|key| self.carried.binary_search(&key).is_ok())
    }

    fn write(&self) -> Vec<u8> {
        // The id lists are nearly all of it (12 MB on 590,000 objects).
        let base = &self.base;
        let ids = base.known.0.len() + base.late.0.len();
        let loose = base.store.as_ref().map_or(0, |s| s.loose.0.len());
        let mut out = Writer::with_capacity(ids + loose + 64 * self.blobs.len() + 4096);
        out.raw(&self.state);
        let c = &self.counts;
        for value in [
            c.files, c.bytes, c.binary, c.large, c.archives, c.members, c.blobs,
        ] {
            out.varint(value);
        }
        out.varint(c.activity.entries().count() as u64);
        for (day, count) in c.activity.entries() {
            out.varint(zigzag(day));
            out.varint(count);
        }
        for list in [&self.commits, &self.dangling] {
            out.varint(list.len() as u64);
            for id in list {
                out.bytes(id.as_bytes());
            }
        }
        out.varint(self.blobs.len() as u64);
        for (id, path, place) in &self.blobs {
            out.bytes(id.as_bytes());
            out.bytes(path);
            match place {
                Place::Commit(commit) => {
                    out.u8(0);
                    out.bytes(commit.as_bytes());
                }
                Place::Dangling(commit) => {
                    out.u8(1);
                    out.bytes(commit.as_bytes());
                }
                Place::Unreachable => out.u8(2),
            }
        }
        out.varint(self.problems.len() as u64);
        for (place, message) in &self.problems {
            out.bytes(place.as_bytes());
            out.bytes(message.as_bytes());
        }
        out.varint(self.carried.len() as u64);
        for carried in &self.carried {
            out.bytes(carried.blob.as_bytes());
            out.bytes(carried.rule.as_bytes());
            out.varint(carried.line);
            out.varint(carried.column);
            out.bytes(carried.fingerprint.as_bytes());
        }
        out.varint(self.quiet.len() as u64);
        for id in &self.quiet {
            out.bytes(id.as_bytes());
        }
        out.varint(base.tips.len() as u64);
        for id in &base.tips {
            out.bytes(id.as_bytes());
        }
        match &base.store {
            None => out.u8(0),
            Some(store) => {
                out.u8(1);
                out.varint(store.packs.len() as u64);
                for (name, size, modified) in &store.packs {
                    out.bytes(name);
                    out.varint(*size);
                    out.varint(*modified);
                }
                out.bytes(&store.loose.0);
            }
        }
        out.bytes(&base.known.0);
        out.bytes(&base.late.0);
        out.into_inner()
    }

    fn read(body: &[u8]) -> Option<Run> {
        let mut input = Reader::new(body);
        let state = input.raw::<32>()?;
        let mut counts = [0u64; 7];
        for value in &mut counts {
            *value = input.varint()?;
        }
        let [files, bytes, binary, large, archives, members, blobs] = counts;
        let days = input.varint()?;
        if days > input.remaining() as u64 {
            return None;
        }
        let mut entries = Vec::new();
        for _ in 0..days {
            entries.push((unzigzag(input.varint()?), input.varint()?));
        }
        let activity = CommitActivity::from_entries(entries)?;
        let id = |input: &mut Reader<'_>| ObjectId::try_from(input.bytes()?).ok();
        let mut lists = [Vec::new(), Vec::new()];
        for list in &mut lists {
            let count = input.varint()?;
            if count > input.remaining() as u64 {
                return None;
            }
            for _ in 0..count {
                list.push(id(&mut input)?);
            }
        }
        let [commits, dangling] = lists;
        let count = input.varint()?;
        if count > input.remaining() as u64 {
            return None;
        }
        let mut found = Vec::new();
        for _ in 0..count {
            let blob = id(&mut input)?;
            let path = BString::from(input.bytes()?);
            let place = match input.u8()? {
                0 => Place::Commit(id(&mut input)?),
                1 => Place::Dangling(id(&mut input)?),
                2 => Place::Unreachable,
                _ => return None,
            };
            found.push((blob, path, place));
        }
        let count = input.varint()?;
        if count > input.remaining() as u64 {
            return None;
        }
        let mut problems = Vec::new();
        for _ in 0..count {
            problems.push((input.string()?, input.string()?));
        }
        let count = input.varint()?;
        if count > input.remaining() as u64 {
            return None;
        }
        let mut carried = Vec::new();
        for _ in 0..count {
            carried.push(Carried {
                blob: id(&mut input)?,
                rule: input.string()?,
                line: input.varint()?,
                column: input.varint()?,
                fingerprint: input.string()?,
            });
        }
        let count = input.varint()?;
        if count > input.remaining() as u64 {
            return None;
        }
        let mut quiet = Vec::new();
        for _ in 0..count {
            quiet.push(id(&mut input)?);
        }
        // Sorted, or binary search would miss them.
        if !carried.windows(2).all(|w| w[0] <= w[1]) || !quiet.windows(2).all(|w| w[0] <= w[1]) {
            return None;
        }
        let count = input.varint()?;
        if count > input.remaining() as u64 {
            return None;
        }
        let mut tips = Vec::new();
        for _ in 0..count {
            tips.push(id(&mut input)?);
        }
        let store = match input.u8()? {
            0 => None,
            1 => {
                let count = input.varint()?;
                if count > input.remaining() as u64 {
                    return None;
                }
                let mut packs = Vec::new();
                for _ in 0..count {
                    packs.push((input.bytes()?.to_vec(), input.varint()?, input.varint()?));
                }
                let loose = Ids::from_bytes(input.bytes()?)?;
                Some(Store { packs, loose })
            }
            _ => return None,
        };
        let known = Ids::from_bytes(input.bytes()?)?;
        let late = Ids::from_bytes(input.bytes()?)?;
        (input.remaining() == 0).then_some(Run {
            state,
            counts: Counts {
                files,
                bytes,
                binary,
                large,
                archives,
                members,
                blobs,
                activity,
            },
            commits,
            dangling,
            blobs: found,
            problems,
            carried,
            quiet,
            base: Base {
                tips,
                store,
                known,
                late,
            },
        })
    }
}

/// Signed day numbers as varints: small magnitudes, either sign, stay short.
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// The recorded run: replayed if it is of this state, extended if it
/// is of an earlier one. A damaged one is reported (and rewritten by this
/// scan's walk).
pub fn last(memory: &Memory<'_>) -> Option<Run> {
    memory.intake.recall(Run::read)
}

pub fn remember(intake: &Intake<'_>, run: &Run) -> Result<(), String> {
    intake.record(&run.write())
}

/// Records this whole-history scan (the caller checks that its walk had no
/// warnings: those must be found again). A failure to write is only a
/// warning: the scan itself is done.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    repo: &gix::Repository,
    memory: &Memory<'_>,
    state: [u8; 32],
    graph: &Graph,
    lost: Option<&Graph>,
    messages: &[Finding],
    listed: usize,
    tally: &Tally,
    problems: &[Problem],
    base: Base,
    (kept, dropped): (&[Finding], &[Finding]),
) {
    let reachable: HashSet<ObjectId> = graph.nodes.iter().map(|n| n.id).collect();
    let message_commits = messages.iter().filter_map(|finding| match &finding.origin {
        Origin::CommitMessage { commit } => {
            let id = ObjectId::from_hex(commit.commit.as_bytes()).ok()?;
            Some(if reachable.contains(&id) {
                Place::Commit(id)
            } else {
                Place::Dangling(id)
            })
        }
        _ => None,
    });
    let commit_of = |found: Found| match found {
        Found::Commit(i) => Place::Commit(graph.nodes[i as usize].id),
        Found::Dangling(i) => match lost {
            Some(lost) => Place::Dangling(lost.nodes[i as usize].id),
            None => Place::Unreachable,
        },
        Found::Unreachable => Place::Unreachable,
    };
    let mut run = Run::new(
        state,
        Counts::of(tally, listed),
        &memory.with_findings(),
        message_commits,
        commit_of,
    )
    .with_carried(kept, dropped);
    run.problems = recorded(problems);
    run.base = base;
    if let Err(message) = remember(memory.intake, &run) {
        warn(tally, repo, message);
    }
}

/// Problems as a run keeps them: a message could quote input, and the
/// cache never holds a token.
pub(super) fn recorded(problems: &[Problem]) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|p| (p.path.clone(), crate::redact::redact_tokens(&p.message)))
        .collect()
}

/// Replays `run`: reads its commits (scanning their messages into the
/// findings, as a walk would), scans its blobs again, except those whose
/// every finding the walk dropped as carried, and drops the findings it
/// dropped. `None` when a recorded commit cannot be read after all: then
/// the caller walks.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    repo: &gix::Repository,
    packs: &Packs,
    rules: &RuleSet,
    options: &ScanOptions,
    tally: &Tally,
    memory: &Memory<'_>,
    run: &Run,
    mut findings: Vec<Finding>,
) -> Option<Vec<Finding>> {
    let mut scanner =
        Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
    let plan = Plan::new(
        options.max_memory,
        budget::workers(options.threads),
        packs.objects(),
    );
    let mut reader = PackReader::new(repo, packs, plan.lister);
    let mut load = |ids: &[ObjectId], scanner: &mut Scanner<'_>, findings: &mut Vec<Finding>| {
        let within: HashSet<ObjectId> = ids.iter().copied().collect();
        commits::load(
            repo,
            &mut reader,
            ids,
            Some(&within),
            scanner,
            options,
            tally,
            findings,
        )
    };
    // Given back if the replay is abandoned, so the walk counts alone.
    let bytes_before = tally.bytes.load(Ordering::Relaxed);
    let graph = load(&run.commits, &mut scanner, &mut findings);
    let lost = load(&run.dangling, &mut scanner, &mut findings);
    let Some(mut jobs) = jobs_of(run, &graph, &lost) else {
        tally.bytes.store(bytes_before, Ordering::Relaxed);
        return None;
    };
    jobs.retain(|job| run.quiet.binary_search(&job.id).is_err());
    let sync = repo.clone().into_sync();
    let origin = |repo: &gix::Repository, job: &Job| {
        history::origin_of(repo, job, &graph, Some(&lost), options.show_secrets)
    };
    let (mut dispatch, inboxes) = blobs::queues(options.threads, None);
    for job in &jobs {
        dispatch.push(job.clone());
    }
    dispatch.flush();
    drop(dispatch);
    let found = blobs::scan(&sync, packs, inboxes, memory.intake, &origin, Some(memory));
    findings.extend(found.into_iter().filter(|finding| !run.carries(finding)));
    run.counts.restore(tally);
    let unread = run.counts.blobs.saturating_sub(jobs.len() as u64);
    memory.intake.known_clean(unread);
    for (place, message) in &run.problems {
        tally.problem(Problem::new(place, message));
    }
    Some(findings)
}

/// The recorded blobs as jobs of the reloaded graphs; `None` if a
/// recorded commit is not in them (it could not be read).
fn jobs_of(run: &Run, graph: &Graph, lost: &Graph) -> Option<Vec<Job>> {
    if graph.nodes.len() != run.commits.len() || lost.nodes.len() != run.dangling.len() {
        return None;
    }
    let index = |graph: &Graph| -> HashMap<ObjectId, u32> {
        graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i as u32))
            .collect()
    };
    let (reachable, dangling) = (index(graph), index(lost));
    let mut jobs = Vec::with_capacity(run.blobs.len());
    for (id, path, place) in &run.blobs {
        let found = match place {
            Place::Commit(commit) => Found::Commit(*reachable.get(commit)?),
            Place::Dangling(commit) => Found::Dangling(*dangling.get(commit)?),
            Place::Unreachable => Found::Unreachable,
        };
        jobs.push(Job {
            id: *id,
            path: path.clone(),
            found,
        });
    }
    Some(jobs)
}

/// What a history's listing depends on besides the rules: the commits the
/// refs lead to, every object the store holds (named by its pack files and
/// loose objects), and the shallow boundary. Cheap: a few directory reads.
pub fn state(repo: &gix::Repository, tips: &[ObjectId]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"tips");
    for tip in tips {
        hasher.update(tip.as_bytes());
    }
    let objects = repo.common_dir().join("objects");
    let mut dirs = vec![objects.clone()];
    if let Ok(text) = std::fs::read_to_string(objects.join("info").join("alternates")) {
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                dirs.push(objects.join(line));
            }
        }
    }
    for dir in &dirs {
        hasher.update(b"store");
        hasher.update(dir.as_os_str().as_encoded_bytes());
        listing(&mut hasher, &dir.join("pack"), true);
        for byte in 0..=255u8 {
            listing(&mut hasher, &dir.join(format!("{byte:02x}")), false);
        }
    }
    hasher.update(b"shallow");
    if let Ok(shallow) = std::fs::read(repo.git_dir().join("shallow")) {
        hasher.update(&shallow);
    }
    hasher.finalize().into()
}

/// Hashes the names in `dir` (sorted) and, with `stamps`, their sizes and
/// modification times: a pack is named by its content, but a rewritten
/// one should not go unnoticed either.
fn listing(hasher: &mut Sha256, dir: &Path, stamps: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<(PathBuf, u64, u128)> = entries
        .flatten()
        .map(|entry| {
            let (size, modified) = if stamps {
                entry.metadata().map_or((0, 0), |m| {
                    let modified = m
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos());
                    (m.len(), modified)
                })
            } else {
                (0, 0)
            };
            (entry.path(), size, modified)
        })
        .collect();
    names.sort();
    for (name, size, modified) in names {
        hasher.update(name.as_os_str().as_encoded_bytes());
        hasher.update(size.to_le_bytes());
        hasher.update(modified.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_round_trips_and_a_cut_one_reads_as_none() {
        let id = |b: u8| ObjectId::from_bytes_or_panic(&[b; 20]);
        let run = Run {
            state: [7; 32],
            counts: Counts {
                files: 10,
                bytes: 1 << 33,
                binary: 1,
                large: 2,
                archives: 0,
                members: 0,
                blobs: 13,
                activity: CommitActivity::from_entries([(-3, 1), (0, 2), (19_800, 40)])
                    .expect("days in order"),
            },
            commits: vec![id(1), id(2)],
            dangling: vec![id(3)],
            blobs: vec![
                (id(4), "a/b.txt".into(), Place::Commit(id(1))),
                (id(5), "c".into(), Place::Dangling(id(3))),
                (id(6), "".into(), Place::Unreachable),
            ],
            problems: vec![("repo".into(), "2 blob(s) missing".into())],
            carried: vec![Carried {
                blob: id(4),
                rule: "private-key".into(),
                line: 3,
                column: 1,
                fingerprint: "754167d30e762749".into(),
            }],
            quiet: vec![id(4)],
            base: Base {
                tips: vec![id(1)],
                store: Some(Store {
                    packs: vec![(b"pack-1.pack".to_vec(), 1 << 30, 17)],
                    loose: Ids::new(vec![id(9), id(8)]),
                }),
                known: Ids::new(vec![id(2), id(1), id(4)]),
                late: Ids::new(vec![id(3), id(5), id(6)]),
            },
        };
        let bytes = run.write();
        assert_eq!(Run::read(&bytes), Some(run));
        for len in 0..bytes.len() {
            assert_eq!(Run::read(&bytes[..len]), None);
        }
    }

    #[test]
    fn ids_are_found_by_binary_search_and_unsorted_ones_are_refused() {
        let id = |b: u8| ObjectId::from_bytes_or_panic(&[b; 20]);
        let ids = Ids::new((0..200).rev().map(|b| id(b as u8 + 10)).collect());
        assert_eq!(ids.len(), 200);
        assert!(ids.contains(&id(10)) && ids.contains(&id(209)) && ids.contains(&id(100)));
        assert!(!ids.contains(&id(9)) && !ids.contains(&id(210)));
        let more = ids.with([id(5), id(10), id(250)]);
        assert_eq!(more.len(), 202);
        assert!(more.contains(&id(5)) && more.contains(&id(250)) && more.contains(&id(11)));
        assert_eq!(Ids::from_bytes(&more.0), Some(more.clone()), "still sorted");
        let mut unsorted = id(2).as_bytes().to_vec();
        unsorted.extend_from_slice(id(1).as_bytes());
        assert_eq!(Ids::from_bytes(&unsorted), None);
        assert_eq!(Ids::from_bytes(&unsorted[..30]), None);
        // The same first 8 bytes: the rest decides.
        let (mut a, mut b) = ([5u8; 20], [5u8; 20]);
        a[19] = 2;
        b[19] = 1;
        assert_eq!(Ids::from_bytes(&[a, b].concat()), None);
        assert_eq!(
            Ids::from_bytes(&[b, a].concat()).map(|ids| ids.len()),
            Some(2)
        );
        assert_eq!(Ids::from_bytes(&[a, a].concat()), None, "repeated");
    }

    #[test]
    fn zigzag_keeps_the_sign_of_days_before_1970() {
        for day in [0, 1, -1, 19_800, -25_000, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(day)), day);
        }
        assert!(zigzag(-1) < 4 && zigzag(1) < 4);
    }
}
