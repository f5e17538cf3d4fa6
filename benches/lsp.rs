//! `patscan lsp` as an editor feels it: how long after a change to a
//! 10,000-line file its diagnostics arrive, and how much memory the server
//! holds idle and with 1,000 documents open.
//!
//! ```sh
//! cargo bench --bench lsp            # builds the release binary first
//! ```
//!
//! The server is the real binary on a pipe, spoken to in framed JSON-RPC.
//! Each change waits out the debounce interval first (a pause in typing, as
//! when a token is pasted), so the figure is the scan and the round trip,
//! not the debounce. Wall times are printed with the server's own CPU time
//! per change (user + system, from /proc), which load on the machine does
//! not inflate; memory is VmRSS and VmHWM from /proc. Linux only.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use patscan::tokengen::{generate, TokenRng};
use serde_json::{json, Value};

const LINES: usize = 10_000;
const CHANGES: usize = 200;
const DOCUMENTS: usize = 1_000;

struct Pipe {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Pipe {
    fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "server gone");
            if line == "\r\n" {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Waits for the diagnostics of `uri` at `version`; their count.
    fn diagnostics(&mut self, uri: &str, version: i64) -> usize {
        loop {
            let m = self.receive();
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
            {
                return m["params"]["diagnostics"].as_array().unwrap().len();
            }
        }
    }
}

/// User + system CPU time of process `pid` so far.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A source file of `lines` lines: code-like text, with `token` on one line.
fn source(lines: usize, token: &str, seed: usize) -> String {
    let mut text = String::with_capacity(lines * 48);
    for i in 0..lines {
        match (i + seed) % 7 {
            0 => text.push_str(&format!("function handler{i}(request, response) {{\n")),
            1 => text.push_str(&format!(
                "  const value{i} = request.query.item{i} ?? 'default';\n"
            )),
            2 => text.push_str(&format!(
                "  // step {i}: check the input before it is stored\n"
            )),
            3 => text.push_str(&format!(
                "  if (value{i}.length > {i}) {{ return response.status(400); }}\n"
            )),
            4 => text.push_str(&format!("  const hash{i} = 'c0ffee{i:08x}deadbeef';\n")),
            5 => text.push_str(&format!("  await store.put(`key-{i}`, value{i});\n")),
            _ => text.push_str("}\n"),
        }
        if i == lines / 2 {
            text.push_str(&format!("const TOKEN = \"{token}\";\n"));
        }
    }
    text
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --benches` runs this too: nothing to measure there.
        println!("lsp bench: run with `cargo bench --bench lsp`");
        return;
    }
    let token = generate("github-classic-pat", &mut TokenRng::new(1)).unwrap();
    let dir = std::env::temp_dir().join(format!("patscan-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = format!("file://{}", dir.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_patscan"))
        .arg("lsp")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut pipe = Pipe {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()),
    };
    pipe.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null, "rootUri": root, "capabilities": {},
            "workspaceFolders": [{"uri": root, "name": "bench"}],
        }}),
    );
    while pipe.receive()["id"] != 1 {}
    pipe.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    std::thread::sleep(Duration::from_millis(200));
    let (idle_rss, _) = memory(pid);

    // One 10,000-line file, changed one character at a time.
    let text = source(LINES, &token, 0);
    let uri = format!("{root}/big.js");
    pipe.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "javascript", "version": 1, "text": text}}}),
    );
    assert_eq!(pipe.diagnostics(&uri, 1), 1, "the planted token is found");
    let mut times = Vec::with_capacity(CHANGES);
    let mut cpu_total = Duration::ZERO;
    for i in 0..CHANGES {
        // A pause longer than the debounce interval, as between two pastes.
        std::thread::sleep(Duration::from_millis(80));
        let version = i as i64 + 2;
        let line = (i * 37) % LINES;
        let change = if i % 2 == 0 {
            json!({"range": {"start": {"line": line, "character": 0},
                             "end": {"line": line, "character": 0}}, "text": "x"})
        } else {
            let previous = ((i - 1) * 37) % LINES;
            json!({"range": {"start": {"line": previous, "character": 0},
                             "end": {"line": previous, "character": 1}}, "text": ""})
        };
        let before = cpu(pid);
        let started = Instant::now();
        pipe.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}}),
        );
        let found = pipe.diagnostics(&uri, version);
        times.push(started.elapsed());
        cpu_total += cpu(pid) - before;
        assert_eq!(found, 1);
    }
    times.sort();
    let (rss_one, _) = memory(pid);

    // 1,000 documents of 300 lines (about 14 KB each) open at once.
    for d in 0..DOCUMENTS {
        let doc_uri = format!("{root}/src/file{d}.js");
        let text = source(300, &token, d);
        pipe.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": doc_uri, "languageId": "javascript", "version": 1,
                             "text": text}}}),
        );
        assert_eq!(pipe.diagnostics(&doc_uri, 1), 1);
    }
    std::thread::sleep(Duration::from_millis(200));
    let (rss_many, peak) = memory(pid);

    pipe.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    while pipe.receive()["id"] != 2 {}
    pipe.send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let status = child.wait().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(status.success());

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "didChange -> publishDiagnostics, {LINES} lines ({} KB), {CHANGES} changes:",
        text.len() / 1024
    );
    println!(
        "  wall: median {:.2} ms, p90 {:.2} ms, max {:.2} ms; server CPU {:.2} ms per change",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(*times.last().unwrap()),
        ms(cpu_total) / CHANGES as f64
    );
    println!(
        "memory (VmRSS): idle {} KB, with the 10,000-line file {} KB, with {DOCUMENTS} more documents open {} KB (peak {} KB)",
        idle_rss, rss_one, rss_many, peak
    );
}
