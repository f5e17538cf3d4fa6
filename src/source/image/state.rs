//! A layer file's state in the final image, from the layers above it:
//! the first later layer that touches its path decides. Writing the same
//! path hides it (overwritten); a whiteout of it or of a folder above it,
//! an opaque whiteout of a folder above it, or a file or folder put in
//! place of it or of a folder above it deletes it.

use super::layer::Listing;
use crate::model::LayerState;

/// The state of `path` (as in its layer, no leading `/`) given the
/// listings of the later layers in order; `None` for a layer that could
/// not be listed, after which nothing can be told.
pub fn state_of(path: &str, later: &[Option<&Listing>]) -> LayerState {
    for listing in later {
        let Some(listing) = listing else {
            return LayerState::Unknown;
        };
        match listing.entries.get(path) {
            Some(false) => return LayerState::Overwritten,
            Some(true) => return LayerState::Deleted,
            None => {}
        }
        if listing.whiteouts.contains(path) {
            return LayerState::Deleted;
        }
        for (at, _) in path.match_indices('/') {
            let folder = &path[..at];
            if listing.whiteouts.contains(folder)
                || listing.opaque.contains(folder)
                || listing.entries.get(folder) == Some(&false)
            {
                return LayerState::Deleted;
            }
        }
    }
    LayerState::Visible
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(entries: &[(&str, bool)], whiteouts: &[&str], opaque: &[&str]) -> Listing {
        Listing {
            entries: entries.iter().map(|(p, d)| (p.to_string(), *d)).collect(),
            whiteouts: whiteouts.iter().map(|p| p.to_string()).collect(),
            opaque: opaque.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn the_first_later_layer_that_touches_a_path_decides() {
        let rewrite = listing(&[("etc/npmrc", false)], &[], &[]);
        let delete = listing(&[], &["etc/npmrc"], &[]);
        let delete_folder = listing(&[], &["etc"], &[]);
        let opaque = listing(&[("etc", true)], &[], &["etc"]);
        let opaque_readd = listing(&[("etc/npmrc", false)], &[], &["etc"]);
        let unrelated = listing(&[("etc/hosts", false), ("etc", true)], &["etc/npmrc2"], &[]);
        let file_over_folder = listing(&[("etc", false)], &[], &[]);

        let p = "etc/npmrc";
        assert_eq!(state_of(p, &[]), LayerState::Visible);
        assert_eq!(state_of(p, &[Some(&unrelated)]), LayerState::Visible);
        assert_eq!(state_of(p, &[Some(&rewrite)]), LayerState::Overwritten);
        assert_eq!(state_of(p, &[Some(&delete)]), LayerState::Deleted);
        assert_eq!(state_of(p, &[Some(&delete_folder)]), LayerState::Deleted);
        assert_eq!(state_of(p, &[Some(&opaque)]), LayerState::Deleted);
        assert_eq!(state_of(p, &[Some(&opaque_readd)]), LayerState::Overwritten);
        assert_eq!(state_of(p, &[Some(&file_over_folder)]), LayerState::Deleted);
        // Deleted, then written again: the earlier content is still hidden
        // by the deletion that came first.
        assert_eq!(
            state_of(p, &[Some(&delete), Some(&rewrite)]),
            LayerState::Deleted
        );
        assert_eq!(
            state_of(p, &[Some(&unrelated), None, Some(&delete)]),
            LayerState::Unknown
        );
        // A prefix of a name is not its folder.
        let sibling = listing(&[], &["et"], &["etc/npm"]);
        assert_eq!(state_of(p, &[Some(&sibling)]), LayerState::Visible);
    }
}
