//! The repository's top level holds only what a reader expects: a stray
//! file committed by a tool or a session (an empty `.done` once landed on
//! main) fails here, not in a reader's first `ls`. Adding a real top-level
//! entry means adding it to `EXPECTED`, on purpose.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

/// Every top-level entry the repository may track.
const EXPECTED: &[&str] = &[
    ".ci",
    ".gitattributes",
    ".gitignore",
    ".pre-commit-hooks.yaml",
    "Cargo.lock",
    "Cargo.toml",
    "README.md",
    "action.yml",
    "benches",
    "build.rs",
    "docs",
    "fixtures",
    "fuzz",
    "integrations",
    "rules",
    "src",
    "tests",
];

/// The first path component of every file git tracks (what a clone has),
/// staged additions included, so a stray file fails before it is committed.
fn tracked_top_level() -> BTreeSet<String> {
    let root = common::repo_root();
    let out = Command::new("git")
        .args(["ls-files", "--cached", "-z"])
        .current_dir(&root)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git ls-files failed in {}: {}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let path = String::from_utf8_lossy(p);
            path.split('/').next().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn the_top_level_holds_only_expected_entries() {
    let found = tracked_top_level();
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|e| !EXPECTED.contains(&e.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected top-level entries {unexpected:?}: remove them, or add them to EXPECTED in \
         tests/repository_layout.rs if they belong"
    );
    // The check is only worth something if it sees the repository.
    for core in ["Cargo.toml", "src", "README.md"] {
        assert!(found.contains(core), "{core} not tracked? {found:?}");
    }
}
