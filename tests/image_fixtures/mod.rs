//! Container images written by test code, without a Docker daemon: layer
//! tars (whiteouts, opaque folders), gzip and zstd, OCI image layouts (a
//! folder, or a tar as `docker save` writes today), legacy `docker save`
//! archives, and multi-platform indexes.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// One entry of a layer tar.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
}

/// A layer's tar, entries in order.
pub fn layer_tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        match entry {
            Entry::File(path, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                builder.append_data(&mut header, path, *data).unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
                header.set_cksum();
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// How a layer is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    fn apply(self, tar: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => tar.to_vec(),
            Compression::Gzip => gzip(tar),
            Compression::Zstd => zstd(tar),
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// One image of one platform.
pub struct Image {
    /// Layer tars, uncompressed, base first.
    pub layers: Vec<(Vec<u8>, Compression)>,
    /// `config.Env`.
    pub env: Vec<String>,
    /// `history[].created_by`.
    pub history: Vec<String>,
    pub os: &'static str,
    pub architecture: &'static str,
}

impl Image {
    pub fn new(layers: Vec<(Vec<u8>, Compression)>) -> Image {
        Image {
            layers,
            env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
            history: Vec::new(),
            os: "linux",
            architecture: "amd64",
        }
    }

    pub fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers.iter().map(|(tar, _)| digest(tar)).collect();
        let history: Vec<Value> = self
            .history
            .iter()
            .map(|h| json!({"created": "2026-01-01T00:00:00Z", "created_by": h}))
            .collect();
        serde_json::to_vec(&json!({
            "architecture": self.architecture,
            "os": self.os,
            "config": {"Env": self.env, "Cmd": ["/bin/sh"], "Labels": {"org.opencontainers.image.title": "test"}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .unwrap()
    }

    /// The stored layer blobs, in order.
    pub fn blobs(&self) -> Vec<Vec<u8>> {
        self.layers.iter().map(|(tar, c)| c.apply(tar)).collect()
    }
}

/// An OCI image layout being written: blobs by digest and the index.
#[derive(Default)]
pub struct Layout {
    pub blobs: Vec<(String, Vec<u8>)>,
    pub index: Vec<Value>,
}

impl Layout {
    pub fn add_blob(&mut self, bytes: Vec<u8>) -> String {
        let d = digest(&bytes);
        if !self.blobs.iter().any(|(x, _)| *x == d) {
            self.blobs.push((d.clone(), bytes));
        }
        d
    }

    /// Adds `image`'s blobs and manifest; the manifest's descriptor.
    pub fn add_image(&mut self, image: &Image) -> Value {
        let config = image.config();
        let config_size = config.len();
        let config_digest = self.add_blob(config);
        let mut layers = Vec::new();
        for ((_, compression), blob) in image.layers.iter().zip(image.blobs()) {
            let size = blob.len();
            let d = self.add_blob(blob);
            layers.push(json!({"mediaType": compression.media_type(), "digest": d, "size": size}));
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
            "layers": layers,
        }))
        .unwrap();
        let size = manifest.len();
        let d = self.add_blob(manifest);
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": d,
            "size": size,
            "platform": {"os": image.os, "architecture": image.architecture},
        })
    }

    /// An index of several images (a multi-platform image); its
    /// descriptor.
    pub fn add_index(&mut self, images: &[&Image]) -> Value {
        let manifests: Vec<Value> = images.iter().map(|i| self.add_image(i)).collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        }))
        .unwrap();
        let size = index.len();
        let d = self.add_blob(index);
        json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": size})
    }

    fn index_json(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": self.index})).unwrap()
    }

    /// Writes the layout as a folder (`skopeo copy … oci:DIR`).
    pub fn write_dir(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        std::fs::write(dir.join("index.json"), self.index_json()).unwrap();
        for (d, bytes) in &self.blobs {
            let hex = d.strip_prefix("sha256:").unwrap();
            std::fs::write(dir.join("blobs/sha256").join(hex), bytes).unwrap();
        }
    }

    /// The layout as a tar, as `docker save` writes it since Docker 25
    /// (blobs without extension, `index.json`, and a `manifest.json`).
    pub fn tar(&self) -> Vec<u8> {
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        for (d, bytes) in &self.blobs {
            members.push((
                format!("blobs/sha256/{}", d.strip_prefix("sha256:").unwrap()),
                bytes.clone(),
            ));
        }
        members.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        members.push(("index.json".into(), self.index_json()));
        members.push(("manifest.json".into(), b"[]".to_vec()));
        tar_of(&members)
    }
}

/// A tar of named members.
pub fn tar_of(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &data[..]).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A legacy `docker save` archive (and `podman save`'s default): a folder
/// per layer with its `layer.tar`, the config as `<hex>.json`, and
/// `manifest.json` naming them by path.
pub fn docker_save_legacy(image: &Image, tag: &str) -> Vec<u8> {
    let config = image.config();
    let config_name = format!("{}.json", digest(&config).strip_prefix("sha256:").unwrap());
    let mut members = vec![(config_name.clone(), config)];
    let mut paths = Vec::new();
    for (i, (tar, _)) in image.layers.iter().enumerate() {
        let folder = format!("{:064x}", i + 1);
        let path = format!("{folder}/layer.tar");
        members.push((path.clone(), tar.clone()));
        members.push((format!("{folder}/VERSION"), b"1.0".to_vec()));
        paths.push(path);
    }
    let manifest = json!([{"Config": config_name, "RepoTags": [tag], "Layers": paths}]);
    members.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    tar_of(&members)
}
