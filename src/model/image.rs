//! Where in a container image a finding is, and what an image scan
//! (`scan --image`) did: plain data that `source::image` fills, the
//! reports render and `patscan merge` joins.

use serde::{Deserialize, Serialize};

/// One image of a scan, as its findings name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ImagePlace {
    /// The reference as given: `ghcr.io/acme/app:1.2`, `app.tar`, an OCI
    /// layout folder.
    pub reference: String,
    /// The digest of the image's manifest (its image id, the config's
    /// digest, for a legacy `docker save` archive): which image of a tag
    /// or an archive exactly.
    pub manifest: String,
    /// `linux/amd64`, `linux/arm64/v8`; absent when the image says none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// Whether a layer's file is in the final image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerState {
    /// No later layer touches it: `docker run` sees this content.
    Visible,
    /// A later layer writes the same path: this content is hidden, but
    /// still in the image for anyone who pulls it.
    Overwritten,
    /// A later layer deletes it (a whiteout, an opaque folder, a file in
    /// place of a folder above it): invisible in a container, still in the
    /// layer.
    Deleted,
    /// A later layer could not be read, so it cannot be told.
    Unknown,
}

impl LayerState {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerState::Visible => "visible",
            LayerState::Overwritten => "overwritten",
            LayerState::Deleted => "deleted",
            LayerState::Unknown => "unknown",
        }
    }
}

/// What an image scan did, in the report's summary (`summary.images`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// A hash of everything that decides what is found (rules, limits,
    /// patscan's version): shards merge only under the same one.
    pub detection_key: String,
    /// `I/N` under `--shard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// References given (all shards).
    pub images_listed: usize,
    /// Layers read and scanned in this run.
    pub layers_scanned: u64,
    /// Layers the cache knew clean (by digest): not read.
    pub layers_cached: u64,
    /// Layers that could not be read whole (corrupt, truncated, missing,
    /// or not matching their digest): see the problems.
    pub layers_failed: u64,
    /// Bytes of layer blobs read, as stored (compressed).
    pub layer_bytes: u64,
    /// This run's images (its shard's), by reference.
    pub images: Vec<ImageOutcome>,
}

/// One image reference of an image scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImageOutcome {
    pub reference: String,
    pub status: ImageStatus,
    /// The platforms scanned (`linux/amd64`, …); empty when none is named.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Layers of all its platforms.
    #[serde(default)]
    pub layers: usize,
}

/// What happened to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageStatus {
    /// Every layer and the config read.
    Scanned,
    /// Read, but a layer or the config could not be (see the problems):
    /// what could be read was scanned.
    Partial,
    /// Nothing could be read: not found, refused, not an image.
    Failed,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Scanned => "scanned",
            ImageStatus::Partial => "partial",
            ImageStatus::Failed => "failed",
        }
    }
}
