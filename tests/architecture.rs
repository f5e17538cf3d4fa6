//! The layers of `docs/architecture.md`, checked: every `crate::…` path in
//! `src/**/*.rs` (in `use` lines and inline, test modules included) must
//! name a layer its file's layer may use. A forbidden one fails with the
//! file, the line and the rule it breaks.
//!
//! The tables below are the documentation's, as data: change both together.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Which layer each top-level module of the crate belongs to. A module not
/// listed here fails the test: a new module must be placed in a layer.
const LAYER_OF: &[(&str, &str)] = &[
    ("model", "model"),
    // Small helpers any layer may use; they know nothing of the others.
    ("civil_time", "support"),
    ("codec", "support"),
    ("fnv", "support"),
    ("error", "support"),
    ("line_hash", "support"),
    ("progress", "support"),
    ("relpath", "support"),
    ("size", "support"),
    ("net", "net"),
    ("detect", "detect"),
    // Short paths of detection's parts (`pub use detect::{…}` in lib.rs).
    ("checksum", "detect"),
    ("engine", "detect"),
    ("rules", "detect"),
    ("runs", "detect"),
    ("generic", "detect"),
    ("parse", "detect"),
    ("decode", "detect"),
    ("redact", "detect"),
    ("tokengen", "detect"),
    ("cache", "cache"),
    ("scan", "scan"),
    ("scanner", "scan"),
    ("suppress", "scan"),
    ("config", "scan"),
    ("baseline", "scan"),
    ("source", "source"),
    ("live", "live"),
    ("report", "report"),
    ("lsp", "lsp"),
    ("cli", "cli"),
    ("hook", "cli"),
    ("lib", "cli"),
    ("main", "cli"),
];

/// The layers each layer may use besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("support", &["model"]),
    ("net", &["support"]),
    ("detect", &["model", "support"]),
    ("cache", &["model", "support", "detect"]),
    ("scan", &["model", "support", "detect", "cache"]),
    ("source", &["model", "support", "detect", "net", "scan"]),
    ("live", &["model", "support", "detect", "net", "scan"]),
    ("report", &["model", "support", "detect", "scan"]),
    ("lsp", &["model", "support", "detect", "scan"]),
    (
        "cli",
        &[
            "model", "support", "net", "detect", "cache", "scan", "source", "live", "report", "lsp",
        ],
    ),
];

/// Rules the issue names outright, checked whatever the tables say: a
/// table edit that allowed one of these would be a mistake.
const NEVER: &[(&str, &str)] = &[
    ("report", "live"),
    ("report", "net"),
    ("detect", "live"),
    ("detect", "net"),
    ("detect", "source"),
    ("detect", "report"),
    ("detect", "cache"),
    ("cache", "live"),
    ("cache", "net"),
    ("source", "report"),
    ("source", "live"),
    // Sources feed the scan stage's sink; only the scan stage consults
    // the cache (it used to be the sources' own, and must not be again).
    ("source", "cache"),
    ("scan", "source"),
    ("cache", "scan"),
    ("cache", "source"),
    ("report", "source"),
    // The editor's server scans what is typed; no token it sees may leave
    // the machine, so it has no path to the network.
    ("lsp", "net"),
    ("lsp", "live"),
    ("model", "support"),
    ("model", "net"),
    ("model", "detect"),
    ("model", "cache"),
    ("model", "scan"),
    ("model", "source"),
    ("model", "live"),
    ("model", "report"),
    ("model", "cli"),
];

fn layer_of(module: &str) -> Option<&'static str> {
    LAYER_OF
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, layer)| *layer)
}

fn allowed(from: &str, to: &str) -> bool {
    from == to
        || ALLOWED
            .iter()
            .find(|(layer, _)| *layer == from)
            .is_some_and(|(_, uses)| uses.contains(&to))
}

/// One use of another module: the top-level module named, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Use {
    module: String,
    line: usize,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source with comments and string literals blanked (newlines kept, so
/// line numbers stay right): a doc comment or a message that mentions
/// `crate::live` is not a dependency.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, b: u8| out.push(if b == b'\n' { '\n' } else { ' ' });
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(' ');
                i += 1;
            }
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
        } else if b == b'r'
            && matches!(bytes.get(i + 1), Some(b'"' | b'#'))
            && !ident_before(bytes, i)
        {
            // Raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat(b'#').take(hashes))
                .collect();
            for _ in i..=j {
                out.push(' ');
            }
            i = j + 1;
            while i < bytes.len() && !bytes[i..].starts_with(&close) {
                blank(&mut out, bytes[i]);
                i += 1;
            }
            for _ in 0..close.len().min(bytes.len() - i) {
                out.push(' ');
            }
            i += close.len();
        } else if b == b'"' {
            out.push(' ');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
                blank(&mut out, bytes[i]);
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if b == b'\'' && is_char_literal(bytes, i) {
            // 'x', '\n', '\'' — not a lifetime.
            let end = bytes[i + 1..]
                .iter()
                .enumerate()
                .skip(1)
                .find(|(k, &c)| c == b'\'' && bytes[i + *k] != b'\\')
                .map_or(bytes.len(), |(k, _)| i + 1 + k);
            for _ in i..=end.min(bytes.len() - 1) {
                out.push(' ');
            }
            i = end + 1;
        } else {
            // Multi-byte UTF-8 is copied whole.
            let len = utf8_len(b);
            out.push_str(&source[i..(i + len).min(source.len())]);
            i += len;
        }
    }
    out
}

fn ident_before(bytes: &[u8], i: usize) -> bool {
    i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
}

fn is_char_literal(bytes: &[u8], i: usize) -> bool {
    match (bytes.get(i + 1), bytes.get(i + 2), bytes.get(i + 3)) {
        (Some(b'\\'), _, _) => true,
        (Some(_), Some(b'\''), _) => true,
        // A multi-byte char such as '…'.
        (Some(&c), _, _) if c >= 0x80 => true,
        _ => false,
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn line_at(code: &str, offset: usize) -> usize {
    code[..offset].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The file's own module path below the crate root: `src/report/html.rs`
/// and `src/report/html/mod.rs` are both `["report", "html"]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .skip(1)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_string();
        if stem != "mod" && !(parts.is_empty() && (stem == "lib" || stem == "main")) {
            parts.push(stem);
        }
    }
    parts
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The top-level modules named by `crate::…` paths (and `use crate::{…}`
/// groups) and by `super::…` chains that climb to the crate root.
fn uses(code: &str, own_path: &[String]) -> Vec<Use> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(rel) = code[at..].find("crate::") {
        let start = at + rel;
        at = start + "crate::".len();
        if start > 0 && (is_ident_byte(bytes[start - 1]) || bytes[start - 1] == b':') {
            // `$crate::`, `foo_crate::`, or `super::crate` (never valid).
            if bytes[start - 1] != b'$' {
                continue;
            }
        }
        let line = line_at(code, start);
        if bytes.get(at) == Some(&b'{') {
            for module in group_heads(&code[at..]) {
                found.push(Use { module, line });
            }
        } else {
            let name: String = code[at..]
                .bytes()
                .take_while(|&b| is_ident_byte(b))
                .map(char::from)
                .collect();
            if !name.is_empty() {
                found.push(Use { module: name, line });
            }
        }
    }
    // `super::super::x` from `src/a/b.rs` reaches the crate root's `x`.
    let mut at = 0;
    while let Some(rel) = code[at..].find("super::") {
        let start = at + rel;
        at = start + "super::".len();
        if start > 0 && (is_ident_byte(bytes[start - 1]) || bytes[start - 1] == b':') {
            continue;
        }
        let mut depth = 1;
        while code[at..].starts_with("super::") {
            depth += 1;
            at += "super::".len();
        }
        if depth < own_path.len() {
            continue;
        }
        let line = line_at(code, start);
        // An inline module (`mod tests`) adds a level this count does not
        // see, so only names of top-level modules are taken.
        let names = if bytes.get(at) == Some(&b'{') {
            group_heads(&code[at..])
        } else {
            vec![code[at..]
                .bytes()
                .take_while(|&b| is_ident_byte(b))
                .map(char::from)
                .collect()]
        };
        for module in names {
            if layer_of(&module).is_some() {
                found.push(Use { module, line });
            }
        }
    }
    found
}

/// The first segment of each item of a `{…}` group: `{a::b, c, d::{e}}`
/// gives `a`, `c`, `d`.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut expecting = true;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth > 1 {
                    expecting = false;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => {
                expecting = true;
                if !current.is_empty() {
                    heads.push(std::mem::take(&mut current));
                }
            }
            c if depth == 1 && expecting && (c.is_ascii_alphanumeric() || c == '_') => {
                current.push(c);
            }
            c if depth == 1 && expecting && !current.is_empty() && !c.is_whitespace() => {
                expecting = false;
                heads.push(std::mem::take(&mut current));
            }
            _ => {}
        }
    }
    if !current.is_empty() {
        heads.push(current);
    }
    heads.retain(|h| h != "self");
    heads
}

#[test]
fn every_layer_uses_only_what_the_architecture_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );

    let mut problems = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(root).expect("under the crate");
        let rel_text = rel.to_string_lossy().replace('\\', "/");
        let own_path = module_path(rel);
        let top = own_path.first().map_or_else(
            || {
                rel_text
                    .trim_start_matches("src/")
                    .trim_end_matches(".rs")
                    .to_string()
            },
            |m| m.clone(),
        );
        let Some(from) = layer_of(&top) else {
            problems.push(format!(
                "{rel_text}: module `{top}` is in no layer; add it to LAYER_OF here and to \
                 docs/architecture.md"
            ));
            continue;
        };
        let source = fs::read_to_string(path).expect("source file");
        let code = code_only(&source);
        for Use { module, line } in uses(&code, &own_path) {
            let Some(to) = layer_of(&module) else {
                // `crate::SOME_CONST` or a macro at the root: not a module.
                if module
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase())
                {
                    problems.push(format!(
                        "{rel_text}:{line}: `crate::{module}` names a module in no layer"
                    ));
                }
                continue;
            };
            if let Some((_, never)) = NEVER.iter().find(|(f, t)| *f == from && *t == to) {
                problems.push(format!(
                    "{rel_text}:{line}: `{from}` must never use `{never}` (crate::{module})"
                ));
                continue;
            }
            if allowed(from, to) {
                continue;
            }
            problems.push(format!(
                "{rel_text}:{line}: `{from}` may not use `{to}` (crate::{module}); \
                 see docs/architecture.md"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} forbidden dependencies:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn the_tables_agree_with_each_other_and_with_the_rules_of_the_issue() {
    let layers: BTreeSet<&str> = LAYER_OF.iter().map(|(_, l)| *l).collect();
    let described: BTreeSet<&str> = ALLOWED.iter().map(|(l, _)| *l).collect();
    assert_eq!(layers, described, "every layer needs an ALLOWED row");
    for (from, to) in NEVER {
        assert!(!allowed(from, to), "ALLOWED lets {from} use {to}");
    }
}

#[test]
fn the_checker_sees_what_it_must_and_ignores_comments_and_strings() {
    let code = code_only(
        "use crate::live::Status;\n\
         // use crate::net::Http;\n\
         /* crate::report */ let s = \"crate::cache\";\n\
         let r = r#\"crate::scan\"#; let c = '\"';\n\
         use crate::{model::Finding, detect::{context, rules}, self};\n\
         fn f() { crate::source::fs::walk(); }\n\
         use super::super::net::Http;\n",
    );
    let found: Vec<(String, usize)> = uses(&code, &["report".into(), "html".into()])
        .into_iter()
        .map(|u| (u.module, u.line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("live".to_string(), 1),
            ("model".to_string(), 5),
            ("detect".to_string(), 5),
            ("source".to_string(), 6),
            ("net".to_string(), 7),
        ]
    );
    // A single `super::` from `src/report/html.rs` stays inside `report`.
    assert!(uses("use super::live::X;", &["report".into(), "html".into()]).is_empty());
    assert_eq!(
        module_path(Path::new("src/report/html/mod.rs")),
        vec!["report", "html"]
    );
    assert!(module_path(Path::new("src/lib.rs")).is_empty());
}

#[test]
fn a_forbidden_use_is_reported_with_its_file_and_line() {
    // What the main test does with one file, on text: report → live.
    let code = code_only("\n\nuse crate::live::Verification;\n");
    let found = uses(&code, &["report".into()]);
    assert_eq!(
        found,
        vec![Use {
            module: "live".into(),
            line: 3
        }]
    );
    let from = layer_of("report").unwrap();
    let to = layer_of(&found[0].module).unwrap();
    assert!(!allowed(from, to));
    assert!(NEVER.contains(&(from, to)));
}

#[test]
fn a_source_that_consults_the_cache_again_fails() {
    // The debt this table once carried (`source::fs` and `source::git`
    // opening the cache themselves): the checker sees it, in a `use` and
    // inline, and no table lets it through.
    for line in [
        "use crate::cache::files::FileCache;",
        "let c = crate::cache::blobs::BlobCache::open(s, d, k);",
        "use crate::{model::Origin, cache::entry::Entry};",
    ] {
        let found = uses(&code_only(line), &["source".into(), "fs".into()]);
        assert!(
            found.iter().any(|u| u.module == "cache"),
            "{line}: {found:?}"
        );
    }
    let from = layer_of("source").unwrap();
    let to = layer_of("cache").unwrap();
    assert!(!allowed(from, to));
    assert!(NEVER.contains(&(from, to)));
}
