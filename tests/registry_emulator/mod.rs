//! A loopback emulator of a container registry's distribution API
//! (`/v2/<name>/manifests/<ref>`, `/v2/<name>/blobs/<digest>`), in the
//! test process: bearer-token authentication with a 401 challenge naming
//! its token service (anonymous, or Basic credentials required), blobs
//! redirected to a second server on another loopback address (as
//! registries redirect to their storage), and a blob served with other
//! bytes than its digest. Every request is recorded, with the address it
//! reached and its `Authorization`, so tests can assert where a
//! credential went.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine as _;

/// One request as a server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The server's address (registry or blob store).
    pub server: SocketAddr,
    pub target: String,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct State {
    /// Repository → tag → manifest digest.
    tags: HashMap<String, HashMap<String, String>>,
    /// Digest → (content, media type) of manifests.
    manifests: HashMap<String, (Vec<u8>, String)>,
    blobs: HashMap<String, Vec<u8>>,
    /// Blobs served with one byte changed.
    tampered: Vec<String>,
    /// Basic credentials the token service requires (`None`: anonymous
    /// pulls get a token).
    credential: Option<(String, String)>,
    /// Blobs answered with a redirect to the blob server.
    redirect: bool,
    issued: Vec<String>,
    seen: Vec<Seen>,
}

pub struct Registry {
    /// The registry (and its token service, at `/token`).
    pub addr: SocketAddr,
    /// Where blobs are redirected: another loopback address.
    pub blob_addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Registry {
    pub fn start() -> Registry {
        let state = Arc::new(Mutex::new(State::default()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        // Another loopback host, as a CDN is another host.
        let blob_listener = TcpListener::bind("127.0.0.2:0")
            .or_else(|_| TcpListener::bind("127.0.0.1:0"))
            .expect("bind a second loopback address");
        let blob_addr = blob_listener.local_addr().unwrap();
        for (listener, role) in [(listener, Role::Registry), (blob_listener, Role::Blobs)] {
            let state = Arc::clone(&state);
            let own = listener.local_addr().unwrap();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let state = Arc::clone(&state);
                    thread::spawn(move || {
                        let _ = serve(stream, own, role, addr, blob_addr, &state);
                    });
                }
            });
        }
        Registry {
            addr,
            blob_addr,
            state,
        }
    }

    /// `127.0.0.1:PORT/REPOSITORY:TAG`.
    pub fn reference(&self, repository: &str, tag: &str) -> String {
        format!("{}/{repository}:{tag}", self.addr)
    }

    pub fn push_blob(&self, bytes: Vec<u8>) -> String {
        let digest = crate::image_fixtures::digest(&bytes);
        self.lock().blobs.insert(digest.clone(), bytes);
        digest
    }

    pub fn push_manifest(
        &self,
        repository: &str,
        tag: Option<&str>,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> String {
        let digest = crate::image_fixtures::digest(&bytes);
        let mut state = self.lock();
        state
            .manifests
            .insert(digest.clone(), (bytes, media_type.to_string()));
        if let Some(tag) = tag {
            state
                .tags
                .entry(repository.to_string())
                .or_default()
                .insert(tag.to_string(), digest.clone());
        }
        digest
    }

    /// Pushes every blob of a layout written by the fixtures, and tags
    /// its first index entry.
    pub fn push_layout(&self, repository: &str, tag: &str, layout: &crate::image_fixtures::Layout) {
        let top = layout.index[0]["digest"].as_str().unwrap().to_string();
        for (digest, bytes) in &layout.blobs {
            let text = String::from_utf8_lossy(bytes);
            let document = text.contains("\"schemaVersion\"");
            let media_type = if document && text.contains("\"manifests\"") {
                Some("application/vnd.oci.image.index.v1+json")
            } else if document {
                Some("application/vnd.oci.image.manifest.v1+json")
            } else {
                None
            };
            match media_type {
                Some(t) => {
                    let tag = (*digest == top).then_some(tag);
                    self.push_manifest(repository, tag, bytes.clone(), t);
                }
                None => {
                    self.push_blob(bytes.clone());
                }
            }
        }
    }

    pub fn require_credential(&self, user: &str, password: &str) {
        self.lock().credential = Some((user.to_string(), password.to_string()));
    }

    pub fn redirect_blobs(&self) {
        self.lock().redirect = true;
    }

    pub fn tamper(&self, digest: &str) {
        self.lock().tampered.push(digest.to_string());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Registry,
    Blobs,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn answer(status: u16, body: &[u8]) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

fn serve(
    mut stream: TcpStream,
    own: SocketAddr,
    role: Role,
    registry: SocketAddr,
    blobs: SocketAddr,
    state: &Arc<Mutex<State>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }
    let reply = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let reply = match role {
            Role::Blobs => blob_store(&target, &state),
            Role::Registry => registry_api(
                &target,
                authorization.as_deref(),
                registry,
                blobs,
                &mut state,
            ),
        };
        state.seen.push(Seen {
            server: own,
            target: target.clone(),
            authorization: authorization.clone(),
            status: reply.status,
        });
        reply
    };
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    let _ = reader.read(&mut [0u8; 0]);
    Ok(())
}

fn blob_bytes(digest: &str, state: &State) -> Option<Vec<u8>> {
    let mut bytes = state.blobs.get(digest)?.clone();
    if state.tampered.iter().any(|t| t == digest) {
        let at = bytes.len() / 2;
        bytes[at] ^= 0x20;
    }
    Some(bytes)
}

/// The storage host: `/blob/<digest>?sig=…`, signed URL only.
fn blob_store(target: &str, state: &State) -> Answer {
    let Some(rest) = target.strip_prefix("/blob/") else {
        return answer(404, b"");
    };
    let (digest, query) = rest.split_once('?').unwrap_or((rest, ""));
    if query != "sig=signed" {
        return answer(403, b"bad signature");
    }
    match blob_bytes(digest, state) {
        Some(bytes) => answer(200, &bytes),
        None => answer(404, b""),
    }
}

fn registry_api(
    target: &str,
    authorization: Option<&str>,
    registry: SocketAddr,
    blobs: SocketAddr,
    state: &mut State,
) -> Answer {
    if let Some(query) = target.strip_prefix("/token?") {
        if let Some((user, password)) = &state.credential {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            );
            if authorization != Some(expected.as_str()) {
                return answer(401, br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#);
            }
        }
        if !query.contains("scope=repository%3A") && !query.contains("scope=registry%3Acatalog") {
            return answer(400, b"no scope");
        }
        let token = format!("issued-{}", state.issued.len() + 1);
        state.issued.push(token.clone());
        return answer(
            200,
            format!(r#"{{"token":"{token}","expires_in":300}}"#).as_bytes(),
        );
    }
    let Some(rest) = target.strip_prefix("/v2/") else {
        return answer(404, b"");
    };
    let authorised = authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .is_some_and(|t| state.issued.iter().any(|i| i == t));
    if !authorised {
        let mut reply = answer(401, br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#);
        let repository = rest
            .split("/manifests/")
            .next()
            .unwrap_or("")
            .split("/blobs/")
            .next()
            .unwrap_or("")
            .split("/tags/")
            .next()
            .unwrap_or("");
        let scope = if rest.starts_with("_catalog") {
            "registry:catalog:*".to_string()
        } else {
            format!("repository:{repository}:pull")
        };
        reply.headers.push((
            "WWW-Authenticate".into(),
            format!(r#"Bearer realm="http://{registry}/token",service="emulator",scope="{scope}""#),
        ));
        return reply;
    }
    if let Some(query) = rest.strip_prefix("_catalog") {
        // Two names a page, whatever `n` asks, to exercise paging.
        let mut names: Vec<&String> = state.tags.keys().collect();
        names.sort();
        let last = query
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("last="))
            .map(|l| l.replace("%2F", "/"));
        let start = match &last {
            Some(last) => names
                .iter()
                .position(|n| *n == last)
                .map_or(names.len(), |i| i + 1),
            None => 0,
        };
        let page: Vec<&String> = names.iter().skip(start).take(2).copied().collect();
        let mut reply = answer(
            200,
            serde_json::json!({ "repositories": page })
                .to_string()
                .as_bytes(),
        );
        if start + 2 < names.len() {
            let last = page.last().map(|s| s.as_str()).unwrap_or("");
            reply.headers.push((
                "Link".into(),
                format!(r#"</v2/_catalog?last={last}&n=2>; rel="next""#),
            ));
        }
        return reply;
    }
    if let Some((repository, _)) = rest.split_once("/tags/list") {
        let mut tags: Vec<&String> = state
            .tags
            .get(repository)
            .map(|t| t.keys().collect())
            .unwrap_or_default();
        tags.sort();
        return answer(
            200,
            serde_json::json!({ "name": repository, "tags": tags })
                .to_string()
                .as_bytes(),
        );
    }
    if let Some((repository, reference)) = rest.split_once("/manifests/") {
        let digest = if reference.starts_with("sha256:") {
            Some(reference.to_string())
        } else {
            state
                .tags
                .get(repository)
                .and_then(|tags| tags.get(reference))
                .cloned()
        };
        let Some((bytes, media_type)) = digest.as_ref().and_then(|d| state.manifests.get(d)) else {
            return answer(404, br#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#);
        };
        let mut reply = answer(200, bytes);
        reply
            .headers
            .push(("Content-Type".into(), media_type.clone()));
        reply
            .headers
            .push(("Docker-Content-Digest".into(), digest.unwrap_or_default()));
        return reply;
    }
    if let Some((_, digest)) = rest.split_once("/blobs/") {
        if !state.blobs.contains_key(digest) {
            return answer(404, br#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#);
        }
        if state.redirect {
            let mut reply = answer(307, b"");
            reply.headers.push((
                "Location".into(),
                format!("http://{blobs}/blob/{digest}?sig=signed"),
            ));
            return reply;
        }
        return match blob_bytes(digest, state) {
            Some(bytes) => answer(200, &bytes),
            None => answer(404, b""),
        };
    }
    answer(404, b"")
}
