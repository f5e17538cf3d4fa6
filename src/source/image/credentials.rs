//! A registry credential, found where `docker login` leaves it: the
//! `PATSCAN_REGISTRY_USERNAME` and `PATSCAN_REGISTRY_PASSWORD` variables
//! (for a run whose references name one registry only), else the Docker
//! config (`$DOCKER_CONFIG/config.json`, `~/.docker/config.json`): the
//! registry's `credHelpers` entry, its `auths` entry, then `credsStore`.
//! A helper is run as `docker-credential-NAME get`, the registry on its
//! standard input (never an argument: the process list is public).
//!
//! A credential is looked up only when a registry asks for one (a 401
//! challenge), and is for that registry and the token service it names
//! only (see `registry`).

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

use super::reference::DOCKER_HUB;

pub const USERNAME_VAR: &str = "PATSCAN_REGISTRY_USERNAME";
pub const PASSWORD_VAR: &str = "PATSCAN_REGISTRY_PASSWORD";

/// How Docker names Docker Hub in its config and to its helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name and password (or token). `Debug` never prints them.
#[derive(Clone)]
pub struct Credential {
    pub username: String,
    secret: String,
}

impl Credential {
    pub fn new(username: String, secret: String) -> Credential {
        Credential { username, secret }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential([hidden])")
    }
}

/// The variables' credential, when both are set.
pub fn from_env() -> Option<Credential> {
    let username = std::env::var(USERNAME_VAR).ok().filter(|v| !v.is_empty())?;
    let password = std::env::var(PASSWORD_VAR).ok().filter(|v| !v.is_empty())?;
    Some(Credential::new(username, password))
}

/// The Docker config's credential for `registry` (as references name it:
/// `ghcr.io`, `docker.io`, `127.0.0.1:5000`). An error is a helper that
/// failed, in words that never quote what it printed.
pub fn from_docker_config(registry: &str) -> Result<Option<Credential>, String> {
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) => return Ok(None),
    };
    let config: Value =
        serde_json::from_str(&text).map_err(|_| format!("{} is not JSON", path.display()))?;
    let keys = keys_for(registry);
    if let Some(helper) = keys
        .iter()
        .find_map(|k| config["credHelpers"][k.as_str()].as_str())
    {
        return helper_get(helper, &keys[0]);
    }
    for key in &keys {
        let entry = &config["auths"][key.as_str()];
        if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| format!("{}: the `auth` of {key} is not base64", path.display()))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| format!("{}: the `auth` of {key} is not text", path.display()))?;
            let (user, password) = text.split_once(':').ok_or_else(|| {
                format!(
                    "{}: the `auth` of {key} is not user:password",
                    path.display()
                )
            })?;
            return Ok(Some(Credential::new(
                user.to_string(),
                password.to_string(),
            )));
        }
        if let (Some(user), Some(password)) =
            (entry["username"].as_str(), entry["password"].as_str())
        {
            return Ok(Some(Credential::new(
                user.to_string(),
                password.to_string(),
            )));
        }
    }
    if let Some(store) = config["credsStore"].as_str().filter(|s| !s.is_empty()) {
        return helper_get(store, &keys[0]);
    }
    Ok(None)
}

fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// The names a config may file `registry` under, the helpers' first.
fn keys_for(registry: &str) -> Vec<String> {
    if registry == DOCKER_HUB {
        return vec![
            DOCKER_HUB_KEY.to_string(),
            "index.docker.io".to_string(),
            "docker.io".to_string(),
            "registry-1.docker.io".to_string(),
        ];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ]
}

/// `docker-credential-NAME get`, the server on standard input.
fn helper_get(name: &str, server: &str) -> Result<Option<Credential>, String> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !plain {
        return Err("the Docker config names a credential helper with an invalid name".into());
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run the credential helper {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("the credential helper {program} failed: {e}"))?;
    if !output.status.success() {
        // "credentials not found" is how helpers say they have none.
        return Ok(None);
    }
    let answer: Value = serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("the credential helper {program} did not answer JSON"))?;
    match (answer["Username"].as_str(), answer["Secret"].as_str()) {
        (Some(user), Some(secret)) if !secret.is_empty() => {
            Ok(Some(Credential::new(user.to_string(), secret.to_string())))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_filed_under_its_legacy_name_first() {
        assert_eq!(keys_for("docker.io")[0], DOCKER_HUB_KEY);
        assert_eq!(keys_for("ghcr.io")[0], "ghcr.io");
        let credential = Credential::new("u".into(), "hunter2".into());
        assert!(!format!("{credential:?}").contains("hunter2"));
    }
}
