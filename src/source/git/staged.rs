//! `--staged`: what the next commit would add, read from the index and the
//! object store — never from the work tree, so a token staged and then
//! deleted from the file is still caught, and one only in the work tree is
//! not (it is not being committed).
//!
//! Cost: one read of the index and of HEAD's trees, then only the changed
//! blobs (and their HEAD versions) are read and scanned, so a typical commit
//! stays a few milliseconds however large the repository.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use gix::bstr::{BStr, BString, ByteSlice, ByteVec};
use gix::hash::ObjectId;
use gix::objs::tree::EntryKind;
use gix::objs::{Find as _, FindHeader as _};

use super::one_line;
use super::GitError;
use crate::model::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::archive;
use crate::scan::{Problem, ScanOptions, Tally};
use crate::scanner::{Outcome, Scanner};

/// Scans the blobs added or modified in the index relative to HEAD (every
/// staged blob when HEAD is unborn). Unless `all`, a secret already present
/// in HEAD's version of a changed or removed path is not reported: the
/// commit does not introduce it (this also keeps a rename quiet).
pub fn scan(
    repo: &gix::Repository,
    rules: &RuleSet,
    options: &ScanOptions,
    all: bool,
    tally: &Tally,
) -> Result<Vec<Finding>, GitError> {
    if repo.workdir().is_none() {
        return Err(GitError::NoWorkTree {
            path: repo.git_dir().to_path_buf(),
        });
    }
    // Without the checksum over the whole file: a pre-commit hook runs
    // inside `git commit`, which has just read (and so verified) this
    // index, and the SHA-1 of a 12,000-entry index was two-fifths of the
    // hook's CPU. A damaged index still fails to decode.
    let index = gix::index::File::at_or_default(
        repo.index_path(),
        repo.object_hash(),
        true,
        gix::index::decode::Options::default(),
    )
    .map_err(|e| GitError::Index(one_line(&e)))?;
    let head = head_blobs(repo, index.tree())?;

    let mut changed: Vec<(&BStr, ObjectId)> = Vec::new();
    // The index is sorted by path, so a folder's entries come together:
    // the last folder found unchanged answers for its next entries without
    // a lookup per entry and per folder above it.
    let mut covered: Option<&BStr> = None;
    for entry in index.entries() {
        let path = entry.path(&index);
        if covered.is_some_and(|folder| is_below(path, folder)) {
            continue;
        }
        if let Some(folder) = head.covering(path) {
            covered = Some(folder);
            continue;
        }
        if entry.stage_raw() != 0
            || entry
                .flags
                .contains(gix::index::entry::Flags::INTENT_TO_ADD)
            || !is_file_mode(entry.mode)
        {
            continue;
        }
        if head.blobs.get(path) == Some(&entry.id) {
            continue;
        }
        changed.push((path, entry.id));
    }
    tally.progress.set_total(changed.len() as u64, "blobs");

    let mut scanner =
        Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
    let mut buf = Vec::new();
    let mut findings = Vec::new();
    for (path, id) in &changed {
        let shown = path.to_str_lossy();
        let origin = Origin::Staged {
            blob: id.to_string(),
        };
        scan_blob(
            repo,
            &mut scanner,
            &mut buf,
            id,
            &shown,
            &origin,
            options,
            tally,
            &mut findings,
        );
    }
    if all || findings.is_empty() {
        return Ok(findings);
    }

    // What HEAD already has at the paths this commit changes or removes.
    // (Only now: most commits have no finding, and this set of every path
    // was a fifth of the hook's CPU in a repository of 12,000 files.)
    let staged_paths: HashSet<&BStr> = index.entries().iter().map(|e| e.path(&index)).collect();
    let mut before = Vec::new();
    let quiet = Tally::default();
    for (path, id) in &head.blobs {
        let touched =
            changed.iter().any(|(p, _)| p == path) || !staged_paths.contains(path.as_bstr());
        if touched {
            let shown = path.to_str_lossy();
            scan_blob(
                repo,
                &mut scanner,
                &mut buf,
                id,
                &shown,
                &Origin::File,
                options,
                &quiet,
                &mut before,
            );
        }
    }
    let existing: HashSet<(&str, &str)> = before
        .iter()
        .map(|f| (f.rule_id.as_str(), f.secret.expose()))
        .collect();
    Ok(findings
        .into_iter()
        .filter(|f| !existing.contains(&(f.rule_id.as_str(), f.secret.expose())))
        .collect())
}

/// Regular and executable files; symlinks and submodules have no content
/// of their own to scan.
fn is_file_mode(mode: gix::index::entry::Mode) -> bool {
    mode == gix::index::entry::Mode::FILE || mode == gix::index::entry::Mode::FILE_EXECUTABLE
}

/// HEAD's side of the comparison.
#[derive(Default)]
struct Head {
    /// Blob ids of HEAD at every path below a directory that may differ
    /// from the index.
    blobs: HashMap<BString, ObjectId>,
    /// Directories (`""` for the root) whose tree the index's cache-tree
    /// records with HEAD's very id: nothing below them is staged.
    unchanged: HashSet<BString>,
}

impl Head {
    /// The directory the index has unchanged that `path` lies in, if any
    /// (`""` for the root).
    fn covering<'p>(&self, path: &'p BStr) -> Option<&'p BStr> {
        if self.unchanged.is_empty() {
            return None;
        }
        if self.unchanged.contains(BStr::new(b"")) {
            return Some(BStr::new(b""));
        }
        path.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'/')
            .map(|(i, _)| &path[..i])
            .find(|folder| self.unchanged.contains(*folder))
    }
}

/// Whether `path` is inside `folder` (`""`: the root holds everything).
fn is_below(path: &BStr, folder: &BStr) -> bool {
    folder.is_empty()
        || (path.len() > folder.len()
            && path.starts_with(folder.as_ref())
            && path[folder.len()] == b'/')
}

/// Reads HEAD's trees, skipping every directory that the index's
/// cache-tree extension (written by git on each commit and invalidated
/// along the path of each `git add`) shows unchanged. So the cost follows
/// the number of directories touched, not the size of the repository.
fn head_blobs(
    repo: &gix::Repository,
    cache: Option<&gix::index::extension::Tree>,
) -> Result<Head, GitError> {
    let mut head = repo.head().map_err(|e| GitError::Head(one_line(&e)))?;
    if head.is_unborn() {
        return Ok(Head::default());
    }
    let commit = head
        .peel_to_commit()
        .map_err(|e| GitError::Head(one_line(&e)))?;
    let tree = commit
        .tree_id()
        .map_err(|e| GitError::Head(one_line(&e)))?
        .detach();

    let mut out = Head::default();
    let mut stack = vec![(tree, BString::default(), cache)];
    let mut buf = Vec::new();
    while let Some((id, prefix, cached)) = stack.pop() {
        if cached.is_some_and(|c| c.num_entries.is_some() && c.id == id) {
            out.unchanged.insert(prefix);
            continue;
        }
        let data = repo
            .objects
            .try_find(&id, &mut buf)
            .map_err(|e| GitError::Head(format!("tree {id}: {}", one_line(&e))))?
            .ok_or_else(|| GitError::Head(format!("tree {id} is missing")))?;
        let tree = data
            .try_into_tree_iter()
            .ok_or_else(|| GitError::Head(format!("{id} is not a tree")))?;
        for entry in tree {
            let entry = entry.map_err(|e| GitError::Head(format!("tree {id}: {e}")))?;
            let mut path = prefix.clone();
            if !path.is_empty() {
                path.push_byte(b'/');
            }
            path.push_str(entry.filename);
            match entry.mode.kind() {
                EntryKind::Tree => {
                    let child = cached.and_then(|c| {
                        c.children
                            .iter()
                            .find(|t| t.name.as_slice() == entry.filename.as_bytes())
                    });
                    stack.push((entry.oid.to_owned(), path, child));
                }
                EntryKind::Blob | EntryKind::BlobExecutable => {
                    out.blobs.insert(path, entry.oid.to_owned());
                }
                EntryKind::Link | EntryKind::Commit => {}
            }
        }
    }
    Ok(out)
}

/// Reads one blob from the object store and scans it; a missing or
/// oversized blob becomes a warning.
#[allow(clippy::too_many_arguments)]
fn scan_blob(
    repo: &gix::Repository,
    scanner: &mut Scanner<'_>,
    buf: &mut Vec<u8>,
    id: &ObjectId,
    path: &str,
    origin: &Origin,
    options: &ScanOptions,
    tally: &Tally,
    out: &mut Vec<Finding>,
) {
    // The header gives the size without inflating a huge blob.
    let size = match repo.objects.try_header(id) {
        Ok(Some(header)) => header.size,
        Ok(None) => return unreadable_blob(tally, path, id, None),
        Err(e) => return unreadable_blob(tally, path, id, Some(&e)),
    };
    if size > options.max_file_size {
        tally.too_large(path, size, options.max_file_size);
        return;
    }
    let data = match repo.objects.try_find(id, buf) {
        Ok(Some(data)) => data,
        Ok(None) => return unreadable_blob(tally, path, id, None),
        Err(e) => return unreadable_blob(tally, path, id, Some(&e)),
    };
    if let Some(limits) = &options.archives {
        if let Some(archive) =
            archive::scan_archive_blob(scanner, data.data, path, limits, origin, out)
        {
            tally.archive_scanned(&archive);
            for problem in archive.problems {
                tally.problem(problem);
            }
            return;
        }
    }
    match scanner.scan_bytes(data.data, path, origin, out) {
        Outcome::Scanned { bytes } => tally.scanned(bytes),
        Outcome::Binary => {
            tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A staged blob the object store lacks (`error` is `None`) or cannot read.
fn unreadable_blob(
    tally: &Tally,
    path: &str,
    id: &gix::oid,
    error: Option<&(dyn std::error::Error + 'static)>,
) {
    let message = match error {
        None => format!("blob {id} is missing from the object store"),
        Some(e) => format!("cannot read blob {id}: {}", one_line(e)),
    };
    tally.problem(Problem::new(path, &message));
}
