//! The commit graph of a history scan: every commit reachable from the tips
//! (optionally only those of a range), read once, its message scanned on
//! the way, then put in an order where parents come before children, so
//! that the first commit to contain a blob is the one that introduced it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

use gix::hash::ObjectId;
use gix::objs::Find as _;

use super::one_line;
use super::packread::PackReader;
use super::{commit_meta, warn};
use crate::model::{CommitMeta, Finding, Origin};
use crate::scan::{ScanOptions, Tally};
use crate::scanner::Scanner;

/// The path shown for a finding in a commit message.
pub const MESSAGE_PATH: &str = "<commit message>";

/// One commit of the graph: what ordering and the tree walk need, 64
/// bytes, plus 20 a parent in [`Graph`]'s shared list (no allocation of
/// its own). Author, date and summary strings (another 100 to 300 bytes a
/// commit) are made only for the few commits a finding names.
pub struct Node {
    pub id: ObjectId,
    pub tree: ObjectId,
    /// Committer time, seconds since the epoch: orders unrelated commits.
    pub time: i64,
    /// Where this commit's parents are in [`Graph::parents`]: start, count.
    parents: (u32, u32),
    /// Set at load time for a commit whose message holds a token (its
    /// summary must mask it); otherwise on first use, by [`Node::meta`].
    meta: OnceLock<Box<CommitMeta>>,
}

impl Node {
    /// The commit's provenance, read again from the object store the first
    /// time a finding needs it. A commit that cannot be read any more (it
    /// was read a moment ago) is named by its id alone.
    pub fn meta(&self, repo: &gix::Repository, show_secrets: bool) -> &CommitMeta {
        self.meta.get_or_init(|| {
            let mut buf = Vec::new();
            let decoded = repo
                .objects
                .try_find(&self.id, &mut buf)
                .ok()
                .flatten()
                .and_then(|data| data.decode().ok())
                .and_then(|object| object.into_commit());
            Box::new(match decoded {
                // No token in the message (else the meta would be set):
                // nothing to mask in its summary.
                Some(commit) => commit_meta(&self.id, &commit, &[], show_secrets),
                None => CommitMeta {
                    commit: self.id.to_string(),
                    author: String::new(),
                    date: String::new(),
                    summary: String::new(),
                },
            })
        })
    }
}

pub struct Graph {
    pub nodes: Vec<Node>,
    /// Every node's parents, one after the other.
    parents: Vec<ObjectId>,
    /// Parents that exist but lie outside `within` (a range's base).
    pub boundary: Vec<ObjectId>,
}

impl Graph {
    /// The parents of `nodes[i]`.
    pub fn parents(&self, i: usize) -> &[ObjectId] {
        let (start, count) = self.nodes[i].parents;
        let start = start as usize;
        &self.parents[start..start + count as usize]
    }
}

/// Reads the commits reachable from `tips` with `reader`, not following
/// parents outside `within` when it is given, and scans each commit
/// message into `out`.
#[allow(clippy::too_many_arguments)]
pub fn load(
    repo: &gix::Repository,
    reader: &mut PackReader<'_>,
    tips: &[ObjectId],
    within: Option<&HashSet<ObjectId>>,
    scanner: &mut Scanner<'_>,
    options: &ScanOptions,
    tally: &Tally,
    out: &mut Vec<Finding>,
) -> Graph {
    let shallow = repo.is_shallow().unwrap_or(false);
    let mut graph = Graph {
        nodes: Vec::new(),
        parents: Vec::new(),
        boundary: Vec::new(),
    };
    let mut queued: HashSet<ObjectId> = tips.iter().copied().collect();
    let mut queue: VecDeque<ObjectId> = tips.iter().copied().collect();
    let mut buf = Vec::new();
    let mut local = Vec::new();
    let mut missing: Vec<ObjectId> = Vec::new();
    let mut corrupt = 0usize;
    while let Some(id) = queue.pop_front() {
        if within.is_some_and(|set| !set.contains(&id)) {
            graph.boundary.push(id);
            continue;
        }
        let data = match reader.read_ref(&id, &mut buf) {
            Ok(Some(found)) => found,
            Ok(None) => {
                missing.push(id);
                continue;
            }
            Err(e) => {
                corrupt += 1;
                if corrupt <= super::MAX_OBJECT_WARNINGS {
                    warn(
                        tally,
                        repo,
                        format!("cannot read commit {id}: {}", one_line(&e)),
                    );
                }
                continue;
            }
        };
        let decoded = match data {
            (gix::object::Kind::Commit, data) => {
                gix::objs::CommitRef::from_bytes(data, repo.object_hash()).ok()
            }
            _ => None,
        };
        let commit = match decoded {
            Some(commit) => commit,
            None => {
                corrupt += 1;
                if corrupt <= super::MAX_OBJECT_WARNINGS {
                    warn(
                        tally,
                        repo,
                        format!("object {id} is not a valid commit; skipped"),
                    );
                }
                continue;
            }
        };
        local.clear();
        scanner.scan_bytes(commit.message, MESSAGE_PATH, &Origin::Stdin, &mut local);
        tally.bytes.fetch_add(
            commit.message.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let meta = OnceLock::new();
        if !local.is_empty() {
            let secrets: Vec<_> = local.iter().map(|f| &f.secret).collect();
            let known = commit_meta(&id, &commit, &secrets, options.show_secrets);
            for mut finding in local.drain(..) {
                finding.origin = Origin::CommitMessage {
                    commit: known.clone(),
                };
                out.push(finding);
            }
            let _ = meta.set(Box::new(known));
        }
        let start = graph.parents.len() as u32;
        for parent in commit.parents() {
            graph.parents.push(parent);
            if queued.insert(parent) {
                queue.push_back(parent);
            }
        }
        let count = graph.parents.len() as u32 - start;
        graph.nodes.push(Node {
            id,
            tree: commit.tree(),
            time: commit.committer().map(|s| s.seconds()).unwrap_or(0),
            parents: (start, count),
            meta,
        });
    }
    // The queue's set is the largest thing here: gone before the walk.
    drop(queued);
    graph.nodes.shrink_to_fit();
    graph.parents.shrink_to_fit();
    if !missing.is_empty() {
        let message = if shallow {
            format!(
                "shallow clone: history stops at {} missing parent commit(s); older blobs are \
                 attributed to the oldest commit present (`git fetch --unshallow` to scan all)",
                missing.len()
            )
        } else {
            format!(
                "{} commit(s) missing from the object store (first: {}); history behind them \
                 was not scanned",
                missing.len(),
                missing[0]
            )
        };
        warn(tally, repo, message);
    }
    if corrupt > super::MAX_OBJECT_WARNINGS {
        warn(tally, repo, format!("{corrupt} unreadable commits in all"));
    }
    graph
}

/// Indexes of `nodes` with every parent before its children; among commits
/// ready at the same time the oldest (then lowest id) goes first, so the
/// order is the same on every run.
///
/// Children are kept as one list sorted by parent (8 bytes an edge), not a
/// list per commit.
pub fn topo_order(graph: &Graph) -> Vec<usize> {
    let nodes = &graph.nodes;
    let index: HashMap<ObjectId, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i as u32))
        .collect();
    let mut waiting = vec![0u32; nodes.len()];
    // (parent, child) pairs, sorted: a parent's children are a run.
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(graph.parents.len());
    let mut parents: Vec<u32> = Vec::new();
    for (i, wait) in waiting.iter_mut().enumerate() {
        parents.clear();
        parents.extend(
            graph
                .parents(i)
                .iter()
                .filter_map(|p| index.get(p).copied()),
        );
        parents.sort_unstable();
        parents.dedup();
        *wait = parents.len() as u32;
        edges.extend(parents.iter().map(|&p| (p, i as u32)));
    }
    drop(index);
    edges.sort_unstable();
    let children = |p: usize| {
        let from = edges.partition_point(|&(q, _)| (q as usize) < p);
        edges[from..]
            .iter()
            .take_while(move |&&(q, _)| q as usize == p)
            .map(|&(_, c)| c as usize)
    };
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId, usize)>> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| waiting[*i] == 0)
        .map(|(i, n)| Reverse((n.time, n.id, i)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        for child in children(i) {
            waiting[child] -= 1;
            if waiting[child] == 0 {
                let n = &nodes[child];
                ready.push(Reverse((n.time, n.id, child)));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(nodes: &[(u8, i64, &[u8])]) -> Graph {
        let id = |b: u8| ObjectId::from_bytes_or_panic(&[b; 20]);
        let mut graph = Graph {
            nodes: Vec::new(),
            parents: Vec::new(),
            boundary: Vec::new(),
        };
        for &(n, time, parents) in nodes {
            let start = graph.parents.len() as u32;
            graph.parents.extend(parents.iter().map(|&p| id(p)));
            graph.nodes.push(Node {
                id: id(n),
                tree: id(0),
                time,
                parents: (start, parents.len() as u32),
                meta: OnceLock::new(),
            });
        }
        graph
    }

    #[test]
    fn parents_come_first_even_with_skewed_clocks_and_oldest_breaks_ties() {
        // 1 <- 2 <- 4 (merge of 2 and 3), 1 <- 3; 3's clock is behind 1's;
        // 9's parent is missing (a shallow boundary).
        let graph = graph(&[
            (4, 40, &[2, 3]),
            (2, 20, &[1]),
            (3, 5, &[1]),
            (1, 10, &[]),
            (9, 1, &[8]),
        ]);
        let order: Vec<u8> = topo_order(&graph)
            .into_iter()
            .map(|i| graph.nodes[i].id.as_bytes()[0])
            .collect();
        assert_eq!(order, vec![9, 1, 3, 2, 4]);
    }
}
