//! `--history`: every blob in the repository, each distinct blob scanned
//! once, reported at the commit that introduced it; blobs that no ref
//! reaches any more; commit and annotated tag messages. With a range
//! (`A..B`), only the blobs and messages of the commits in it.

use std::collections::HashSet;

use gix::hash::ObjectId;
use gix::objs::Find as _;

use super::commits::{self, Graph};
use super::introduce::{Found, Job, Walker};
use super::one_line;
use super::{blobs, carried, describe_signature, masked_summary, warn, GitError};
use crate::finding::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::{ScanOptions, Tally};
use crate::scanner::Scanner;

/// The path shown for a blob that no commit reachable from a ref has.
pub const UNREACHABLE_PATH: &str = "<unreachable blob>";
/// The path shown for a finding in an annotated tag's message.
pub const TAG_PATH: &str = "<tag message>";

pub fn scan(
    repo: &gix::Repository,
    rules: &RuleSet,
    options: &ScanOptions,
    range: Option<&str>,
    tally: &Tally,
) -> Result<Vec<Finding>, GitError> {
    let mut findings = Vec::new();
    let mut scanner = Scanner::new(rules, options.show_secrets);
    let mut walker = Walker::new(repo);

    let graph = match range {
        Some(spec) => {
            let (from, to) = parse_range(repo, spec)?;
            let in_range = range_commits(repo, from, to, tally);
            let graph = commits::load(
                repo,
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
            commits::load(
                repo,
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
    let origin = |job: &Job| match job.found {
        Found::Commit(i) => (
            String::from_utf8_lossy(&job.path).into_owned(),
            Origin::Commit {
                commit: graph.nodes[i as usize].meta.clone(),
                blob: job.id.to_string(),
            },
        ),
        Found::Unreachable => (
            UNREACHABLE_PATH.to_string(),
            Origin::Unreachable {
                blob: job.id.to_string(),
            },
        ),
    };

    // Listing the blobs is sequential (each commit needs what the earlier
    // ones had); scanning them runs on the other cores at the same time.
    let sync = repo.clone().into_sync();
    let (send, receive) = crossbeam_channel::bounded::<Vec<Job>>(256);
    let (listed, found) = std::thread::scope(|scope| {
        let scanning = scope.spawn(|| blobs::scan(&sync, receive, rules, options, tally, &origin));
        let listed = list_jobs(&graph, &mut walker, range.is_none(), tally, &send);
        drop(send);
        let found = match scanning.join() {
            Ok(found) => found,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (listed, found)
    });
    let (count, dangling) = listed?;
    if range.is_none() {
        // A rebased-away or amended commit's message is as leaked as its
        // blobs; only the messages are new here (the blobs were listed).
        let only: HashSet<ObjectId> = dangling.iter().copied().collect();
        commits::load(
            repo,
            &dangling,
            Some(&only),
            &mut scanner,
            options,
            tally,
            &mut findings,
        );
        if graph.nodes.is_empty() && count == 0 && findings.is_empty() {
            return Err(GitError::NothingToScan {
                path: repo.git_dir().to_path_buf(),
                reason: "the repository has no commits and no objects".into(),
            });
        }
    }
    findings.extend(carried::drop_carried(repo, &graph, found, rules, options));
    Ok(findings)
}

/// Sends each commit's new blobs, then (`unreachable`) the blobs no walk
/// reached, in batches; returns how many, and the commits no ref reaches.
fn list_jobs(
    graph: &Graph,
    walker: &mut Walker<'_>,
    unreachable: bool,
    tally: &Tally,
    send: &crossbeam_channel::Sender<Vec<Job>>,
) -> Result<(usize, Vec<ObjectId>), GitError> {
    let mut count = 0;
    let mut batch = Vec::with_capacity(blobs::BATCH);
    let mut flush = |batch: &mut Vec<Job>, at_least: usize| {
        if batch.len() >= at_least.max(1) {
            count += batch.len();
            tally.progress.set_total(count as u64, "blobs");
            // Fails only if the workers are gone (a panic, re-raised later).
            let _ = send.send(std::mem::take(batch));
        }
    };
    for i in commits::topo_order(&graph.nodes) {
        walker.introduce(graph.nodes[i].tree, i as u32, &mut batch);
        flush(&mut batch, blobs::BATCH);
    }
    walker.warn_missing(tally);
    let mut dangling = Vec::new();
    if unreachable {
        let mut rest = Vec::new();
        dangling = walker
            .unreachable(tally, &mut rest)
            .map_err(GitError::Objects)?;
        for job in rest {
            batch.push(job);
            flush(&mut batch, blobs::BATCH);
        }
    }
    flush(&mut batch, 1);
    tally.progress.set_total(count as u64, "blobs");
    Ok((count, dangling))
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
            let data = match repo.objects.try_find(&id, &mut buf) {
                Ok(Some(data)) => data,
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
            match data.kind {
                gix::object::Kind::Commit => {
                    tips.push(id);
                    break;
                }
                gix::object::Kind::Tag => {
                    let Ok(tag) = data.decode().map(|o| o.into_tag()) else {
                        warn(tally, repo, format!("{name}: tag {id} is corrupt"));
                        break;
                    };
                    let Some(tag) = tag else { break };
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
