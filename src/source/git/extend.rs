//! A `--history` scan after new commits, without walking the history again.
//!
//! The recorded run ([`replay`]) knows every object its walk of the
//! reachable commits saw and what it listed after them (the commits no ref
//! reaches and their blobs, blobs no commit has). When the refs moved
//! forward — new commits on top of what the run saw, a fetch, a new
//! branch — the new commits are those the tips reach without passing a
//! known one. Their trees are walked with the known objects counted as
//! seen, so only the trees they changed are read and only blobs no earlier
//! commit had are listed: the same blobs, at the same commits and paths,
//! as a whole walk would list. The run's own findings are replayed as an
//! unchanged history's are, the new blobs scanned, and the extended run
//! recorded.
//!
//! Anything else falls back to the whole walk (`None`), checked before
//! anything is counted or reported: a pack or loose object of the run gone
//! (a `git gc`), a ref rewound or deleted so that a commit the run reached
//! may be unreachable now, a new commit that cannot be read, a commit the
//! run saw as unreachable reached again, or a new commit no ref reaches.
//!
//! A blob the run listed as unreachable that a new commit now has is
//! reported at that commit, as a whole walk would, and stays counted once.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use gix::hash::ObjectId;

use super::blobs::{self, Memory};
use super::budget::Plan;
use super::commits::{self, Graph};
use super::introduce::{Found, Job, Walker};
use super::packread::Packs;
use super::replay::{self, Base, Counts, Place, Run, Store};
use super::{carried, history, warn};
use crate::model::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::{ScanOptions, Tally};
use crate::scanner::Scanner;

/// What extending a run needs of the scan.
pub(super) struct Extension<'a, 'r> {
    pub repo: &'r gix::Repository,
    pub packs: &'r Packs,
    pub rules: &'a RuleSet,
    pub options: &'a ScanOptions,
    pub tally: &'a Tally,
    pub memory: &'a Memory<'a>,
    pub plan: &'a Plan,
}

/// What is new since the run, found before anything is reported.
struct Delta<'r> {
    walker: Walker<'r>,
    graph: Graph,
    /// Findings in the new commits' messages, and the bytes they made.
    messages: Vec<Finding>,
    message_bytes: u64,
    jobs: Vec<Job>,
    /// Blobs the run listed late (with findings) that a new commit has.
    moved: HashSet<ObjectId>,
    /// New blobs no commit has.
    unreachable: Vec<ObjectId>,
    store: Store,
}

impl<'a, 'r> Extension<'a, 'r> {
    /// Extends `run` to the history the refs lead to now (`tips`, whose
    /// state is `state`): the scan's findings, or `None` for a whole walk.
    /// `findings` are those found before (annotated tags' messages).
    pub fn run(
        &self,
        mut run: Run,
        tips: &[ObjectId],
        state: [u8; 32],
        findings: Vec<Finding>,
    ) -> Option<Vec<Finding>> {
        let bytes_before = self.tally.bytes.load(Ordering::Relaxed);
        let known = std::mem::take(&mut run.base.known);
        let Some(delta) = self.delta(&run, known, tips) else {
            // What the new commits' messages counted is given back.
            self.tally.bytes.store(bytes_before, Ordering::Relaxed);
            return None;
        };
        let Delta {
            walker,
            graph,
            messages,
            message_bytes,
            jobs,
            moved,
            unreachable,
            store,
        } = delta;

        // The run's own findings, as an unchanged history's (without the
        // blobs that moved to a new commit); this sets the counts to the
        // run's, and the new ones are added on top.
        let earlier = run.clone().without(&moved);
        let mut out = replay::run(
            self.repo,
            self.packs,
            self.rules,
            self.options,
            self.tally,
            self.memory,
            &earlier,
            findings,
        )?;
        let problems = self.tally.problem_count();
        self.tally.bytes.fetch_add(message_bytes, Ordering::Relaxed);
        self.tally.commits_read(graph.nodes.iter().map(|n| n.time));
        walker.warn_missing(self.tally);

        let memory = Memory::new(self.memory.intake);
        let sync = self.repo.clone().into_sync();
        let show = self.options.show_secrets;
        let origin =
            |repo: &gix::Repository, job: &Job| history::origin_of(repo, job, &graph, None, show);
        let scan = |jobs: Vec<Job>| {
            let (mut dispatch, inboxes) = blobs::queues(self.options.threads, None);
            for job in jobs {
                dispatch.push(job);
            }
            dispatch.flush();
            drop(dispatch);
            blobs::scan(
                &sync,
                self.packs,
                inboxes,
                self.memory.intake,
                &origin,
                Some(&memory),
            )
        };
        let (moved_jobs, jobs): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|job| moved.contains(&job.id));
        // The moved blobs were listed by the run already.
        let listed = jobs.len();
        let mut found = Vec::new();
        if !moved_jobs.is_empty() {
            // Counted by the run already, where it listed them.
            let counted = Counts::of(self.tally, 0);
            found = scan(moved_jobs);
            counted.restore(self.tally);
        }
        found.extend(scan(jobs));
        let (found, dropped) =
            carried::split_carried(self.repo, &graph, found, self.rules, self.options);

        // The extended run, recorded for the next scan.
        let added = Run::new(
            state,
            Counts::of(self.tally, run.counts.blobs as usize + listed),
            &memory.with_findings(),
            messages.iter().filter_map(|finding| match &finding.origin {
                Origin::CommitMessage { commit } => ObjectId::from_hex(commit.commit.as_bytes())
                    .ok()
                    .map(Place::Commit),
                _ => None,
            }),
            |found| match found {
                Found::Commit(i) => Place::Commit(graph.nodes[i as usize].id),
                Found::Dangling(_) | Found::Unreachable => Place::Unreachable,
            },
        )
        .with_carried(&found, &dropped);
        let mut next = Run {
            state,
            counts: added.counts,
            commits: merged(&run.commits, &added.commits),
            dangling: run.dangling,
            blobs: earlier.blobs,
            problems: run.problems,
            carried: merged_sorted(earlier.carried, added.carried),
            quiet: merged(&earlier.quiet, &added.quiet),
            base: Base {
                tips: tips.to_vec(),
                store: Some(store),
                known: walker.snapshot(),
                late: run.base.late.with(unreachable),
            },
        };
        next.blobs.extend(added.blobs);
        next.blobs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        next.problems
            .extend(replay::recorded(&self.tally.problems_since(problems)));
        if let Err(message) = replay::remember(self.memory.intake, &next) {
            warn(self.tally, self.repo, message);
        }

        out.extend(messages);
        out.extend(found);
        Some(out)
    }

    /// The new commits, what they introduced and the new objects no commit
    /// has; `None` when the run cannot be extended to them.
    fn delta(&self, run: &Run, known: replay::Ids, tips: &[ObjectId]) -> Option<Delta<'r>> {
        let base = &run.base;
        let before = base.store.as_ref()?;
        let store = Store::of(self.repo, self.packs)?;
        // Everything the run read must still be there, as it was.
        if !before.packs.iter().all(|pack| store.packs.contains(pack))
            || !before.loose.iter().all(|id| store.loose.contains(&id))
        {
            return None;
        }
        let new_packs: Vec<usize> = self
            .packs
            .names()
            .enumerate()
            .filter(|(_, name)| !before.packs.iter().any(|(old, _, _)| old == name))
            .map(|(p, _)| p)
            .collect();
        let new_loose: Vec<ObjectId> = store
            .loose
            .iter()
            .filter(|id| !before.loose.contains(id))
            .collect();

        let mut walker = Walker::new(self.repo, self.packs, self.plan.lister, 0).with_known(known);
        let new = self.new_commits(&mut walker, &base.late, tips)?;
        // Every commit the run saw must still be reachable: each of its
        // tips is a tip now or the parent of a new commit.
        let reached: HashSet<&ObjectId> = tips
            .iter()
            .chain(new.iter().flat_map(|(_, parents)| parents))
            .collect();
        if !base.tips.iter().all(|tip| reached.contains(tip)) {
            return None;
        }

        let within: HashSet<ObjectId> = new.iter().map(|(id, _)| *id).collect();
        let starts: Vec<ObjectId> = tips
            .iter()
            .filter(|tip| within.contains(*tip))
            .copied()
            .collect();
        let before_bytes = self.tally.bytes.load(Ordering::Relaxed);
        let mut scanner = Scanner::new(self.rules, self.options.show_secrets)
            .with_line_hashes(self.options.line_hashes);
        let mut messages = Vec::new();
        let problems = self.tally.problem_count();
        let graph = commits::load(
            self.repo,
            walker.reader(),
            &starts,
            Some(&within),
            &mut scanner,
            self.options,
            self.tally,
            &mut messages,
        );
        if graph.nodes.len() != within.len() || self.tally.problem_count() != problems {
            return None;
        }
        let message_bytes = self.tally.bytes.load(Ordering::Relaxed) - before_bytes;
        self.tally.bytes.store(before_bytes, Ordering::Relaxed);

        for node in &graph.nodes {
            walker.mark(node.id);
        }
        let mut jobs = Vec::new();
        for i in commits::topo_order(&graph) {
            walker.introduce(graph.nodes[i].tree, Found::Commit(i as u32), &mut jobs);
        }
        let with_findings: HashSet<ObjectId> = run.blobs.iter().map(|(id, _, _)| *id).collect();
        let mut moved = HashSet::new();
        jobs.retain(|job| {
            if !base.late.contains(&job.id) {
                return true;
            }
            // Listed late by the run, in a commit now: a clean one stays
            // counted as it was; one with findings is reported here.
            with_findings.contains(&job.id) && moved.insert(job.id)
        });

        // New objects no new commit has: unreachable blobs, or a commit
        // no ref reaches (left to the whole walk, which attributes it).
        let mut unreachable = Vec::new();
        let ids: Vec<ObjectId> = self.packs.ids_in(&new_packs).chain(new_loose).collect();
        for id in ids {
            if walker.knows(&id) || base.late.contains(&id) {
                continue;
            }
            match walker.reader().header(&id, None) {
                Ok(Some((gix::object::Kind::Commit, _))) => return None,
                Ok(Some((gix::object::Kind::Blob, _))) => {
                    if walker.mark(id) {
                        unreachable.push(id);
                        jobs.push(Job {
                            id,
                            path: Default::default(),
                            found: Found::Unreachable,
                        });
                    }
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        // The snapshot of what the walk saw must not count these as
        // reachable: they are kept apart, as late.
        for id in &unreachable {
            walker.forget(id);
        }
        Some(Delta {
            walker,
            graph,
            messages,
            message_bytes,
            jobs,
            moved,
            unreachable,
            store,
        })
    }

    /// The commits `tips` reach without passing one the run knew, each
    /// with its parents; `None` if one cannot be read or the run saw it as
    /// unreachable.
    fn new_commits(
        &self,
        walker: &mut Walker<'r>,
        late: &replay::Ids,
        tips: &[ObjectId],
    ) -> Option<Vec<(ObjectId, Vec<ObjectId>)>> {
        let mut new = Vec::new();
        let mut queued: HashSet<ObjectId> = HashSet::new();
        let mut queue: Vec<ObjectId> = Vec::new();
        let mut visit = |id: ObjectId, walker: &Walker<'r>, queue: &mut Vec<ObjectId>| {
            if walker.knows(&id) {
                return Some(());
            }
            if late.contains(&id) {
                return None;
            }
            if queued.insert(id) {
                queue.push(id);
            }
            Some(())
        };
        for tip in tips {
            visit(*tip, walker, &mut queue)?;
        }
        let mut buf = Vec::new();
        while let Some(id) = queue.pop() {
            let parents: Vec<ObjectId> = match walker.reader().read_ref(&id, &mut buf) {
                Ok(Some((gix::object::Kind::Commit, data))) => {
                    gix::objs::CommitRef::from_bytes(data, self.repo.object_hash())
                        .ok()?
                        .parents()
                        .collect()
                }
                _ => return None,
            };
            for parent in &parents {
                visit(*parent, walker, &mut queue)?;
            }
            new.push((id, parents));
        }
        Some(new)
    }
}

/// Two lists as one, sorted, without repeats.
fn merged_sorted<T: Ord>(mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
    a.extend(b);
    a.sort();
    a.dedup();
    a
}

/// Two sorted lists of ids as one, sorted, without repeats.
fn merged(a: &[ObjectId], b: &[ObjectId]) -> Vec<ObjectId> {
    let mut all: Vec<ObjectId> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}
