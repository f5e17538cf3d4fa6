//! Reads objects straight from the repository's packs, resolving each delta
//! chain from its base towards the object and keeping every object on the
//! way in a cache, in memory bounded by bytes.
//!
//! Why its own reader: a history scan reads trees and blobs oldest commit
//! first, while a packed repository stores the newest version of a file or
//! folder whole and each older one as a delta of the next newer one, up to
//! 50 deep. gix's object store resolves a chain into the one object asked
//! for and caches only that, so reading the versions oldest first inflated
//! the whole chain again for every version: quadratic in the chain's depth.
//! Caching every object decoded on the way makes each other version on the
//! chain a cache hit, so each delta is inflated about once.
//!
//! Memory, per reader (one per thread), all of it bounded in bytes
//! ([`Budget`]):
//! - the cache of decoded objects (`Budget::cache`), plus spare buffers up
//!   to a quarter of it;
//! - the pages of the pack files mapped in (`Budget::window`): a mapping
//!   counts every page touched in the resident size until it is unmapped,
//!   so a 400 MB pack read whole would count 400 MB. Each reader maps the
//!   packs itself, records which 64 KiB blocks it touched (the kernel maps
//!   up to 64 KiB around a fault), and unmaps them all once the touched
//!   blocks exceed its window; the next read maps again (the pages stay in
//!   the page cache, so that costs a few minor faults, not disk reads);
//! - entries of 1 MiB or more are not read through the mapping at all but
//!   with positioned reads into a 256 KiB buffer, so a large blob adds its
//!   own size once (or not at all when streamed, see [`Blob::Stream`]), not
//!   its compressed size in mapped pages as well.
//!
//! The pack indexes are mapped once and shared: 28 bytes per object plus
//! 1 KiB, touched at random by the lookups, so they count whole.
//!
//! Objects outside the packs found here (loose objects, alternates) and any
//! entry this reader cannot decode come from gix's object store instead, so
//! this is only ever a faster path, never a different answer.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use gix::hash::{oid, ObjectId};
use gix::objs::Find as _;
use gix::odb::pack::{self, data::entry::Header};
use gix::zlib::Status;

/// Bytes of decoded objects a reader keeps by default.
pub const DEFAULT_CACHE: usize = 32 << 20;
/// Bytes of pack pages a reader keeps mapped by default.
pub const DEFAULT_WINDOW: usize = 16 << 20;
/// Longest delta chain followed; git writes at most 50 (4095 with
/// `--depth`), so a longer one is a corrupt cycle.
const MAX_CHAIN: usize = 10_000;
/// The unit of the mapped-pages account: the kernel's fault-around maps up
/// to 64 KiB of page-cache pages around each fault.
const BLOCK: u64 = 64 << 10;
/// Entries this large (inflated) are read with positioned reads, not
/// through the mapping.
const LARGE_ENTRY: u64 = 1 << 20;
/// A delta up to this size is inflated whole when its result's size is
/// asked (see `PackReader::ahead`).
const AHEAD_DELTA: u64 = 64 << 10;

/// The buffer of those positioned reads.
const READ_CHUNK: usize = 256 << 10;

/// What one reader may hold: decoded objects, and mapped pack pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub cache: usize,
    pub window: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            cache: DEFAULT_CACHE,
            window: DEFAULT_WINDOW,
        }
    }
}

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

/// Decoded objects by (pack, data offset), the least recently used evicted
/// first once over the byte budget. Chains are resolved base first, so the
/// object just decoded is the base of the next one; and an object used
/// again (read, or the base a chain stopped at) is kept longer: measured
/// on azure-pipelines-tasks' read order, that saves a sixth of the
/// inflating that first-in-first-out did at the same size.
struct ChainCache {
    /// Object, and the stamp of its last use.
    map: HashMap<u64, (gix::object::Kind, Vec<u8>, u64), BuildHasherDefault<OffsetHasher>>,
    /// Keys by last use, with the stamp of that use; a key whose object
    /// was used again since is stale and skipped.
    order: VecDeque<(u64, u64)>,
    stamp: u64,
    bytes: usize,
    cap: usize,
    /// Buffers of evicted objects, reused by the next puts: a chain of
    /// blobs would otherwise allocate and free one buffer per link. At
    /// most a quarter of `cap` in all.
    spare: Vec<Vec<u8>>,
    spare_bytes: usize,
}

impl ChainCache {
    fn new(cap: usize) -> ChainCache {
        ChainCache {
            map: HashMap::default(),
            order: VecDeque::new(),
            stamp: 0,
            bytes: 0,
            cap,
            spare: Vec::new(),
            spare_bytes: 0,
        }
    }

    fn contains(&self, pack: u32, offset: u64) -> bool {
        self.map.contains_key(&key(pack, offset))
    }

    fn get(&self, pack: u32, offset: u64) -> Option<(gix::object::Kind, &[u8])> {
        self.map
            .get(&key(pack, offset))
            .map(|(kind, data, _)| (*kind, data.as_slice()))
    }

    /// Marks the object as just used.
    fn touch(&mut self, pack: u32, offset: u64) {
        let key = key(pack, offset);
        if let Some((_, _, stamp)) = self.map.get_mut(&key) {
            self.stamp += 1;
            *stamp = self.stamp;
            self.order.push_back((key, self.stamp));
            self.compact();
        }
    }

    /// Drops stale keys before they outnumber the live ones.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order
                .retain(|(key, stamp)| map.get(key).is_some_and(|(_, _, s)| s == stamp));
        }
    }

    /// Whether an object of `size` bytes is kept: one larger than an eighth
    /// of the budget would evict a whole chain of small ones; it is decoded
    /// again when needed.
    fn takes(&self, size: usize) -> bool {
        size <= self.cap / 8
    }

    /// Keeps `data` (moved in, not copied), evicting the oldest entries
    /// over the budget. Buffers count by capacity, which is what they hold.
    fn put(&mut self, pack: u32, offset: u64, kind: gix::object::Kind, data: Vec<u8>) {
        if !self.takes(data.capacity()) || self.contains(pack, offset) {
            self.recycle(data);
            return;
        }
        self.bytes += data.capacity();
        while self.bytes > self.cap {
            let Some((old, stamp)) = self.order.pop_front() else {
                break;
            };
            let live = self.map.get(&old).is_some_and(|(_, _, s)| *s == stamp);
            if let Some((_, old, _)) = live.then(|| self.map.remove(&old)).flatten() {
                self.bytes -= old.capacity();
                self.recycle(old);
            }
        }
        self.stamp += 1;
        self.map.insert(key(pack, offset), (kind, data, self.stamp));
        self.order.push_back((key(pack, offset), self.stamp));
        self.compact();
    }

    fn recycle(&mut self, mut data: Vec<u8>) {
        let size = data.capacity();
        if size <= self.cap / 8 && self.spare_bytes + size <= self.cap / 4 {
            data.clear();
            self.spare_bytes += size;
            self.spare.push(data);
        }
    }

    /// An empty buffer, reused when one is spare.
    fn buffer(&mut self) -> Vec<u8> {
        match self.spare.pop() {
            Some(data) => {
                self.spare_bytes -= data.capacity();
                data
            }
            None => Vec::new(),
        }
    }
}

/// One pack: its index (mapped, shared by every reader) and where its data
/// is (each reader maps that itself, see the module's doc).
struct Pack {
    index: pack::index::File,
    data: PathBuf,
}

/// The repository's packs.
pub struct Packs {
    packs: Vec<Pack>,
    hash: gix::hash::Kind,
    /// Whether some `.idx` in the folder could not be opened: its objects
    /// are then only in gix's store.
    pub incomplete: bool,
}

impl Packs {
    /// Every pack of the repository's own object folder. A pack that
    /// cannot be opened is left to gix's store.
    pub fn open(repo: &gix::Repository) -> Packs {
        let dir = repo.common_dir().join("objects").join("pack");
        let (packs, incomplete) = open_packs(&dir, repo.object_hash());
        Packs {
            packs,
            hash: repo.object_hash(),
            incomplete,
        }
    }

    /// How many objects the packs hold (an object in two packs counts twice).
    pub fn objects(&self) -> u64 {
        self.packs
            .iter()
            .map(|p| u64::from(p.index.num_objects()))
            .sum()
    }

    /// Every object id in the packs, pack by pack, in index order.
    pub fn ids(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.packs.iter().flat_map(|pack| {
            (0..pack.index.num_objects()).map(|i| pack.index.oid_at_index(i).to_owned())
        })
    }

    /// The object ids of the packs at these positions.
    pub fn ids_in<'a>(&'a self, which: &'a [usize]) -> impl Iterator<Item = ObjectId> + 'a {
        which
            .iter()
            .filter_map(|&p| self.packs.get(p))
            .flat_map(|pack| {
                (0..pack.index.num_objects()).map(|i| pack.index.oid_at_index(i).to_owned())
            })
    }

    /// The file names of the packs' data files, in position order.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.packs.iter().map(|pack| {
            pack.data
                .file_name()
                .map_or(&[][..], |name| name.as_encoded_bytes())
        })
    }

    /// Whether a pack whose position `which` accepts holds `id`.
    pub fn contains_in(&self, id: &oid, which: impl Fn(usize) -> bool) -> bool {
        self.packs
            .iter()
            .enumerate()
            .any(|(p, pack)| which(p) && pack.index.lookup(id).is_some())
    }
}

/// One reader's mapping of one pack, and the 64 KiB blocks it touched.
#[derive(Default)]
struct Mapped {
    data: Option<pack::data::File>,
    /// Opened for positioned reads of large entries.
    file: Option<std::fs::File>,
    touched: Vec<u64>,
    /// The data file could not be opened or does not match its index.
    broken: bool,
}

/// One thread's reader, with its own cache, mappings and inflate state.
pub struct PackReader<'r> {
    repo: &'r gix::Repository,
    packs: &'r Packs,
    maps: Vec<Mapped>,
    /// Bytes of the blocks touched in all mappings since they were mapped.
    resident: u64,
    window: u64,
    /// Times the mappings were dropped to stay within the window.
    unmaps: usize,
    /// The last object located, and where: a blob's header is read just
    /// before the blob.
    last: Option<(ObjectId, usize, u64)>,
    cache: ChainCache,
    inflate: gix::zlib::Inflate,
    chain: Vec<pack::data::Entry>,
    /// The inflated delta being applied.
    delta: Vec<u8>,
    /// A small delta inflated whole to read its result's size (a blob's
    /// header, asked just before the blob), and where it is: the read
    /// that follows applies it instead of inflating it again. Inflating
    /// the first bytes only cost as much as the whole (zlib builds a
    /// block's tables first), done twice for each deltified blob.
    ahead: Vec<u8>,
    ahead_at: Option<(usize, u64)>,
    /// The buffer of positioned reads.
    chunk: Vec<u8>,
    /// Reads that went to gix's store (not in these packs, or undecodable).
    fallbacks: usize,
}

/// An object read, with its kind. The bytes are in the caller's buffer.
pub type Read = Option<gix::object::Kind>;

/// A blob to scan: read as it is inflated, or whole in memory.
pub enum Blob<'a> {
    /// A whole (not deltified) object, inflated as it is read: its bytes
    /// go straight into the scanner's buffer, and a scan that stops early
    /// (a binary file) stops the inflating too.
    Stream(Stream<'a>),
    /// A delta chain's result, or an object from gix's store.
    Bytes(&'a [u8]),
}

impl<'r> PackReader<'r> {
    /// A reader of `packs` (falling back to `repo`'s store) within `budget`.
    pub fn new(repo: &'r gix::Repository, packs: &'r Packs, budget: Budget) -> PackReader<'r> {
        PackReader {
            repo,
            packs,
            maps: packs.packs.iter().map(|_| Mapped::default()).collect(),
            resident: 0,
            // At least two blocks: an entry may straddle one boundary.
            window: (budget.window as u64).max(2 * BLOCK),
            unmaps: 0,
            last: None,
            cache: ChainCache::new(budget.cache),
            inflate: gix::zlib::Inflate::default(),
            chain: Vec::new(),
            delta: Vec::new(),
            ahead: Vec::new(),
            ahead_at: None,
            chunk: Vec::new(),
            fallbacks: 0,
        }
    }

    /// The packs this reader reads.
    pub fn packs(&self) -> &'r Packs {
        self.packs
    }

    /// How many reads went to gix's store instead.
    pub fn fallbacks(&self) -> usize {
        self.fallbacks
    }

    /// How many times the mappings were dropped to stay within the window.
    pub fn unmaps(&self) -> usize {
        self.unmaps
    }

    fn locate(&mut self, id: &oid) -> Option<(usize, u64)> {
        if let Some((last, p, offset)) = &self.last {
            if last.as_ref() == id {
                return Some((*p, *offset));
            }
        }
        let found = self.packs.packs.iter().enumerate().find_map(|(i, pack)| {
            pack.index
                .lookup(id)
                .map(|at| (i, pack.index.pack_offset_at_index(at)))
        });
        if let Some((p, offset)) = found {
            self.last = Some((id.to_owned(), p, offset));
        }
        found
    }

    /// Unmaps every pack once the blocks touched exceed the window. Called
    /// between reads, never while a borrowed mapping is in use.
    fn settle(&mut self) {
        if self.resident > self.window {
            for map in &mut self.maps {
                map.data = None;
                map.touched.iter_mut().for_each(|w| *w = 0);
            }
            self.resident = 0;
            self.unmaps += 1;
        }
    }

    /// Maps pack `p` if it is not; `false` if it cannot be.
    fn map(&mut self, p: usize) -> bool {
        let map = &mut self.maps[p];
        if map.data.is_some() {
            return true;
        }
        if map.broken {
            return false;
        }
        let pack = &self.packs.packs[p];
        match pack::data::File::at(&pack.data, self.packs.hash) {
            Ok(data) if data.num_objects() == pack.index.num_objects() => {
                let blocks = (data.data_len() as u64).div_ceil(BLOCK);
                map.touched.resize(blocks.div_ceil(64) as usize, 0);
                map.data = Some(data);
                true
            }
            _ => {
                map.broken = true;
                false
            }
        }
    }

    /// The entry at `offset` of pack `p`, its header's bytes counted.
    fn entry(&mut self, p: usize, offset: u64) -> Option<pack::data::Entry> {
        if !self.map(p) {
            return None;
        }
        let entry = self.maps[p].data.as_ref()?.entry(offset).ok()?;
        self.touch(p, offset, entry.data_offset - offset);
        Some(entry)
    }

    /// Counts the blocks of `start..start + len` in pack `p` as mapped.
    fn touch(&mut self, p: usize, start: u64, len: u64) {
        let touched = &mut self.maps[p].touched;
        let first = start / BLOCK;
        let last = (start + len.max(1) - 1) / BLOCK;
        for block in first..=last {
            let (word, bit) = ((block / 64) as usize, block % 64);
            if let Some(word) = touched.get_mut(word) {
                if *word & (1 << bit) == 0 {
                    *word |= 1 << bit;
                    self.resident += BLOCK;
                }
            }
        }
    }

    /// Inflates `entry` of pack `p` into `out` (sized to fit exactly):
    /// from the mapping, or for a large entry with positioned reads.
    fn inflate_entry(&mut self, p: usize, entry: &pack::data::Entry, out: &mut [u8]) -> Option<()> {
        if entry.decompressed_size >= LARGE_ENTRY {
            let map = &mut self.maps[p];
            if map.file.is_none() {
                map.file = std::fs::File::open(&self.packs.packs[p].data).ok();
            }
            let file = map.file.as_ref()?;
            self.chunk.resize(READ_CHUNK, 0);
            return inflate_from_file(
                file,
                entry.data_offset,
                &mut self.chunk,
                &mut self.inflate,
                out,
            );
        }
        let data = self.maps[p].data.as_ref()?;
        let input = data.entry_slice(entry.data_offset..data.pack_end() as u64)?;
        self.inflate.reset();
        let (status, consumed, written) = self.inflate.once(input, out).ok()?;
        if status != Status::StreamEnd || written != out.len() {
            return None;
        }
        self.touch(p, entry.data_offset, consumed as u64);
        Some(())
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
        self.settle();
        if let Some((p, offset)) = self.locate(id) {
            if let Some(found) = self.header_in_pack(p, offset, known) {
                return Ok(Some(found));
            }
        }
        use gix::objs::FindHeader as _;
        self.repo
            .objects
            .try_header(id)
            .map(|h| h.map(|h| (h.kind, h.size)))
    }

    fn header_in_pack(
        &mut self,
        p: usize,
        offset: u64,
        known: Option<gix::object::Kind>,
    ) -> Option<(gix::object::Kind, u64)> {
        let entry = self.entry(p, offset)?;
        if let Some(kind) = entry.header.as_kind() {
            return Some((kind, entry.decompressed_size));
        }
        if let Some((kind, data)) = self.cache.get(p as u32, entry.data_offset) {
            return Some((kind, data.len() as u64));
        }
        // The size is at the start of the delta itself; the kind is the
        // chain's base's, which a blob's caller already knows.
        let size = self.delta_result_size(p, &entry)?;
        if let Some(kind) = known {
            return Some((kind, size));
        }
        let mut cursor = entry;
        for _ in 0..MAX_CHAIN {
            let base = self.base_of(p, &cursor)?;
            cursor = self.entry(p, base)?;
            if let Some(kind) = cursor.header.as_kind() {
                return Some((kind, size));
            }
            if let Some((kind, _)) = self.cache.get(p as u32, cursor.data_offset) {
                return Some((kind, size));
            }
        }
        None
    }

    /// Where the base of a delta entry starts, in the same pack.
    fn base_of(&self, p: usize, entry: &pack::data::Entry) -> Option<u64> {
        match entry.header {
            Header::OfsDelta { base_distance } => entry.checked_base_pack_offset(base_distance),
            Header::RefDelta { base_id } => {
                let index = &self.packs.packs[p].index;
                Some(index.pack_offset_at_index(index.lookup(base_id)?))
            }
            _ => None,
        }
    }

    /// The size of the object a delta entry produces: the second of the two
    /// sizes that open every delta (git's `delta.h`), read by inflating only
    /// the delta's first bytes.
    fn delta_result_size(&mut self, p: usize, entry: &pack::data::Entry) -> Option<u64> {
        if entry.decompressed_size <= AHEAD_DELTA {
            // Small: inflated whole, for the read that follows.
            let mut ahead = std::mem::take(&mut self.ahead);
            ahead.clear();
            ahead.resize(entry.decompressed_size as usize, 0);
            self.ahead_at = None;
            let inflated = self.inflate_entry(p, entry, &mut ahead);
            self.ahead = ahead;
            inflated?;
            self.ahead_at = Some((p, entry.data_offset));
            let mut at = 0;
            let mut sizes = [0u64; 2];
            for size in &mut sizes {
                *size = varint(&self.ahead, &mut at)? as u64;
            }
            return Some(sizes[1]);
        }
        let data = self.maps[p].data.as_ref()?;
        let end = (entry.data_offset + 512).min(data.pack_end() as u64);
        let input = data.entry_slice(entry.data_offset..end)?;
        let mut head = [0u8; 32];
        self.inflate.reset();
        let (_, consumed, produced) = self.inflate.prefix(input, &mut head).ok()?;
        self.inflate.reset();
        self.touch(p, entry.data_offset, consumed as u64);
        let mut at = 0;
        let mut sizes = [0u64; 2];
        for size in &mut sizes {
            *size = varint(&head[..produced], &mut at)? as u64;
        }
        Some(sizes[1])
    }

    /// Reads the object into `out`.
    pub fn read(&mut self, id: &oid, out: &mut Vec<u8>) -> Result<Read, gix::Error> {
        Ok(match self.read_at(id, out)? {
            None => None,
            Some((kind, At::Scratch(len))) => {
                out.truncate(len);
                Some(kind)
            }
            Some((_, At::Cache(p, offset))) => match self.cached(p, offset, id, out)? {
                Some((kind, data)) => {
                    let data = data.to_vec();
                    *out = data;
                    Some(kind)
                }
                None => None,
            },
        })
    }

    /// Reads the object, into `scratch` or not at all when it is in the
    /// cache: the bytes are borrowed from wherever they are.
    pub fn read_ref<'a>(
        &'a mut self,
        id: &oid,
        scratch: &'a mut Vec<u8>,
    ) -> Result<Option<(gix::object::Kind, &'a [u8])>, gix::Error> {
        Ok(match self.read_at(id, scratch)? {
            None => None,
            Some((kind, At::Scratch(len))) => Some((kind, &scratch[..len])),
            Some((_, At::Cache(p, offset))) => self.cached(p, offset, id, scratch)?,
        })
    }

    /// A blob to scan: a whole object in a pack as a stream, anything else
    /// decoded as [`PackReader::read_ref`] does.
    pub fn blob<'a>(
        &'a mut self,
        id: &oid,
        scratch: &'a mut Vec<u8>,
    ) -> Result<Option<Blob<'a>>, gix::Error> {
        self.settle();
        if let Some((p, offset)) = self.locate(id) {
            if let Some(entry) = self.entry(p, offset) {
                let whole = entry.header.as_kind().is_some();
                if whole && !self.cache.contains(p as u32, entry.data_offset) {
                    return Ok(Some(Blob::Stream(self.stream(p, &entry))));
                }
            }
        }
        Ok(self
            .read_ref(id, scratch)?
            .map(|(_, data)| Blob::Bytes(data)))
    }

    /// Whether `id` is a whole object in a pack, which
    /// [`PackReader::blob`] streams rather than makes whole in memory.
    pub fn streams(&mut self, id: &oid) -> bool {
        self.settle();
        let Some((p, offset)) = self.locate(id) else {
            return false;
        };
        self.entry(p, offset).is_some_and(|entry| {
            entry.header.as_kind().is_some() && !self.cache.contains(p as u32, entry.data_offset)
        })
    }

    /// The stream of the whole object `entry` of pack `p`.
    fn stream(&mut self, p: usize, entry: &pack::data::Entry) -> Stream<'_> {
        let size = entry.decompressed_size;
        self.inflate.reset();
        let source = if size >= LARGE_ENTRY {
            let map = &mut self.maps[p];
            if map.file.is_none() {
                map.file = std::fs::File::open(&self.packs.packs[p].data).ok();
            }
            self.chunk.resize(READ_CHUNK, 0);
            Source::File {
                file: map.file.as_ref(),
                offset: entry.data_offset,
                chunk: &mut self.chunk,
                start: 0,
                end: 0,
            }
        } else {
            // Deflate adds at most 5 bytes per 16 KiB block and 11 around
            // them: count that much of the mapping as touched.
            self.touch(p, entry.data_offset, size + size / 3000 + 64);
            let data = self.maps[p].data.as_ref();
            Source::Mapped(
                data.and_then(|d| d.entry_slice(entry.data_offset..d.pack_end() as u64))
                    .unwrap_or_default(),
            )
        };
        Stream {
            source,
            inflate: &mut self.inflate,
            size,
            produced: 0,
            done: false,
        }
    }

    /// The cached object at (`p`, `offset`); read from gix's store into
    /// `scratch` in the impossible case it was evicted meanwhile.
    fn cached<'a>(
        &'a mut self,
        p: u32,
        offset: u64,
        id: &oid,
        scratch: &'a mut Vec<u8>,
    ) -> Result<Option<(gix::object::Kind, &'a [u8])>, gix::Error> {
        if self.cache.contains(p, offset) {
            return Ok(self.cache.get(p, offset));
        }
        Ok(match self.read_from_store(id, scratch)? {
            Some((kind, At::Scratch(len))) => Some((kind, &scratch[..len])),
            _ => None,
        })
    }

    fn read_at(
        &mut self,
        id: &oid,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<(gix::object::Kind, At)>, gix::Error> {
        self.settle();
        if let Some((p, offset)) = self.locate(id) {
            if let Some(found) = self.read_in_pack(p, offset, scratch) {
                return Ok(Some(found));
            }
        }
        self.fallbacks += 1;
        self.read_from_store(id, scratch)
    }

    fn read_from_store(
        &mut self,
        id: &oid,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<(gix::object::Kind, At)>, gix::Error> {
        Ok(self
            .repo
            .objects
            .try_find(id, scratch)?
            .map(|data| (data.kind, At::Scratch(data.data.len()))))
    }

    /// Decodes the entry at `offset` of pack `p`: the chain from the first
    /// cached object (or the whole base) up to it, each link's result moved
    /// into the cache in turn. The object itself goes into the cache too,
    /// or into `scratch` when the cache does not take it (too large, or a
    /// whole object asked for directly: the older versions that are deltas
    /// of it were read before it). None when anything about the entry is
    /// off: the caller then asks gix's store, which reports the error
    /// properly.
    fn read_in_pack(
        &mut self,
        p: usize,
        offset: u64,
        scratch: &mut Vec<u8>,
    ) -> Option<(gix::object::Kind, At)> {
        let id = p as u32;
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        let mut cursor = self.entry(p, offset)?;
        let target = cursor.data_offset;
        // From the object towards its base, up to a cached link (not
        // included) or the whole base (included).
        let root = loop {
            if self.cache.contains(id, cursor.data_offset) {
                break Some(cursor.data_offset);
            }
            if cursor.header.as_kind().is_some() {
                chain.push(cursor);
                break None;
            }
            let base = self.base_of(p, &cursor)?;
            chain.push(cursor);
            if chain.len() > MAX_CHAIN {
                return None;
            }
            cursor = self.entry(p, base)?;
        };
        if chain.is_empty() {
            self.cache.touch(id, target);
            let (kind, _) = self.cache.get(id, target)?;
            return Some((kind, At::Cache(id, target)));
        }
        if let Some(root) = root {
            self.cache.touch(id, root);
        }
        let direct = chain.len() == 1 && root.is_none();
        let mut current: Option<(gix::object::Kind, u64, Vec<u8>)> = None;
        let mut delta = std::mem::take(&mut self.delta);
        for entry in chain.iter().rev() {
            let size = usize::try_from(entry.decompressed_size).ok()?;
            if let Some(kind) = entry.header.as_kind() {
                let mut buf = if direct {
                    std::mem::take(scratch)
                } else {
                    self.cache.buffer()
                };
                buf.clear();
                buf.resize(size, 0);
                self.inflate_entry(p, entry, &mut buf)?;
                current = Some((kind, entry.data_offset, buf));
                continue;
            }
            let ahead = self.ahead_at == Some((p, entry.data_offset)) && self.ahead.len() == size;
            if !ahead {
                delta.resize(size, 0);
                self.inflate_entry(p, entry, &mut delta)?;
            }
            let instructions = if ahead { &self.ahead } else { &delta };
            let mut buf = self.cache.buffer();
            let kind = match &current {
                Some((kind, _, base)) => {
                    apply_delta(base, instructions, &mut buf)?;
                    *kind
                }
                None => {
                    let (kind, base) = self.cache.get(id, root?)?;
                    apply_delta(base, instructions, &mut buf)?;
                    kind
                }
            };
            if let Some((kind, at, done)) = current.replace((kind, entry.data_offset, buf)) {
                self.cache.put(id, at, kind, done);
            }
        }
        // A delta larger than the cache would take is not kept either.
        if delta.capacity() > self.cache.cap / 8 {
            delta = Vec::new();
        }
        self.delta = delta;
        chain.clear();
        self.chain = chain;
        let (kind, at, data) = current?;
        if direct || !self.cache.takes(data.capacity()) {
            let len = data.len();
            let old = std::mem::replace(scratch, data);
            self.cache.recycle(old);
            return Some((kind, At::Scratch(len)));
        }
        self.cache.put(id, at, kind, data);
        Some((kind, At::Cache(id, at)))
    }
}

/// Where [`PackReader::read_at`] left an object.
enum At {
    /// The first bytes of the caller's scratch buffer.
    Scratch(usize),
    /// The cache, at (pack, data offset).
    Cache(u32, u64),
}

/// Where a stream's compressed bytes come from.
enum Source<'a> {
    /// The pack's mapping, from the entry's data on.
    Mapped(&'a [u8]),
    /// Positioned reads of the pack file, `chunk[start..end]` not yet
    /// inflated.
    File {
        file: Option<&'a std::fs::File>,
        offset: u64,
        chunk: &'a mut Vec<u8>,
        start: usize,
        end: usize,
    },
}

/// A whole object inflated as it is read (see [`Blob::Stream`]). Fails
/// with `InvalidData` on a stream that is corrupt, or that ends before or
/// after the size its entry declared.
pub struct Stream<'a> {
    source: Source<'a>,
    inflate: &'a mut gix::zlib::Inflate,
    size: u64,
    produced: u64,
    done: bool,
}

impl Stream<'_> {
    /// The object's size, as its entry declared it.
    pub fn size(&self) -> u64 {
        self.size
    }
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl io::Read for Stream<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let input: &[u8] = match &mut self.source {
                Source::Mapped(input) => input,
                Source::File {
                    file,
                    offset,
                    chunk,
                    start,
                    end,
                } => {
                    if start == end {
                        let file = file.ok_or_else(|| corrupt("the pack cannot be opened"))?;
                        let read = read_at(file, chunk, *offset)?;
                        if read == 0 {
                            return Err(corrupt("the pack ends inside an object"));
                        }
                        *offset += read as u64;
                        (*start, *end) = (0, read);
                    }
                    &chunk[*start..*end]
                }
            };
            let (status, consumed, written) = self
                .inflate
                .prefix(input, out)
                .map_err(|e| corrupt(&super::one_line(&e)))?;
            match &mut self.source {
                Source::Mapped(input) => *input = &input[consumed..],
                Source::File { start, .. } => *start += consumed,
            }
            self.produced += written as u64;
            if self.produced > self.size {
                return Err(corrupt("an object is larger than its entry says"));
            }
            if status == Status::StreamEnd {
                self.done = true;
                if self.produced != self.size {
                    return Err(corrupt("an object is smaller than its entry says"));
                }
                return Ok(written);
            }
            if written > 0 {
                return Ok(written);
            }
            // No output: more input is needed, which only positioned reads
            // can still bring.
            let stuck = match &self.source {
                Source::Mapped(_) => true,
                Source::File { start, end, .. } => consumed == 0 && start != end,
            };
            if stuck {
                return Err(corrupt("an object's stream is cut short"));
            }
        }
    }
}

/// Reads a varint of git's delta header at `at`.
fn varint(data: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *data.get(*at)?;
        *at += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some(value);
        }
        if shift > 63 {
            return None;
        }
    }
}

/// Inflates the zlib stream at `offset` of `file` into `out`, which it must
/// fill exactly, reading `chunk.len()` bytes at a time.
fn inflate_from_file(
    file: &std::fs::File,
    mut offset: u64,
    chunk: &mut [u8],
    inflate: &mut gix::zlib::Inflate,
    out: &mut [u8],
) -> Option<()> {
    inflate.reset();
    let mut written = 0;
    loop {
        let read = read_at(file, chunk, offset).ok()?;
        if read == 0 {
            return None;
        }
        let mut input = &chunk[..read];
        loop {
            let (status, consumed, produced) = inflate.prefix(input, &mut out[written..]).ok()?;
            written += produced;
            input = &input[consumed..];
            offset += consumed as u64;
            if status == Status::StreamEnd {
                return (written == out.len()).then_some(());
            }
            if input.is_empty() {
                break;
            }
            if consumed == 0 && produced == 0 {
                // Output full and the stream not at its end: corrupt.
                return None;
            }
        }
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Applies a git delta (`delta.h`: the base's and the result's sizes, then
/// copy-from-base and insert instructions) to `base`, into `out`. None for
/// a delta that does not fit its base or its declared size.
fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mut at = 0;
    let base_size = varint(delta, &mut at)?;
    let result_size = varint(delta, &mut at)?;
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

/// The packs of `dir`, and whether an index there could not be opened.
fn open_packs(dir: &Path, hash: gix::hash::Kind) -> (Vec<Pack>, bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), false);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    paths.sort();
    let mut incomplete = false;
    let mut packs = Vec::new();
    for path in paths {
        match pack::index::File::at(&path, hash) {
            Ok(index) => packs.push(Pack {
                index,
                data: path.with_extension("pack"),
            }),
            Err(_) => incomplete = true,
        }
    }
    (packs, incomplete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;
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

    /// Every object of a repository whose packs hold deep delta chains, a
    /// blob over the positioned-read size (and one loose object) reads
    /// back exactly as gix's store has it, its header too, in both chain
    /// directions, streamed or not, with the default budget and with one
    /// so small that the cache evicts and the packs are unmapped all the
    /// time.
    #[test]
    fn reads_every_object_as_the_object_store_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let mut text = String::new();
        let mut large = String::new();
        for i in 0..60 {
            text.push_str(&format!(
                "line {i} of a file that grows by one line per commit\n"
            ));
            std::fs::write(root.join("grows.txt"), &text).unwrap();
            std::fs::create_dir_all(root.join("dir")).unwrap();
            std::fs::write(root.join(format!("dir/f{}.txt", i % 7)), &text).unwrap();
            if i % 20 == 0 {
                // Over LARGE_ENTRY, and little repetition to compress.
                while large.len() < (LARGE_ENTRY as usize) * 3 / 2 {
                    let n = large.len() as u64;
                    large.push_str(&format!("{:x}\n", n.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
                }
                large.push_str(&format!("version {i}\n"));
                std::fs::write(root.join("large.txt"), &large).unwrap();
            }
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
        let tiny = Budget {
            cache: 2048,
            window: 0,
        };
        let mut expected = Vec::new();
        let mut streamed_large = false;
        for order in [false, true] {
            if order {
                ids.reverse();
            }
            for budget in [Budget::default(), tiny] {
                let mut reader = PackReader::new(&repo, &packs, budget);
                let mut got = Vec::new();
                let mut scratch = Vec::new();
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
                    let whole = match reader.blob(id, &mut scratch).unwrap().unwrap() {
                        Blob::Bytes(bytes) => bytes.to_vec(),
                        Blob::Stream(mut stream) => {
                            let mut all = Vec::new();
                            stream.read_to_end(&mut all).unwrap();
                            streamed_large |= size >= LARGE_ENTRY;
                            all
                        }
                    };
                    assert!(whole == data.data, "{id}: blob differs");
                }
                // Only the last commit's loose blob, tree and commit came from
                // gix's store.
                assert_eq!(reader.fallbacks(), 6);
                if budget == tiny {
                    assert!(reader.unmaps() > 10, "{}", reader.unmaps());
                }
            }
        }
        assert!(streamed_large, "no large whole blob was streamed");
        let missing = gix::ObjectId::from_bytes_or_panic(&[7; 20]);
        let mut reader = PackReader::new(&repo, &packs, Budget::default());
        assert_eq!(reader.read(&missing, &mut Vec::new()).unwrap(), None);
    }

    /// A stream over a damaged entry fails instead of passing off wrong or
    /// short bytes; reading the object whole reports the error too.
    #[test]
    fn a_damaged_entry_fails_its_stream_and_its_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let text: String = (0..4000).map(|i| format!("{i:x} {}\n", i * 7919)).collect();
        std::fs::write(root.join("a.txt"), &text).unwrap();
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "one"]);
        git(root, &["repack", "-adq"]);
        let blob = git(root, &["rev-parse", "HEAD:a.txt"]).trim().to_string();
        let id = gix::ObjectId::from_hex(blob.as_bytes()).unwrap();
        let pack_dir = root.join(".git/objects/pack");
        let pack = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        let index =
            pack::index::File::at(pack.with_extension("idx"), gix::hash::Kind::Sha1).unwrap();
        let offset = index.pack_offset_at_index(index.lookup(id).unwrap()) as usize;
        let mut bytes = std::fs::read(&pack).unwrap();
        // Well inside the compressed stream.
        for byte in &mut bytes[offset + 40..offset + 60] {
            *byte ^= 0x55;
        }
        std::fs::write(&pack, &bytes).unwrap();

        let repo = gix::open(root).unwrap();
        let packs = Packs::open(&repo);
        let mut reader = PackReader::new(&repo, &packs, Budget::default());
        let mut scratch = Vec::new();
        match reader.blob(&id, &mut scratch).unwrap().unwrap() {
            Blob::Stream(mut stream) => {
                let mut all = Vec::new();
                assert!(stream.read_to_end(&mut all).is_err());
            }
            Blob::Bytes(_) => panic!("a whole object should stream"),
        }
        assert!(reader.read(&id, &mut Vec::new()).is_err());
    }
}
