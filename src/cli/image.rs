//! The command line of image scans: `scan --image REF`, `--images-from
//! FILE` and `--platform`. Kept apart from the core CLI, as the
//! organisation flags are.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::source::image::{self, ImageOptions};
use crate::source::org::Shard;

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Scan a container image, every layer and its config: a `docker
    /// save` or `podman save` archive (.tar, .tar.gz), an OCI image layout
    /// folder, or a registry reference (ghcr.io/acme/app:1.2,
    /// repo@sha256:…, Docker Hub short names). Repeatable.
    #[arg(long, value_name = "REF", conflicts_with_all = ["staged", "history", "org"], help_heading = "Images")]
    pub image: Vec<String>,
    /// Scan the images listed in FILE, one reference per line (`#`
    /// comments; `-` reads standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["staged", "history", "org"], help_heading = "Images")]
    pub images_from: Option<PathBuf>,
    /// Scan every tag of every repository a registry's catalogue lists
    /// (`GET /v2/_catalog`: ACR, Harbor, GitLab, `registry:2`; not Docker
    /// Hub or GHCR), or of one namespace: REGISTRY[/NAMESPACE]. Repeatable.
    #[arg(long, value_name = "REGISTRY", conflicts_with_all = ["staged", "history", "org"], help_heading = "Images")]
    pub image_catalog: Vec<String>,
    /// Only these platforms of a multi-platform image (os/arch[/variant],
    /// repeatable or comma-separated; default: all).
    #[arg(
        long,
        value_name = "OS/ARCH",
        value_delimiter = ',',
        help_heading = "Images"
    )]
    pub platform: Vec<String>,
}

impl ImageArgs {
    /// The image scan asked for, if any.
    pub fn options(&self, shard: Option<Shard>) -> Result<Option<ImageOptions>> {
        let mut references = self.image.clone();
        if let Some(path) = &self.images_from {
            references.extend(image::read_list(path)?);
        }
        if references.is_empty() && self.image_catalog.is_empty() {
            if self.images_from.is_some() {
                anyhow::bail!("--images-from lists no image");
            }
            if !self.platform.is_empty() {
                anyhow::bail!("--platform chooses the platforms of an --image");
            }
            return Ok(None);
        }
        for platform in &self.platform {
            let parts: Vec<&str> = platform.split('/').collect();
            if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
                anyhow::bail!(
                    "--platform {platform:?}: expected OS/ARCH or OS/ARCH/VARIANT (linux/arm64)"
                );
            }
        }
        Ok(Some(ImageOptions {
            references,
            platforms: self.platform.clone(),
            shard,
            catalogs: self.image_catalog.clone(),
        }))
    }
}
