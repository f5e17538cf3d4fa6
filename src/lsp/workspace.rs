//! The editor's workspace folders, each with what a scan of it would use:
//! its `.patscan.toml` (rules, allowlists, skipped paths), its baseline and
//! its ignore files. A file outside every folder (or not a file at all: an
//! unsaved buffer) is scanned with the built-in rules and nothing else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::baseline::Baseline;
use crate::config::{self, Allowlist, Config, CONFIG_FILE_NAME};
use crate::redact::redact_tokens;
use crate::rules::{self, OptIn};

use super::ignore::Ignores;

/// The baseline a folder's diagnostics honour and the code action adds to,
/// unless the client's settings name another: the file the CI docs use.
pub const DEFAULT_BASELINE: &str = ".patscan-baseline.json";

/// What the client may set (`initializationOptions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// The baseline file, relative to each workspace folder (or absolute).
    pub baseline: PathBuf,
    /// The least time between two scans of one document while it is typed
    /// in; the first change after a pause is scanned at once.
    pub debounce_ms: u64,
    /// Also the opt-in generic rules (as `scan --generic`).
    pub generic: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            baseline: PathBuf::from(DEFAULT_BASELINE),
            debounce_ms: 50,
            generic: false,
        }
    }
}

impl Settings {
    pub fn debounce(&self) -> Duration {
        Duration::from_millis(self.debounce_ms)
    }

    fn opt_ins(&self) -> &'static [OptIn] {
        if self.generic {
            &[OptIn::Generic]
        } else {
            &[]
        }
    }
}

/// One workspace folder and what its scans honour.
pub struct Folder {
    pub root: PathBuf,
    pub config: Config,
    pub baseline_path: PathBuf,
    pub baseline: Option<Baseline>,
    pub ignores: Ignores,
}

impl Folder {
    /// Reads the folder's config and baseline. A broken one is reported in
    /// `problems` (its text masked: a config error quotes the line, and
    /// `allow.values` is where tokens get pasted) and left out: the built-in
    /// rules, or no baseline, stand in until it is fixed.
    pub fn load(root: PathBuf, settings: &Settings, problems: &mut Vec<String>) -> Folder {
        let config = load_config(&root, settings, problems);
        let baseline_path = root.join(&settings.baseline);
        let baseline = load_baseline(&baseline_path, problems);
        Folder {
            ignores: Ignores::new(root.clone()),
            root,
            config,
            baseline_path,
            baseline,
        }
    }

    /// Reads the baseline again (it changed on disk).
    pub fn reload_baseline(&mut self, problems: &mut Vec<String>) {
        self.baseline = load_baseline(&self.baseline_path, problems);
    }

    /// Whether a scan of the folder would leave `path` out: ignored by git
    /// or by `allow.paths`.
    pub fn skips(&mut self, path: &Path) -> bool {
        self.config
            .skip_paths
            .as_ref()
            .is_some_and(|globs| globs.skips(path))
            || self.ignores.ignores(path)
    }

    /// Whether `path` is a file whose change means reloading the folder.
    pub fn is_config(&self, path: &Path) -> bool {
        path == self.root.join(CONFIG_FILE_NAME)
    }
}

/// The folder's config, or the built-in rules when it has none or a
/// broken one.
fn load_config(root: &Path, settings: &Settings, problems: &mut Vec<String>) -> Config {
    let roots = [root.to_path_buf()];
    match config::load_with(None, &roots, settings.opt_ins()) {
        Ok(config) => config,
        Err(err) => {
            problems.push(format!(
                "{}; using the built-in rules until it is fixed",
                redact_tokens(&err.to_string())
            ));
            builtin(settings)
        }
    }
}

/// The built-in rules and nothing else. They are checked by the test suite
/// (every example of every rule), so they compile: a release binary whose
/// rules did not would fail every command alike.
fn builtin(settings: &Settings) -> Config {
    let rules = rules::builtin_with(settings.opt_ins())
        .unwrap_or_else(|err| panic!("the built-in rules do not compile: {err}"));
    Config {
        source: None,
        rules,
        allowlist: Allowlist::default(),
        skip_paths: None,
    }
}

fn load_baseline(path: &Path, problems: &mut Vec<String>) -> Option<Baseline> {
    if !path.is_file() {
        return None;
    }
    match Baseline::load(path) {
        Ok(baseline) => Some(baseline),
        Err(err) => {
            problems.push(format!(
                "{}; its tokens are reported until it is fixed",
                redact_tokens(&err.to_string())
            ));
            None
        }
    }
}

/// Every folder, and the settings for files outside them.
pub struct Workspace {
    pub folders: Vec<Folder>,
    /// The built-in rules (with the opt-ins the settings ask for), compiled
    /// when a file outside every folder is first scanned: most sessions
    /// have none, and a rule set is megabytes.
    fallback: Option<Config>,
    pub settings: Settings,
}

impl Workspace {
    pub fn load(roots: Vec<PathBuf>, settings: Settings, problems: &mut Vec<String>) -> Workspace {
        let folders = roots
            .into_iter()
            .map(|root| Folder::load(root, &settings, problems))
            .collect();
        Workspace {
            folders,
            fallback: None,
            settings,
        }
    }

    /// The config of files outside every folder.
    pub fn fallback(&mut self) -> &Config {
        let settings = &self.settings;
        self.fallback.get_or_insert_with(|| builtin(settings))
    }

    /// The folder holding `path`: the innermost, where folders nest.
    pub fn folder_of(&self, path: &Path) -> Option<usize> {
        self.folders
            .iter()
            .enumerate()
            .filter(|(_, f)| path.starts_with(&f.root))
            .max_by_key(|(_, f)| f.root.components().count())
            .map(|(i, _)| i)
    }

    /// Reads folder `index`'s config and baseline again.
    pub fn reload(&mut self, index: usize, problems: &mut Vec<String>) {
        let root = self.folders[index].root.clone();
        self.folders[index] = Folder::load(root, &self.settings, problems);
    }
}
