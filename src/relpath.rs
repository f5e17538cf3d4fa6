//! Paths relative to the scanned root. SARIF (GitHub resolves URIs against
//! the checkout), baselines (which must not depend on how patscan was
//! invoked) and the config's path globs all want `src/app.rs`, whether the
//! scan ran as `patscan scan`, `patscan scan .` or `patscan scan repo/`.

use std::path::{Component, Path, PathBuf};

/// `path` (as a finding reports it) relative to the first of `roots` that
/// contains it, with `/` separators and no leading `./`. A path under no
/// root (a file named on the command line, stdin) is kept as given, less a
/// leading `./`.
pub fn relative_path(path: &str, roots: &[PathBuf]) -> String {
    let normalised = path.replace('\\', "/");
    let as_path = Path::new(path);
    for root in roots {
        if let Ok(rest) = as_path.strip_prefix(root) {
            if rest.as_os_str().is_empty() {
                continue; // the root is this file itself
            }
            return to_slashes(rest);
        }
    }
    strip_dot(&normalised).to_string()
}

/// Same as [`relative_path`], for a walk entry.
pub fn relative_to_roots(path: &Path, roots: &[PathBuf]) -> Option<String> {
    roots.iter().find_map(|root| {
        let rest = path.strip_prefix(root).ok()?;
        (!rest.as_os_str().is_empty()).then(|| to_slashes(rest))
    })
}

fn to_slashes(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

fn strip_dot(path: &str) -> &str {
    let mut rest = path;
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_to_their_root() {
        let dot = vec![PathBuf::from(".")];
        assert_eq!(relative_path("./src/a.rs", &dot), "src/a.rs");
        assert_eq!(relative_path("src/a.rs", &dot), "src/a.rs");
        let repo = vec![PathBuf::from("repo/")];
        assert_eq!(relative_path("repo/src/a.rs", &repo), "src/a.rs");
        let file = vec![PathBuf::from("config/app.env")];
        assert_eq!(relative_path("config/app.env", &file), "config/app.env");
        assert_eq!(relative_path("<stdin>", &dot), "<stdin>");
    }
}
