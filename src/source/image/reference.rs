//! What an `--image` value names: an archive file, an OCI layout folder,
//! or a registry reference. A path that exists is a file or folder; a
//! transport prefix as skopeo writes them (`oci:`, `oci-archive:`,
//! `docker-archive:`, `docker://`) says which; anything else is a
//! registry reference, Docker Hub's short names included.

use std::path::{Path, PathBuf};

use super::digest::Digest;

/// Docker Hub, as references name it and as its API is reached.
pub const DOCKER_HUB: &str = "docker.io";
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A `docker save`, `podman save` or `oci-archive` tar file, maybe
    /// compressed.
    Archive(PathBuf),
    /// An OCI image layout folder.
    Layout(PathBuf),
    Registry(RegistryRef),
}

/// `registry/repository[:tag][@digest]`, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// `ghcr.io`, `127.0.0.1:5000`, `docker.io`.
    pub registry: String,
    /// `acme/app`, `library/ubuntu`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl RegistryRef {
    /// What the manifest is asked for by: the digest, else the tag, else
    /// `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// The host the API is reached at.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an empty image reference".into());
        }
        for (prefix, folder) in [
            ("oci:", true),
            ("oci-archive:", false),
            ("docker-archive:", false),
        ] {
            if let Some(path) = text.strip_prefix(prefix) {
                // skopeo's `oci:DIR:TAG`: the tag is not needed to read it.
                let path = Path::new(path);
                let path = if path.exists() {
                    path.to_path_buf()
                } else {
                    PathBuf::from(
                        path.to_string_lossy()
                            .rsplit_once(':')
                            .map_or(path.to_string_lossy().into_owned(), |(p, _)| p.to_string()),
                    )
                };
                return Ok(if folder {
                    Reference::Layout(path)
                } else {
                    Reference::Archive(path)
                });
            }
        }
        if let Some(rest) = text.strip_prefix("docker://") {
            return parse_registry(rest).map(Reference::Registry);
        }
        let path = Path::new(text);
        if let Ok(meta) = std::fs::metadata(path) {
            return Ok(if meta.is_dir() {
                Reference::Layout(path.to_path_buf())
            } else {
                Reference::Archive(path.to_path_buf())
            });
        }
        let archive_name = [".tar", ".tar.gz", ".tgz", ".tar.zst"]
            .iter()
            .any(|e| text.ends_with(e));
        if text.starts_with('.') || text.starts_with('/') || archive_name {
            return Err("no such file or folder".into());
        }
        parse_registry(text).map(Reference::Registry)
    }
}

fn parse_registry(text: &str) -> Result<RegistryRef, String> {
    let bad = |why: &str| {
        format!("not an image reference ({why}); a file or folder that does not exist?")
    };
    let (name, digest) = match text.split_once('@') {
        Some((name, digest)) => (
            name,
            Some(Digest::parse(digest).ok_or_else(|| bad("the digest is not sha256:<64 hex>"))?),
        ),
        None => (text, None),
    };
    let (name, tag) = match name.rsplit_once(':') {
        Some((before, tag)) if !tag.contains('/') => (before, Some(tag.to_string())),
        _ => (name, None),
    };
    if let Some(tag) = &tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            return Err(bad("the tag has characters a tag cannot"));
        }
    }
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        Some(_) => (DOCKER_HUB.to_string(), name.to_string()),
        None => (DOCKER_HUB.to_string(), format!("library/{name}")),
    };
    let registry = match registry.as_str() {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        _ => registry,
    };
    let repository_ok = !repository.is_empty()
        && repository.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if !repository_ok {
        return Err(bad(
            "a repository is lower-case letters, digits, `.`, `_`, `-` and `/`",
        ));
    }
    let registry_ok = registry
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !registry_ok {
        return Err(bad("the registry is not a host name"));
    }
    Ok(RegistryRef {
        registry,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(text: &str) -> RegistryRef {
        match Reference::parse(text) {
            Ok(Reference::Registry(r)) => r,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn registry_references_are_normalised() {
        let r = registry("ubuntu");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/ubuntu")
        );
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = registry("acme/app:1.2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "acme/app")
        );
        assert_eq!(r.manifest_reference(), "1.2");
        let r = registry("ghcr.io/acme/app:1.2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("ghcr.io", "acme/app")
        );
        let hex = "b".repeat(64);
        let r = registry(&format!("127.0.0.1:5000/team/app@sha256:{hex}"));
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.manifest_reference(), format!("sha256:{hex}"));
        let r = registry("docker://localhost/app:v1");
        assert_eq!(
            (r.registry.as_str(), r.tag.as_deref()),
            ("localhost", Some("v1"))
        );
        for bad in [
            "Acme/App",
            "ghcr.io/acme/app:bad tag",
            "app@sha256:12",
            "./missing.tar",
            "x.tar",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
