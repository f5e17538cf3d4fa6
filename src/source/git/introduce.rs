//! Which blobs each commit introduced, without diffing: commits are visited
//! parents first, and a set of every tree and blob already seen means a
//! commit's tree walk stops at any subtree an earlier commit had. So the
//! whole history costs one read of each distinct tree, and each distinct
//! blob is listed once, at the first commit (and path) that had it.

use gix::bstr::{BString, ByteVec};
use gix::hash::ObjectId;
use gix::hashtable::HashSet;
use gix::objs::tree::EntryKind;

use super::one_line;
use super::packread::{Budget, PackReader, Packs};
use super::replay::Ids;
use super::warn;
use crate::scan::Tally;

/// Where a blob to scan was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Introduced by this commit (an index into the graph's nodes).
    Commit(u32),
    /// Introduced by this commit that no ref reaches (rebased away,
    /// amended, on a deleted branch): an index into the dangling graph.
    Dangling(u32),
    /// In the object store, in no tree that a reachable commit has.
    Unreachable,
}

/// A blob to scan, with what is needed to report it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: ObjectId,
    /// The path in the introducing commit; empty when unreachable.
    pub path: BString,
    pub found: Found,
}

pub struct Walker<'r> {
    repo: &'r gix::Repository,
    /// Trees are read oldest commit first: see [`PackReader`] for why not
    /// through the object store.
    reader: PackReader<'r>,
    /// Every tree, blob, commit and tag listed or marked so far: 20 bytes
    /// an object in a table sized once for the whole store (24 to 48
    /// bytes an object with its free slots, and never a second table
    /// while it grows).
    seen: HashSet<ObjectId>,
    buf: Vec<u8>,
    missing_trees: usize,
    first_missing: Option<ObjectId>,
    /// What an earlier run's walk saw ([`super::extend`]): seen as well.
    known: Option<Ids>,
}

impl<'r> Walker<'r> {
    /// A walker reading within `budget`, its set of seen objects sized
    /// for `objects` (0 for a range, which sees few).
    pub fn new(
        repo: &'r gix::Repository,
        packs: &'r Packs,
        budget: Budget,
        objects: usize,
    ) -> Walker<'r> {
        let mut seen = HashSet::default();
        seen.reserve(objects);
        Walker {
            repo,
            reader: PackReader::new(repo, packs, budget),
            seen,
            buf: Vec::new(),
            missing_trees: 0,
            first_missing: None,
            known: None,
        }
    }

    /// Counts what an earlier run's walk saw as seen: a walk of new commits
    /// then reads only the trees they changed.
    pub fn with_known(mut self, known: Ids) -> Walker<'r> {
        self.known = Some(known);
        self
    }

    /// Everything seen so far, sorted (for the run's record).
    pub fn snapshot(&self) -> Ids {
        let seen = self.seen.iter().copied();
        match &self.known {
            Some(known) => known.with(seen),
            None => Ids::new(seen.collect()),
        }
    }

    /// Takes `id` out of what the walk saw.
    pub fn forget(&mut self, id: &gix::hash::oid) {
        self.seen.remove(id);
    }

    /// Whether the walk saw `id`, or the earlier run's did.
    pub fn knows(&self, id: &gix::hash::oid) -> bool {
        self.seen.contains(id) || self.known.as_ref().is_some_and(|k| k.contains(id))
    }

    /// The walker's reader, for the commits and tags read before the walk.
    pub fn reader(&mut self) -> &mut PackReader<'r> {
        &mut self.reader
    }

    /// Marks an object (a commit, a tag) as reachable.
    pub fn mark(&mut self, id: ObjectId) -> bool {
        self.seen.insert(id)
    }

    pub fn is_seen(&self, id: &ObjectId) -> bool {
        self.seen.contains(id)
    }

    /// Marks everything in `tree` as already present without listing it:
    /// the base of a range, whose blobs the range did not introduce.
    pub fn mark_tree(&mut self, tree: ObjectId) {
        self.walk(tree, None, &mut Vec::new());
    }

    /// Lists the blobs of `tree` that no earlier commit had, as `found`.
    pub fn introduce(&mut self, tree: ObjectId, found: Found, jobs: &mut Vec<Job>) {
        self.walk(tree, Some(found), jobs);
    }

    fn walk(&mut self, root: ObjectId, found: Option<Found>, jobs: &mut Vec<Job>) {
        let known = self.known.take();
        let old = known.as_ref();
        if !old.is_some_and(|k| k.contains(&root)) && self.seen.insert(root) {
            self.walk_from(root, found, jobs, old);
        }
        self.known = known;
    }

    fn walk_from(
        &mut self,
        root: ObjectId,
        found: Option<Found>,
        jobs: &mut Vec<Job>,
        old: Option<&Ids>,
    ) {
        let mut stack: Vec<(ObjectId, BString)> = vec![(root, BString::default())];
        while let Some((id, prefix)) = stack.pop() {
            let hash = self.repo.object_hash();
            let tree = match self.reader.read_ref(&id, &mut self.buf) {
                Ok(Some((gix::object::Kind::Tree, data))) => {
                    Some(gix::objs::TreeRefIter::from_bytes(data, hash))
                }
                Ok(_) | Err(_) => None,
            };
            let Some(tree) = tree else {
                self.missing_trees += 1;
                self.first_missing.get_or_insert(id);
                continue;
            };
            for entry in tree {
                let Ok(entry) = entry else {
                    self.missing_trees += 1;
                    self.first_missing.get_or_insert(id);
                    break;
                };
                let kind = entry.mode.kind();
                if kind == EntryKind::Commit
                    || old.is_some_and(|k| k.contains(entry.oid))
                    || !self.seen.insert(entry.oid.to_owned())
                {
                    continue; // a submodule's commit, or already listed
                }
                let child = || {
                    let mut path = prefix.clone();
                    if !path.is_empty() {
                        path.push_byte(b'/');
                    }
                    path.push_str(entry.filename);
                    path
                };
                match kind {
                    EntryKind::Tree => stack.push((entry.oid.to_owned(), child())),
                    EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link => {
                        if let Some(found) = found {
                            jobs.push(Job {
                                id: entry.oid.to_owned(),
                                path: child(),
                                found,
                            });
                        }
                    }
                    EntryKind::Commit => {}
                }
            }
        }
    }

    /// The commits and blobs of the object store that no walk reached, in
    /// store order. Nothing is marked: the commits are walked next, and the
    /// blobs their trees do not have are the bare unreachable ones.
    ///
    /// The ids come from the packs' indexes and the loose objects' folders,
    /// not from gix's store, which would map every index a second time;
    /// with alternates or an index this reader could not open, from gix's
    /// store after all, which knows them.
    pub fn unseen(&mut self, tally: &Tally) -> Result<(Vec<ObjectId>, Vec<ObjectId>), String> {
        let mut commits = Vec::new();
        let mut blobs = Vec::new();
        let objects = self.repo.common_dir().join("objects");
        let packs = self.reader.packs();
        let ids: Box<dyn Iterator<Item = ObjectId>> =
            if packs.incomplete || objects.join("info").join("alternates").exists() {
                let all = self.repo.objects.iter().map_err(|e| one_line(&e))?;
                Box::new(all.filter_map(Result::ok))
            } else {
                let loose = gix::odb::loose::Store::at(objects, self.repo.object_hash());
                let loose: Vec<ObjectId> = loose.iter().filter_map(Result::ok).collect();
                Box::new(packs.ids().chain(loose))
            };
        for id in ids {
            if self.seen.contains(&id) {
                continue;
            }
            match self.reader.header(&id, None) {
                Ok(Some((gix::object::Kind::Commit, _))) => commits.push(id),
                Ok(Some((gix::object::Kind::Blob, _))) => blobs.push(id),
                Ok(_) => {}
                Err(e) => warn(
                    tally,
                    self.repo,
                    format!("cannot read object {id}: {}", one_line(&e)),
                ),
            }
        }
        // The store may list an object twice (in a pack and loose); callers
        // mark what they list, which drops the repeats.
        Ok((commits, blobs))
    }

    /// Reports trees that could not be read, once.
    pub fn warn_missing(&self, tally: &Tally) {
        if let Some(first) = self.first_missing {
            warn(
                tally,
                self.repo,
                format!(
                    "{} tree(s) missing or unreadable (first: {first}); the files below them were \
                     not scanned",
                    self.missing_trees
                ),
            );
        }
    }
}
