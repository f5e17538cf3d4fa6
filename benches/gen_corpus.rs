//! Writes a realistic corpus for whole-scan benchmarks: source code in
//! several languages, JSON, YAML, lockfiles with integrity hashes, minified
//! bundles, logs, and a few planted tokens (from the seeded generator).
//!
//! usage: cargo run --release --example gen_corpus -- DIR [MEGABYTES] [SEED]
//! Prints the number of files, bytes and planted tokens.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use patscan::tokengen::{generate, TokenRng, FAMILIES};

const WORDS: &[&str] = &[
    "user", "account", "request", "response", "handler", "config", "value", "index", "buffer",
    "client", "server", "token", "session", "cache", "parse", "render", "update", "delete",
    "create", "fetch", "result", "error", "status", "message", "payload", "header", "router",
    "service", "factory", "manager", "builder", "context", "options", "settings", "logger",
];

fn ident(rng: &mut TokenRng) -> String {
    let a = WORDS[rng.below(WORDS.len() as u64) as usize];
    let b = WORDS[rng.below(WORDS.len() as u64) as usize];
    format!("{a}_{b}")
}

fn camel(rng: &mut TokenRng) -> String {
    let a = WORDS[rng.below(WORDS.len() as u64) as usize];
    let b = WORDS[rng.below(WORDS.len() as u64) as usize];
    let mut b = b.to_string();
    b[..1].make_ascii_uppercase();
    format!("{a}{b}")
}

fn rust_file(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::from("use std::collections::HashMap;\n\n");
    while s.len() < target {
        let f = ident(rng);
        let _ = write!(
            s,
            "/// Returns the {f} for the given key.\npub fn {f}(map: &HashMap<String, u64>, key: &str) -> Option<u64> {{\n    let value = map.get(key)?;\n    if *value > {} {{\n        return Some(value * 2);\n    }}\n    Some(*value + {})\n}}\n\n",
            rng.below(10_000),
            rng.below(100)
        );
    }
    s
}

fn python_file(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::from("import os\nimport json\n\n");
    while s.len() < target {
        let f = ident(rng);
        let _ = write!(
            s,
            "def {f}(payload, retries={}):\n    \"\"\"Send the {f} request.\"\"\"\n    url = os.environ.get(\"SERVICE_URL\", \"http://localhost:8080\")\n    for attempt in range(retries):\n        data = json.dumps({{\"attempt\": attempt, \"payload\": payload}})\n        print(f\"posting {{len(data)}} bytes to {{url}}\")\n    return None\n\n",
            rng.below(5) + 1
        );
    }
    s
}

fn ts_file(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::from("import { Injectable } from \"@angular/core\";\n\n");
    while s.len() < target {
        let c = camel(rng);
        let _ = write!(
            s,
            "export async function {c}(id: number): Promise<string> {{\n  const res = await fetch(`/api/v1/{c}/${{id}}`);\n  if (!res.ok) {{ throw new Error(\"request failed: \" + res.status); }}\n  return (await res.json()).name ?? \"unknown-{}\";\n}}\n\n",
            rng.below(1000)
        );
    }
    s
}

fn json_file(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::from("{\n  \"items\": [\n");
    while s.len() < target {
        let _ = writeln!(
            s,
            "    {{\"id\": \"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}\", \"name\": \"{}\", \"count\": {}, \"sha\": \"{:016x}{:016x}{:08x}\"}},",
            rng.next_u64() as u32, rng.below(65536), rng.below(4096), rng.below(4096),
            rng.next_u64() & 0xffff_ffff_ffff, camel(rng), rng.below(1_000_000),
            rng.next_u64(), rng.next_u64(), rng.next_u64() as u32
        );
    }
    s.push_str("    {}\n  ]\n}\n");
    s
}

fn lockfile(rng: &mut TokenRng, target: usize) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n");
    while s.len() < target {
        let name = ident(rng).replace('_', "-");
        let _ = write!(
            s,
            "    \"node_modules/{name}\": {{\n      \"version\": \"{}.{}.{}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz\",\n      \"integrity\": \"sha512-{}==\"\n    }},\n",
            rng.below(10), rng.below(30), rng.below(100), rng.string(B64, 86)
        );
    }
    s.push_str("  }\n}\n");
    s
}

fn yaml_file(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::from("apiVersion: apps/v1\nkind: Deployment\n");
    while s.len() < target {
        let _ = write!(
            s,
            "---\nmetadata:\n  name: {}\n  labels:\n    app: {}\nspec:\n  replicas: {}\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web:{}.{}\n          env:\n            - name: LOG_LEVEL\n              value: info\n",
            ident(rng).replace('_', "-"), camel(rng), rng.below(5) + 1, rng.below(9), rng.below(99)
        );
    }
    s
}

fn minified(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::new();
    while s.len() < target {
        let c = camel(rng);
        let _ = write!(
            s,
            "function {c}(a,b){{return a.map(function(c){{return c*b+{}}}).filter(Boolean)}};var {c}_v=\"{}\";",
            rng.below(100),
            rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 24)
        );
    }
    s
}

fn log_file(rng: &mut TokenRng, target: usize) -> String {
    let mut s = String::new();
    while s.len() < target {
        let _ = writeln!(
            s,
            "2026-11-{:02}T{:02}:{:02}:{:02}Z INFO request id={:016x} path=/api/{} status=200 took={}ms",
            rng.below(28) + 1, rng.below(24), rng.below(60), rng.below(60),
            rng.next_u64(), camel(rng), rng.below(900)
        );
    }
    s
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).map(String::as_str).unwrap_or("corpus"));
    let megabytes: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let budget = megabytes << 20;
    let mut rng = TokenRng::new(seed);
    let mut written = 0usize;
    let mut files = 0usize;
    let mut planted = 0usize;
    while written < budget {
        let kind = rng.below(100);
        // Sizes follow a typical repository: many small modules and configs,
        // some data files and lockfiles, a few large bundles (about 18 KB a
        // file on average, so 1 GB is over 50,000 files).
        let (ext, size) = match kind {
            0..=24 => ("rs", 1_000 + rng.below(20_000) as usize),
            25..=44 => ("py", 1_000 + rng.below(15_000) as usize),
            45..=64 => ("ts", 1_000 + rng.below(15_000) as usize),
            65..=74 => ("json", 2_000 + rng.below(40_000) as usize),
            75..=84 => ("yaml", 500 + rng.below(5_000) as usize),
            85..=90 => ("lock.json", 10_000 + rng.below(90_000) as usize),
            91..=96 => ("log", 5_000 + rng.below(45_000) as usize),
            _ => ("min.js", 50_000 + rng.below(250_000) as usize),
        };
        let mut text = None;
        let body = match ext {
            "rs" => rust_file(&mut rng, size),
            "py" => python_file(&mut rng, size),
            "ts" => ts_file(&mut rng, size),
            "json" => json_file(&mut rng, size),
            "yaml" => yaml_file(&mut rng, size),
            "lock.json" => lockfile(&mut rng, size),
            "log" => log_file(&mut rng, size),
            _ => minified(&mut rng, size),
        };
        // One file in 500 gets a planted token.
        if rng.below(500) == 0 {
            let family = FAMILIES[rng.below(FAMILIES.len() as u64) as usize];
            if let Some(token) = generate(family, &mut rng) {
                text = Some(format!("{body}\nconst LEAKED = \"{token}\";\n"));
                planted += 1;
            }
        }
        let text = text.unwrap_or(body);
        let sub = dir.join(format!("d{:03}/s{:02}", files / 1000, files % 17));
        fs::create_dir_all(&sub)?;
        fs::write(sub.join(format!("f{files:06}.{ext}")), &text)?;
        written += text.len();
        files += 1;
    }
    println!("files={files} bytes={written} planted={planted}");
    Ok(())
}
