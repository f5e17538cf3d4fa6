//! Whether a workspace file is one a folder scan would skip: excluded by a
//! `.gitignore` or `.ignore` between the workspace root and the file, by
//! `.git/info/exclude`, or by git's global excludes — the files the walker
//! of `patscan scan` leaves out (`src/source/fs.rs`), so the editor flags
//! what a scan in CI would. A `.env` that git ignores is where a token
//! belongs; a token in it is not a leak.
//!
//! The matchers of each folder are read on first need and kept until an
//! ignore file changes ([`Ignores::clear`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

/// The ignore files of one workspace folder, read as needed.
pub struct Ignores {
    root: PathBuf,
    /// By folder: the matcher of its `.gitignore` and `.ignore`, `None`
    /// when it has neither.
    folders: HashMap<PathBuf, Option<Gitignore>>,
    /// `.git/info/exclude` and the global excludes, below every folder's.
    base: Option<(Gitignore, Gitignore)>,
}

impl Ignores {
    pub fn new(root: PathBuf) -> Ignores {
        Ignores {
            root,
            folders: HashMap::new(),
            base: None,
        }
    }

    /// Forgets what was read (an ignore file was created, changed or removed).
    pub fn clear(&mut self) {
        self.folders.clear();
        self.base = None;
    }

    /// Whether `path` (a file under the root) is ignored. The deepest
    /// folder's rules win, as in git: a `!negation` there keeps a file a
    /// parent's rule ignores.
    pub fn ignores(&mut self, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&self.root) else {
            return false;
        };
        if relative.components().any(|c| c.as_os_str() == ".git") {
            return true;
        }
        let mut folder = path.parent();
        while let Some(dir) = folder {
            if !dir.starts_with(&self.root) {
                break;
            }
            if let Some(matcher) = self.folder(dir) {
                match matcher.matched_path_or_any_parents(path, false) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
            if dir == self.root {
                break;
            }
            folder = dir.parent();
        }
        let root = self.root.clone();
        let (exclude, global) = self.base.get_or_insert_with(|| {
            let mut exclude = GitignoreBuilder::new(&root);
            // A missing file is no error here: most have none.
            let _ = exclude.add(root.join(".git/info/exclude"));
            let exclude = exclude.build().unwrap_or_else(|_| Gitignore::empty());
            let (global, _) = Gitignore::global();
            (exclude, global)
        });
        for matcher in [&*exclude, &*global] {
            if matcher.is_empty() {
                continue;
            }
            if let Match::Ignore(_) = matched(matcher, &root, path) {
                return true;
            }
        }
        false
    }

    fn folder(&mut self, dir: &Path) -> Option<&Gitignore> {
        self.folders
            .entry(dir.to_path_buf())
            .or_insert_with(|| {
                let mut builder = GitignoreBuilder::new(dir);
                let mut any = false;
                for name in [".gitignore", ".ignore"] {
                    let file = dir.join(name);
                    if file.is_file() {
                        // A bad line is skipped by the builder; the rest hold.
                        let _ = builder.add(file);
                        any = true;
                    }
                }
                any.then(|| builder.build().ok()).flatten()
            })
            .as_ref()
    }
}

/// A global matcher's verdict on `path`, asked relative to `root` (its own
/// root is the current folder, which need not contain the workspace).
fn matched(matcher: &Gitignore, root: &Path, path: &Path) -> Match<()> {
    let Ok(relative) = path.strip_prefix(root) else {
        return Match::None;
    };
    let mut verdict = Match::None;
    let mut at = PathBuf::new();
    let parts: Vec<_> = relative.components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let is_dir = i + 1 < parts.len();
        match matcher.matched(&at, is_dir) {
            Match::Ignore(_) => verdict = Match::Ignore(()),
            Match::Whitelist(_) => verdict = Match::Whitelist(()),
            Match::None => {}
        }
        if matches!(verdict, Match::Ignore(())) {
            break;
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_ignore_file_decides() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join(".gitignore"), ".env\nbuild/\n*.log\n").unwrap();
        std::fs::create_dir_all(root.join("sub/build")).unwrap();
        std::fs::write(root.join("sub/.gitignore"), "!keep.log\n").unwrap();
        let mut ignores = Ignores::new(root.clone());
        assert!(ignores.ignores(&root.join(".env")));
        assert!(ignores.ignores(&root.join("sub/build/out.js")));
        assert!(ignores.ignores(&root.join("sub/x.log")));
        assert!(!ignores.ignores(&root.join("sub/keep.log")));
        assert!(!ignores.ignores(&root.join("src/app.js")));
        assert!(ignores.ignores(&root.join(".git/config")));
        assert!(!ignores.ignores(Path::new("/elsewhere/.env")));
        std::fs::write(root.join(".gitignore"), "").unwrap();
        assert!(ignores.ignores(&root.join(".env")), "kept until cleared");
        ignores.clear();
        assert!(!ignores.ignores(&root.join(".env")));
    }
}
