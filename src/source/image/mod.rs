//! Container images (`scan --image REF`): every layer of every platform,
//! each file with its state in the final image, and the config's
//! environment, commands, labels and build history.
//!
//! The data flow: [`reference`] tells what REF is; a [`store`] reads its
//! blobs (an OCI layout folder, a `docker save` archive, a registry over
//! the distribution API in [`registry`]); [`manifest`] follows indexes to
//! one [`manifest::Target`] per platform; [`layer`] streams each layer
//! (digest verified, gzip or zstd or none, tar walked) and hands every
//! regular file to the scan stage's sink, a layer being a [`Group`] the
//! scan stage may know by digest; [`state`] then says, for each finding,
//! whether a later layer overwrote or deleted its file; [`config`] turns
//! the config into text. Layers are read by one thread per core.
//!
//! A layer or config that cannot be read is a problem in the report and
//! the rest goes on; the summary counts layers and bytes, so a partial
//! scan never looks clean.

pub mod config;
pub mod credentials;
pub mod digest;
pub mod layer;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod state;
pub mod store;

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use thiserror::Error;

use self::digest::Digest;
use self::layer::{Listing, Walked};
use self::manifest::{Blob, Resolved, Target};
use self::reference::Reference;
use self::store::{DirStore, Locator, Store, TarStore};
use crate::model::{
    Finding, ImageOutcome, ImagePlace, ImageStatus, ImageSummary, LayerState, Origin,
};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::scan::intake::Intake;
use crate::scan::sink::{Group, Input, Key, Sink};
use crate::scan::{self, Problem, ScanOptions, ScanReport, Tally};
use crate::source::org::Shard;

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("--images-from {path}: {message}")]
    List { path: String, message: String },
    #[error("{0}")]
    Setup(String),
    #[error("--image-catalog {spec}: cannot list the repositories: {message}")]
    Catalog { spec: String, message: String },
}

/// What `scan --image` was asked to do, besides the scan options.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// `--image` values and the lines of `--images-from`, in order.
    pub references: Vec<String>,
    /// `--platform`: only these (`os/arch[/variant]`); empty: all.
    pub platforms: Vec<String>,
    pub shard: Option<Shard>,
    /// `--image-catalog REGISTRY[/NAMESPACE]`: every tag of every
    /// repository the registry's catalogue lists, added to `references`.
    pub catalogs: Vec<String>,
}

/// The references of an `--images-from` file: one per line, blank lines
/// and `#` comments skipped.
pub fn read_list(path: &std::path::Path) -> Result<Vec<String>, ImageError> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ImageError::List {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Layer counts of the whole run.
#[derive(Default)]
struct Counts {
    scanned: AtomicU64,
    cached: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
}

/// Scans every image (this shard's) into one report. Only a setup
/// failure is an error: an image that cannot be read is a problem.
pub fn scan(
    rules: &RuleSet,
    image: &ImageOptions,
    options: &ScanOptions,
) -> Result<ScanReport, ImageError> {
    let started = Instant::now();
    let tally = Tally::with_progress(Progress::new(options.progress, "files"));
    let mut named: Vec<String> = image
        .references
        .iter()
        .filter_map(|text| match Reference::parse(text) {
            Ok(Reference::Registry(r)) => Some(r.registry),
            _ => None,
        })
        .collect();
    named.extend(image.catalogs.iter().map(|spec| catalog_spec(spec).0));
    let registries = registry::Registries::new(&named).map_err(ImageError::Setup)?;
    let mut references = image.references.clone();
    for spec in &image.catalogs {
        references.extend(list_catalog(&registries, spec, &tally)?);
    }
    let intake = Intake::layers(rules, options, &tally);
    let counts = Counts::default();
    let run = Run {
        image,
        options,
        intake: &intake,
        tally: &tally,
        counts: &counts,
        registries: &registries,
    };
    let mut findings = Vec::new();
    let mut outcomes = Vec::new();
    for text in &references {
        if image.shard.is_some_and(|s| !s.contains("image", text)) {
            continue;
        }
        let (outcome, found) = run.one(text);
        outcomes.push(outcome);
        findings.extend(found);
    }
    let cache = intake.finish();
    let mut report = scan::finish(findings, tally, started);
    report.summary.cache = cache;
    outcomes.sort();
    report.summary.images = Some(ImageSummary {
        detection_key: options.detection_key(rules).to_hex(),
        shard: image.shard.map(|s| s.to_string()),
        images_listed: references.len(),
        layers_scanned: counts.scanned.load(Ordering::Relaxed),
        layers_cached: counts.cached.load(Ordering::Relaxed),
        layers_failed: counts.failed.load(Ordering::Relaxed),
        layer_bytes: counts.bytes.load(Ordering::Relaxed),
        images: outcomes,
    });
    Ok(report)
}

/// `REGISTRY[/NAMESPACE]`: the registry, and the prefix its
/// repositories must have (`acme/`; empty for all).
fn catalog_spec(spec: &str) -> (String, String) {
    let spec = spec.trim().trim_end_matches('/');
    match spec.split_once('/') {
        Some((registry, namespace)) => (registry.to_string(), format!("{namespace}/")),
        None => (spec.to_string(), String::new()),
    }
}

/// Every tag of every repository of a catalogue, as references. A
/// catalogue that cannot be read is an error; a repository whose tags
/// cannot be, or whose name is not one, is a problem.
fn list_catalog(
    registries: &registry::Registries,
    spec: &str,
    tally: &Tally,
) -> Result<Vec<String>, ImageError> {
    let (registry, prefix) = catalog_spec(spec);
    let error = |message: String| ImageError::Catalog {
        spec: spec.to_string(),
        message,
    };
    let name = |repository: &str| reference::RegistryRef {
        registry: registry.clone(),
        repository: repository.to_string(),
        tag: None,
        digest: None,
    };
    let catalog = registries.client(&name("")).map_err(error)?;
    let mut references = Vec::new();
    for repository in catalog.repositories(&prefix).map_err(error)? {
        let text = format!("{registry}/{repository}");
        let tags = match Reference::parse(&text) {
            Ok(Reference::Registry(_)) => {
                registries.client(&name(&repository)).and_then(|c| c.tags())
            }
            _ => Err("the catalogue lists a name that is not a repository's".to_string()),
        };
        match tags {
            Ok(tags) => references.extend(tags.into_iter().map(|tag| format!("{text}:{tag}"))),
            Err(message) => tally.problem(Problem::new(&text, &message)),
        }
    }
    Ok(references)
}

/// What one run shares between its images.
struct Run<'r, 'a> {
    image: &'r ImageOptions,
    options: &'r ScanOptions,
    intake: &'r Intake<'a>,
    tally: &'r Tally,
    counts: &'r Counts,
    registries: &'r registry::Registries,
}

/// How one layer's read ended.
enum LayerRead {
    /// Known clean by digest: not read (listed later only if needed).
    Cached,
    /// Could not be read at all, or not whole.
    Failed,
    /// Read whole and verified.
    Read(Listing),
}

impl Run<'_, '_> {
    /// Opens and scans one reference: its outcome and findings.
    fn one(&self, text: &str) -> (ImageOutcome, Vec<Finding>) {
        let problems_before = self.tally.problem_count();
        let mut outcome = ImageOutcome {
            reference: text.to_string(),
            status: ImageStatus::Failed,
            platforms: Vec::new(),
            layers: 0,
        };
        let opened = Reference::parse(text).and_then(|r| self.open(&r));
        let (store, resolved) = match opened {
            Ok(opened) => opened,
            Err(message) => {
                self.tally.problem(Problem::new(text, &message));
                return (outcome, Vec::new());
            }
        };
        for message in &resolved.problems {
            self.tally.problem(Problem::new(text, message));
        }
        let mut targets = Vec::new();
        let mut configs = Vec::new();
        for mut target in resolved.targets {
            let config = self.config(&*store, &target, text);
            if target.platform.is_none() {
                target.platform = config.as_ref().and_then(manifest::config_platform);
            }
            let wanted = match &target.platform {
                Some(p) => {
                    self.image.platforms.is_empty()
                        || self
                            .image
                            .platforms
                            .iter()
                            .any(|w| manifest::platform_matches(w, p))
                }
                None => true,
            };
            if wanted {
                targets.push(target);
                configs.push(config);
            }
        }
        if targets.is_empty() {
            let message = if self.image.platforms.is_empty() {
                "no image in it could be read".to_string()
            } else {
                format!(
                    "has no image for --platform {}",
                    self.image.platforms.join(",")
                )
            };
            self.tally.problem(Problem::new(text, &message));
            return (outcome, Vec::new());
        }
        let prefix = format!("{text}!/");
        {
            let mut sink = self.intake.sink();
            for (target, config) in targets.iter().zip(&configs) {
                if let Some(config) = config {
                    scan_config(&mut sink, text, target, config);
                }
            }
        }
        let reads = self.layers(&*store, text, &prefix, &targets);
        let mut findings = self.intake.take_findings();
        self.states(&*store, text, &targets, reads, &mut findings);

        outcome.platforms = targets.iter().filter_map(|t| t.platform.clone()).collect();
        outcome.platforms.sort();
        outcome.platforms.dedup();
        outcome.layers = targets.iter().map(|t| t.layers.len()).sum();
        outcome.status = if self.tally.problem_count() > problems_before {
            ImageStatus::Partial
        } else {
            ImageStatus::Scanned
        };
        (outcome, findings)
    }

    fn open(&self, reference: &Reference) -> Result<(Box<dyn Store>, Resolved), String> {
        let platforms = &self.image.platforms;
        match reference {
            Reference::Layout(dir) => {
                let store = DirStore::new(dir);
                if !store.has("index.json") {
                    return Err("not an OCI image layout: no index.json in this folder".into());
                }
                let resolved = from_index(&store, platforms)?;
                Ok((Box::new(store), resolved))
            }
            Reference::Archive(path) => {
                let store = TarStore::open(path)?;
                let resolved = if store.has("index.json") {
                    from_index(&store, platforms)?
                } else if store.has("manifest.json") {
                    let manifest = store.document(&Locator::Path("manifest.json".into()), None)?;
                    manifest::from_docker_manifest(&store, &manifest, platforms)?
                } else {
                    return Err(
                        "neither an OCI archive (no index.json) nor a `docker save` \
                                archive (no manifest.json)"
                            .into(),
                    );
                };
                Ok((Box::new(store), resolved))
            }
            Reference::Registry(name) => {
                let client = self.registries.client(name)?;
                let (document, digest) = client.manifest(&name.manifest_reference())?;
                let resolved = manifest::resolve(&client, &document, digest, platforms)?;
                Ok((Box::new(client), resolved))
            }
        }
    }

    /// The target's config, parsed; a problem when it cannot be read.
    fn config(&self, store: &dyn Store, target: &Target, text: &str) -> Option<serde_json::Value> {
        let bytes = match &target.config_bytes {
            Some(bytes) => Ok(bytes.clone()),
            None => store.document(&target.config.at, target.config.digest.as_ref()),
        };
        let parsed = bytes.and_then(|b| {
            serde_json::from_slice::<serde_json::Value>(&b)
                .map_err(|e| format!("config {}: not JSON: {e}", target.config.at.describe()))
        });
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.tally.problem(Problem::new(
                    text,
                    &format!("the config could not be read: {message}"),
                ));
                None
            }
        }
    }

    /// Reads every layer of `targets`, one thread per core.
    fn layers(
        &self,
        store: &dyn Store,
        text: &str,
        prefix: &str,
        targets: &[Target],
    ) -> Vec<Vec<LayerRead>> {
        let tasks: Vec<(usize, usize)> = targets
            .iter()
            .enumerate()
            .flat_map(|(t, target)| (0..target.layers.len()).map(move |l| (t, l)))
            .collect();
        let threads = match self.options.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
        .clamp(1, tasks.len().max(1));
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(usize, usize, LayerRead)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut sink = self.intake.sink();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(t, l)) = tasks.get(i) else {
                            break;
                        };
                        let read = self.layer(&mut sink, store, text, prefix, &targets[t], l);
                        done.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((t, l, read));
                    }
                });
            }
        });
        let mut reads: Vec<Vec<Option<LayerRead>>> = targets
            .iter()
            .map(|t| t.layers.iter().map(|_| None).collect())
            .collect();
        for (t, l, read) in done.into_inner().unwrap_or_else(|p| p.into_inner()) {
            reads[t][l] = Some(read);
        }
        reads
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|r| r.unwrap_or(LayerRead::Failed))
                    .collect()
            })
            .collect()
    }

    /// Reads one layer into `sink`.
    fn layer<S: Sink>(
        &self,
        sink: &mut S,
        store: &dyn Store,
        text: &str,
        prefix: &str,
        target: &Target,
        index: usize,
    ) -> LayerRead {
        let blob = &target.layers[index];
        let digest = blob.key().map_or("unknown", Digest::as_str);
        let label = format!("{text} (layer {index}, {})", short(digest));
        let fail = |message: &str| {
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
            self.tally.problem(Problem::new(&label, message));
            LayerRead::Failed
        };
        if blob.foreign {
            return fail("a non-distributable (foreign) layer, not in the image: not scanned");
        }
        let group = Group {
            digest: blob.key().map(Digest::as_str),
            prefix,
        };
        let Some(ticket) = sink.open_group(&group) else {
            self.counts.cached.fetch_add(1, Ordering::Relaxed);
            return LayerRead::Cached;
        };
        let reader = match store.open(&blob.at) {
            Ok(reader) => reader,
            Err(message) => {
                sink.close_group(ticket, false);
                return fail(&message);
            }
        };
        let place = ImagePlace {
            reference: text.to_string(),
            manifest: target.manifest.to_string(),
            platform: target.platform.clone(),
        };
        let options = self.options;
        let tally = self.tally;
        let walked: Walked = {
            let mut visit = |path: &str, size: u64, reader: &mut dyn Read| -> io::Result<()> {
                let name = format!("{prefix}{path}");
                if size > options.max_file_size {
                    tally.too_large(&name, size, options.max_file_size);
                    return Ok(());
                }
                let input = Input {
                    name: &name,
                    key: Key::None,
                };
                let Some(ticket) = sink.wants(&input) else {
                    return Ok(());
                };
                let locate = || {
                    let origin = Origin::ImageLayer {
                        image: place.clone(),
                        layer_digest: digest.to_string(),
                        layer_index: index,
                        state: LayerState::Unknown,
                    };
                    (name.clone(), origin)
                };
                match sink.stream(ticket, &input, reader, &locate) {
                    Ok(_) => Ok(()),
                    Err((ticket, err)) => {
                        sink.unread(ticket);
                        Err(err)
                    }
                }
            };
            layer::walk(
                reader,
                blob.digest.as_ref(),
                blob.diff_id.as_ref(),
                self.max_ratio(),
                Some(&mut visit),
            )
        };
        self.counts
            .bytes
            .fetch_add(walked.stored_bytes, Ordering::Relaxed);
        sink.close_group(ticket, walked.problem.is_none());
        match walked.problem {
            Some(message) => fail(&message),
            None => {
                self.counts.scanned.fetch_add(1, Ordering::Relaxed);
                LayerRead::Read(walked.listing)
            }
        }
    }

    fn max_ratio(&self) -> u64 {
        self.options
            .archives
            .map_or(crate::scan::ArchiveLimits::default().max_ratio, |l| {
                l.max_ratio
            })
    }

    /// Sets each layer finding's state from the layers above its own;
    /// a layer skipped as known clean is listed (not scanned) only when
    /// a finding below it needs it.
    fn states(
        &self,
        store: &dyn Store,
        text: &str,
        targets: &[Target],
        reads: Vec<Vec<LayerRead>>,
        findings: &mut [Finding],
    ) {
        let prefix = format!("{text}!/");
        let mut listed: HashMap<(usize, usize), Option<Listing>> = HashMap::new();
        for finding in findings.iter_mut() {
            let Origin::ImageLayer {
                image,
                layer_index,
                state,
                ..
            } = &mut finding.origin
            else {
                continue;
            };
            let Some(t) = targets.iter().position(|t| {
                t.manifest.as_str() == image.manifest && t.platform == image.platform
            }) else {
                continue;
            };
            let above = *layer_index + 1;
            for (later, read) in reads[t].iter().enumerate().skip(above) {
                if matches!(read, LayerRead::Cached) && !listed.contains_key(&(t, later)) {
                    let listing = list_only(store, &targets[t].layers[later], self.max_ratio());
                    listed.insert((t, later), listing);
                }
            }
            let later: Vec<Option<&Listing>> = (*layer_index + 1..targets[t].layers.len())
                .map(|l| match &reads[t][l] {
                    LayerRead::Read(listing) => Some(listing),
                    LayerRead::Cached => listed.get(&(t, l)).and_then(Option::as_ref),
                    LayerRead::Failed => None,
                })
                .collect();
            let inside = finding.path.strip_prefix(&prefix).unwrap_or(&finding.path);
            // A nested archive's member: the state is the archive file's.
            let path = inside.split("!/").next().unwrap_or(inside);
            *state = state::state_of(path, &later);
        }
    }
}

/// A layer's listing, read without scanning (its content is known
/// clean); `None` when it cannot be read whole.
fn list_only(store: &dyn Store, blob: &Blob, max_ratio: u64) -> Option<Listing> {
    let reader = store.open(&blob.at).ok()?;
    let walked = layer::walk(
        reader,
        blob.digest.as_ref(),
        blob.diff_id.as_ref(),
        max_ratio,
        None,
    );
    walked.problem.is_none().then_some(walked.listing)
}

/// The index of an OCI layout (a folder or an archive) followed.
fn from_index(store: &dyn Store, platforms: &[String]) -> Result<Resolved, String> {
    let index = store.document(&Locator::Path("index.json".into()), None)?;
    manifest::resolve(store, &index, Digest::of(&index), platforms)
}

/// Scans the config's fields as text, each under `REF#config/FIELD`.
fn scan_config<S: Sink>(sink: &mut S, text: &str, target: &Target, config: &serde_json::Value) {
    let place = ImagePlace {
        reference: text.to_string(),
        manifest: target.manifest.to_string(),
        platform: target.platform.clone(),
    };
    let config_digest = target
        .config
        .digest
        .as_ref()
        .map_or_else(String::new, Digest::to_string);
    for (field, body) in config::fields(config) {
        let name = format!("{text}#config/{field}");
        let input = Input {
            name: &name,
            key: Key::None,
        };
        let Some(ticket) = sink.wants(&input) else {
            continue;
        };
        let locate = || {
            let origin = Origin::ImageConfig {
                image: place.clone(),
                config_digest: config_digest.clone(),
                field: field.to_string(),
            };
            (name.clone(), origin)
        };
        sink.bytes(ticket, &input, body.as_bytes(), &locate);
    }
}

/// `sha256:0123456789ab`.
fn short(digest: &str) -> &str {
    let cut = digest.find(':').map_or(0, |c| c + 13);
    digest.get(..cut).unwrap_or(digest)
}
