//! The system `git` fetching an organisation's repositories: reading a
//! repository's refs (`ls-remote`, for `--since-last` and empty
//! repositories) and making a full bare clone (every blob: no partial
//! clone, which would leave history unscanned).
//!
//! The credential reaches git only through its environment
//! (`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` set
//! `http.extraHeader`), never the URL, the argument list (which every user
//! of the machine can read) or the clone's `config` file. Redirects are
//! not followed, credential helpers and prompts are off, and only the
//! HTTPS protocol (plain HTTP for the loopback test server) is allowed.

use std::ffi::OsString;
use std::path::Path;
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
    fn header(&self) -> Option<String> {
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

    /// The refs of the bare clone at `dir`, digested as [`Git::refs`]
    /// digests the remote's: a clone has the remote's branches and tags,
    /// so an unchanged repository gives the same digest either way, and a
    /// run without `--since-last` costs no extra request.
    pub fn local_refs(&self, dir: &Path) -> Result<Refs, String> {
        let output = self
            .command()
            .arg("--git-dir")
            .arg(dir)
            .args(["show-ref", "--head", "--dereference"])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        // Exit code 1: no refs at all.
        if !output.status.success() && !output.stdout.is_empty() {
            return Err(self.failure("git show-ref", &output.stderr));
        }
        Ok(digest(&String::from_utf8_lossy(&output.stdout), ' '))
    }

    /// A full bare clone of `url` into `dir`; a bare repository already
    /// there (`--keep-clones` of an earlier run) is brought up to date
    /// instead, so its history cache makes the scan read only new blobs.
    pub fn clone_or_fetch(&self, url: &str, dir: &Path) -> Result<(), String> {
        let existing = dir.join("HEAD").is_file() && dir.join("objects").is_dir();
        let (what, args) = if existing {
            ("git fetch", fetch_args(url, dir))
        } else {
            ("git clone", clone_args(url, dir))
        };
        let output = self
            .command()
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(self.failure(what, &output.stderr))
        }
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
        let mut message = format!("{what} failed: {}", lines[start..].join("; "));
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
    let mut lines: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let (id, name) = line.split_once(separator)?;
            let name = name.trim();
            (name == "HEAD" || name.starts_with("refs/heads/") || name.starts_with("refs/tags/"))
                .then(|| format!("{}\t{name}", id.trim()))
        })
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
        digest: Some(crate::cache::key::hex(&hasher.finalize())),
    }
}

fn ls_remote_args(url: &str) -> Vec<OsString> {
    ["ls-remote", "--", url]
        .iter()
        .map(OsString::from)
        .collect()
}

fn clone_args(url: &str, dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["clone", "--bare", "--quiet", "--", url]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(dir.as_os_str().to_owned());
    args
}

fn fetch_args(url: &str, dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--git-dir".into(), dir.as_os_str().to_owned()];
    args.extend(
        [
            "fetch",
            "--quiet",
            "--prune",
            "--force",
            "--",
            url,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
        ]
        .iter()
        .map(OsString::from),
    );
    args
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
        let dir = Path::new("/tmp/x.git");
        for args in [
            ls_remote_args(url),
            clone_args(url, dir),
            fetch_args(url, dir),
        ] {
            assert!(args
                .iter()
                .all(|a| !a.to_string_lossy().contains("0f1e2d3c4b5a")));
        }
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
