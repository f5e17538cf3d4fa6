//! `--history`: every blob in the repository, each distinct blob scanned
//! once, reported at the commit that introduced it; blobs that no ref
//! reaches any more; commit and annotated tag messages. With a range
//! (`A..B`), only the blobs and messages of the commits in it.

use std::collections::HashSet;
use std::sync::OnceLock;

use gix::hash::ObjectId;
use gix::objs::Find as _;

use super::blobs::Memory;
use super::budget::{self, Plan};
use super::commits::{self, Graph};
use super::introduce::{Found, Job, Walker};
use super::one_line;
use super::packread::Packs;
use super::{blobs, carried, describe_signature, extend, masked_summary, replay, warn, GitError};
use crate::model::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::intake::Intake;
use crate::scan::{ScanOptions, Tally};
use crate::scanner::Scanner;

/// The path shown for a blob that no commit reachable from a ref has.
pub const UNREACHABLE_PATH: &str = "<unreachable blob>";
/// The path shown for a finding in an annotated tag's message.
pub const TAG_PATH: &str = "<tag message>";

#[allow(clippy::too_many_arguments)]
pub fn scan(
    repo: &gix::Repository,
    rules: &RuleSet,
    options: &ScanOptions,
    range: Option<&str>,
    tally: &Tally,
    intake: &Intake<'_>,
) -> Result<Vec<Finding>, GitError> {
    let mut findings = Vec::new();
    let mut scanner =
        Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
    let packs = Packs::open(repo);
    let plan = Plan::new(
        options.max_memory,
        budget::workers(options.threads),
        packs.objects(),
    );
    // A whole history sees every object: its set is sized for them once.
    let objects = if range.is_none() {
        packs.objects() as usize
    } else {
        0
    };
    let mut walker = Walker::new(repo, &packs, plan.lister, objects);
    let memory = intake.remembers_blobs().then(|| Memory::new(intake));
    // What the listing depends on, to record this run (whole histories only).
    let mut state = None;

    let graph = match range {
        Some(spec) => {
            let (from, to) = parse_range(repo, spec)?;
            let in_range = range_commits(repo, from, to, tally);
            let graph = commits::load(
                repo,
                walker.reader(),
                &[to],
                Some(&in_range),
                &mut scanner,
                options,
                tally,
                &mut findings,
            );
            mark_base(repo, &graph, &mut walker);
            graph
        }
        None => {
            let tips = tips(
                repo,
                &mut walker,
                &mut scanner,
                options,
                tally,
                &mut findings,
            )?;
            if let Some(memory) = &memory {
                let now = replay::state(repo, &tips);
                if let Some(run) = replay::last(memory) {
                    let done = if run.state == now {
                        replay::run(
                            repo,
                            &packs,
                            rules,
                            options,
                            tally,
                            memory,
                            &run,
                            findings.clone(),
                        )
                    } else {
                        let extension = extend::Extension {
                            repo,
                            packs: &packs,
                            rules,
                            options,
                            tally,
                            memory,
                            plan: &plan,
                        };
                        extension.run(run, &tips, now, findings.clone())
                    };
                    if let Some(found) = done {
                        return Ok(found);
                    }
                }
                // Warnings so far (a bad ref, a damaged cache file) come
                // again or are fixed next time; the walk's own are
                // recorded with the run.
                state = Some((now, tally.problem_count(), tips.clone()));
            }
            commits::load(
                repo,
                walker.reader(),
                &tips,
                None,
                &mut scanner,
                options,
                tally,
                &mut findings,
            )
        }
    };

    for node in &graph.nodes {
        walker.mark(node.id);
    }
    tally.commits_read(graph.nodes.iter().map(|n| n.time));
    // Filled once the commits no ref reaches are known, before any of
    // their blobs is sent to the workers.
    let lost: OnceLock<Graph> = OnceLock::new();
    let origin = |repo: &gix::Repository, job: &Job| {
        origin_of(repo, job, &graph, lost.get(), options.show_secrets)
    };

    // Listing the blobs is sequential (each commit needs what the earlier
    // ones had); scanning them runs on the other cores at the same time.
    let sync = repo.clone().into_sync();
    let (mut dispatch, inboxes) = blobs::queues(options.threads, Some(256));
    let (listed, found) = std::thread::scope(|scope| {
        let scanning =
            scope.spawn(|| blobs::scan(&sync, &packs, inboxes, intake, &origin, memory.as_ref()));
        let mut lister = Lister {
            repo,
            walker: &mut walker,
            scanner: &mut scanner,
            options,
            tally,
            dispatch: &mut dispatch,
            messages: &mut findings,
            count: 0,
            batch: Vec::with_capacity(blobs::BATCH),
            recording: state.is_some(),
            known: None,
            late: Vec::new(),
        };
        let listed = lister.list(&graph, range.is_none(), &lost);
        let seen = (lister.known.take(), std::mem::take(&mut lister.late));
        drop(dispatch);
        let found = match scanning.join() {
            Ok(found) => found,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (listed.map(|count| (count, seen)), found)
    });
    let (count, (known, late)) = listed?;
    if range.is_none() && graph.nodes.is_empty() && count == 0 && findings.is_empty() {
        return Err(GitError::NothingToScan {
            path: repo.git_dir().to_path_buf(),
            reason: "the repository has no commits and no objects".into(),
        });
    }
    let (kept, dropped) = carried::split_carried(repo, &graph, found, rules, options);
    if let (Some((state, problems, tips)), Some(memory)) = (state, &memory) {
        let base = replay::Base {
            tips,
            store: replay::Store::of(repo, &packs),
            known: known.unwrap_or_default(),
            late: replay::Ids::new(late),
        };
        replay::record(
            repo,
            memory,
            state,
            &graph,
            lost.get(),
            &findings,
            count,
            tally,
            &tally.problems_since(problems),
            base,
            (&kept, &dropped),
        );
    }
    findings.extend(kept);
    Ok(findings)
}

/// The path to show for a job's findings, and their provenance.
pub(super) fn origin_of(
    repo: &gix::Repository,
    job: &Job,
    graph: &Graph,
    lost: Option<&Graph>,
    show_secrets: bool,
) -> (String, Origin) {
    let blob = job.id.to_string();
    let path = String::from_utf8_lossy(&job.path).into_owned();
    match job.found {
        Found::Commit(i) => (
            path,
            Origin::Commit {
                commit: graph.nodes[i as usize].meta(repo, show_secrets).clone(),
                blob,
            },
        ),
        Found::Dangling(i) => match lost {
            Some(lost) => (
                path,
                Origin::UnreachableCommit {
                    commit: lost.nodes[i as usize].meta(repo, show_secrets).clone(),
                    blob,
                },
            ),
            None => (UNREACHABLE_PATH.to_string(), Origin::Unreachable { blob }),
        },
        Found::Unreachable => (UNREACHABLE_PATH.to_string(), Origin::Unreachable { blob }),
    }
}

/// Lists the blobs to scan and sends them to the workers in batches.
struct Lister<'a, 'r, 's> {
    repo: &'r gix::Repository,
    walker: &'a mut Walker<'r>,
    scanner: &'a mut Scanner<'s>,
    options: &'a ScanOptions,
    tally: &'a Tally,
    dispatch: &'a mut blobs::Dispatch,
    /// Findings in the messages of commits no ref reaches.
    messages: &'a mut Vec<Finding>,
    count: usize,
    batch: Vec<Job>,
    /// Whether the run is recorded: then what the reachable walk saw is
    /// kept in `known`, and what was listed after it in `late`.
    recording: bool,
    known: Option<replay::Ids>,
    late: Vec<ObjectId>,
}

impl Lister<'_, '_, '_> {
    /// Each reachable commit's new blobs; then (`unreachable`) those of the
    /// commits no ref reaches, whose graph goes into `lost`; then the blobs
    /// no commit has. Returns how many blobs were listed.
    fn list(
        &mut self,
        graph: &Graph,
        unreachable: bool,
        lost: &OnceLock<Graph>,
    ) -> Result<usize, GitError> {
        for i in commits::topo_order(graph) {
            self.walker.introduce(
                graph.nodes[i].tree,
                Found::Commit(i as u32),
                &mut self.batch,
            );
            self.flush(false);
        }
        if self.recording {
            self.known = Some(self.walker.snapshot());
        }
        if unreachable {
            let (dangling, bare) = self.walker.unseen(self.tally).map_err(GitError::Objects)?;
            // A rebased-away or amended commit is as leaked as a reachable
            // one: its message is scanned and its blobs are attributed to it.
            let only: HashSet<ObjectId> = dangling.iter().copied().collect();
            let graph = commits::load(
                self.repo,
                self.walker.reader(),
                &dangling,
                Some(&only),
                self.scanner,
                self.options,
                self.tally,
                self.messages,
            );
            for node in &graph.nodes {
                self.walker.mark(node.id);
            }
            self.tally.commits_read(graph.nodes.iter().map(|n| n.time));
            let order = commits::topo_order(&graph);
            let graph = lost.get_or_init(|| graph);
            if self.recording {
                self.late.extend(graph.nodes.iter().map(|n| n.id));
            }
            for i in order {
                self.walker.introduce(
                    graph.nodes[i].tree,
                    Found::Dangling(i as u32),
                    &mut self.batch,
                );
                self.note_late();
                self.flush(false);
            }
            for id in bare {
                if self.walker.mark(id) {
                    self.batch.push(Job {
                        id,
                        path: Default::default(),
                        found: Found::Unreachable,
                    });
                    self.note_late();
                    self.flush(false);
                }
            }
        }
        self.walker.warn_missing(self.tally);
        self.flush(true);
        Ok(self.count)
    }

    /// Keeps the blobs just listed, after the reachable ones, in `late`.
    fn note_late(&mut self) {
        if self.recording {
            self.late.extend(self.batch.iter().map(|job| job.id));
        }
    }

    /// Hands the blobs listed so far to the workers' queues (a queue's
    /// batch goes out once full); `all`: the batches not full yet too.
    fn flush(&mut self, all: bool) {
        if !self.batch.is_empty() {
            self.count += self.batch.len();
            self.tally.progress.set_total(self.count as u64, "blobs");
            for job in self.batch.drain(..) {
                self.dispatch.push(job);
            }
        }
        if all {
            self.dispatch.flush();
        }
    }
}

/// The commits every ref and HEAD lead to, peeling annotated tags, whose
/// messages are scanned on the way. Tags are marked as seen so they do not
/// count as unreachable objects.
fn tips(
    repo: &gix::Repository,
    walker: &mut Walker<'_>,
    scanner: &mut Scanner<'_>,
    options: &ScanOptions,
    tally: &Tally,
    out: &mut Vec<Finding>,
) -> Result<Vec<ObjectId>, GitError> {
    let mut starts: Vec<(String, ObjectId)> = Vec::new();
    if let Ok(head) = repo.head_id() {
        // A detached HEAD may be on no branch at all.
        starts.push(("HEAD".into(), head.detach()));
    }
    let platform = repo
        .references()
        .map_err(|e| GitError::References(one_line(&e)))?;
    let refs = platform
        .all()
        .map_err(|e| GitError::References(one_line(&e)))?;
    for reference in refs {
        match reference {
            Ok(reference) => {
                if let Some(id) = reference.target().try_id() {
                    let name = reference.name().shorten().to_string();
                    starts.push((name, id.to_owned()));
                }
            }
            Err(e) => warn(
                tally,
                repo,
                format!("cannot read a reference: {}", one_line(&e)),
            ),
        }
    }

    let mut tips = Vec::new();
    let mut buf = Vec::new();
    let mut local = Vec::new();
    for (name, start) in starts {
        let mut id = start;
        // Follow tag -> tag -> … -> commit; a chain longer than this is corrupt.
        for _ in 0..16 {
            // Most refs name a commit: its kind is in the pack entry's
            // header, and only a tag is read whole (19,227 refs on
            // azure-pipelines-tasks: reading each commit was a fifth of a
            // replay's time). A commit's own problems are the walk's.
            match walker.reader().header(&id, None) {
                Ok(Some((gix::object::Kind::Commit, _))) => {
                    tips.push(id);
                    break;
                }
                Ok(Some((gix::object::Kind::Tag, _))) => {}
                // Missing, unreadable or a tree or blob: said below.
                _ => {}
            }
            let kind = match walker.reader().read(&id, &mut buf) {
                Ok(Some(kind)) => kind,
                Ok(None) => {
                    warn(tally, repo, format!("{name}: object {id} is missing"));
                    break;
                }
                Err(e) => {
                    warn(
                        tally,
                        repo,
                        format!("{name}: cannot read {id}: {}", one_line(&e)),
                    );
                    break;
                }
            };
            match kind {
                gix::object::Kind::Commit => {
                    tips.push(id);
                    break;
                }
                gix::object::Kind::Tag => {
                    let Ok(tag) = gix::objs::TagRef::from_bytes(&buf, repo.object_hash()) else {
                        warn(tally, repo, format!("{name}: tag {id} is corrupt"));
                        break;
                    };
                    let next = tag.target();
                    if walker.mark(id) {
                        local.clear();
                        scanner.scan_bytes(tag.message, TAG_PATH, &Origin::Stdin, &mut local);
                        let (author, date) = describe_signature(tag.tagger().ok().flatten());
                        let tag_name = {
                            let secrets: Vec<_> = local.iter().map(|f| &f.secret).collect();
                            masked_summary(tag.name, &secrets, options.show_secrets)
                        };
                        for mut finding in local.drain(..) {
                            finding.origin = Origin::TagMessage {
                                tag: tag_name.clone(),
                                object: id.to_string(),
                                author: author.clone(),
                                date: date.clone(),
                            };
                            out.push(finding);
                        }
                    }
                    id = next;
                }
                // A ref to a tree or blob: its blobs are still scanned, as
                // objects that no commit reaches.
                _ => break,
            }
        }
    }
    tips.sort_unstable();
    tips.dedup();
    Ok(tips)
}

/// Resolves `A..B` to two commits.
fn parse_range(repo: &gix::Repository, spec: &str) -> Result<(ObjectId, ObjectId), GitError> {
    let error = |message: String| GitError::Range {
        spec: spec.to_string(),
        message,
    };
    if !spec.contains("..") || spec.contains("...") {
        return Err(error(
            "expected A..B (the commits reachable from B but not from A)".into(),
        ));
    }
    let parsed = repo
        .rev_parse(spec)
        .map_err(|e| error(one_line(&e)))?
        .detach();
    let (from, to) = match parsed {
        gix::revision::plumbing::Spec::Range { from, to } => (from, to),
        _ => return Err(error("expected A..B".into())),
    };
    let peel = |id: ObjectId| -> Result<ObjectId, GitError> {
        let object = repo.find_object(id).map_err(|e| error(one_line(&e)))?;
        let commit = object
            .peel_to_commit()
            .map_err(|e| error(format!("{id} is not a commit: {}", one_line(&e))))?;
        Ok(commit.id)
    };
    Ok((peel(from)?, peel(to)?))
}

/// The commits reachable from `to` and not from `from`.
fn range_commits(
    repo: &gix::Repository,
    from: ObjectId,
    to: ObjectId,
    tally: &Tally,
) -> HashSet<ObjectId> {
    let mut set = HashSet::new();
    let walk = repo.rev_walk([to]).with_hidden([from]).all();
    match walk {
        Ok(walk) => {
            for info in walk {
                match info {
                    Ok(info) => {
                        set.insert(info.id);
                    }
                    Err(e) => {
                        warn(
                            tally,
                            repo,
                            format!("walking the range stopped early: {}", one_line(&e)),
                        );
                        break;
                    }
                }
            }
        }
        Err(e) => warn(
            tally,
            repo,
            format!("cannot walk the range: {}", one_line(&e)),
        ),
    }
    set
}

/// Marks the trees of the range's base commits as already present, so
/// only what the range's commits add is listed.
fn mark_base(repo: &gix::Repository, graph: &Graph, walker: &mut Walker<'_>) {
    let mut buf = Vec::new();
    for id in &graph.boundary {
        let tree = match repo.objects.try_find(id, &mut buf) {
            Ok(Some(data)) => data
                .decode()
                .ok()
                .and_then(|o| o.into_commit())
                .map(|c| c.tree()),
            _ => None,
        };
        if let Some(tree) = tree {
            walker.mark_tree(tree);
        }
    }
}
