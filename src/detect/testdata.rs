//! Where a private key is test data by convention: the directories every
//! ecosystem reserves for tests, fixtures and examples (`tests/`, Go's
//! `testdata/`, JavaScript's `__tests__/`, Ruby's `spec/`, .NET's
//! `Foo.Tests/`, Cargo's `examples/`) and files named as tests.
//!
//! Why only keys, and why low rather than dropped: TLS, SSH and signing
//! libraries commit private keys to exercise themselves (the `rcgen`,
//! `pem`, `rustls` crates; `azure-pipelines-tasks`' SSH task tests), and
//! a user scanning their dependencies or a large monorepo wants those kept
//! out of the medium and high results. A real key committed into a test
//! directory still happens, so the finding stays, at low confidence with a
//! `test_path` detail naming the part of the path that decided it. Tokens
//! (a live API key pasted into a test) are not demoted: unlike keys, tests
//! rarely need a real-looking token, and the issuer's format (often its
//! checksum) already says it is real.

/// Directory names that hold tests, fixtures or examples.
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "testdata",
    "test-data",
    "test_data",
    "testfixtures",
    "test-fixtures",
    "__tests__",
    "spec",
    "specs",
    "fixture",
    "fixtures",
    "__fixtures__",
    "example",
    "examples",
    "sample",
    "samples",
    "mock",
    "mocks",
    "__mocks__",
    "e2e",
    "bench",
    "benches",
    "benchmarks",
    "unittests",
    "integrationtests",
];

/// Endings of directory names that are test projects (`Foo.Tests`,
/// `foo_test`, `foo-tests`).
const TEST_DIR_SUFFIXES: &[&str] = &[".tests", ".test", "_tests", "-tests", "_test", "-test"];

/// Parts of file names that mark a test file (`server_test.go`,
/// `key.test.ts`, `test_tls.py`, `client_spec.rb`, `ExampleKey.pem`).
const TEST_FILE_MARKS: &[&str] = &["_test.", ".test.", "-test.", "_spec.", ".spec.", "_tests."];
const TEST_FILE_PREFIXES: &[&str] = &[
    "test_", "test-", "test.", "testkey", "example", "sample", "dummy", "fake",
];

/// The part of `path` (as reported, `/`-separated; an archive member's
/// `!` counts as a separator) that marks it as test data, if any: a
/// directory (`tests/`) or the file name.
pub fn test_path(path: &str) -> Option<String> {
    let lower = path.replace('\\', "/").to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split(['/', '!']).filter(|p| !p.is_empty()).collect();
    let name = parts.pop()?;
    for dir in parts {
        if TEST_DIRS.contains(&dir) || TEST_DIR_SUFFIXES.iter().any(|s| dir.ends_with(s)) {
            return Some(format!("{dir}/"));
        }
    }
    let marked = TEST_FILE_MARKS.iter().any(|m| name.contains(m))
        || TEST_FILE_PREFIXES.iter().any(|p| name.starts_with(p));
    marked.then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_directories_and_files_are_recognised() {
        for (path, part) in [
            ("tests/data/key.pem", "tests/"),
            ("crate-1.0/src/testdata/rsa.der", "testdata/"),
            ("Tasks/SshV0/Tests/id_rsa", "tests/"),
            ("src/Acme.Api.Tests/cert.pfx", "acme.api.tests/"),
            ("web/__tests__/fixtures.js", "__tests__/"),
            ("examples/server.key", "examples/"),
            ("pkg/tls/server_test.go", "server_test.go"),
            ("test_ssl.py", "test_ssl.py"),
            ("vendor.tar.gz!pkg/testdata/key.pem", "testdata/"),
            ("C:\\repo\\test\\key.pem", "test/"),
        ] {
            assert_eq!(test_path(path).as_deref(), Some(part), "{path}");
        }
    }

    #[test]
    fn ordinary_paths_are_not_test_data() {
        for path in [
            "deploy/keys/prod.pem",
            "src/latest/key.pem",
            "contest/key.pem",
            "config/id_rsa",
            "attestation/key.pem",
            "key.pem",
        ] {
            assert_eq!(test_path(path), None, "{path}");
        }
    }
}
