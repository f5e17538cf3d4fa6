//! Replays every input the fuzzers ever crashed on (kept under
//! `fuzz/regressions/<target>/`) through the same harness the fuzz targets
//! run, so `cargo test` keeps those bugs fixed without a fuzz toolchain.
//! A few hand-picked inputs per target run too, so each harness is known
//! to work even before a regression is recorded for it.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::fs;
use std::path::PathBuf;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("engine", harness::engine),
    ("utf16", harness::utf16),
    ("base64", harness::base64),
    ("percent", harness::percent),
    ("config", harness::config),
    ("baseline", harness::baseline),
    ("report", harness::report),
    ("image", harness::image),
];

/// Every file under `fuzz/regressions/<target>/`.
fn recorded(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut inputs: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            let bytes = if p.extension().is_some_and(|e| e == "xor") {
                deobfuscate(bytes)
            } else {
                bytes
            };
            (p, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

/// Inputs that hold token-shaped text are stored with every byte xor 0x5A
/// (`*.xor`), so that this repository holds no string another scanner or
/// push protection would flag, patscan scanning itself included.
fn deobfuscate(bytes: Vec<u8>) -> Vec<u8> {
    bytes.into_iter().map(|b| b ^ 0x5A).collect()
}

#[test]
fn every_recorded_crash_input_now_passes_its_target() {
    let mut replayed = 0;
    for (name, target) in TARGETS {
        for (path, bytes) in recorded(name) {
            let result = std::panic::catch_unwind(|| target(&bytes));
            assert!(result.is_ok(), "{name}: {} fails again", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression inputs found");
}

/// `[mode, family, seed×8, at]` then the text: see `harness::plant`.
fn planted(mode: u8, family: u8, text: &[u8]) -> Vec<u8> {
    let mut input = vec![mode, family, 7, 0, 0, 0, 0, 0, 0, 0, 128];
    input.extend_from_slice(text);
    input
}

#[test]
fn the_harnesses_accept_ordinary_inputs() {
    // The engine harness with every family in every mode (plain, base64,
    // percent-encoded, as UTF-16); the report harness, which renders
    // every format twice, with every family once and every mode three
    // times over (family f in mode f mod 8).
    for mode in 0..8 {
        for family in 0..24 {
            let input = planted(mode, family, b"key = \"\" # a line\nnext line\n");
            harness::engine(&input);
            if family % 8 == mode {
                harness::report(&input);
            }
        }
    }
    harness::utf16(b"\x01h\x00i\x00\x3d\xd8\x00\xde");
    harness::base64(
        b"Authorization: Basic dXNlcjpnaHBfYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=",
    );
    harness::percent(b"\x00url=https://h/x?t=%22abc%3D%22&y=1 %zz %4");
    harness::config(b"disabled_rules = [\"github-app-server\"]\n[allow]\npaths = [\"*.snap\"]\n");
    harness::config(b"[[rule]]\nid = 1\n");
    harness::baseline(
        format!(
            "{{\"version\": 1, \"entries\": [{{\"rule_id\": \"npm-token\", \"secret_sha256\": \"{}\", \"paths\": [\"a\"]}}]}}",
            "ab".repeat(32)
        )
        .as_bytes(),
    );
    harness::baseline(b"{\"version\": 1, \"entries\": [}");
    // A layer: a plain tar, gzip-compressed, cut short; an index.
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(3);
    header.set_cksum();
    tar.append_data(&mut header, "etc/.wh.gone", &b"abc"[..])
        .unwrap();
    let tar = tar.into_inner().unwrap();
    harness::image(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    harness::image(&gz);
    harness::image(&gz[..gz.len() / 2]);
    harness::image(br#"{"manifests": [{"digest": "sha256:00", "platform": {"os": "linux"}}]}"#);
}

#[test]
fn the_report_harness_catches_a_leak() {
    // The check the report target relies on must be able to fail: a text
    // holding a 12-character piece of a secret is caught.
    let token = patscan::tokengen::generate(
        "github-classic-pat",
        &mut patscan::tokengen::TokenRng::new(1),
    )
    .unwrap();
    let pieces = harness::secret_pieces(&token);
    assert!(pieces.contains(&token[10..22].to_string()));
    assert!(pieces
        .iter()
        .all(|p| !"ghp_…[40 chars]".contains(p.as_str())));
}

#[test]
fn the_leak_check_finds_any_piece_of_a_secret_in_a_large_output() {
    let token = patscan::tokengen::generate(
        "github-classic-pat",
        &mut patscan::tokengen::TokenRng::new(2),
    )
    .unwrap();
    let secrets = [token.clone()];
    let padding = "x".repeat(200_000);
    // Masked, the output passes.
    let masked = format!("{padding} ghp_…[40 chars] {padding}");
    harness::assert_hidden(&masked, &secrets, b"input", "output");
    // A 12-character piece deep inside it does not...
    let leaked = format!("{padding} {} {padding}", &token[20..32]);
    let caught =
        std::panic::catch_unwind(|| harness::assert_hidden(&leaked, &secrets, b"input", "output"));
    assert!(caught.is_err(), "a piece of the secret went unnoticed");
    // ...unless the input itself holds that piece away from the secret.
    let input = format!("copied: {}", &token[20..32]);
    harness::assert_hidden(&leaked, &secrets, input.as_bytes(), "output");
}
