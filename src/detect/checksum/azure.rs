//! Microsoft's identifiable keys: HIS v1 keys (a signature and a Marvin32 in
//! the last four decoded bytes), common annotated security keys (`JQQJ99`)
//! for every provider signature, and Entra ID client secrets (`8Q~`).
//!
//! PLACEHOLDER while the Azure coverage work is in progress: every function
//! rejects, so no rule that names these schemes reports anything yet.

/// Whether `key` is a HIS v1 identifiable key under one of `seeds`.
pub fn his_v1_valid(_key: &[u8], _seeds: &[u64]) -> bool {
    false
}

/// Rewrites `key`'s checksum for `seed` (test-token generation).
pub fn his_v1_repair(_key: &mut [u8], _seed: u64) -> bool {
    false
}

/// Whether `key` is an 84/88-character common annotated security key whose
/// Marvin32 checksum holds, in either encoding.
pub fn cask_valid(_key: &[u8]) -> bool {
    false
}

/// Rewrites `key`'s checksum characters (test-token generation).
pub fn cask_repair(_key: &mut [u8]) -> bool {
    false
}

/// Whether a 40-character `8Q~` Entra ID client secret's checksum holds.
pub fn entra_client_secret_valid(_secret: &[u8]) -> bool {
    false
}

/// Rewrites the secret's three check characters (test-token generation).
pub fn entra_client_secret_repair(_secret: &mut [u8]) -> bool {
    false
}

/// A Marvin seed from its 8-character ASCII name (`"Default0"`): the bytes
/// read big-endian, as `ComputeHisV1ChecksumSeed` does.
pub fn seed_from_name(name: &str) -> Option<u64> {
    let bytes: [u8; 8] = name.as_bytes().try_into().ok()?;
    bytes
        .iter()
        .all(u8::is_ascii_graphic)
        .then(|| u64::from_be_bytes(bytes))
}
