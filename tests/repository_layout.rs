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

/// `(name, version)` of every package a `Cargo.lock` pins.
fn locked_packages(lock: &str) -> BTreeSet<(String, String)> {
    let lock: toml::Value = toml::from_str(lock).expect("a Cargo.lock is TOML");
    lock.get("package")
        .and_then(toml::Value::as_array)
        .expect("a Cargo.lock lists its packages")
        .iter()
        .map(|package| {
            let field = |key: &str| {
                package
                    .get(key)
                    .and_then(toml::Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (field("name"), field("version"))
        })
        .collect()
}

/// CI builds the fuzz targets in the test build's target folder so that
/// no dependency is compiled twice (`.ci/fuzz`). That holds only while the
/// fuzz workspace pins the versions patscan pins: one newer patch release
/// of a crate deep in the graph (`h2`, once) recompiles everything above
/// it, minutes of a cold CI run.
#[test]
fn the_fuzz_workspace_pins_the_versions_patscan_pins() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| {
        std::fs::read_to_string(format!("{root}/{path}")).expect("the lock file is readable")
    };
    let main = locked_packages(&read("Cargo.lock"));
    let fuzz = locked_packages(&read("fuzz/Cargo.lock"));
    let main_names: BTreeSet<&String> = main.iter().map(|(name, _)| name).collect();
    let drifted: Vec<String> = fuzz
        .difference(&main)
        .filter(|(name, _)| main_names.contains(name))
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    assert!(
        drifted.is_empty(),
        "fuzz/Cargo.lock pins other versions than Cargo.lock: {drifted:?}; \
         sync it: cp Cargo.lock fuzz/Cargo.lock && (cd fuzz && cargo metadata --format-version 1 >/dev/null)"
    );
}
