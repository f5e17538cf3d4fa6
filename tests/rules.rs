//! The rule files themselves: they parse, compile, and every example and
//! negative example behaves as the file says.

use patscan::rules::{self, examples::check_examples_seeds, OptIn, RuleFile, RuleSet};
use patscan::tokengen::is_family;

/// Every built-in rule, the opt-in ones included.
fn all_rules() -> RuleSet {
    rules::builtin_with(&[OptIn::Generic]).expect("built-in rules compile")
}

#[test]
fn opt_in_rules_are_left_out_of_the_default_set() {
    let default = rules::builtin().unwrap();
    assert!(default.rules().iter().all(|r| r.spec.opt_in.is_none()));
    let all = all_rules();
    let generic: Vec<&str> = all
        .rules()
        .iter()
        .filter(|r| r.spec.opt_in == Some(OptIn::Generic))
        .map(|r| r.spec.id.as_str())
        .collect();
    assert!(generic.contains(&"generic-password"), "{generic:?}");
    assert_eq!(all.rules().len(), default.rules().len() + generic.len());
    // Their keywords never reach the default prefilter.
    for rule in all.rules().iter().filter(|r| r.spec.opt_in.is_some()) {
        for keyword in &rule.spec.keywords {
            assert!(!default.automaton_keywords().contains(keyword), "{keyword}");
        }
        assert_eq!(rule.spec.confidence, patscan::model::Confidence::Low);
    }
}

#[test]
fn every_rule_example_matches_and_every_negative_does_not() {
    let set = all_rules();
    // Several seeds: generated tokens differ each time.
    check_examples_seeds(&set, 0..20).unwrap_or_else(|(seed, e)| panic!("seed {seed}: {e}"));
}

#[test]
fn every_built_in_pattern_builds() {
    // Built-in regexes are built on first use during a scan; here, all of them.
    let set = all_rules();
    for rule in set.rules() {
        rule.build_now()
            .unwrap_or_else(|e| panic!("{}: {e}", rule.spec.id));
    }
}

#[test]
fn every_rule_has_examples_and_a_generator_family() {
    let set = all_rules();
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

/// The keyword pass is a SIMD (Teddy) search whose speed falls with every
/// literal it holds (docs/performance.md): a new rule must find its tokens
/// by a run prefix, an anchor, a lookup before its run or context words,
/// never by one more literal of the keyword pass. 46 keywords at 634 rules
/// (2026-12), down from 99 once keywords before a run left it; 33 once the
/// branches of a pattern were looked up before their runs one by one
/// (doppler's) and five prefixes started a run of 16, and 24 literals for
/// them in the SIMD search (the slim Teddy's 8 buckets), keywords that
/// share 4 bytes or more being one literal (`patscan rules --prefilter`
/// shows how each rule is found). The numbers may only go down: past 32
/// literals the search takes the fat Teddy (16 bytes a step instead of
/// 32), past 64 it gives up SIMD altogether. The keywords under 4 bytes
/// are searched apart (by their rarest byte): one in the SIMD search would
/// shorten the fingerprint it takes of every literal from 4 bytes to 3.
#[test]
fn new_rules_add_no_literal_to_the_keyword_automaton() {
    let set = patscan::rules::builtin().unwrap();
    let keywords = set.automaton_keywords();
    assert!(
        keywords.len() <= 33,
        "{} keywords in the keyword pass: {keywords:?}",
        keywords.len()
    );
    let searcher = set.keywords().expect("built-in rules have keywords");
    assert!(searcher.is_packed());
    let literals = searcher.packed_literals();
    assert!(
        searcher.packed_len() <= 24,
        "{} literals in the SIMD search: {literals:?}",
        searcher.packed_len()
    );
    assert!(literals.iter().all(|l| l.len() >= 4), "{literals:?}");
    // Every keyword of 4 bytes or more stands for itself or holds one of
    // the literals.
    for keyword in keywords.iter().filter(|k| k.len() >= 4) {
        assert!(
            literals.iter().any(|l| keyword.contains(l.as_str())),
            "{keyword} is searched by no literal: {literals:?}"
        );
    }
}

/// The binary reads its rules as JSON that `build.rs` converts from the
/// TOML files (faster at start-up); custom rules are read as TOML. Both
/// readings of every built-in file must give the same rules, field for field.
#[test]
fn every_built_in_file_reads_the_same_from_its_toml_and_its_embedded_json() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("rules/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        rules::BUILTIN_RULE_FILES.len(),
        "one embedded document per file"
    );
    for (path, (name, json)) in files.iter().zip(rules::BUILTIN_RULE_FILES) {
        assert_eq!(path.file_name().and_then(|n| n.to_str()), Some(*name));
        let text = std::fs::read_to_string(path).expect("a rule file is readable");
        let from_toml = RuleFile::parse(name, &text).unwrap_or_else(|e| panic!("{e}"));
        let from_json = RuleFile::parse_json(name, json).unwrap_or_else(|e| panic!("{e}"));
        let as_value =
            |file: &RuleFile| serde_json::to_value(&file.rules).expect("rules serialise");
        assert_eq!(as_value(&from_toml), as_value(&from_json), "{name}");
        assert!(!from_json.rules.is_empty(), "{name} has rules");
    }
}
