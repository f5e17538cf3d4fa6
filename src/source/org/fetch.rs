//! A full bare clone of one repository, in process (gitoxide), with the
//! refs digest read off the result.
//!
//! Why not `git clone`: on an organisation of small repositories the clone
//! costs more than the scan, and most of that is git's process tree (`git
//! clone`, `git remote-http`, `git index-pack`, the connectivity walk of
//! `git rev-list`, then `git show-ref`), five programs started per
//! repository. In process the pack is received and indexed by the same
//! threads that then scan it, and the credential is in no process's
//! environment or argument list at all.
//!
//! The credential goes in an in-memory `http.extraHeader`, which gitoxide
//! never writes to the clone's `config`. Credential helpers and prompts are
//! never asked (the connection's credential callback refuses), redirects
//! are not followed (they would carry the header to another host), and
//! only HTTPS is spoken (plain HTTP for the loopback test server).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix::bstr::ByteSlice;
use gix::remote::{fetch::Tags, Direction};

use super::clone::{digest_lines, Git, Refs};

/// What a bare clone fetches: every branch and every tag, as `git clone
/// --bare` does (and `+` so that a re-fetch of a kept clone follows force
/// pushes).
const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

impl Git<'_> {
    /// A full bare clone of `url` into `dir`; a bare repository already
    /// there (`--keep-clones` of an earlier run) is brought up to date
    /// instead, so its history cache makes the scan read only new blobs.
    /// Returns the clone's refs digest, as [`Git::refs`] digests the
    /// remote's.
    pub fn clone_or_fetch(&self, url: &str, dir: &Path) -> Result<Refs, String> {
        self.check_scheme(url)?;
        crate::net::tls::ensure_provider();
        let existing = dir.join("HEAD").is_file() && dir.join("objects").is_dir();
        let what = if existing { "git fetch" } else { "git clone" };
        let fail = |message: String| self.failure_message(what, &message);
        let repo = self.open_or_init(dir, existing).map_err(fail)?;
        let head = fetch_all(&repo, url).map_err(fail)?;
        if let Some(target) = head {
            point_head_at(&repo, &target).map_err(fail)?;
        }
        local_refs(&repo).map_err(fail)
    }

    /// Only HTTPS leaves the machine; plain HTTP only for the loopback
    /// test server (`GIT_ALLOW_PROTOCOL` did this for the system git).
    fn check_scheme(&self, url: &str) -> Result<(), String> {
        let allowed = url.starts_with("https://") || (self.loopback && url.starts_with("http://"));
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "git clone failed: {url:?} is not an https:// URL; not cloned"
            ))
        }
    }

    /// The repository at `dir` (made bare first unless `existing`),
    /// opened with the credential and the settings above in memory only.
    fn open_or_init(&self, dir: &Path, existing: bool) -> Result<gix::Repository, String> {
        let error = |e: &(dyn std::error::Error + 'static)| super::super::git::one_line(e);
        if !existing {
            gix::ThreadSafeRepository::init(
                dir,
                gix::create::Kind::Bare,
                gix::create::Options::default(),
            )
            .map_err(|e| error(&e))?;
        }
        let mut overrides = vec![
            "http.followRedirects=false".to_string(),
            "credential.helper=".to_string(),
            "core.askPass=".to_string(),
        ];
        if let Some(header) = self.header() {
            overrides.push(format!("http.extraHeader={header}"));
        }
        let options = gix::open::Options::default().config_overrides(overrides);
        gix::ThreadSafeRepository::open_opts(dir, options)
            .map(|repo| repo.to_thread_local())
            .map_err(|e| error(&e))
    }
}

/// Fetches [`REFSPECS`] from `url` into `repo`; returns the branch the
/// remote's `HEAD` names (its default branch), when it names one.
fn fetch_all(repo: &gix::Repository, url: &str) -> Result<Option<String>, String> {
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let remote = repo
        .remote_at(url)
        .map_err(|e| error(&e))?
        .with_refspecs(REFSPECS, Direction::Fetch)
        .map_err(|e| error(&e))?
        .with_fetch_tags(Tags::None);
    let mut connection = remote
        .connect(Direction::Fetch)
        .map_err(|e| error(&e))?
        // Only the header authenticates: no helper, no prompt, no
        // credential store is ever asked.
        .with_credentials(|_| Ok(None));
    if let Some(options) = transport_options(repo, url)? {
        connection.set_transport_options(options);
    }
    let outcome = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| error(&e))?
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(|e| error(&e))?;
    let head = outcome.ref_map.remote_refs.iter().find_map(|r| match r {
        gix::protocol::handshake::Ref::Symbolic {
            full_ref_name,
            target,
            ..
        } if full_ref_name == "HEAD" => Some(target.to_str_lossy().into_owned()),
        gix::protocol::handshake::Ref::Unborn {
            full_ref_name,
            target,
        } if full_ref_name == "HEAD" => Some(target.to_str_lossy().into_owned()),
        _ => None,
    });
    Ok(head)
}

/// How long a server may send nothing before the clone is given up.
/// reqwest's blocking default is 30 s per read, shorter than a large
/// repository's pack takes to prepare on the server before its first byte;
/// git itself waits for ever. Five minutes frees a job slot from a dead host
/// without failing a slow one.
const SILENT_SERVER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The transport settings git configuration gives for `url` (the in-memory
/// header among them), with the run's one TLS configuration and git's proxy
/// settings, which the reqwest backend would otherwise not apply.
fn transport_options(
    repo: &gix::Repository,
    url: &str,
) -> Result<Option<Box<dyn std::any::Any>>, String> {
    use gix::protocol::transport::client::blocking_io::http;
    let Some(mut options) = repo
        .transport_options(url, None)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let Some(tls) = crate::net::tls::shared_client_config() else {
        return Ok(Some(options));
    };
    if let Some(http_options) = options.downcast_mut::<http::Options>() {
        let proxy = ProxySetting::from_git(
            http_options.proxy.as_deref(),
            http_options.no_proxy.as_deref(),
        )?;
        let backend = http::reqwest::Options {
            configure_client: Some(Box::new(move |builder| {
                let builder = builder
                    .tls_backend_preconfigured(tls.clone())
                    .timeout(SILENT_SERVER_TIMEOUT);
                Ok(proxy.apply(builder))
            })),
            configure_request: None,
        };
        http_options.backend = Some(std::sync::Arc::new(std::sync::Mutex::new(backend)));
    }
    Ok(Some(options))
}

/// git's `http.proxy` / `http.noProxy` (and the proxy variables gitoxide
/// folds into them), as reqwest takes them.
#[derive(Clone)]
enum ProxySetting {
    /// Nothing configured: reqwest reads `HTTPS_PROXY`/`NO_PROXY` itself.
    FromEnvironment,
    /// `http.proxy` set to the empty string: never a proxy.
    Off,
    /// Boxed: a `reqwest::Proxy` is a few hundred bytes and the other
    /// variants are empty.
    Through(Box<reqwest::Proxy>),
}

impl ProxySetting {
    fn from_git(proxy: Option<&str>, no_proxy: Option<&str>) -> Result<Self, String> {
        let Some(proxy) = proxy.map(str::trim) else {
            return Ok(Self::FromEnvironment);
        };
        if proxy.is_empty() {
            return Ok(Self::Off);
        }
        // The proxy URL may carry the proxy's own password: the error names
        // the setting, never the value.
        let through = reqwest::Proxy::all(proxy)
            .map_err(|_| "http.proxy is not a valid proxy URL".to_string())?
            .no_proxy(no_proxy.and_then(reqwest::NoProxy::from_string));
        Ok(Self::Through(Box::new(through)))
    }

    fn apply(&self, builder: reqwest::blocking::ClientBuilder) -> reqwest::blocking::ClientBuilder {
        match self {
            Self::FromEnvironment => builder,
            Self::Off => builder.no_proxy(),
            Self::Through(proxy) => builder.proxy(proxy.as_ref().clone()),
        }
    }
}

/// Points the bare clone's `HEAD` at `target` (`refs/heads/…`), as `git
/// clone` does, so that `HEAD` names the remote's default branch.
fn point_head_at(repo: &gix::Repository, target: &str) -> Result<(), String> {
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
    use gix::refs::Target;
    let Ok(target) = gix::refs::FullName::try_from(target) else {
        return Ok(());
    };
    if !target.as_bstr().starts_with(b"refs/heads/") {
        return Ok(());
    }
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: "clone: HEAD of the remote".into(),
            },
            expected: PreviousValue::Any,
            new: Target::Symbolic(target),
        },
        name: "HEAD"
            .try_into()
            .map_err(|e: gix::validate::reference::name::Error| e.to_string())?,
        deref: false,
    };
    repo.edit_reference(edit)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The digest of the clone's `HEAD`, branches and tags (annotated tags
/// also peeled), the same lines `git show-ref --head --dereference` or
/// `git ls-remote` give, so an unchanged repository digests the same
/// whichever side was read.
fn local_refs(repo: &gix::Repository) -> Result<Refs, String> {
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let mut lines: Vec<(String, String)> = Vec::new();
    // An unborn `HEAD` (an empty repository) has no line, as in git.
    if let Ok(id) = repo.head_id() {
        lines.push((id.to_string(), "HEAD".into()));
    }
    let references = repo.references().map_err(|e| error(&e))?;
    for prefix in ["refs/heads/", "refs/tags/"] {
        for reference in references.prefixed(prefix).map_err(|e| error(&e))? {
            let mut reference = reference.map_err(|e| error(&e))?;
            let name = reference.name().as_bstr().to_str_lossy().into_owned();
            let Some(id) = reference.target().try_id().map(|id| id.to_owned()) else {
                continue;
            };
            lines.push((id.to_string(), name.clone()));
            if prefix == "refs/tags/" {
                if let Ok(peeled) = reference.peel_to_id() {
                    if peeled.detach() != id {
                        lines.push((peeled.to_string(), format!("{name}^{{}}")));
                    }
                }
            }
        }
    }
    Ok(digest_lines(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::org::spec::Platform;

    fn git(loopback: bool) -> Git<'static> {
        Git {
            platform: Platform::Github,
            credential: None,
            loopback,
        }
    }

    #[test]
    fn only_https_is_cloned_and_plain_http_only_for_the_loopback_server() {
        let dir = tempfile::tempdir().unwrap();
        for url in [
            "file:///etc",
            "ssh://git@example.com/a.git",
            "git://example.com/a",
        ] {
            let err = git(true).clone_or_fetch(url, &dir.path().join("a.git"));
            assert!(err.unwrap_err().contains("not an https:// URL"), "{url}");
        }
        let err = git(false).clone_or_fetch("http://127.0.0.1:1/a.git", &dir.path().join("b.git"));
        assert!(err.unwrap_err().contains("not an https:// URL"));
        assert!(!dir.path().join("a.git").exists() && !dir.path().join("b.git").exists());
    }

    #[test]
    fn git_proxy_settings_map_to_reqwest_and_a_bad_one_is_named_not_quoted() {
        assert!(matches!(
            ProxySetting::from_git(None, None),
            Ok(ProxySetting::FromEnvironment)
        ));
        assert!(matches!(
            ProxySetting::from_git(Some(" "), None),
            Ok(ProxySetting::Off)
        ));
        assert!(matches!(
            ProxySetting::from_git(Some("http://proxy.example:3128"), Some("localhost")),
            Ok(ProxySetting::Through(_))
        ));
        let Err(message) = ProxySetting::from_git(Some("http://user:s3cret@[bad"), None) else {
            panic!("an invalid proxy URL was accepted");
        };
        assert!(message.contains("http.proxy") && !message.contains("s3cret"));
    }

    #[test]
    fn an_https_server_that_drops_the_handshake_is_a_failed_clone_not_a_panic() {
        // The TLS provider is installed and the shared client configuration
        // built before the first HTTPS request; a broken server is an error.
        assert!(crate::net::tls::shared_client_config().is_some());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                drop(stream);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let url = format!("https://127.0.0.1:{port}/acme/a.git");
        let err = git(true)
            .clone_or_fetch(&url, &dir.path().join("a.git"))
            .unwrap_err();
        assert!(err.starts_with("git clone failed: "), "{err}");
    }
}
