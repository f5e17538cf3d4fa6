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
use super::{commit_meta, warn};
use crate::model::{CommitMeta, Finding, Origin};
use crate::scan::{ScanOptions, Tally};
use crate::scanner::Scanner;

/// The path shown for a finding in a commit message.
pub const MESSAGE_PATH: &str = "<commit message>";

/// One commit of the graph: what ordering and the tree walk need, about
/// 100 bytes. Author, date and summary strings (another 100 to 300 bytes a
/// commit) are made only for the few commits a finding names.
pub struct Node {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Box<[ObjectId]>,
    /// Committer time, seconds since the epoch: orders unrelated commits.
    pub time: i64,
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
    /// Parents that exist but lie outside `within` (a range's base).
    pub boundary: Vec<ObjectId>,
}

/// Reads the commits reachable from `tips`, not following parents outside
/// `within` when it is given, and scans each commit message into `out`.
pub fn load(
    repo: &gix::Repository,
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
        let data = match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(data)) => data,
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
        let commit = match data.decode().map(|o| o.into_commit()) {
            Ok(Some(commit)) => commit,
            _ => {
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
        let parents: Box<[ObjectId]> = commit.parents().collect();
        for parent in &parents {
            if queued.insert(*parent) {
                queue.push_back(*parent);
            }
        }
        graph.nodes.push(Node {
            id,
            tree: commit.tree(),
            parents,
            time: commit.committer().map(|s| s.seconds()).unwrap_or(0),
            meta,
        });
    }
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
pub fn topo_order(nodes: &[Node]) -> Vec<usize> {
    let index: HashMap<ObjectId, usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut waiting = vec![0usize; nodes.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let mut parents: Vec<usize> = node
            .parents
            .iter()
            .filter_map(|p| index.get(p).copied())
            .collect();
        parents.sort_unstable();
        parents.dedup();
        waiting[i] = parents.len();
        for p in parents {
            children[p].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId, usize)>> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| waiting[*i] == 0)
        .map(|(i, n)| Reverse((n.time, n.id, i)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        for &child in &children[i] {
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

    fn node(n: u8, time: i64, parents: &[u8]) -> Node {
        let id = |b: u8| ObjectId::from_bytes_or_panic(&[b; 20]);
        Node {
            id: id(n),
            tree: id(0),
            parents: parents.iter().map(|&p| id(p)).collect(),
            time,
            meta: OnceLock::new(),
        }
    }

    #[test]
    fn parents_come_first_even_with_skewed_clocks_and_oldest_breaks_ties() {
        // 1 <- 2 <- 4 (merge of 2 and 3), 1 <- 3; 3's clock is behind 1's;
        // 9's parent is missing (a shallow boundary).
        let nodes = vec![
            node(4, 40, &[2, 3]),
            node(2, 20, &[1]),
            node(3, 5, &[1]),
            node(1, 10, &[]),
            node(9, 1, &[8]),
        ];
        let order: Vec<u8> = topo_order(&nodes)
            .into_iter()
            .map(|i| nodes[i].id.as_bytes()[0])
            .collect();
        assert_eq!(order, vec![9, 1, 3, 2, 4]);
    }
}
