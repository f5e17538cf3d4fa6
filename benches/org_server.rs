//! The emulated organisation of `benches/org.sh`: the tests' loopback
//! listing emulator and git smart-HTTP server (tests/org_emulator), serving
//! REPOS generated repositories of COMMITS commits each (a few with
//! tokens), until killed.
//!
//!   cargo run --release --example org_server -- REPOS COMMITS TOKEN
//!
//! Prints `PATSCAN_ENDPOINT_OVERRIDES=…` on one line once ready.

#[path = "../tests/org_emulator/mod.rs"]
mod org_emulator;

use std::io::Write;
use std::process::{Command, Stdio};

use org_emulator::{EmuRepo, OrgServer};
use patscan::tokengen::{generate, TokenRng};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let repos = number(1, 200);
    let commits = number(2, 200);
    let token = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "bench-credential".into());
    let server = OrgServer::start(&token, 100);
    let mut rng = TokenRng::new(16);
    for r in 0..repos {
        let name = format!("repo{r:04}");
        let path = server.served_path(&name);
        let ok = Command::new("git")
            .args(["init", "--bare", "--quiet", "-b", "main"])
            .arg(&path)
            .status()
            .expect("git runs");
        assert!(ok.success());
        let stream = fast_import(commits, r, &mut rng);
        let mut child = Command::new("git")
            .arg("--git-dir")
            .arg(&path)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("git runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("fast-import reads");
        assert!(child.wait().expect("fast-import ends").success());
        let mut repo = EmuRepo::new(10_000 + r as u64, &name);
        repo.served = true;
        server.list(repo);
    }
    println!("PATSCAN_ENDPOINT_OVERRIDES={}", server.overrides());
    std::io::stdout().flush().ok();
    loop {
        std::thread::park();
    }
}

/// A history of `commits` commits over 20 files of source-like text; one
/// commit in 50 adds a token.
fn fast_import(commits: usize, repo: usize, rng: &mut TokenRng) -> String {
    let mut out = String::new();
    for c in 0..commits {
        let file = c % 20;
        let mut text = String::new();
        for line in 0..40 {
            text.push_str(&format!(
                "fn f{line}_{c}() -> u64 {{ {} }} // repo {repo} line {line}\n",
                rng.next_u64()
            ));
        }
        if c % 50 == 49 {
            let token = generate("npm-token", rng).expect("known family");
            text.push_str(&format!("NPM_TOKEN={token}\n"));
        }
        let when = 1_700_000_000 + c as u64 * 60;
        out.push_str(&format!(
            "commit refs/heads/main\ncommitter Bench <bench@example.test> {when} +0000\n\
             data {}\ncommit {c}\n",
            format!("commit {c}").len()
        ));
        out.push_str(&format!(
            "M 100644 inline src/f{file}.rs\ndata {}\n{text}\n",
            text.len()
        ));
    }
    out
}
