//! How patscan talks git to a platform: the credential's header, errors
//! masked, and the system `git` reading a repository's refs (`ls-remote`,
//! for `--since-last`). The full bare clone itself (every blob: no partial
//! clone, which would leave history unscanned) is made in process by
//! [`fetch`](super::fetch).
//!
//! The credential reaches the system git only through its environment
//! (`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` set
//! `http.extraHeader`), never the URL, the argument list (which every user
//! of the machine can read) or the clone's `config` file. Redirects are
//! not followed, credential helpers and prompts are off, and only the
//! HTTPS protocol (plain HTTP for the loopback test server) is allowed.

use std::ffi::OsString;
use std::process::{Command, Stdio};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::spec::Platform;
use super::Credential;

/// How many lines of git's error output a problem quotes.
const ERROR_LINES: usize = 3;

/// Runs git for one organisation.
pub struct Git<'a> {
    pub platform: Platform,
    pub credential: Option<&'a Credential>,
    /// Plain HTTP allowed (the loopback test server only).
    pub loopback: bool,
}

/// What a repository's refs are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refs {
    /// SHA-256 of `HEAD`, the branches and tags with their commits, sorted;
    /// `None` for a repository without any (empty).
    pub digest: Option<String>,
}

impl Git<'_> {
    /// `git` with the credential in its environment and every way for it
    /// to go elsewhere shut.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        let mut config: Vec<(&str, String)> = vec![
            // An empty value resets the helper list: nothing stores or
            // looks up a credential.
            ("credential.helper", String::new()),
            ("core.askPass", String::new()),
            // A redirect would carry the extra header to another host.
            ("http.followRedirects", "false".into()),
        ];
        if let Some(header) = self.header() {
            config.push(("http.extraHeader", header));
        }
        cmd.env("GIT_CONFIG_COUNT", config.len().to_string());
        for (i, (key, value)) in config.into_iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), key);
            cmd.env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env(
                "GIT_ALLOW_PROTOCOL",
                if self.loopback { "http:https" } else { "https" },
            )
            .env("LC_ALL", "C")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .stdin(Stdio::null());
        cmd
    }

    /// `Authorization: Basic …` with the user name each platform documents
    /// for token access over HTTPS.
    pub(super) fn header(&self) -> Option<String> {
        let credential = self.credential?;
        let user = match self.platform {
            Platform::Github => "x-access-token",
            Platform::Gitlab => "oauth2",
            Platform::AzureDevops => "patscan",
        };
        let pair = format!("{user}:{}", credential.expose());
        Some(format!(
            "Authorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }

    /// The refs of the repository at `url`.
    pub fn refs(&self, url: &str) -> Result<Refs, String> {
        let output = self
            .command()
            .args(ls_remote_args(url))
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            return Err(self.failure("git ls-remote", &output.stderr));
        }
        Ok(digest(&String::from_utf8_lossy(&output.stdout), '\t'))
    }

    /// The last lines of git's error output, with the credential (should
    /// git ever print it) and any token masked.
    fn failure(&self, what: &str, stderr: &[u8]) -> String {
        let text = String::from_utf8_lossy(stderr);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let start = lines.len().saturating_sub(ERROR_LINES);
        self.failure_message(what, &lines[start..].join("; "))
    }

    /// `WHAT failed: DETAIL`, with the credential (should an error ever
    /// quote it) and any token masked.
    pub(super) fn failure_message(&self, what: &str, detail: &str) -> String {
        let mut message = format!("{what} failed: {detail}");
        if let Some(credential) = self.credential {
            if !credential.expose().is_empty() {
                message = message.replace(credential.expose(), "[credential]");
            }
        }
        crate::redact::redact_tokens(&message)
    }
}

/// The digest of `ls-remote`-style lines (`ID<separator>NAME`): `HEAD`,
/// branches and tags (peeled too), sorted; `None` without any.
fn digest(text: &str, separator: char) -> Refs {
    digest_lines(text.lines().filter_map(|line| {
        let (id, name) = line.split_once(separator)?;
        Some((id.trim().to_string(), name.trim().to_string()))
    }))
}

/// The digest of `(id, name)` pairs: `HEAD`, branches and tags (peeled
/// too, as `refs/tags/NAME^{}`), sorted; `None` without any.
pub(super) fn digest_lines(refs: impl IntoIterator<Item = (String, String)>) -> Refs {
    let mut lines: Vec<String> = refs
        .into_iter()
        .filter(|(_, name)| {
            name == "HEAD" || name.starts_with("refs/heads/") || name.starts_with("refs/tags/")
        })
        .map(|(id, name)| format!("{id}\t{name}"))
        .collect();
    lines.sort_unstable();
    if lines.is_empty() {
        return Refs { digest: None };
    }
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    Refs {
        digest: Some(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        ),
    }
}

fn ls_remote_args(url: &str) -> Vec<OsString> {
    ["ls-remote", "--", url]
        .iter()
        .map(OsString::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_only_in_the_environment() {
        let credential = Credential::new("cred-0f1e2d3c4b5a".into());
        let git = Git {
            platform: Platform::Github,
            credential: Some(&credential),
            loopback: false,
        };
        let cmd = git.command();
        let url = "https://github.com/acme/a.git";
        assert!(ls_remote_args(url)
            .iter()
            .all(|a| !a.to_string_lossy().contains("0f1e2d3c4b5a")));
        let encoded =
            base64::engine::general_purpose::STANDARD.encode("x-access-token:cred-0f1e2d3c4b5a");
        let holders: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_some_and(|v| v.to_string_lossy().contains(&encoded)))
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(holders, ["GIT_CONFIG_VALUE_3"]);
        let keys: Vec<(String, String)> = cmd
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .filter(|(k, _)| k.starts_with("GIT_CONFIG_KEY_"))
            .collect();
        assert!(keys.contains(&("GIT_CONFIG_KEY_3".into(), "http.extraHeader".into())));
        assert!(cmd.get_args().next().is_none());
    }

    #[test]
    fn error_output_never_quotes_the_credential() {
        let credential = Credential::new("hunter2-secret".into());
        let git = Git {
            platform: Platform::Gitlab,
            credential: Some(&credential),
            loopback: false,
        };
        let message = git.failure("git clone", b"fatal: one\nfatal: two hunter2-secret\n\n");
        assert_eq!(
            message,
            "git clone failed: fatal: one; fatal: two [credential]"
        );
    }
}
