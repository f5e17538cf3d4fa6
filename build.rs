//! Embeds every `rules/*.toml` file in the binary. Rules are data: adding a
//! provider is adding a file, with no list in the code to keep in step.
//!
//! Each file is embedded as JSON, converted here: reading 454 files of TOML
//! was 30% of every run's start-up (a pre-commit hook pays it on every
//! commit), and the same documents in JSON parse several times faster. A
//! TOML syntax error in a rule file stops the build here, naming the file;
//! the schema (unknown keys, types) is checked where the JSON is read, by
//! the same `RuleFile` type that reads custom rules' TOML, and a test checks
//! that both readings of every file agree.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

// The analysis of a rule's pattern that the prefilter needs, shared with the
// library: done here for the built-in rules, so no run parses them.
#[allow(dead_code)]
#[path = "src/detect/rules/facts.rs"]
mod facts;
#[path = "src/fnv.rs"]
mod fnv;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    // The table below is the facts module's output: a change to the
    // analysis must rewrite it (it went stale once under `cargo clippy`,
    // whose build of this script watched only `rules/`).
    for source in ["build.rs", "src/detect/rules/facts.rs", "src/fnv.rs"] {
        println!("cargo:rerun-if-changed={source}");
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("rules/ exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    // Sorted, so rule order (and everything derived from it) is stable.
    files.sort();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut code = String::from("&[\n");
    // Where each rule is defined (rule id, file, line), for links to a
    // rule's documentation (the language server's diagnostics).
    let mut places = String::from("&[\n");
    // (rule id, fingerprint, facts as Rust), sorted by id for lookup.
    let mut facts_rows: Vec<(String, String)> = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 rule file name");
        let text = fs::read_to_string(path).expect("rule files are readable UTF-8");
        for (number, line) in text.lines().enumerate() {
            let Some(value) = line.trim().strip_prefix("id") else {
                continue;
            };
            let Some(value) = value.trim_start().strip_prefix('=') else {
                continue;
            };
            let id = value.trim().trim_matches(['"', '\'']);
            writeln!(places, "    ({id:?}, {name:?}, {}),", number + 1).unwrap();
        }
        let document: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("rules/{name} is not valid TOML: {e}"));
        for rule in document
            .get("rule")
            .and_then(|rules| rules.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(row) = facts_row(name, rule) {
                facts_rows.push(row);
            }
        }
        let json = serde_json::to_string(&document).expect("TOML converts to JSON");
        let json_path = out_dir.join(format!("{name}.json"));
        fs::write(&json_path, json).expect("OUT_DIR is writable");
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            json_path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("]\n");
    places.push_str("]\n");
    fs::write(out_dir.join("builtin_rules.rs"), code).expect("OUT_DIR is writable");
    fs::write(out_dir.join("builtin_rule_places.rs"), places).expect("OUT_DIR is writable");
    facts_rows.sort();
    let mut table = String::from("&[\n");
    for (_, row) in &facts_rows {
        table.push_str(row);
    }
    table.push_str("]\n");
    fs::write(out_dir.join("builtin_facts.rs"), table).expect("OUT_DIR is writable");
}

/// One row of the facts table for a rule of `rules/{file}`, as Rust: `None`
/// for a rule without an id or pattern (the library reports those when it
/// reads the file). An invalid pattern stops the build, naming the rule.
fn facts_row(file: &str, rule: &toml::Value) -> Option<(String, String)> {
    let id = rule.get("id")?.as_str()?;
    let pattern = rule.get("pattern")?.as_str()?;
    let keywords: Vec<&str> = rule
        .get("keywords")
        .and_then(|k| k.as_array())
        .map(|k| k.iter().filter_map(|k| k.as_str()).collect())
        .unwrap_or_default();
    let facts = facts::analyse(pattern, &keywords)
        .unwrap_or_else(|e| panic!("rules/{file}: rule {id}: invalid pattern: {e}"));
    let preceded = match &facts.preceded {
        None => "None".to_string(),
        Some(splits) => {
            let splits: Vec<String> = splits
                .iter()
                .map(|(before, begins, run)| {
                    format!(
                        "(Cow::Borrowed(&{before:?}), Cow::Borrowed(&{begins:?}), {run})",
                        before = &before[..],
                        begins = &begins[..]
                    )
                })
                .collect();
            format!("Some(Cow::Borrowed(&[{}]))", splits.join(", "))
        }
    };
    let shape = facts.shape;
    let row = format!(
        "    ({id:?}, {fingerprint:#x}, PatternFacts {{ keywords_start_every_token: {starts}, \
         preceded: {preceded}, searched: {searched:#x}, leading_run: {leading}, shape: RunShape {{ min: {min}, max: {max}, kinds: {kinds}, after: {after}, first: {first}, before: {before:#x}, inside: {inside} }}, \
         min_secret_len: {min_len}, named_in_key: {named} }}),\n",
        fingerprint = facts::fingerprint(pattern, &keywords),
        starts = facts.keywords_start_every_token,
        searched = facts.searched,
        leading = facts.leading_run,
        min = shape.min,
        max = if shape.max == usize::MAX { "usize::MAX".to_string() } else { shape.max.to_string() },
        kinds = shape.kinds,
        after = shape.after,
        first = shape.first,
        before = shape.before,
        inside = shape.inside,
        min_len = facts.min_secret_len,
        named = facts.named_in_key,
    );
    Some((id.to_string(), row))
}
