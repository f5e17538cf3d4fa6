//! `patscan install-hook`: a git pre-commit hook that runs the staged scan,
//! for people who do not use the pre-commit framework (which uses
//! `.pre-commit-hooks.yaml` instead).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::source::git::one_line;

/// The hook script. It looks patscan up on PATH at commit time, so an
/// upgraded binary is picked up without reinstalling the hook.
pub const HOOK_SCRIPT: &str = r#"#!/bin/sh
# Installed by `patscan install-hook`: blocks a commit that would add a
# personal access token. Skip it once with `git commit --no-verify`.
if ! command -v patscan >/dev/null 2>&1; then
    echo "patscan pre-commit hook: patscan is not on PATH; install it or commit with --no-verify" >&2
    exit 1
fi
exec patscan scan --staged
"#;

#[derive(Debug, Error)]
pub enum HookError {
    #[error("{}: not a git repository ({message})", path.display())]
    NotARepository { path: PathBuf, message: String },
    #[error("{} already exists; pass --force to replace it", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Where git looks for hooks: `core.hooksPath` when set (relative to the
/// work tree's top, as git resolves it), else the common git dir's `hooks`,
/// shared by every worktree. Writing anywhere else would install a hook
/// that never runs.
fn hooks_dir(repository: &gix::Repository) -> PathBuf {
    let configured = repository
        .config_snapshot()
        .string("core.hooksPath")
        .map(|value| PathBuf::from(value.to_string()));
    match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repository
            .workdir()
            .unwrap_or_else(|| repository.git_dir())
            .join(path),
        None => repository.common_dir().join("hooks"),
    }
}

/// Writes the pre-commit hook of the repository containing `repo`, and
/// returns its path. An existing hook (someone's own work) is kept unless
/// `force`.
pub fn install(repo: &Path, force: bool) -> Result<PathBuf, HookError> {
    let repository = gix::discover(repo).map_err(|e| HookError::NotARepository {
        path: repo.to_path_buf(),
        message: one_line(&e),
    })?;
    let hooks = hooks_dir(&repository);
    let path = hooks.join("pre-commit");
    let write_error = |source| HookError::Write {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(&hooks).map_err(write_error)?;
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Atomic: never clobbers a hook created between a check and a write.
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o755);
    }
    let mut file = match options.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(HookError::Exists { path });
        }
        Err(e) => return Err(write_error(e)),
    };
    file.write_all(HOOK_SCRIPT.as_bytes())
        .and_then(|_| file.flush())
        .map_err(write_error)?;
    #[cfg(unix)]
    {
        // `mode` applies only to new files; a forced overwrite needs it too.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(write_error)?;
    }
    Ok(path)
}
