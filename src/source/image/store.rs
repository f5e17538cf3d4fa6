//! Where an image's blobs are read from: an OCI image layout folder, a
//! `docker save` or `podman save` archive (plain, or gzip- or
//! zstd-compressed), or a registry (`registry.rs`). Each is a [`Store`]:
//! blobs by digest or, in a legacy `docker save` archive, by path.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::digest::{Digest, Hashing};
use super::layer::{compression_of, Decoded};

/// Largest manifest, index or config read: the OCI distribution
/// specification lets registries refuse manifests over 4 MiB.
pub const MAX_DOCUMENT: u64 = 4 << 20;

/// Where a blob is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    /// `blobs/<algorithm>/<hex>` of a layout, or a registry's blob.
    Digest(Digest),
    /// A member of a legacy `docker save` archive (`<id>/layer.tar`).
    Path(String),
}

impl Locator {
    /// How messages name it.
    pub fn describe(&self) -> String {
        match self {
            Locator::Digest(d) => d.to_string(),
            Locator::Path(p) => p.clone(),
        }
    }
}

/// A source of blobs. Shared by the threads that read layers.
pub trait Store: Sync {
    /// The blob at `at`, as a stream. The error is a message for the
    /// report (it never holds a credential).
    fn open(&self, at: &Locator) -> Result<Box<dyn Read + Send + '_>, String>;

    /// A small blob (a manifest, an index, a config) read whole, within
    /// [`MAX_DOCUMENT`], and checked against `digest` when one names it.
    fn document(&self, at: &Locator, digest: Option<&Digest>) -> Result<Vec<u8>, String> {
        let reader = self.open(at)?;
        read_document(reader, digest).map_err(|e| format!("{}: {e}", at.describe()))
    }

    /// A manifest or index an index names (a registry serves those apart
    /// from blobs; a layout keeps them with them).
    fn manifest_document(&self, digest: &Digest) -> Result<Vec<u8>, String> {
        self.document(&Locator::Digest(digest.clone()), Some(digest))
    }
}

/// Reads a document whole, bounded, and checks its digest.
pub fn read_document(reader: impl Read, digest: Option<&Digest>) -> Result<Vec<u8>, String> {
    let mut hashing = Hashing::new(reader.take(MAX_DOCUMENT + 1), digest);
    let mut bytes = Vec::new();
    hashing
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read error: {e}"))?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(format!(
            "larger than {MAX_DOCUMENT} bytes: not an image document"
        ));
    }
    if let Some(expected) = digest {
        let found = hashing.finish().map_err(|e| e.to_string())?;
        if found.as_ref() != Some(expected) {
            return Err(format!(
                "content does not match its digest {} (found {})",
                expected.short(),
                found.as_ref().map_or("none", |d| d.short())
            ));
        }
    }
    Ok(bytes)
}

/// The path of a blob inside a layout.
pub fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

/// A relative path with no `..`, root or prefix: one that stays inside
/// the folder or archive it is read from.
fn contained(path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        .then(|| path.to_path_buf())
}

/// An OCI image layout folder.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: &Path) -> DirStore {
        DirStore {
            root: root.to_path_buf(),
        }
    }

    /// Whether `root/name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.root.join(name).exists()
    }
}

impl Store for DirStore {
    fn open(&self, at: &Locator) -> Result<Box<dyn Read + Send + '_>, String> {
        let relative = match at {
            Locator::Digest(d) => blob_path(d),
            Locator::Path(p) => p.clone(),
        };
        let path =
            contained(&relative).ok_or_else(|| format!("{relative}: a path outside the layout"))?;
        let file = File::open(self.root.join(&path))
            .map_err(|e| format!("missing blob {}: {e}", at.describe()))?;
        Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
    }
}

/// A tar archive of an image (`docker save`, `podman save`, `skopeo copy
/// … docker-archive:` or `oci-archive:`): its members indexed once by name,
/// then read in place. A compressed archive is first expanded to a
/// temporary file, since its manifest comes last and layers are read in
/// any order.
pub struct TarStore {
    file: PathBuf,
    /// Member name (without `./`) to its data's offset and size.
    members: HashMap<String, (u64, u64)>,
    /// Symbolic links: name to target (a repeated layer in a legacy
    /// archive is a link to the first copy).
    links: HashMap<String, String>,
    _temporary: Option<Temporary>,
}

/// A file removed when dropped.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl TarStore {
    pub fn open(path: &Path) -> Result<TarStore, String> {
        let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let mut magic = [0u8; 4];
        let read = read_up_to(&mut file, &mut magic).map_err(|e| format!("read error: {e}"))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| format!("read error: {e}"))?;
        let (tar_path, temporary) = match compression_of(&magic[..read]) {
            Some(kind) => {
                let temp = std::env::temp_dir().join(format!(
                    "patscan-image-{}-{}.tar",
                    std::process::id(),
                    unique()
                ));
                let guard = Temporary(temp.clone());
                let mut out = File::create(&temp)
                    .map_err(|e| format!("cannot expand it to {}: {e}", temp.display()))?;
                let mut decoded = Decoded::new(kind, BufReader::new(file))
                    .map_err(|e| format!("not a readable compressed archive: {e}"))?;
                io::copy(&mut decoded, &mut out)
                    .map_err(|e| format!("truncated or corrupt compressed archive: {e}"))?;
                (temp, Some(guard))
            }
            None => (path.to_path_buf(), None),
        };
        let mut store = TarStore {
            file: tar_path,
            members: HashMap::new(),
            links: HashMap::new(),
            _temporary: temporary,
        };
        store.index()?;
        Ok(store)
    }

    fn index(&mut self) -> Result<(), String> {
        let file = File::open(&self.file).map_err(|e| format!("cannot open: {e}"))?;
        let mut archive = tar::Archive::new(BufReader::new(file));
        let entries = archive
            .entries_with_seek()
            .map_err(|e| format!("not a tar archive: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("truncated or corrupt archive: {e}"))?;
            let name = normal(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name_bytes() {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let resolved = if kind.is_symlink() {
                        join(parent(&name), &target)
                    } else {
                        normal(&target)
                    };
                    self.links.insert(name, resolved);
                }
            } else if kind.is_file() {
                self.members
                    .insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        if self.members.is_empty() {
            return Err("not a tar archive of an image (no members)".into());
        }
        Ok(())
    }

    /// Whether the archive has member `name`.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    fn find(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = normal(name);
        // A few links at most; a loop is not followed forever.
        for _ in 0..8 {
            if let Some(found) = self.members.get(&name) {
                return Some(*found);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }
}

impl Store for TarStore {
    fn open(&self, at: &Locator) -> Result<Box<dyn Read + Send + '_>, String> {
        let name = match at {
            Locator::Digest(d) => blob_path(d),
            Locator::Path(p) => p.clone(),
        };
        let (offset, size) = self
            .find(&name)
            .ok_or_else(|| format!("missing blob {}: not in the archive", at.describe()))?;
        let mut file = File::open(&self.file).map_err(|e| format!("cannot open: {e}"))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| format!("read error: {e}"))?;
        let reader = Sized {
            inner: BufReader::with_capacity(1 << 16, file).take(size),
            left: size,
        };
        Ok(Box::new(reader))
    }
}

/// A member's bytes; an archive cut short mid-member is an error, not a
/// short blob.
struct Sized<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Sized<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left -= n as u64;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside this blob (truncated)",
            ));
        }
        Ok(n)
    }
}

/// A member name without `./`, leading or doubled slashes.
pub fn normal(name: &str) -> String {
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

fn parent(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// `target` read from the folder `dir`, `..` resolved.
fn join(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    nanos ^ (NEXT.fetch_add(1, Ordering::Relaxed) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links_resolve_inside_the_archive() {
        assert_eq!(normal("./a//b/"), "a/b");
        assert_eq!(join("abc", "../def/layer.tar"), "def/layer.tar");
        assert_eq!(join("abc", "/x/y"), "x/y");
        assert!(contained("blobs/sha256/00").is_some());
        assert!(contained("../etc/passwd").is_none());
        assert!(contained("/etc/passwd").is_none());
    }
}
