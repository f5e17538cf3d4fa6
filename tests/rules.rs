//! The rule files themselves: they parse, compile, and every example and
//! negative example behaves as the file says.

use patscan::rules::{self, examples::check_examples, RuleFile};
use patscan::tokengen::is_family;

#[test]
fn every_rule_example_matches_and_every_negative_does_not() {
    let set = rules::builtin().expect("built-in rules compile");
    // Several seeds: generated tokens differ each time.
    for seed in 0..20 {
        check_examples(&set, seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

#[test]
fn every_built_in_pattern_builds() {
    // Built-in regexes are built on first use during a scan; here, all of them.
    let set = rules::builtin().unwrap();
    for rule in set.rules() {
        rule.build_now()
            .unwrap_or_else(|e| panic!("{}: {e}", rule.spec.id));
    }
}

#[test]
fn every_rule_has_examples_and_a_generator_family() {
    let set = rules::builtin().unwrap();
    for rule in set.rules() {
        let spec = &rule.spec;
        assert!(!spec.examples.is_empty(), "{} has no examples", spec.id);
        assert!(
            !spec.negative_examples.is_empty(),
            "{} has no negative examples",
            spec.id
        );
        assert!(
            is_family(&spec.id),
            "{} has no token generator family",
            spec.id
        );
        assert!(
            spec.examples
                .iter()
                .any(|e| e.contains(&format!("{{{{token:{}}}}}", spec.id))),
            "{}: at least one example must be a generated token",
            spec.id
        );
    }
}

#[test]
fn every_checksummed_rule_rejects_a_corrupted_token() {
    let set = rules::builtin().unwrap();
    for rule in set.rules() {
        let Some(checksum) = &rule.spec.checksum else {
            continue;
        };
        let corrupt = format!("{{{{corrupt:{}}}}}", rule.spec.id);
        // An inferred scheme keeps a failing token at the rule's own
        // confidence, so its corrupt look-alike is an example, not a negative.
        // (Unless it is exact at the generated token's length.)
        let (list, place) = if checksum.inferred && checksum.exact_length.is_none() {
            (&rule.spec.examples, "examples")
        } else {
            (&rule.spec.negative_examples, "negative examples")
        };
        assert!(
            list.iter().any(|e| e.contains(&corrupt)),
            "{} must list {corrupt} among its {place}",
            rule.spec.id
        );
    }
}

#[test]
fn unknown_keys_in_a_rule_file_are_errors() {
    let text = r#"
[[rule]]
id = "x"
name = "x"
description = "x"
keywords = ["abc"]
pattern = "abc"
max_length = 3
colour = "red"
"#;
    let err = RuleFile::parse("test.toml", text).unwrap_err().to_string();
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn a_rule_without_keywords_or_bare_scan_is_rejected() {
    let text = r#"
[[rule]]
id = "x"
name = "x"
description = "x"
pattern = "abc"
max_length = 3
"#;
    let specs = RuleFile::parse("test.toml", text).unwrap().rules;
    let err = rules::RuleSet::compile(specs).err().unwrap().to_string();
    assert!(err.contains("keyword"), "{err}");
}
