//! The README documents what the binary does: its "Supported tokens" table
//! is `patscan rules --markdown`, so a rule added, removed or changed
//! without the table following fails here.

mod common;

use common::*;

const START: &str = "<!-- rules-table:start";
const END: &str = "<!-- rules-table:end -->";

#[test]
fn the_supported_tokens_table_is_the_rule_files() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find(START)
        .expect("README has the rules-table start marker");
    let body_start = start + readme[start..].find('\n').expect("marker line ends") + 1;
    let end = readme
        .find(END)
        .expect("README has the rules-table end marker");
    let documented = &readme[body_start..end];
    let output = patscan().args(["rules", "--markdown"]).output().unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    assert!(
        documented == generated,
        "README.md's Supported tokens table is out of date: replace it with the output of \
         `cargo run -q -- rules --markdown`"
    );
}

#[test]
fn every_rule_names_its_provider() {
    let set = patscan::rules::builtin().unwrap();
    for rule in set.rules() {
        assert!(
            !rule.spec.family.is_empty(),
            "{} has no family",
            rule.spec.id
        );
    }
}
