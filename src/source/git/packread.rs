//! Reads objects straight from the repository's packs, resolving each delta
//! chain from its base towards the object and keeping every object on the
//! way in a cache.
//!
//! Why: a history scan reads trees and blobs oldest commit first, while a
//! packed repository stores the newest version of a file or folder whole and
//! each older one as a delta of the next newer one, up to 50 deep. gix's
//! object store resolves a chain into the one object asked for and caches
//! only that, so reading the versions oldest first inflated the whole chain
//! again for every version: quadratic in the chain's depth. Caching every
//! object decoded on the way makes each other version on the chain a cache
//! hit, so each delta is inflated about once.
//!
//! Objects outside the packs found here (loose objects, alternates) and any
//! entry this reader cannot decode come from gix's object store instead, so
//! this is only ever a faster path, never a different answer.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use gix::hash::oid;
use gix::objs::Find as _;
use gix::odb::pack::{self, data::entry::Header};

/// Bytes of decoded objects a reader keeps.
pub const DEFAULT_CACHE: usize = 32 << 20;
/// Longest delta chain followed; git writes at most 50 (4095 with
/// `--depth`), so a longer one is a corrupt cycle.
const MAX_CHAIN: usize = 10_000;

/// The cache's key, (pack, data offset) in one word, is already unique:
/// one multiplication spreads it over the table (SipHash cost a tenth of
/// the reads).
#[derive(Default)]
struct OffsetHasher(u64);

impl Hasher for OffsetHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

fn key(pack: u32, offset: u64) -> u64 {
    (u64::from(pack) << 48) ^ offset
}

/// Decoded objects by (pack, data offset), evicted oldest first once over
/// the byte budget. First in, first out suits chains resolved base first:
/// the object just decoded is the base of the next one.
struct ChainCache {
    map: HashMap<u64, (gix::object::Kind, Vec<u8>), BuildHasherDefault<OffsetHasher>>,
    order: VecDeque<u64>,
    bytes: usize,
    cap: usize,
    /// Buffers of evicted objects, reused by the next puts: a chain of
    /// blobs would otherwise allocate and free one buffer per link.
    spare: Vec<Vec<u8>>,
}

impl ChainCache {
    fn new(cap: usize) -> ChainCache {
        ChainCache {
            map: HashMap::default(),
            order: VecDeque::new(),
            bytes: 0,
            cap,
            spare: Vec::new(),
        }
    }

    fn contains(&self, pack: u32, offset: u64) -> bool {
        self.map.contains_key(&key(pack, offset))
    }

    fn kind_and_size(&self, pack: u32, offset: u64) -> Option<(gix::object::Kind, usize)> {
        self.map
            .get(&key(pack, offset))
            .map(|(kind, data)| (*kind, data.len()))
    }
}

impl ChainCache {
    /// Keeps `data` (moved in, not copied), evicting the oldest entries
    /// over the budget. Buffers count by capacity, which is what they hold.
    fn put(&mut self, pack: u32, offset: u64, kind: gix::object::Kind, data: Vec<u8>) {
        // One object larger than an eighth of the budget would evict a
        // whole chain of small ones; it is decoded again when needed.
        if data.capacity() > self.cap / 8 || self.contains(pack, offset) {
            self.recycle(data);
            return;
        }
        self.bytes += data.capacity();
        while self.bytes > self.cap {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some((_, old)) = self.map.remove(&old) {
                self.bytes -= old.capacity();
                self.recycle(old);
            }
        }
        self.map.insert(key(pack, offset), (kind, data));
        self.order.push_back(key(pack, offset));
    }

    fn recycle(&mut self, mut data: Vec<u8>) {
        if self.spare.len() < 16 && data.capacity() <= self.cap / 8 {
            data.clear();
            self.spare.push(data);
        }
    }

    /// An empty buffer, reused when one is spare.
    fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }
}

/// The repository's packs, opened (memory-mapped) once and shared by every
/// reader: a mapping per thread would count the pages it touched once per
/// thread in the resident size.
pub struct Packs(Vec<pack::Bundle>);

impl Packs {
    /// Every pack of the repository's own object folder. A pack that
    /// cannot be opened is left to gix's store.
    pub fn open(repo: &gix::Repository) -> Packs {
        let dir = repo.common_dir().join("objects").join("pack");
        Packs(open_packs(&dir, repo.object_hash()))
    }
}

/// One thread's reader, with its own cache and inflate state.
pub struct PackReader<'r> {
    repo: &'r gix::Repository,
    packs: &'r [pack::Bundle],
    /// The last object located, and where: a blob's header is read just
    /// before the blob.
    last: Option<(gix::ObjectId, usize, u64)>,
    cache: ChainCache,
    inflate: gix::zlib::Inflate,
    chain: Vec<pack::data::Entry>,
    /// The inflated delta being applied.
    delta: Vec<u8>,
    /// Reads that went to gix's store (not in these packs, or undecodable).
    fallbacks: usize,
}

/// An object read, with its kind. The bytes are in the caller's buffer.
pub type Read = Option<gix::object::Kind>;

impl<'r> PackReader<'r> {
    /// A reader of `packs` (falling back to `repo`'s store) keeping `cache`
    /// bytes of decoded objects.
    pub fn new(repo: &'r gix::Repository, packs: &'r Packs, cache: usize) -> PackReader<'r> {
        PackReader {
            repo,
            packs: &packs.0,
            last: None,
            cache: ChainCache::new(cache),
            inflate: gix::zlib::Inflate::default(),
            chain: Vec::new(),
            delta: Vec::new(),
            fallbacks: 0,
        }
    }

    fn locate(&mut self, id: &oid) -> Option<(usize, u64)> {
        if let Some((last, p, offset)) = &self.last {
            if last.as_ref() == id {
                return Some((*p, *offset));
            }
        }
        let found = self.packs.iter().enumerate().find_map(|(i, bundle)| {
            bundle
                .index
                .lookup(id)
                .map(|at| (i, bundle.index.pack_offset_at_index(at)))
        });
        if let Some((p, offset)) = found {
            self.last = Some((id.to_owned(), p, offset));
        }
        found
    }

    /// The object's kind and size without decoding it where the pack
    /// says so (a whole object, or one already cached); otherwise from the
    /// delta headers of its chain.
    /// `known`: the kind the caller already knows the object has (a blob
    /// listed from a tree), which spares walking a delta chain for it.
    pub fn header(
        &mut self,
        id: &oid,
        known: Option<gix::object::Kind>,
    ) -> Result<Option<(gix::object::Kind, u64)>, gix::Error> {
        if let Some((p, offset)) = self.locate(id) {
            let bundle = &self.packs[p];
            if let Ok(entry) = bundle.pack.entry(offset) {
                if let Some(kind) = entry.header.as_kind() {
                    return Ok(Some((kind, entry.decompressed_size)));
                }
                if let Some((kind, size)) = self.cache.kind_and_size(p as u32, entry.data_offset) {
                    return Ok(Some((kind, size as u64)));
                }
                // A blob's caller knows the kind; the size is at the start
                // of the delta itself, so the chain need not be walked.
                if let (Some(kind), Some(size)) = (
                    known,
                    delta_result_size(pack_of(bundle), &entry, &mut self.inflate),
                ) {
                    return Ok(Some((kind, size)));
                }
                let index = &bundle.index;
                let pack = &bundle.pack;
                let resolve =
                    |base: &oid| -> gix::Result<Option<pack::data::decode::header::ResolvedBase>> {
                        Ok(index
                            .lookup(base)
                            .and_then(|at| pack.entry(index.pack_offset_at_index(at)).ok())
                            .map(pack::data::decode::header::ResolvedBase::InPack))
                    };
                if let Ok(header) = pack.decode_header(entry, &mut self.inflate, &resolve) {
                    return Ok(Some((header.kind, header.object_size)));
                }
            }
        }
        use gix::objs::FindHeader as _;
        self.repo
            .objects
            .try_header(id)
            .map(|h| h.map(|h| (h.kind, h.size)))
    }

    /// Reads the object into `out`.
    pub fn read(&mut self, id: &oid, out: &mut Vec<u8>) -> Result<Read, gix::Error> {
        if let Some((p, offset)) = self.locate(id) {
            if let Some(kind) = self.read_in_pack(p, offset, out) {
                return Ok(Some(kind));
            }
        }
        self.fallbacks += 1;
        Ok(self.repo.objects.try_find(id, out)?.map(|data| data.kind))
    }

    /// How many reads went to gix's store instead.
    pub fn fallbacks(&self) -> usize {
        self.fallbacks
    }

    /// Decodes the entry at `offset` of pack `p`: the chain from the first
    /// cached object (or the whole base) up to it, each link's result moved
    /// into the cache in turn (one copy in all: the object into `out`).
    /// None when anything about the entry is off: the caller then asks
    /// gix's store, which reports the error properly.
    fn read_in_pack(
        &mut self,
        p: usize,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<gix::object::Kind> {
        let bundle = &self.packs[p];
        let pack = &bundle.pack;
        let index = &bundle.index;
        let id = p as u32;
        self.chain.clear();
        let mut cursor = pack.entry(offset).ok()?;
        let target = cursor.data_offset;
        // From the object towards its base, up to a cached link (not
        // included) or the whole base (included).
        let root = loop {
            if self.cache.contains(id, cursor.data_offset) {
                break Some(cursor.data_offset);
            }
            let base = match cursor.header {
                Header::OfsDelta { base_distance } => {
                    cursor.checked_base_pack_offset(base_distance)?
                }
                Header::RefDelta { base_id } => index.pack_offset_at_index(index.lookup(base_id)?),
                _ => {
                    self.chain.push(cursor);
                    break None;
                }
            };
            self.chain.push(cursor.clone());
            if self.chain.len() > MAX_CHAIN {
                return None;
            }
            cursor = pack.entry(base).ok()?;
        };
        // The object itself is cached.
        if self.chain.is_empty() {
            let (kind, data) = self.cache.map.get(&key(id, target))?;
            out.clear();
            out.extend_from_slice(data);
            return Some(*kind);
        }
        // A whole object asked for directly is not kept: the older versions
        // that are deltas of it were read before it.
        let direct = self.chain.len() == 1 && root.is_none();
        let mut current: Option<(gix::object::Kind, u64, Vec<u8>)> = None;
        let mut delta = std::mem::take(&mut self.delta);
        for entry in self.chain.drain(..).rev() {
            let size = usize::try_from(entry.decompressed_size).ok()?;
            let mut buf = self.cache.buffer();
            if let Some(kind) = entry.header.as_kind() {
                buf.resize(size, 0);
                pack.decompress_entry(&entry, &mut self.inflate, &mut buf)
                    .ok()?;
                current = Some((kind, entry.data_offset, buf));
                continue;
            }
            delta.resize(size, 0);
            pack.decompress_entry(&entry, &mut self.inflate, &mut delta)
                .ok()?;
            let kind = match &current {
                Some((kind, _, base)) => {
                    apply_delta(base, &delta, &mut buf)?;
                    *kind
                }
                None => {
                    let (kind, base) = self.cache.map.get(&key(id, root?))?;
                    apply_delta(base, &delta, &mut buf)?;
                    *kind
                }
            };
            if let Some((kind, at, done)) = current.replace((kind, entry.data_offset, buf)) {
                self.cache.put(id, at, kind, done);
            }
        }
        self.delta = delta;
        let (kind, at, data) = current?;
        out.clear();
        out.extend_from_slice(&data);
        if direct {
            self.cache.recycle(data);
        } else {
            self.cache.put(id, at, kind, data);
        }
        Some(kind)
    }
}

/// Applies a git delta (`delta.h`: the base's and the result's sizes, then
/// copy-from-base and insert instructions) to `base`, into `out`. None for
/// a delta that does not fit its base or its declared size.
fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mut at = 0;
    let mut size = || -> Option<usize> {
        let mut value = 0usize;
        let mut shift = 0;
        loop {
            let byte = *delta.get(at)?;
            at += 1;
            value |= usize::from(byte & 0x7f).checked_shl(shift)?;
            shift += 7;
            if byte & 0x80 == 0 {
                return Some(value);
            }
            if shift > 63 {
                return None;
            }
        }
    };
    let base_size = size()?;
    let result_size = size()?;
    if base_size != base.len() {
        return None;
    }
    out.clear();
    out.reserve(result_size);
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut length = 0usize;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    offset |= usize::from(*delta.get(at)?) << (8 * bit);
                    at += 1;
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    length |= usize::from(*delta.get(at)?) << (8 * bit);
                    at += 1;
                }
            }
            if length == 0 {
                length = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(length)?)?);
        } else if op != 0 {
            let length = usize::from(op);
            out.extend_from_slice(delta.get(at..at + length)?);
            at += length;
        } else {
            return None;
        }
    }
    (out.len() == result_size).then_some(())
}

fn pack_of(bundle: &pack::Bundle) -> &pack::data::File {
    &bundle.pack
}

/// The size of the object a delta entry produces: the second of the two
/// sizes that open every delta (git's `delta.h`), read by inflating only the
/// delta's first bytes.
fn delta_result_size(
    pack: &pack::data::File,
    entry: &pack::data::Entry,
    inflate: &mut gix::zlib::Inflate,
) -> Option<u64> {
    let end = (entry.data_offset + 512).min(pack.pack_end() as u64);
    let input = pack.entry_slice(entry.data_offset..end)?;
    let mut head = [0u8; 32];
    inflate.reset();
    let (_, _, produced) = inflate.prefix(input, &mut head).ok()?;
    inflate.reset();
    let mut sizes = [0u64; 2];
    let mut at = 0;
    for size in &mut sizes {
        let mut shift = 0;
        loop {
            let byte = *head[..produced].get(at)?;
            at += 1;
            *size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
            if shift > 63 {
                return None;
            }
        }
    }
    Some(sizes[1])
}

fn open_packs(dir: &Path, hash: gix::hash::Kind) -> Vec<pack::Bundle> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| pack::Bundle::at(&path, hash).ok())
        .enumerate()
        .map(|(i, mut bundle)| {
            // The cache is keyed by this id; gix may give every bundle it
            // opens this way the same one.
            bundle.pack.id = i as u32;
            bundle
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.test")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.test")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// Every object of a repository whose packs hold deep delta chains (and
    /// one loose object) reads back exactly as gix's store has it, its
    /// header too, in both chain directions and with a cache so small it
    /// evicts all the time.
    #[test]
    fn reads_every_object_as_the_object_store_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let mut text = String::new();
        for i in 0..60 {
            text.push_str(&format!(
                "line {i} of a file that grows by one line per commit\n"
            ));
            std::fs::write(root.join("grows.txt"), &text).unwrap();
            std::fs::create_dir_all(root.join("dir")).unwrap();
            std::fs::write(root.join(format!("dir/f{}.txt", i % 7)), &text).unwrap();
            git(root, &["add", "-A"]);
            git(root, &["commit", "-q", "-m", &format!("commit {i}")]);
        }
        git(root, &["repack", "-adfq", "--depth=50", "--window=50"]);
        std::fs::write(root.join("loose.txt"), "only loose\n").unwrap();
        git(root, &["add", "loose.txt"]);
        git(root, &["commit", "-q", "-m", "loose"]);
        let deltas = git(
            root,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(deltabase)",
            ],
        );
        let deltified = deltas.lines().filter(|l| !l.starts_with("0000")).count();
        assert!(deltified > 50, "the test needs delta chains: {deltified}");

        let repo = gix::open(root).unwrap();
        let mut ids: Vec<gix::ObjectId> =
            repo.objects.iter().unwrap().map(|id| id.unwrap()).collect();
        ids.sort();
        ids.dedup();
        let packs = Packs::open(&repo);
        let mut expected = Vec::new();
        for order in [false, true] {
            if order {
                ids.reverse();
            }
            for cache in [DEFAULT_CACHE, 2048] {
                let mut reader = PackReader::new(&repo, &packs, cache);
                let mut got = Vec::new();
                for id in &ids {
                    let kind = reader.read(id, &mut got).unwrap().unwrap();
                    let data = repo.objects.try_find(id, &mut expected).unwrap().unwrap();
                    assert_eq!(kind, data.kind, "{id}");
                    assert!(got == data.data, "{id}: content differs");
                    let size = data.data.len() as u64;
                    let kind = data.kind;
                    assert_eq!(reader.header(id, None).unwrap(), Some((kind, size)), "{id}");
                    assert_eq!(
                        reader.header(id, Some(kind)).unwrap(),
                        Some((kind, size)),
                        "{id}"
                    );
                }
                // Only the last commit's loose blob, tree and commit came from
                // gix's store.
                assert_eq!(reader.fallbacks(), 3);
            }
        }
        let missing = gix::ObjectId::from_bytes_or_panic(&[7; 20]);
        let mut reader = PackReader::new(&repo, &packs, DEFAULT_CACHE);
        assert_eq!(reader.read(&missing, &mut Vec::new()).unwrap(), None);
    }
}
