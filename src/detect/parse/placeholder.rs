//! Passwords and hosts that are not secrets: template variables, the
//! words documentation uses, and the published defaults of local
//! databases and emulators.
//!
//! A password has no shape of its own, so unlike a token it cannot be told
//! from a placeholder by entropy alone (`hunter2` is a password, `password`
//! is not). These lists are what separates them, and what keeps examples,
//! docker-compose files and test fixtures out of the report.

use sha2::{Digest, Sha256};

/// Whether a password value is a template, a variable or a stand-in word
/// rather than a password.
pub fn is_placeholder_password(value: &[u8]) -> bool {
    let value = trim_quotes(value);
    if value.is_empty() {
        return true;
    }
    // Templates and variables: `${DB_PASS}`, `$(Pass)`, `{{ .pw }}`,
    // `<password>`, `%s`, `%DB_PASS%`, `{0}`, `#{pw}`, `@@pw`.
    let templated = value.starts_with(b"$")
        || value.starts_with(b"<")
        || value.starts_with(b"{")
        || value.starts_with(b"[")
        || value.starts_with(b"%")
        || value.starts_with(b"#{")
        || value.starts_with(b"@")
        || value.starts_with(b"__")
        || value.ends_with(b"__")
        || contains(value, b"${")
        || contains(value, b"$(")
        || contains(value, b"{{")
        || contains(value, b"%s")
        || contains(value, b"%(")
        || contains(value, b"...")
        || contains(value, "\u{2026}".as_bytes());
    if templated {
        return true;
    }
    if value
        .iter()
        .all(|&b| b == b'*' || b == b'x' || b == b'X' || b == b'.' || b == b'-')
    {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&[u8]] = &[
        b"password",
        b"passwd",
        b"passw0rd",
        b"p@ssw0rd",
        b"p@ssword",
        b"changeme",
        b"change_me",
        b"change-me",
        b"example",
        b"placeholder",
        b"redacted",
        b"secret",
        b"your",
        b"xxxx",
        b"dummy",
        b"sample",
        b"replace",
        b"insert",
        b"hidden",
        b"masked",
        b"strongpass",
        b"mypass",
        b"not-a-real",
        b"notreal",
        b"fake",
    ];
    if WORDS.iter().any(|w| contains(&lower, w)) {
        return true;
    }
    const EXACT: &[&[u8]] = &[
        b"pass",
        b"pwd",
        b"pw",
        b"test",
        b"testing",
        b"admin",
        b"root",
        b"guest",
        b"user",
        b"default",
        b"foo",
        b"bar",
        b"foobar",
        b"qwerty",
        b"123456",
        b"12345678",
        b"1234",
        b"abc123",
        b"letmein",
        b"none",
        b"null",
        b"empty",
        b"pass123",
        b"test123",
        b"admin123",
        b"postgres",
        b"mysql",
        b"redis",
        b"rabbitmq",
        b"mongo",
        b"mongodb",
        b"sa",
        b"dev",
        b"local",
    ];
    EXACT.contains(&lower.as_slice())
}

/// Whether a host is this machine, a documentation domain or a local
/// container name: a password for it is a test's, not a production one.
pub fn is_local_host(host: &[u8]) -> bool {
    let host = host.to_ascii_lowercase();
    let host = host.as_slice();
    const EXACT: &[&[u8]] = &[
        b"localhost",
        b"127.0.0.1",
        b"0.0.0.0",
        b"::1",
        b"[::1]",
        b"host.docker.internal",
        b"host",
        b"hostname",
        b"server",
        b"servername",
        b"myserver",
        b"db",
        b"database",
        b"postgres",
        b"postgresql",
        b"mysql",
        b"mariadb",
        b"mongo",
        b"mongodb",
        b"redis",
        b"rabbitmq",
        b"amqp",
        b"sql",
        b"mssql",
        b"sqlserver",
        b"(local)",
        b".",
        b"(localdb)",
    ];
    EXACT.contains(&host)
        || host.starts_with(b"127.")
        || host.starts_with(b"localhost")
        || host.starts_with(b"(localdb)")
        || host.starts_with(b".\\")
        || host.starts_with(b"<")
        || host.starts_with(b"{")
        || host.starts_with(b"$")
        || contains(host, b"example")
        || contains(host, b"your")
        || host.ends_with(b".local")
        || host.ends_with(b".test")
        || host.ends_with(b".invalid")
}

/// Users and passwords that local databases, brokers and emulators ship
/// with, as their documentation and images publish them.
pub fn is_default_credential(user: &[u8], password: &[u8]) -> bool {
    let user = user.to_ascii_lowercase();
    let password = password.to_ascii_lowercase();
    if !user.is_empty() && user == password {
        return true;
    }
    const PAIRS: &[(&[u8], &[u8])] = &[
        (b"postgres", b"postgres"),
        (b"root", b"root"),
        (b"user", b"password"),
        (b"sa", b"passw0rd"),
        (b"sa", b"yourstrong(!)password"),
        (b"sa", b"yourstrongpassw0rd"),
        (b"guest", b"guest"),
        (b"admin", b"admin"),
        (b"root", b"example"),
        (b"root", b"secret"),
        (b"root", b"password"),
        (b"postgres", b"password"),
    ];
    PAIRS
        .iter()
        .any(|(u, p)| *u == user.as_slice() && *p == password.as_slice())
}

/// SHA-256 of the Azure Storage emulator's (Azurite's) published account
/// key, `devstoreaccount1`'s: every local setup and its documentation
/// carries it. Stored as a digest so the key itself is in no file here.
const AZURE_STORAGE_EMULATOR_KEY_SHA256: &str =
    "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059";

/// Whether `key` is the Azure Storage emulator's published key.
pub fn is_azure_storage_emulator_key(key: &[u8]) -> bool {
    let digest = Sha256::digest(key);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex == AZURE_STORAGE_EMULATOR_KEY_SHA256
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn trim_quotes(value: &[u8]) -> &[u8] {
    let value = value.trim_ascii();
    match value {
        [b'"', inner @ .., b'"'] | [b'\'', inner @ .., b'\''] => inner,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_words_are_placeholders() {
        for value in [
            "${DB_PASSWORD}",
            "<password>",
            "{{ .Values.pw }}",
            "%s",
            "$(DbPass)",
            "****",
            "changeme",
            "YourStrong!Passw0rd",
            "password123",
            "%DB_PASS%",
            "{0}",
            "",
        ] {
            assert!(is_placeholder_password(value.as_bytes()), "{value}");
        }
        for value in ["Xk3!pQ9vT2mB", "hunter2", "s3cr3tS4uce9"] {
            assert!(!is_placeholder_password(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn local_hosts_and_defaults() {
        assert!(is_local_host(b"localhost:5432"));
        assert!(is_local_host(b"127.0.0.1"));
        assert!(is_local_host(b"db.example.com"));
        assert!(!is_local_host(b"orders.postgres.database.azure.com"));
        assert!(is_default_credential(b"postgres", b"postgres"));
        assert!(is_default_credential(b"sa", b"Passw0rd"));
        assert!(!is_default_credential(b"app", b"Xk3!pQ9vT2mB"));
    }

    #[test]
    fn the_emulator_key_is_known_by_its_digest_only() {
        assert!(!is_azure_storage_emulator_key(b"not the key"));
    }
}
