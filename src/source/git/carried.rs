//! A token is reported at the commit that introduced it, not again at every
//! later edit of its file: each edit makes a new blob, and the new blob
//! still holds the old token. A finding in a blob is dropped when a parent
//! of the introducing commit already had the same token (same rule, same
//! value) at the same path; that parent's version carries the report. In a
//! range, that also drops tokens the base already had, so a pull request
//! that edits a file is not blamed for the token it did not add.
//!
//! Only blobs with findings are looked at, so the cost is negligible.

use std::collections::{HashMap, HashSet};

use gix::hash::ObjectId;
use gix::objs::Find as _;

use super::commits::Graph;
use crate::model::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::ScanOptions;
use crate::scanner::Scanner;

/// (rule id, secret value) pairs.
type Tokens = HashSet<(String, String)>;

pub fn drop_carried(
    repo: &gix::Repository,
    graph: &Graph,
    findings: Vec<Finding>,
    rules: &RuleSet,
    options: &ScanOptions,
) -> Vec<Finding> {
    split_carried(repo, graph, findings, rules, options).0
}

/// The findings kept, and those dropped as carried (a recorded run keeps
/// which, so that its replay needs neither the parents' blobs nor the
/// blobs whose every token was carried).
pub fn split_carried(
    repo: &gix::Repository,
    graph: &Graph,
    findings: Vec<Finding>,
    rules: &RuleSet,
    options: &ScanOptions,
) -> (Vec<Finding>, Vec<Finding>) {
    let index: HashMap<ObjectId, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let trees: HashMap<ObjectId, ObjectId> = graph.nodes.iter().map(|n| (n.id, n.tree)).collect();
    let mut scanner =
        Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
    let mut before: HashMap<(usize, String), Tokens> = HashMap::new();
    findings.into_iter().partition(|finding| {
        let Origin::Commit { commit, .. } = &finding.origin else {
            return true;
        };
        let Some(&node) = ObjectId::from_hex(commit.commit.as_bytes())
            .ok()
            .and_then(|id| index.get(&id))
        else {
            return true;
        };
        let tokens = before
            .entry((node, finding.path.clone()))
            .or_insert_with(|| {
                parent_tokens(repo, graph, node, &trees, &finding.path, &mut scanner)
            });
        !tokens.contains(&(finding.rule_id.clone(), finding.secret.expose().to_string()))
    })
}

/// The tokens at `path` in each parent of `graph.nodes[node]`.
fn parent_tokens(
    repo: &gix::Repository,
    graph: &Graph,
    node: usize,
    trees: &HashMap<ObjectId, ObjectId>,
    path: &str,
    scanner: &mut Scanner<'_>,
) -> Tokens {
    let mut tokens = Tokens::new();
    let mut buf = Vec::new();
    let mut found = Vec::new();
    for parent in graph.parents(node) {
        let Some(tree) = trees
            .get(parent)
            .copied()
            .or_else(|| tree_of_commit(repo, parent))
        else {
            continue;
        };
        let Some(blob) = blob_at(repo, tree, path) else {
            continue;
        };
        if let Ok(Some(data)) = repo.objects.try_find(&blob, &mut buf) {
            found.clear();
            scanner.scan_bytes(data.data, path, &Origin::Stdin, &mut found);
            tokens.extend(
                found
                    .iter()
                    .map(|f| (f.rule_id.clone(), f.secret.expose().to_string())),
            );
        }
    }
    tokens
}

/// The tree of a commit outside the graph (a range's base).
fn tree_of_commit(repo: &gix::Repository, id: &ObjectId) -> Option<ObjectId> {
    let commit = repo.find_commit(*id).ok()?;
    commit.tree_id().ok().map(|id| id.detach())
}

fn blob_at(repo: &gix::Repository, tree: ObjectId, path: &str) -> Option<ObjectId> {
    let tree = repo.find_tree(tree).ok()?;
    let entry = tree.lookup_entry(path.split('/')).ok()??;
    let mode = entry.mode();
    (!mode.is_tree() && !mode.is_commit()).then(|| entry.object_id())
}
