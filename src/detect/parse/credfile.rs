//! Credentials in the files command-line tools keep them in, whose values
//! have no shape of their own: docker's `config.json` (`"auth"`: base64 of
//! `user:password`), `.netrc` (`machine … login … password …`), `.pypirc`
//! and other INI files (`username =` then `password =`), `.npmrc`
//! (`_auth=` base64 of `user:password`, `_password=` base64 of the
//! password).
//!
//! Why a parser: a regex finds the place, but whether the value is a
//! password needs decoding (docker and npm keep it in base64) and the
//! placeholder lists (`password = changeme`, `${PYPI_PASSWORD}`), and the
//! report should say which registry or host it opens. A token with a
//! format of its own in the same place (`pypi-…`, `npm_…`, `ghp_…`) is its
//! own rule's finding; these rules yield to it (see the scanner).

use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::placeholder::{is_local_host, is_placeholder_password};
use super::Parsed;
use crate::model::Confidence;

const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How far back the file's context (registry, section, host) is read.
const CONTEXT: usize = 512;

/// Which file a match is in, from the literal it starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    DockerAuth,
    Netrc,
    Ini,
    NpmAuth,
    NpmPassword,
}

fn kind_at(text: &[u8], whole: &Range<usize>) -> Option<Kind> {
    let m = text.get(whole.clone())?;
    let trimmed = m.trim_ascii_start();
    Some(if trimmed.starts_with(b"\"auth\"") {
        Kind::DockerAuth
    } else if trimmed.starts_with(b"machine") {
        Kind::Netrc
    } else if trimmed.starts_with(b"username") {
        Kind::Ini
    } else if memchr::memmem::find(m, b"_auth=").is_some() {
        Kind::NpmAuth
    } else if memchr::memmem::find(m, b"_password=").is_some() {
        Kind::NpmPassword
    } else {
        return None;
    })
}

/// Parses a match of a credential-file rule.
pub fn parse(text: &[u8], whole: Range<usize>, secret: Range<usize>) -> Option<Parsed> {
    let kind = kind_at(text, &whole)?;
    analyze(text, kind, whole.start, secret)
}

/// The details of a credential-file finding at `span`: the match is
/// found again by looking back for the literal its rule starts with.
pub fn describe(text: &[u8], span: Range<usize>) -> Option<Parsed> {
    let from = span.start.saturating_sub(CONTEXT);
    let before = &text[from..span.start];
    let candidates: [(&[u8], Kind); 5] = [
        (b"\"auth\"", Kind::DockerAuth),
        (b"machine", Kind::Netrc),
        (b"username", Kind::Ini),
        (b"_auth=", Kind::NpmAuth),
        (b"_password=", Kind::NpmPassword),
    ];
    let (at, kind) = candidates
        .iter()
        .filter_map(|(literal, kind)| memchr::memmem::rfind(before, literal).map(|i| (i, *kind)))
        .max_by_key(|(i, _)| *i)?;
    analyze(text, kind, from + at, span)
}

fn analyze(text: &[u8], kind: Kind, start: usize, secret: Range<usize>) -> Option<Parsed> {
    let value = text.get(secret.clone())?;
    let context_from = start.saturating_sub(CONTEXT);
    let before = &text[context_from..start];
    match kind {
        Kind::DockerAuth | Kind::NpmAuth => {
            let decoded = STANDARD_LENIENT.decode(value).ok()?;
            let colon = decoded.iter().position(|&b| b == b':')?;
            let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
            if !printable(&decoded) || user.is_empty() || is_placeholder_password(password) {
                return None;
            }
            let (registry, scheme) = if kind == Kind::DockerAuth {
                (docker_registry(before), "docker")
            } else {
                (npm_registry(text, start), "npm")
            };
            let local = registry
                .as_deref()
                .is_some_and(|r| is_local_host(host_of(r)));
            let mut parsed = Parsed::new(secret, confidence(local));
            parsed.detail("file", scheme);
            if let Some(registry) = registry {
                parsed.detail("registry", registry);
            }
            parsed.detail("user", String::from_utf8_lossy(user));
            Some(parsed)
        }
        Kind::NpmPassword => {
            let decoded = STANDARD_LENIENT.decode(value).ok()?;
            if !printable(&decoded) || is_placeholder_password(&decoded) {
                return None;
            }
            let registry = npm_registry(text, start);
            let local = registry
                .as_deref()
                .is_some_and(|r| is_local_host(host_of(r)));
            let mut parsed = Parsed::new(secret, confidence(local));
            parsed.detail("file", "npm");
            if let Some(registry) = registry {
                parsed.detail("registry", registry);
            }
            Some(parsed)
        }
        Kind::Netrc => {
            if is_placeholder_password(value) {
                return None;
            }
            let entry = &text[start..secret.start];
            let words: Vec<&[u8]> = entry
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            let after = |name: &[u8]| {
                words
                    .windows(2)
                    .find(|w| w[0] == name)
                    .map(|w| String::from_utf8_lossy(w[1]).into_owned())
            };
            let host = after(b"machine")?;
            let local = is_local_host(host.as_bytes());
            let mut parsed = Parsed::new(secret, confidence(local));
            parsed.detail("file", "netrc");
            parsed.detail("host", host);
            if let Some(user) = after(b"login") {
                parsed.detail("user", user);
            }
            Some(parsed)
        }
        Kind::Ini => {
            if is_placeholder_password(value) {
                return None;
            }
            let line = &text[start..secret.start];
            let user = line
                .split(|&b| b == b'\n')
                .next()
                .and_then(|l| l.splitn(2, |&b| b == b'=' || b == b':').nth(1))
                .map(|u| String::from_utf8_lossy(u.trim_ascii()).into_owned());
            if user
                .as_deref()
                .is_some_and(|u| u.starts_with('$') || u.starts_with('<'))
            {
                return None;
            }
            // Under a section: `[pypi]`, `[testpypi]`, `[private-index]`.
            let section = before
                .split(|&b| b == b'\n')
                .rev()
                .map(<[u8]>::trim_ascii)
                .find(|l| l.starts_with(b"[") && l.ends_with(b"]"))
                .map(|l| String::from_utf8_lossy(&l[1..l.len() - 1]).into_owned());
            let repository = before
                .split(|&b| b == b'\n')
                .rev()
                .map(<[u8]>::trim_ascii)
                .take_while(|l| !l.starts_with(b"["))
                .find_map(|l| l.strip_prefix(b"repository"))
                .and_then(|l| l.splitn(2, |&b| b == b'=' || b == b':').nth(1))
                .map(|r| String::from_utf8_lossy(r.trim_ascii()).into_owned());
            // A `.pypirc` names its index; elsewhere a user and password
            // pair in a config file is less certainly a live credential.
            let pypirc = section.as_deref().is_some_and(|s| s.contains("pypi"))
                || repository.is_some()
                || memchr::memmem::find(before, b"[distutils]").is_some();
            let local = repository
                .as_deref()
                .is_some_and(|r| is_local_host(host_of(r)));
            let confidence = if pypirc && !local {
                Confidence::Medium
            } else {
                Confidence::Low
            };
            let mut parsed = Parsed::new(secret, confidence);
            parsed.detail("file", if pypirc { "pypirc" } else { "ini" });
            if let Some(section) = section {
                parsed.detail("section", section);
            }
            if let Some(repository) = repository {
                parsed.detail("repository", repository);
            }
            if let Some(user) = user {
                parsed.detail("user", user);
            }
            Some(parsed)
        }
    }
}

fn confidence(local: bool) -> Confidence {
    if local {
        Confidence::Low
    } else {
        Confidence::Medium
    }
}

fn printable(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| (0x20..0x7F).contains(&b))
}

/// The host of a registry or URL: `https://` and any path or port cut off.
fn host_of(registry: &str) -> &[u8] {
    let rest = registry
        .split_once("://")
        .map_or(registry, |(_, rest)| rest)
        .trim_start_matches('/');
    let end = rest.find(['/', ':']).unwrap_or(rest.len());
    &rest.as_bytes()[..end]
}

/// The registry whose object holds `"auth"`: the last `"name": {` before it.
fn docker_registry(before: &[u8]) -> Option<String> {
    let brace = before.iter().rposition(|&b| b == b'{')?;
    let head = before[..brace].trim_ascii_end().strip_suffix(b":")?;
    let head = head.trim_ascii_end().strip_suffix(b"\"")?;
    let open = head.iter().rposition(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(&head[open + 1..]).into_owned())
}

/// The registry an `.npmrc` line scopes its `_auth` to: `//host/path/:`.
fn npm_registry(text: &[u8], start: usize) -> Option<String> {
    let line_start = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let scoped = line.strip_prefix(b"//")?;
    let end = scoped.iter().position(|&b| b == b':' || b == b'=')?;
    Some(String::from_utf8_lossy(&scoped[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    use crate::parse::test_details as details;

    #[test]
    fn docker_auth_decodes_to_user_and_names_the_registry() {
        let auth = STANDARD.encode("deploy:Xk3!pQ9vT2mBz");
        let text = format!("{{\"auths\": {{\"contoso.azurecr.io\": {{\"auth\": \"{auth}\"}}}}}}");
        let start = text.find("\"auth\"").unwrap();
        let value = text.find(&auth).unwrap();
        let parsed = parse(
            text.as_bytes(),
            start..value + auth.len() + 1,
            value..value + auth.len(),
        )
        .unwrap();
        let d = details(&parsed);
        assert!(d.contains(&("registry", "contoso.azurecr.io")));
        assert!(d.contains(&("user", "deploy")));
        let placeholder = STANDARD.encode("user:password");
        let text = format!("{{\"auth\": \"{placeholder}\"}}");
        let value = text.find(&placeholder).unwrap();
        assert!(parse(
            text.as_bytes(),
            1..text.len(),
            value..value + placeholder.len()
        )
        .is_none());
    }

    #[test]
    fn netrc_and_pypirc() {
        let text = "machine api.contoso.net\n  login deploy\n  password Xk3pQ9vT2mBz\n";
        let value = text.find("Xk3").unwrap();
        let parsed = parse(text.as_bytes(), 0..value + 12, value..value + 12).unwrap();
        assert!(details(&parsed).contains(&("host", "api.contoso.net")));
        let text = "[distutils]\nindex-servers = private\n[private]\nrepository = https://pkgs.contoso.net/simple/\nusername = deploy\npassword = Xk3pQ9vT2mBz\n";
        let start = text.find("username").unwrap();
        let value = text.find("Xk3").unwrap();
        let parsed = parse(text.as_bytes(), start..value + 12, value..value + 12).unwrap();
        assert_eq!(parsed.confidence, Confidence::Medium);
        assert!(details(&parsed).contains(&("repository", "https://pkgs.contoso.net/simple/")));
        let described = describe(text.as_bytes(), value..value + 12).unwrap();
        assert_eq!(described.details, parsed.details);
    }
}
