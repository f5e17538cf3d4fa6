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

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("rules/ exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    // Sorted, so rule order (and everything derived from it) is stable.
    files.sort();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut code = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 rule file name");
        let text = fs::read_to_string(path).expect("rule files are readable UTF-8");
        let document: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("rules/{name} is not valid TOML: {e}"));
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
    fs::write(out_dir.join("builtin_rules.rs"), code).expect("OUT_DIR is writable");
}
