//! Filters for the opt-in generic rules (`rules/generic.toml`,
//! `--generic`): a value assigned to a key named like a secret
//! (`password = "…"`, `api_key: …`, `--token=…`).
//!
//! Such a rule has no issuer format to lean on, so almost everything it
//! matches in real code is not a secret: a variable, a lookup, a hash, a test
//! value. Users of gitleaks' `generic-api-key` and detect-secrets' keyword
//! plugin complain about exactly these (see the README's "Generic secrets"
//! section). Each filter below names the look-alike it removes and why it is
//! safe to drop; a value must pass all of them, and the key and the file it
//! stands in must pass theirs ([`check_key`], [`skips_path`]).
//!
//! Everything here sees only the candidate's bytes and its line, never the
//! network, and never logs the value.

use crate::checksum::shannon_entropy;

/// Shortest value reported: below this a "password" is a word, a port, a
/// flag or a default, and even a real one is guessable by the bytes alone.
pub const MIN_LENGTH: usize = 10;
/// Longest value: beyond it a value is a blob (a certificate, a key file,
/// base64 of a document) that other rules or no rule should judge.
pub const MAX_LENGTH: usize = 128;
/// A match on a line longer than this is in minified code, a bundled data
/// blob or a one-line JSON dump, where `token:` or `secret=` are parts of
/// code, not assignments someone wrote.
pub const MAX_LINE_LENGTH: usize = 1000;

/// Why a candidate was dropped (for tests and, one day, `--explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Shorter than [`MIN_LENGTH`] or longer than [`MAX_LENGTH`].
    Length,
    /// Not printable ASCII (localised text, binary).
    NotAscii,
    /// A reference to a value kept elsewhere: `${X}`, `$X`, `$(X)`, `%X%`,
    /// `{{ x }}`, `<x>`, `#{X}#`, `__X__`, `process.env.X`, `os.environ[…]`,
    /// `@Value(…)`, `secrets.X`.
    Reference,
    /// Code, not a literal: `getPassword()`, `self.password`,
    /// `config.secret`, `DB_PASSWORD`, `passwordValue`.
    Identifier,
    /// A digest: hex of an MD5/SHA-1/SHA-2 length, an `sha512-…` integrity
    /// string, a `sha256:…` image digest.
    Hash,
    /// A UUID: an id, not a secret (client ids, tenant ids, GUIDs).
    Uuid,
    /// Base64 of a single word (`cGFzc3dvcmQ=`): an encoded placeholder.
    EncodedWord,
    /// A file path, a file name or a URL without credentials.
    PathOrUrl,
    /// An e-mail address: a user name, not a secret.
    Email,
    /// A version, a date, a number: no letters or hardly any.
    NotRandom,
    /// A placeholder (`changeme`, `xxxx`, `***`, `<password>`) or test
    /// and example data by its words (`test`, `dummy`, `example`, `mock`).
    Placeholder,
    /// Too few kinds of characters (letters only, digits only).
    FewClasses,
    /// Below the entropy floor for its length.
    LowEntropy,
    /// The key says the value is not a secret (`page_token`,
    /// `cancellationToken`, `csrf_token`, `test_password`).
    Key,
    /// On a line longer than [`MAX_LINE_LENGTH`].
    LongLine,
}

/// Accepts or rejects an assigned value.
pub fn check_value(value: &[u8]) -> Result<(), Reject> {
    if value.len() < MIN_LENGTH || value.len() > MAX_LENGTH {
        return Err(Reject::Length);
    }
    if !value.iter().all(|b| b.is_ascii_graphic()) {
        return Err(Reject::NotAscii);
    }
    // Only printable ASCII from here on.
    let text = std::str::from_utf8(value).map_err(|_| Reject::NotAscii)?;
    let lower = text.to_ascii_lowercase();
    if is_reference(text, &lower) {
        return Err(Reject::Reference);
    }
    // A percent-encoded value (`%24PROJECT%3A…` in a recorded URL) is
    // judged decoded: `$PROJECT:…` is a reference, not a secret.
    if let Some(decoded) = percent_decoded(value) {
        return check_value(&decoded);
    }
    if is_uuid(text) {
        return Err(Reject::Uuid);
    }
    if is_hash(text, &lower) {
        return Err(Reject::Hash);
    }
    if is_path_or_url(text, &lower) {
        return Err(Reject::PathOrUrl);
    }
    if is_email(text) {
        return Err(Reject::Email);
    }
    if is_placeholder(value, &lower) {
        return Err(Reject::Placeholder);
    }
    if is_identifier(text) {
        return Err(Reject::Identifier);
    }
    if is_encoded_word(value) {
        return Err(Reject::EncodedWord);
    }
    if is_not_random(text) {
        return Err(Reject::NotRandom);
    }
    check_randomness(value)
}

/// Accepts or rejects the key part of a match: everything from the key's
/// first character to the value (`"ClientSecret": "`, `--password=`).
pub fn check_key(key: &[u8]) -> Result<(), Reject> {
    let lower: Vec<u8> = key
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    if KEY_STOPWORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|win| win == *w))
    {
        return Err(Reject::Key);
    }
    Ok(())
}

/// Words that, in a key's name, mean its value is no secret: paging and
/// cancellation tokens, anti-forgery tokens (public in every form they
/// protect), and the names tests give their fake credentials.
const KEY_STOPWORDS: &[&[u8]] = &[
    b"page",
    b"next",
    b"continuation",
    b"cancel",
    b"csrf",
    b"xsrf",
    b"antiforgery",
    b"sync",
    b"resume",
    b"public",
    b"test",
    b"fake",
    b"dummy",
    b"mock",
    b"example",
    b"sample",
    b"placeholder",
    b"default",
];

/// Checks a match in its buffer: the key (`haystack[match_start..start]`)
/// and the length of the line holding the value `start..end`.
pub fn check_context(
    haystack: &[u8],
    match_start: usize,
    start: usize,
    end: usize,
) -> Result<(), Reject> {
    check_key(&haystack[match_start..start])?;
    // Inside a template expression (`{{token:NAME}}`, `{{ password | x }}`):
    // a placeholder's parts, not an assignment.
    if haystack[..match_start].ends_with(b"{{")
        || haystack[..match_start].ends_with(b"{{ ")
        || haystack[end..].starts_with(b"}}")
    {
        return Err(Reject::Reference);
    }
    let from = start.saturating_sub(MAX_LINE_LENGTH);
    let line_start = memchr::memrchr(b'\n', &haystack[from..start]).map(|i| from + i + 1);
    let to = (end + MAX_LINE_LENGTH).min(haystack.len());
    let line_end = memchr::memchr(b'\n', &haystack[end..to]).map(|i| end + i);
    match (line_start, line_end) {
        (Some(s), Some(e)) if e - s <= MAX_LINE_LENGTH => Ok(()),
        // The line reaches the buffer's edge: short only if the edge is near.
        (Some(s), None) if to == haystack.len() && to - s <= MAX_LINE_LENGTH => Ok(()),
        (None, Some(e)) if from == 0 && e <= MAX_LINE_LENGTH => Ok(()),
        (None, None) if from == 0 && to == haystack.len() && to <= MAX_LINE_LENGTH => Ok(()),
        _ => Err(Reject::LongLine),
    }
}

/// Files whose values are never credentials someone wrote, for all that
/// they hold `token` or `secret` next to long random strings: lock files
/// (integrity hashes, resolved URLs), localisation files (the translated
/// word "password" beside its translation), minified bundles and source
/// maps. `path` is as reported (`/`-separated; an archive member or a git
/// blob path works the same).
pub fn skips_path(path: &str) -> bool {
    let path = path.replace('\\', "/");
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit(['/', '!']).next().unwrap_or(&lower);
    const LOCK_FILES: &[&str] = &[
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "cargo.lock",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "go.sum",
        "composer.lock",
        "gemfile.lock",
        "podfile.lock",
        "packages.lock.json",
        "project.assets.json",
        "paket.lock",
        "mix.lock",
        "pubspec.lock",
        "flake.lock",
        "gradle.lockfile",
    ];
    if LOCK_FILES.contains(&name) {
        return true;
    }
    const SKIPPED_EXTENSIONS: &[&str] = &[
        // Localisation.
        ".po",
        ".pot",
        ".xliff",
        ".xlf",
        ".resx",
        ".resjson",
        ".strings",
        ".stringsdict",
        ".arb",
        // Minified code and source maps.
        ".min.js",
        ".min.css",
        ".min.mjs",
        ".map",
    ];
    if SKIPPED_EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
        return true;
    }
    // `locales/de.json`, `i18n/fr/messages.properties`, `lang/en.yml`,
    // `Strings/en-US/resources.resjson`, `messages_fr.properties`.
    let in_localisation_folder = lower.split(['/', '!']).rev().skip(1).any(|dir| {
        matches!(
            dir,
            "locale" | "locales" | "i18n" | "l10n" | "lang" | "langs" | "translations" | "strings"
        )
    });
    if in_localisation_folder {
        return true;
    }
    name.starts_with("messages_") && name.ends_with(".properties")
}

fn is_reference(text: &str, lower: &str) -> bool {
    let bytes = text.as_bytes();
    let first = bytes[0];
    let last = bytes[bytes.len() - 1];
    // `$X`, `${X}`, `$(X)`, `$env:X`; `%X%` (Windows, Ant); `@X@`, `#{X}#`,
    // `__X__` (token replacement in release pipelines); `<x>`; `{{ x }}`.
    if first == b'$'
        || (first == b'%' && last == b'%')
        || (first == b'@' && last == b'@')
        || (first == b'#' && bytes.get(1) == Some(&b'{'))
        || (text.starts_with("__") && text.ends_with("__"))
        || (first == b'<' && last == b'>')
    {
        return true;
    }
    const MARKERS: &[&str] = &[
        "${",
        "$(",
        "{{",
        "#{",
        "%(",
        "process.env",
        "import.meta.env",
        "os.environ",
        "os.getenv",
        "getenv",
        "environment.",
        "env[",
        "@value",
        "secrets.",
        "secret.",
        "vars.",
        "variables.",
        "parameters.",
        "inputs.",
        "settings.",
        "config.",
        "configuration[",
        "keyvault",
        "vault:",
        "ssm:",
        "arn:aws:",
    ];
    if MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    // `env.X`, `ENV.X`, `env:X`.
    lower.starts_with("env.") || lower.starts_with("env:")
}

fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_hash(text: &str, lower: &str) -> bool {
    const DIGEST_LENGTHS: &[usize] = &[32, 40, 56, 64, 96, 128];
    if DIGEST_LENGTHS.contains(&text.len()) && text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return true;
    }
    // Subresource integrity and lock-file integrity, image digests.
    const PREFIXES: &[&str] = &[
        "sha1-", "sha256-", "sha384-", "sha512-", "md5-", "sha1:", "sha256:", "sha384:", "sha512:",
        "md5:", "{sha}", "{ssha}",
    ];
    PREFIXES.iter().any(|p| lower.starts_with(p))
}

fn is_path_or_url(text: &str, lower: &str) -> bool {
    if let Some(scheme_end) = lower.find("://") {
        // A URL with a password in it is a secret; any other is an address.
        let rest = &lower[scheme_end + 3..];
        let authority = rest.split('/').next().unwrap_or(rest);
        return !authority.contains('@');
    }
    // An absolute path has a second `/` and no symbols; a random value may
    // start with a `/` (it is in the base64 alphabet).
    let absolute = text.starts_with('/')
        && text[1..].contains('/')
        && text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'.' | b'-'));
    if absolute
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with("~/")
        || lower.starts_with("file:")
    {
        return true;
    }
    // A file name: `secrets/key.pem`, `cert.pfx`, `token.txt`.
    const EXTENSIONS: &[&str] = &[
        "json",
        "yaml",
        "yml",
        "xml",
        "toml",
        "ini",
        "env",
        "txt",
        "conf",
        "config",
        "cfg",
        "properties",
        "pem",
        "key",
        "crt",
        "cer",
        "der",
        "pfx",
        "p12",
        "jks",
        "keystore",
        "js",
        "ts",
        "py",
        "cs",
        "java",
        "sh",
        "ps1",
        "html",
        "md",
        "log",
    ];
    if let Some((stem, ext)) = lower.rsplit_once('.') {
        if !stem.is_empty() && EXTENSIONS.contains(&ext) {
            return true;
        }
    }
    // `folder/sub/name`: two or more slashes between words.
    let segments: Vec<&str> = text.split('/').collect();
    segments.len() >= 3
        && segments
            .iter()
            .filter(|s| s.len() >= 3 && s.bytes().all(|c| c.is_ascii_alphabetic() || c == b'-'))
            .count()
            * 2
            >= segments.len()
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+'))
        && domain
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
        && tld.len() >= 2
        && tld.bytes().all(|c| c.is_ascii_alphabetic())
}

/// Words that mark a value as a placeholder or as test and example data.
/// A random value of up to 128 characters contains one of these four- to
/// eleven-letter words with negligible probability; a value a person typed
/// for a test or a template contains one almost always.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "xxx",
    "***",
    "...",
    "password",
    "passwd",
    "passw0rd",
    "p@ss",
    "secret",
    "token",
    "apikey",
    "api_key",
    "your",
    "example",
    "sample",
    "dummy",
    "fake",
    "mock",
    "test",
    "demo",
    "placeholder",
    "redacted",
    "replace",
    "insert",
    "enter",
    "todo",
    "fixme",
    "foobar",
    "qwerty",
    "letmein",
    "123456",
    "abc123",
    "admin",
    "default",
    "undefined",
    "null",
    "none",
    "true",
    "false",
    "invalid",
    "local",
    "hidden",
    "masked",
    "notreal",
    "not_real",
    "not-a-",
    "lorem",
    "random",
    "insecure",
];

fn is_placeholder(value: &[u8], lower: &str) -> bool {
    // Also with the symbols taken out: `Pa%ss%wo^rd` is "password" dressed
    // up for a test of escaping.
    let letters: String = lower
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "*.".contains(*c))
        .collect();
    PLACEHOLDER_WORDS
        .iter()
        .any(|w| lower.contains(w) || letters.contains(w))
        || crate::rules::validate::looks_like_placeholder(value)
}

/// The value with its `%XX` escapes decoded, if it has any.
fn percent_decoded(value: &[u8]) -> Option<Vec<u8>> {
    let escape = |i: usize| {
        value[i] == b'%'
            && value.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && value.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    };
    if !(0..value.len()).any(escape) {
        return None;
    }
    let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if escape(i) {
            out.push((hex(value[i + 1]) << 4) | hex(value[i + 2]));
            i += 3;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    // `%DB_PASS%` is no escape: only a decoding to printable text counts.
    out.iter().all(u8::is_ascii_graphic).then_some(out)
}

/// Names, not literals: `DB_PASSWORD`, `self.password`, `passwordValue`,
/// `Constants.DefaultPassword`, `Secrets::API_KEY`.
fn is_identifier(text: &str) -> bool {
    // Dotted and scoped paths of identifiers.
    let parts: Vec<&str> = text
        .split(['.', ':'])
        .filter(|p| !p.is_empty() && *p != ">")
        .collect();
    // `$` is an identifier character in JavaScript (`parameter.$.value`).
    let identifier = |p: &str| {
        let mut bytes = p.bytes();
        bytes
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'$')
            && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
    };
    if parts.len() >= 2
        && parts.iter().all(|p| identifier(p))
        && parts[..parts.len() - 1]
            .iter()
            .filter(|p| p.bytes().any(|c| c.is_ascii_alphabetic()))
            .all(|p| wordish(p))
    {
        return true;
    }
    if !identifier(text) {
        return false;
    }
    // UPPER_SNAKE and lower_snake names.
    if text.contains('_')
        && (text.bytes().all(|c| !c.is_ascii_lowercase())
            || text.bytes().all(|c| !c.is_ascii_uppercase()))
        && text.split('_').filter(|s| !s.is_empty()).all(wordish)
    {
        return true;
    }
    // camelCase and PascalCase made of words, perhaps with a number at the end.
    let trimmed = text.trim_end_matches(|c: char| c.is_ascii_digit());
    humps(trimmed).iter().all(|h| wordish(h))
}

/// A run of letters that reads as (part of) a word: one letter case after
/// its first, at least one vowel per five letters, few digits. Random text
/// fails this most of the time; identifiers pass.
fn wordish(part: &str) -> bool {
    let letters: Vec<u8> = part.bytes().filter(|c| c.is_ascii_alphabetic()).collect();
    let digits = part.bytes().filter(|c| c.is_ascii_digit()).count();
    if letters.is_empty() || digits > 2 {
        return false;
    }
    let rest = &letters[1..];
    let one_case =
        rest.iter().all(|c| c.is_ascii_lowercase()) || rest.iter().all(|c| c.is_ascii_uppercase());
    let vowels = letters
        .iter()
        .filter(|c| b"aeiouyAEIOUY".contains(c))
        .count();
    one_case && (letters.len() <= 3 || vowels * 5 >= letters.len())
}

/// Splits a camelCase name at its humps (`getDbPassword` → get, Db,
/// Password; `HTTPServer` → HTTP, Server) and at `_`.
fn humps(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        let (prev, cur) = (bytes[i - 1], bytes[i]);
        let next_lower = bytes.get(i + 1).is_some_and(|c| c.is_ascii_lowercase());
        let boundary = cur == b'_'
            || prev == b'_'
            || (prev.is_ascii_lowercase() && cur.is_ascii_uppercase())
            || (prev.is_ascii_uppercase() && cur.is_ascii_uppercase() && next_lower)
            || (prev.is_ascii_digit() != cur.is_ascii_digit());
        if boundary {
            out.push(&text[start..i]);
            start = i;
        }
    }
    out.push(&text[start..]);
    out.retain(|h| !h.is_empty() && *h != "_");
    out
}

/// Base64 of one word, perhaps with a number (`cGFzc3dvcmQ=` is
/// "password"): how templates hide a placeholder in a Kubernetes secret.
fn is_encoded_word(value: &[u8]) -> bool {
    if value.len() % 4 != 0
        || !value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
    {
        return false;
    }
    let mut decoded = Vec::new();
    if !crate::decode::decode_base64(value, &mut decoded) {
        return false;
    }
    let Ok(word) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let word = word.trim_end();
    let letters = word.trim_end_matches(|c: char| c.is_ascii_digit() || "!?.".contains(c));
    letters.len() >= 3
        && letters
            .bytes()
            .all(|c| c.is_ascii_alphabetic() || c == b'-' || c == b'_')
}

/// Versions, dates, times, numbers, IP addresses: fewer than a fifth
/// letters, or a version shape (`v1.2.3-beta4`).
fn is_not_random(text: &str) -> bool {
    let letters = text.bytes().filter(|c| c.is_ascii_alphabetic()).count();
    if letters * 5 < text.len() {
        return true;
    }
    let version = text.strip_prefix(['v', 'V']).unwrap_or(text);
    version.split(['.', '-', '+']).count() >= 3
        && version
            .split('.')
            .next()
            .is_some_and(|major| !major.is_empty() && major.bytes().all(|c| c.is_ascii_digit()))
}

/// Character classes and entropy: what a generated secret has and a word,
/// a name or a sentence lacks. Letters plus a digit or a symbol; three
/// classes, or two over a longer value; and a length-dependent entropy
/// floor (a random string's Shannon entropy grows with its length up to
/// its alphabet's).
fn check_randomness(value: &[u8]) -> Result<(), Reject> {
    let lower = value.iter().any(u8::is_ascii_lowercase);
    let upper = value.iter().any(u8::is_ascii_uppercase);
    let digit = value.iter().any(u8::is_ascii_digit);
    // `_`, `-` and `.` join words in names; they are no sign of randomness.
    let symbol = value
        .iter()
        .any(|&b| b.is_ascii_punctuation() && !matches!(b, b'_' | b'-' | b'.'));
    let classes = [lower, upper, digit, symbol].iter().filter(|&&c| c).count();
    if !(lower || upper) || !(digit || symbol) {
        return Err(Reject::FewClasses);
    }
    if classes < 3 && value.len() < 16 {
        return Err(Reject::FewClasses);
    }
    let floor = match value.len() {
        0..=15 => 3.0,
        16..=23 => 3.2,
        _ => 3.5,
    };
    if shannon_entropy(value) < floor {
        return Err(Reject::LowEntropy);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::TokenRng;

    /// A password as a generator makes one: letters, digits and symbols.
    fn generated(rng: &mut TokenRng, len: usize) -> String {
        const ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%*+-/=?@^_~";
        loop {
            let value = rng.string(ALPHABET, len);
            // Each class present, as password generators guarantee.
            let bytes = value.as_bytes();
            if bytes.iter().any(u8::is_ascii_lowercase)
                && bytes.iter().any(u8::is_ascii_uppercase)
                && bytes.iter().any(u8::is_ascii_digit)
            {
                return value;
            }
        }
    }

    fn rejected(value: &str) -> Reject {
        match check_value(value.as_bytes()) {
            Ok(()) => panic!("{value:?} should be rejected"),
            Err(why) => why,
        }
    }

    #[test]
    fn generated_passwords_pass() {
        let mut rng = TokenRng::new(7);
        for len in [12, 16, 20, 24, 32, 40] {
            for _ in 0..50 {
                let value = generated(&mut rng, len);
                assert_eq!(check_value(value.as_bytes()), Ok(()), "{len}");
            }
        }
    }

    #[test]
    fn length_bounds() {
        assert_eq!(rejected("aB3$xY9!"), Reject::Length);
        assert_eq!(rejected(&"aB3$".repeat(40)), Reject::Length);
    }

    #[test]
    fn variable_references() {
        for value in [
            "${DB_PASSWORD}",
            "$DB_PASSWORD1",
            "$(System.AccessToken)",
            "%DB_PASSWORD%",
            "{{db_password}}",
            "#{Password}#",
            "__ApiKey1__",
            "<db-password>",
            "process.env.API_KEY",
            "os.environ[KEY]",
            "@Value(x.y)",
            "secrets.NPM_TOKEN9",
            "env.MY_TOKEN_2",
            "ENV[SECRET_KEY]",
            "%24PROJECT%3A%2F%2Fab12cd34",
        ] {
            assert_eq!(rejected(value), Reject::Reference, "{value}");
        }
    }

    #[test]
    fn identifiers_and_calls() {
        for value in [
            "self.dbPass",
            "this.clientKey",
            "Constants.SigningKey",
            "DB_CLIENT_KEY",
            "db_client_key",
            "clientCredentialValue",
            "AuthHeaderValue2",
            "Keys::SIGNING_KEY",
            "parameter.$.value",
        ] {
            assert_eq!(rejected(value), Reject::Identifier, "{value}");
        }
    }

    #[test]
    fn hashes_and_uuids() {
        let mut rng = TokenRng::new(11);
        let hex = |rng: &mut TokenRng, n: usize| rng.string(b"0123456789abcdef", n);
        for n in [32, 40, 64] {
            assert_eq!(rejected(&hex(&mut rng, n)), Reject::Hash, "{n}");
            assert_eq!(
                rejected(&hex(&mut rng, n).to_ascii_uppercase()),
                Reject::Hash
            );
        }
        assert_eq!(
            rejected(&format!("sha512-{}", generated(&mut rng, 40))),
            Reject::Hash
        );
        assert_eq!(
            rejected(&format!("sha256:{}", hex(&mut rng, 64))),
            Reject::Hash
        );
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            hex(&mut rng, 8),
            hex(&mut rng, 4),
            hex(&mut rng, 4),
            hex(&mut rng, 4),
            hex(&mut rng, 12)
        );
        assert_eq!(rejected(&uuid), Reject::Uuid);
    }

    #[test]
    fn base64_of_a_word() {
        // "password", "Kubernetes1", "hunter"
        for value in ["cGFzc3dvcmQ=", "S3ViZXJuZXRlczE=", "aHVudGVyMg=="] {
            let why = rejected(value);
            assert!(
                why == Reject::EncodedWord || why == Reject::Placeholder,
                "{value}: {why:?}"
            );
        }
        assert_eq!(rejected("S3ViZXJuZXRlczE="), Reject::EncodedWord);
    }

    #[test]
    fn paths_and_urls() {
        for value in [
            "/etc/ssl/private/server1.pem",
            "./certs/client1",
            "certs/prod/Signing2.pfx",
            "https://login.microsoftonline.com/common1",
            "folder/subFolder/name1",
        ] {
            assert_eq!(rejected(value), Reject::PathOrUrl, "{value}");
        }
        // Credentials in a URL are a secret.
        let mut rng = TokenRng::new(3);
        let password = rng.string(
            b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
            16,
        );
        let url = format!("https://user:{password}9aZ@db.internal/x");
        assert_eq!(check_value(url.as_bytes()), Ok(()));
    }

    #[test]
    fn emails_versions_dates_numbers() {
        assert_eq!(rejected("build.agent@contoso.com"), Reject::Email);
        for value in [
            "2024-01-31T12:00:00Z",
            "10.0.0.1:5432",
            "1.2.3-beta.4",
            "v12.4.1-rc1",
        ] {
            assert_eq!(rejected(value), Reject::NotRandom, "{value}");
        }
    }

    #[test]
    fn placeholders_and_test_words() {
        for value in [
            "changeme123!",
            "xxxxxxxxxxxx",
            "************",
            "MyTestPa55!",
            "Dummy_Value9",
            "P@ssw0rd1234",
            "your-key-here1",
            "example-Secret9",
            "abcdefghij1!",
            "Pa%ss%wo^rd",
            "random!123",
            "django-insecure-k2j4h5g6f7d8s9a0",
        ] {
            assert_eq!(rejected(value), Reject::Placeholder, "{value}");
        }
    }

    #[test]
    fn too_few_classes_or_too_little_entropy() {
        assert_eq!(rejected("Correcthorsebattery"), Reject::Identifier);
        assert_eq!(rejected("4071958362017"), Reject::NotRandom);
        assert_eq!(rejected("zq9v8w7k1m"), Reject::FewClasses);
        assert_eq!(rejected("Ab1Cd2Ab1Cd2Ab1Cd2"), Reject::LowEntropy);
    }

    #[test]
    fn keys_that_name_no_secret() {
        for key in [
            "nextPageToken\": \"",
            "continuation_token=",
            "cancellationToken: ",
            "csrf_token = '",
            "TEST_PASSWORD=",
            "public_key: ",
        ] {
            assert_eq!(check_key(key.as_bytes()), Err(Reject::Key), "{key}");
        }
        for key in [
            "DB_PASSWORD=",
            "\"ClientSecret\": \"",
            "--api-key=",
            "access_token: ",
        ] {
            assert_eq!(check_key(key.as_bytes()), Ok(()), "{key}");
        }
    }

    #[test]
    fn template_expressions_are_references() {
        let text = b"x: '{{token:acme-key-v2}}'\n";
        // `token:` at 6, the value `acme-key-v2` at 12..23.
        assert_eq!(check_context(text, 6, 12, 23), Err(Reject::Reference));
        let plain = b"x: 'token:acme-key-v2'\n";
        assert_eq!(check_context(plain, 4, 10, 21), Ok(()));
    }

    #[test]
    fn long_lines_are_minified_code() {
        let value = "aB3$xY9!qR7z";
        let short = format!("a=1\npassword={value}\nb=2\n");
        let start = short.find(value).unwrap();
        assert_eq!(
            check_context(short.as_bytes(), start - 9, start, start + value.len()),
            Ok(())
        );
        let long = format!("{}password={value};{}", "x".repeat(900), "y".repeat(200));
        let start = long.find(value).unwrap();
        assert_eq!(
            check_context(long.as_bytes(), start - 9, start, start + value.len()),
            Err(Reject::LongLine)
        );
    }

    #[test]
    fn skipped_files() {
        for path in [
            "package-lock.json",
            "web/yarn.lock",
            "Cargo.lock",
            "svc/go.sum",
            "app/pnpm-lock.yaml",
            "Tasks/X/Strings/resources.resjson/de-DE/resources.resjson",
            "src/locales/fr.json",
            "i18n/messages.json",
            "po/de.po",
            "ui/Resources.resx",
            "ios/en.lproj/Localizable.strings",
            "dist/app.min.js",
            "dist/app.js.map",
            "archive.zip!locales/de.json",
            "conf/messages_fr.properties",
        ] {
            assert!(skips_path(path), "{path}");
        }
        for path in [
            ".env",
            "appsettings.json",
            "src/main/resources/application.properties",
            "docker-compose.yml",
            "app/settings.py",
            "src/lock.rs",
        ] {
            assert!(!skips_path(path), "{path}");
        }
    }
}
