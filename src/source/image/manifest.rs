//! From an image's entry point to what is scanned: an OCI index (a layout's
//! `index.json`, a registry's multi-platform index or Docker manifest
//! list) is followed to its manifests, one per platform, each naming a
//! config and its layers ([`Target`]); a legacy `docker save` archive's
//! `manifest.json` names them by path instead.

use serde_json::Value;

use super::digest::Digest;
use super::store::{Locator, Store};

/// Indexes nested deeper than this are not followed (a loop, or hostile).
const MAX_DEPTH: usize = 4;

/// A blob an image names.
#[derive(Debug, Clone)]
pub struct Blob {
    pub at: Locator,
    /// The digest of the bytes as stored, verified as they stream.
    pub digest: Option<Digest>,
    /// The digest of the uncompressed tar (a legacy archive's only name
    /// for a layer), verified when `digest` is unknown.
    pub diff_id: Option<Digest>,
    /// A non-distributable ("foreign") layer: not in the archive or the
    /// registry, only at the URLs its vendor gives.
    pub foreign: bool,
}

impl Blob {
    /// What identifies the blob's content across images: the digest the
    /// read verifies.
    pub fn key(&self) -> Option<&Digest> {
        self.digest.as_ref().or(self.diff_id.as_ref())
    }

    fn by_digest(digest: Digest) -> Blob {
        Blob {
            at: Locator::Digest(digest.clone()),
            digest: Some(digest),
            diff_id: None,
            foreign: false,
        }
    }
}

/// One image of one platform: what is scanned.
#[derive(Debug, Clone)]
pub struct Target {
    /// The manifest's digest (for a legacy archive, the config's: the
    /// image id).
    pub manifest: Digest,
    /// `os/architecture[/variant]`, from the index, else from the config.
    pub platform: Option<String>,
    pub config: Blob,
    /// The config, when reading the manifest needed it already.
    pub config_bytes: Option<Vec<u8>>,
    pub layers: Vec<Blob>,
}

/// What an entry point resolved to, and what could not be followed.
#[derive(Debug, Default)]
pub struct Resolved {
    pub targets: Vec<Target>,
    pub problems: Vec<String>,
}

/// Whether `actual` is a platform `--platform wanted` asks for: the same
/// os and architecture, and the variant when `wanted` names one.
pub fn platform_matches(wanted: &str, actual: &str) -> bool {
    let wanted: Vec<&str> = wanted.split('/').collect();
    let actual: Vec<&str> = actual.split('/').collect();
    wanted.len() <= actual.len() && wanted.iter().zip(&actual).all(|(w, a)| w == a)
}

fn wanted(platforms: &[String], actual: Option<&str>) -> bool {
    match actual {
        None => true,
        Some(actual) => {
            platforms.is_empty() || platforms.iter().any(|w| platform_matches(w, actual))
        }
    }
}

/// Follows an OCI index or manifest `document` (whose digest is
/// `digest`) to its targets, keeping the platforms asked for (all when
/// `platforms` is empty).
pub fn resolve(
    store: &dyn Store,
    document: &[u8],
    digest: Digest,
    platforms: &[String],
) -> Result<Resolved, String> {
    let mut resolved = Resolved::default();
    descend(store, document, digest, None, platforms, 0, &mut resolved)?;
    Ok(resolved)
}

fn descend(
    store: &dyn Store,
    document: &[u8],
    digest: Digest,
    platform: Option<String>,
    platforms: &[String],
    depth: usize,
    out: &mut Resolved,
) -> Result<(), String> {
    let value: Value = serde_json::from_slice(document)
        .map_err(|e| format!("{}: not JSON: {e}", digest.short()))?;
    if value["schemaVersion"] == 1 {
        return Err(format!(
            "{}: a Docker schema 1 manifest (deprecated since 2017) is not supported",
            digest.short()
        ));
    }
    if let Some(manifests) = value["manifests"].as_array() {
        if depth >= MAX_DEPTH {
            return Err(format!("{}: indexes nested too deep", digest.short()));
        }
        for descriptor in manifests {
            let Some(child) = descriptor["digest"].as_str().and_then(Digest::parse) else {
                out.problems.push(format!(
                    "{}: a manifest entry without a valid digest",
                    digest.short()
                ));
                continue;
            };
            let annotations = &descriptor["annotations"];
            if annotations["vnd.docker.reference.type"] == "attestation-manifest" {
                continue; // build provenance, not the image's files
            }
            let named = platform_name(&descriptor["platform"]).or_else(|| platform.clone());
            if named.as_deref() == Some("unknown/unknown") || !wanted(platforms, named.as_deref()) {
                continue;
            }
            let bytes = match store.manifest_document(&child) {
                Ok(bytes) => bytes,
                Err(message) => {
                    out.problems.push(format!(
                        "{}{}: {message}",
                        child.short(),
                        named
                            .as_deref()
                            .map(|p| format!(" ({p})"))
                            .unwrap_or_default()
                    ));
                    continue;
                }
            };
            if let Err(message) = descend(store, &bytes, child, named, platforms, depth + 1, out) {
                out.problems.push(message);
            }
        }
        return Ok(());
    }
    let config = value["config"]["digest"]
        .as_str()
        .and_then(Digest::parse)
        .ok_or_else(|| format!("{}: neither an index nor an image manifest", digest.short()))?;
    let mut layers = Vec::new();
    for (index, descriptor) in value["layers"].as_array().into_iter().flatten().enumerate() {
        let media_type = descriptor["mediaType"].as_str().unwrap_or_default();
        let Some(layer) = descriptor["digest"].as_str().and_then(Digest::parse) else {
            return Err(format!(
                "{}: layer {index} has no valid digest",
                digest.short()
            ));
        };
        let mut blob = Blob::by_digest(layer);
        blob.foreign = media_type.contains("foreign") || media_type.contains("nondistributable");
        layers.push(blob);
    }
    out.targets.push(Target {
        manifest: digest,
        platform,
        config: Blob::by_digest(config),
        config_bytes: None,
        layers,
    });
    Ok(())
}

/// `os/architecture[/variant]` of an index entry's `platform`.
fn platform_name(platform: &Value) -> Option<String> {
    let os = platform["os"].as_str()?;
    let architecture = platform["architecture"].as_str()?;
    Some(match platform["variant"].as_str() {
        Some(variant) if !variant.is_empty() => format!("{os}/{architecture}/{variant}"),
        _ => format!("{os}/{architecture}"),
    })
}

/// The platform a config says (`os`, `architecture`, `variant`).
pub fn config_platform(config: &Value) -> Option<String> {
    platform_name(config)
}

/// The targets of a `docker save` archive's `manifest.json` (the legacy
/// layout, also written by `podman save` and `skopeo`): configs and layers
/// by path, layers verified by the config's `rootfs.diff_ids`.
pub fn from_docker_manifest(
    store: &dyn Store,
    manifest: &[u8],
    platforms: &[String],
) -> Result<Resolved, String> {
    let value: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("manifest.json: not JSON: {e}"))?;
    let images = value
        .as_array()
        .ok_or("manifest.json: not a list of images")?;
    let mut out = Resolved::default();
    for (n, image) in images.iter().enumerate() {
        let Some(config_path) = image["Config"].as_str() else {
            out.problems
                .push(format!("manifest.json: image {n} names no config"));
            continue;
        };
        let named = digest_in_path(config_path);
        let at = Locator::Path(config_path.to_string());
        let bytes = match store.document(&at, named.as_ref()) {
            Ok(bytes) => bytes,
            Err(message) => {
                out.problems.push(message);
                continue;
            }
        };
        let id = Digest::of(&bytes);
        let config: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let platform = config_platform(&config);
        if !wanted(platforms, platform.as_deref()) {
            continue;
        }
        let diff_ids: Vec<Option<Digest>> = config["rootfs"]["diff_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d.as_str().and_then(Digest::parse))
            .collect();
        let layers = image["Layers"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, path)| {
                let path = path.as_str().unwrap_or_default();
                Blob {
                    at: Locator::Path(path.to_string()),
                    digest: digest_in_path(path),
                    diff_id: diff_ids.get(i).cloned().flatten(),
                    foreign: false,
                }
            })
            .collect();
        out.targets.push(Target {
            manifest: id.clone(),
            platform,
            config: Blob {
                at,
                digest: Some(id),
                diff_id: None,
                foreign: false,
            },
            config_bytes: Some(bytes),
            layers,
        });
    }
    Ok(out)
}

/// The digest a blob's path spells (`blobs/sha256/<hex>`, `<hex>.json`).
fn digest_in_path(path: &str) -> Option<Digest> {
    let parts: Vec<&str> = path.split('/').collect();
    if let [.., "blobs", algorithm, hex] = parts.as_slice() {
        return Digest::parse(&format!("{algorithm}:{hex}"));
    }
    let name = parts.last()?;
    Digest::parse(&format!("sha256:{}", name.strip_suffix(".json")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_match_by_prefix() {
        assert!(platform_matches("linux/arm64", "linux/arm64/v8"));
        assert!(platform_matches("linux/arm64/v8", "linux/arm64/v8"));
        assert!(!platform_matches("linux/arm64/v8", "linux/arm64"));
        assert!(!platform_matches("linux/amd64", "linux/arm64"));
        assert!(!platform_matches("linux/arm", "linux/arm64"));
    }

    #[test]
    fn digests_are_read_from_blob_paths() {
        let hex = "a".repeat(64);
        assert!(digest_in_path(&format!("blobs/sha256/{hex}")).is_some());
        assert!(digest_in_path(&format!("{hex}.json")).is_some());
        assert!(digest_in_path("abc/layer.tar").is_none());
    }
}
