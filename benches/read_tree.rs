//! The floor for a tree scan: walk a tree with the same parallel walker as
//! `patscan scan` and read every file into a reused per-thread buffer, doing
//! nothing with the bytes. `benches/scan.sh` times it next to `cat`, which
//! costs more (a fresh 128 KiB buffer per file, mapped and unmapped).
//!
//! usage: cargo run --release --example read_tree -- DIR [THREADS]

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map(String::as_str).unwrap_or(".");
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let bytes = AtomicU64::new(0);
    let files = AtomicU64::new(0);
    WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .threads(threads)
        .build_parallel()
        .run(|| {
            let mut buf = vec![0u8; 4 << 20];
            let (bytes, files) = (&bytes, &files);
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                if let Ok(mut file) = File::open(entry.path()) {
                    let _ = file.metadata(); // as the scanner does, for --max-file-size
                    let mut total = 0;
                    while let Ok(n) = file.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        total += n as u64;
                    }
                    bytes.fetch_add(total, Ordering::Relaxed);
                    files.fetch_add(1, Ordering::Relaxed);
                }
                WalkState::Continue
            })
        });
    println!(
        "files={} bytes={}",
        files.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed)
    );
}
