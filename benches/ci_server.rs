//! The emulated Azure DevOps project of `benches/ci-logs.sh`: the tests'
//! loopback CI emulator (tests/org_emulator/ci.rs) serving PIPELINES
//! pipelines of BUILDS builds each (1,000 builds by default), each build
//! one job of three task logs of about LOG_KIB KiB (a few with a token),
//! until killed. With DIR, the same logs are also written there, one file
//! each, for the scan-only half of the benchmark.
//!
//!   cargo run --release --example ci_server -- PIPELINES BUILDS LOG_KIB TOKEN [DIR]
//!
//! Prints `PATSCAN_ENDPOINT_OVERRIDES=…` on one line once ready.

#[path = "../tests/org_emulator/mod.rs"]
mod org_emulator;

use std::io::Write;

use org_emulator::ci::{EmuJob, EmuPipeline, EmuRun, LogBody};
use org_emulator::OrgServer;
use patscan::tokengen::{generate, TokenRng};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let pipelines = number(1, 50);
    let builds = number(2, 20);
    let log_kib = number(3, 64);
    let token = args
        .get(4)
        .cloned()
        .unwrap_or_else(|| "bench-credential".into());
    let dump = args.get(5).map(std::path::PathBuf::from);
    let server = OrgServer::start(&token, 100);
    let mut rng = TokenRng::new(28);
    let line = "2026-12-01T10:00:00.0000000Z [info] compiling crate 17 of 240 (release), \
                cache hit ratio 0.93, elapsed 00:01:12\n";
    let filler = line.repeat(log_kib * 1024 / line.len() + 1);
    for p in 0..pipelines {
        let mut runs = Vec::new();
        for b in 0..builds {
            let id = (p * builds + b + 1) as u64;
            let steps: Vec<(String, LogBody)> = ["Checkout", "Build", "Test"]
                .iter()
                .enumerate()
                .map(|(s, step)| {
                    let mut text = filler.clone();
                    // One log in fifty prints a token.
                    if (id as usize * 3 + s) % 50 == 0 {
                        let leaked = generate("azure-devops-pat", &mut rng).unwrap();
                        text.push_str(&format!("+ echo PAT={leaked}\n"));
                    }
                    if let Some(dir) = &dump {
                        let path = dir.join(format!("build-{id}-{step}.log"));
                        std::fs::write(path, &text).expect("the dump folder is writable");
                    }
                    (step.to_string(), LogBody::Text(text))
                })
                .collect();
            runs.push(EmuRun {
                id,
                number: format!("20261201.{id}"),
                finished: "2026-12-01T10:00:00Z".into(),
                jobs: vec![EmuJob {
                    name: "Build".into(),
                    steps,
                }],
                artifacts: Vec::new(),
            });
        }
        server.add_pipeline(EmuPipeline {
            id: p as u64 + 1,
            name: format!("pipeline-{p:03}"),
            runs,
            ..EmuPipeline::default()
        });
    }
    println!("PATSCAN_ENDPOINT_OVERRIDES={}", server.overrides());
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}
