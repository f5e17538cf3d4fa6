//! Engine throughput (bytes per second) on realistic buffers, with and
//! without tokens: `cargo bench --bench engine`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use patscan::engine::{find_tokens, Scratch};
use patscan::model::Origin;
use patscan::rules;
use patscan::scanner::Scanner;
use patscan::tokengen::{generate, TokenRng, FAMILIES};

const SOURCE: &str = r#"use std::collections::HashMap;

/// Looks up the account's settings and applies the request's overrides.
pub fn apply_overrides(settings: &mut HashMap<String, String>, request: &Request) -> Result<(), Error> {
    for (key, value) in request.headers.iter() {
        if key.starts_with("x-override-") {
            let name = key.trim_start_matches("x-override-").to_string();
            settings.insert(name, value.clone());
        }
    }
    let url = format!("https://api.example.com/v1/accounts/{}/settings", request.account_id);
    log::debug!("applied {} overrides for {}", settings.len(), url);
    Ok(())
}
"#;

const MINIFIED: &str = "function(a,b){return a.map(function(c){return c*b+1}).filter(Boolean)};var q=\"k3j4h5g6f7d8s9a0p1o2i3u4\";";

fn buffer(unit: &str, size: usize, tokens: bool) -> Vec<u8> {
    let mut rng = TokenRng::new(42);
    let mut text = String::with_capacity(size + 4096);
    while text.len() < size {
        text.push_str(unit);
        if tokens && text.len() % (64 << 10) < unit.len() {
            let family = FAMILIES[rng.below(FAMILIES.len() as u64) as usize];
            text.push_str(&format!(
                "const T = \"{}\";\n",
                generate(family, &mut rng).unwrap_or_default()
            ));
        }
    }
    text.into_bytes()
}

fn bench(c: &mut Criterion) {
    let set = rules::builtin().expect("rules");
    let cases = [
        ("source", buffer(SOURCE, 4 << 20, false)),
        ("source_with_tokens", buffer(SOURCE, 4 << 20, true)),
        ("minified", buffer(MINIFIED, 4 << 20, false)),
    ];
    let mut group = c.benchmark_group("engine");
    for (name, bytes) in &cases {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |b| {
            let mut scratch = Scratch::new(&set);
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                find_tokens(&set, black_box(bytes), &mut scratch, &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();

    // The whole scanner: chunks, positions, snippets, decoded views. Line
    // hashes (SARIF only) are off, as for every other report format; the
    // last case turns them on.
    let mut group = c.benchmark_group("scanner");
    let with_hashes = [("source_with_tokens_sarif_line_hashes", &cases[1].1, true)];
    let plain = cases.iter().map(|(name, bytes)| (*name, bytes, false));
    for (name, bytes, line_hashes) in plain.chain(with_hashes) {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            let mut scanner = Scanner::new(&set, false).with_line_hashes(line_hashes);
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                scanner.scan_bytes(black_box(bytes), "bench", &Origin::File, &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
