//! Microsoft's identifiable keys: HIS v1 keys (a signature and a Marvin32 in
//! the last four decoded bytes), common annotated security keys (`JQQJ99`)
//! for every provider signature, and Entra ID client secrets (`8Q~`).
//!
//! The algorithms follow `microsoft/security-utilities` as catalogued in
//! `reference/microsoft-identifiable-keys.md` (§2 HIS v1, §3 CASK, §4 Entra).
//! Like every validator in [`super`], these run on each candidate in the
//! scan's hot path: they decode into stack arrays, never allocate and never
//! panic; malformed input of any kind is simply "not valid".

use super::{cask_checksum_text, encode_padded, marvin32, MARVIN_SEED_DEFAULT0};

/// Longest key the HIS v1 decoder takes, in characters. The longest real
/// key is 88 (64 bytes); a little headroom costs nothing.
const MAX_KEY_CHARS: usize = 128;
/// Bytes that [`MAX_KEY_CHARS`] characters decode to.
const MAX_KEY_BYTES: usize = MAX_KEY_CHARS / 4 * 3;

/// Standard base64 alphabet; index = 6-bit value.
const BASE64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// URL-safe base64 alphabet (`-` and `_` for `+` and `/`).
const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Marks a byte outside both base64 alphabets in [`BASE64_VALUE`].
const INVALID: u8 = 0xFF;

/// 6-bit value of a character in either base64 alphabet, or [`INVALID`].
const BASE64_VALUE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[BASE64_STD[i] as usize] = i as u8;
        table[BASE64_URL[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The alphabet of an Entra ID client secret
/// (`IdentifiableMetadata.AadClientPasswordCharacterSet`), whose order is
/// also the digit order of its base-66 checksum.
const AAD_ALPHABET: &[u8; 66] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890.-_~";

/// Marvin seed of the Entra ID client secret checksum (`"AadPwd00"`).
const AAD_SEED: u64 = 0x4161_6450_7764_3030;

/// Length of an `8Q~` Entra ID client secret.
const ENTRA_LEN: usize = 40;
/// Characters the Entra checksum covers (everything before the 3 check chars).
const ENTRA_HEAD: usize = 37;

/// Which base64 alphabet a key was written in. A key with neither `+/` nor
/// `-_` could be either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    Standard,
    UrlSafe,
    Either,
}

/// A key decoded into a stack buffer.
struct Decoded {
    bytes: [u8; MAX_KEY_BYTES],
    len: usize,
    alphabet: Alphabet,
}

impl Decoded {
    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Decodes standard or URL-safe base64 (with or without its `=` padding,
/// as `IdentifiableSecrets.ConvertFromBase64String` accepts both).
///
/// `None` when a character is outside the alphabets, when both alphabets'
/// special characters appear (no issuer writes such a key: `ValidateBase64Key`
/// rejects it), or when padding is wrong. With `strict`, the unused low bits
/// of the last character must be zero: an issued key is canonical base64,
/// and without this check four spellings of every 32-byte key would pass.
fn decode(key: &[u8], strict: bool) -> Option<Decoded> {
    let data_len = key.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    let pads = key.len() - data_len;
    if data_len > MAX_KEY_CHARS || pads > 2 || data_len % 4 == 1 {
        return None;
    }
    // Padding, when present, must complete the last quantum exactly.
    if pads > 0 && (data_len + pads) % 4 != 0 {
        return None;
    }
    let mut out = Decoded {
        bytes: [0; MAX_KEY_BYTES],
        len: 0,
        alphabet: Alphabet::Either,
    };
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in &key[..data_len] {
        let v = BASE64_VALUE[usize::from(c)];
        if v == INVALID {
            return None;
        }
        let kind = match c {
            b'+' | b'/' => Alphabet::Standard,
            b'-' | b'_' => Alphabet::UrlSafe,
            _ => Alphabet::Either,
        };
        if kind != Alphabet::Either {
            if out.alphabet != Alphabet::Either && out.alphabet != kind {
                return None;
            }
            out.alphabet = kind;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // data_len <= MAX_KEY_CHARS keeps len below MAX_KEY_BYTES.
            out.bytes[out.len] = (acc >> bits) as u8;
            out.len += 1;
        }
        acc &= (1 << bits) - 1;
    }
    if strict && acc != 0 {
        return None;
    }
    Some(out)
}

/// Writes `bytes` as unpadded base64 in `alphabet` into `out`, which must
/// be exactly as long as the encoding; false otherwise.
fn encode_into(bytes: &[u8], alphabet: &[u8; 64], out: &mut [u8]) -> bool {
    if out.len() != (bytes.len() * 8).div_ceil(6) {
        return false;
    }
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut at = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out[at] = alphabet[((acc >> bits) & 0x3F) as usize];
            at += 1;
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out[at] = alphabet[((acc << (6 - bits)) & 0x3F) as usize];
    }
    true
}

/// The 8-character canonical text of a CASK checksum: the 6-character
/// base62 text round-tripped through base64 as `GetBase62EncodedChecksum`
/// does (`Base64Encode(Base64Decode(text + "=="))`), which keeps only the top
/// two bits of the sixth character, then `==`.
fn cask_canonical_text(checksum: u32) -> [u8; 8] {
    let text = cask_checksum_text(checksum);
    let mut canon = [b'='; 8];
    canon[..5].copy_from_slice(&text[..5]);
    let sixth = BASE64_VALUE[usize::from(text[5])];
    canon[5] = BASE64_STD[usize::from(sixth & 0x30)];
    canon
}

/// The raw-base64 CASK checksum text (the pre-1.7.0 encoding, still seen in
/// issued Cognitive Services keys): `base64(cb[0..3])` for the short form,
/// `base64(cb[0..4])` (with `==`) for the long form.
fn cask_raw_text(checksum: u32) -> [u8; 8] {
    let cb = checksum.to_le_bytes();
    let mut out = [b'='; 8];
    encode_into(&cb[..3], BASE64_STD, &mut out[..4]);
    encode_into(&cb, BASE64_STD, &mut out[..6]);
    out
}

/// Whether the checksum characters `check` (4 for the short form, 8 for the
/// long form) match the Marvin32 under `seed` of the decoded `head80` (the
/// key's first 80 characters, 60 bytes), in either encoding.
fn cask_text_matches(head80: &[u8], check: &[u8], seed: u64) -> bool {
    if head80.len() != 80 || !(check.len() == 4 || check.len() == 8) {
        return false;
    }
    let Some(head) = decode(head80, true) else {
        return false;
    };
    if head.len != 60 {
        return false;
    }
    let checksum = marvin32(head.bytes(), seed);
    let canon = cask_canonical_text(checksum);
    if canon[..check.len()] == *check {
        return true;
    }
    let raw = cask_raw_text(checksum);
    if check.len() == 4 {
        raw[..4] == *check
    } else {
        raw == *check
    }
}

/// The shared CASK checksum test (Marvin32, seed `"Default0"`, of the first
/// 60 decoded bytes) for an 84- or 88-character key, in either documented
/// encoding. Only the checksum: callers check the layout.
pub(super) fn cask_checksum_holds(key: &[u8]) -> bool {
    match key.len() {
        84 | 88 => cask_text_matches(&key[..80], &key[80..], MARVIN_SEED_DEFAULT0),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// HIS v1
// ---------------------------------------------------------------------------

/// Whether `key` is a HIS v1 identifiable key under one of `seeds`: the
/// little-endian Marvin32 of all decoded bytes but the last four equals the
/// last four (`IdentifiableSecrets.ValidateChecksum`).
///
/// Standard and URL-safe base64 are both accepted, padded or not, but not a
/// mix of the two alphabets. For 84/88-character keys the CASK-style base62
/// checksum text is accepted too, as `ValidateChecksum`'s fallback does.
/// The signature's position and the key's length are the rule regex's job.
pub fn his_v1_valid(key: &[u8], seeds: &[u64]) -> bool {
    let Some(decoded) = decode(key, true) else {
        return false;
    };
    // At least a signature and a checksum.
    if decoded.len < 8 {
        return false;
    }
    let (body, tail) = decoded.bytes().split_at(decoded.len - 4);
    let embedded = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    if seeds.iter().any(|&seed| marvin32(body, seed) == embedded) {
        return true;
    }
    matches!(key.len(), 84 | 88)
        && decoded.alphabet != Alphabet::UrlSafe
        && seeds
            .iter()
            .any(|&seed| cask_text_matches(&key[..80], &key[80..], seed))
}

/// Rewrites `key`'s checksum for `seed` so that [`his_v1_valid`] holds:
/// decode, recompute the last four bytes, re-encode in the key's own
/// alphabet (standard when it shows neither `+/` nor `-_`), keeping its
/// padding. The key's other characters are kept, except that the last data
/// character's unused bits are cleared. False when `key` is not base64.
/// Used to make test keys from a string drawn from a rule's pattern.
#[cfg(any(test, feature = "test-support"))]
pub fn his_v1_repair(key: &mut [u8], seed: u64) -> bool {
    let Some(mut decoded) = decode(key, false) else {
        return false;
    };
    if decoded.len < 8 {
        return false;
    }
    let n = decoded.len;
    let checksum = marvin32(&decoded.bytes[..n - 4], seed);
    decoded.bytes[n - 4..n].copy_from_slice(&checksum.to_le_bytes());
    let alphabet = match decoded.alphabet {
        Alphabet::UrlSafe => BASE64_URL,
        Alphabet::Standard | Alphabet::Either => BASE64_STD,
    };
    let data_len = key.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    encode_into(decoded.bytes(), alphabet, &mut key[..data_len]) && his_v1_valid(key, &[seed])
}

// ---------------------------------------------------------------------------
// Common annotated security keys (CASK, "HIS v2", JQQJ)
// ---------------------------------------------------------------------------

/// Whether `key` is an 84/88-character common annotated security key whose
/// Marvin32 checksum holds, in either encoding, for any provider signature.
///
/// Layout (`LegacyCommonAnnotatedSecurityKey`): 52 base62 characters, the
/// `JQQJ` core signature, `9` and the kind (`9` standard, `D` derived, `H`
/// hashed), year and month (`A`–`L`), 12 platform and 4 provider-reserved
/// characters, the provider signature (4 alphanumerics, not starting with a
/// digit, all upper or all lower case, as `ValidateCommonAnnotatedKeySignature`
/// requires), then 4 checksum characters, or 6 and `==` in the long form.
/// The long form is compared exactly (base62: the canonical round-tripped
/// text; raw: `base64` of all four checksum bytes).
pub fn cask_valid(key: &[u8]) -> bool {
    if !matches!(key.len(), 84 | 88) {
        return false;
    }
    key[..80].iter().all(u8::is_ascii_alphanumeric)
        && &key[52..56] == b"JQQJ"
        && key[56] == b'9'
        && matches!(key[57], b'9' | b'D' | b'H')
        && (b'A'..=b'L').contains(&key[59])
        && provider_signature_valid(&key[76..80])
        && cask_checksum_holds(key)
}

/// `ValidateCommonAnnotatedKeySignature`: a letter first, then all upper
/// case ("customer managed") or all lower case ("Microsoft managed").
fn provider_signature_valid(signature: &[u8]) -> bool {
    signature.first().is_some_and(u8::is_ascii_alphabetic)
        && signature.iter().all(u8::is_ascii_alphanumeric)
        && (!signature.iter().any(u8::is_ascii_lowercase)
            || !signature.iter().any(u8::is_ascii_uppercase))
}

/// Rewrites the checksum characters of an 84/88-character key in the
/// current (base62) encoding; the other characters are kept. False when the
/// length is wrong or the first 80 characters are not base64.
#[cfg(any(test, feature = "test-support"))]
pub fn cask_repair(key: &mut [u8]) -> bool {
    if !matches!(key.len(), 84 | 88) {
        return false;
    }
    let Some(head) = decode(&key[..80], true) else {
        return false;
    };
    let canon = cask_canonical_text(marvin32(head.bytes(), MARVIN_SEED_DEFAULT0));
    let n = key.len() - 80;
    key[80..].copy_from_slice(&canon[..n]);
    cask_checksum_holds(key)
}

// ---------------------------------------------------------------------------
// Entra ID client secrets
// ---------------------------------------------------------------------------

/// The three check characters of an Entra ID client secret for its first
/// 37 characters: the Marvin32 (seed `"AadPwd00"`) in base 66, most
/// significant digit first, left-padded with `a` to six digits
/// (`CustomAlphabetEncoder.Encode`), of which the secret keeps the first three.
fn entra_check(head: &[u8]) -> [u8; 3] {
    let digits: [u8; 6] = encode_padded::<6>(marvin32(head, AAD_SEED), AAD_ALPHABET);
    [digits[0], digits[1], digits[2]]
}

/// Whether a 40-character `8Q~` Entra ID client secret's checksum holds
/// (`IdentifiableMetadata.IsAzureAadClientAppIdentifiableSecret`).
pub fn entra_client_secret_valid(secret: &[u8]) -> bool {
    secret.len() == ENTRA_LEN
        && &secret[3..6] == b"8Q~"
        && secret.iter().all(|c| AAD_ALPHABET.contains(c))
        && entra_check(&secret[..ENTRA_HEAD]) == secret[ENTRA_HEAD..]
}

/// Rewrites the secret's three check characters (test-token generation).
#[cfg(any(test, feature = "test-support"))]
pub fn entra_client_secret_repair(secret: &mut [u8]) -> bool {
    if secret.len() != ENTRA_LEN {
        return false;
    }
    let check = entra_check(&secret[..ENTRA_HEAD]);
    secret[ENTRA_HEAD..].copy_from_slice(&check);
    entra_client_secret_valid(secret)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (xorshift64*), so the keys built here
    /// are random-looking yet the same on every run. No committed literal
    /// passes a real checksum: every key is built and repaired at test time.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        }

        fn pick(&mut self, set: &[u8]) -> u8 {
            set[self.below(set.len())]
        }

        fn fill(&mut self, set: &[u8], n: usize) -> Vec<u8> {
            (0..n).map(|_| self.pick(set)).collect()
        }
    }

    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    fn seed(name: &str) -> u64 {
        seed_from_name(name).unwrap()
    }

    /// One HIS v1 key layout (§2.1 of the catalogue) and the seeds of the
    /// rules that use it.
    struct Kind {
        signature: &'static [u8],
        /// Key bytes: 32, 39, 40 or 64.
        bytes: usize,
        alphabet: &'static [u8],
        seeds: &'static [&'static str],
    }

    const KINDS: &[Kind] = &[
        Kind {
            signature: b"+ASt",
            bytes: 64,
            alphabet: BASE64_STD,
            seeds: &["Default0"],
        },
        Kind {
            signature: b"ACDb",
            bytes: 64,
            alphabet: BASE64_STD,
            seeds: &[
                "Encryp00", "MastRO00", "MastRW00", "Resour00", "SysAll00", "SystRO00", "SystRW00",
            ],
        },
        Kind {
            signature: b"+ABa",
            bytes: 64,
            alphabet: BASE64_STD,
            seeds: &["AbAcct00"],
        },
        Kind {
            signature: b"+AMC",
            bytes: 64,
            alphabet: BASE64_STD,
            seeds: &["Classic0"],
        },
        Kind {
            signature: b"APIM",
            bytes: 64,
            alphabet: BASE64_STD,
            seeds: &["Tenant00", "IoTHub00", "Gatewy00", "GitKey00"],
        },
        Kind {
            signature: b"AzFu",
            bytes: 40,
            alphabet: BASE64_URL,
            seeds: &["Functi00", "Master00", "System00"],
        },
        Kind {
            signature: b"AzSe",
            bytes: 39,
            alphabet: ALNUM,
            seeds: &["Query000", "PAdmin00"],
        },
        Kind {
            signature: b"+ACR",
            bytes: 39,
            alphabet: BASE64_STD,
            seeds: &["ACRDflt0"],
        },
        Kind {
            signature: b"AzCa",
            bytes: 32,
            alphabet: BASE64_STD,
            seeds: &["Access00"],
        },
        Kind {
            signature: b"+ASb",
            bytes: 32,
            alphabet: BASE64_STD,
            seeds: &["Send0000", "Listen00", "Manage00"],
        },
        Kind {
            signature: b"+AEh",
            bytes: 32,
            alphabet: BASE64_STD,
            seeds: &["Send0000", "Listen00", "Manage00"],
        },
        Kind {
            signature: b"+ARm",
            bytes: 32,
            alphabet: BASE64_STD,
            seeds: &["Send0000", "Listen00", "Manage00"],
        },
        Kind {
            signature: b"AIoT",
            bytes: 32,
            alphabet: BASE64_STD,
            seeds: &["IoTHub00", "DpsKey00", "Device00"],
        },
        Kind {
            signature: b"AZEG",
            bytes: 32,
            alphabet: BASE64_STD,
            seeds: &["SendRecv"],
        },
    ];

    /// A string shaped like the rule regex for `kind` (random characters,
    /// the signature, the constrained alignment character, padding), with
    /// arbitrary check characters.
    fn shaped(kind: &Kind, rng: &mut Rng) -> Vec<u8> {
        // (random chars, alignment char set, free check chars, last char set, padding)
        let (random, next, tail, last, pad): (usize, &[u8], usize, &[u8], &[u8]) = match kind.bytes
        {
            32 => (33, b"ABCDEFGHIJKLMNOP", 5, b"", b"="),
            39 => (42, b"ABCD", 5, b"", b""),
            40 => (44, b"", 5, b"AQgw", b"=="),
            _ => (76, b"", 5, b"AQgw", b"=="),
        };
        let mut key = rng.fill(kind.alphabet, random);
        key.extend_from_slice(kind.signature);
        if !next.is_empty() {
            key.push(rng.pick(next));
        }
        key.extend(rng.fill(kind.alphabet, tail));
        if !last.is_empty() {
            key.push(rng.pick(last));
        }
        key.extend_from_slice(pad);
        key
    }

    fn valid_key(kind: &Kind, seed_name: &str, rng: &mut Rng) -> Vec<u8> {
        // A key of the URL-safe or base62-only kinds must stay in its
        // alphabet after repair; draw again until it does (as the generator
        // does against the rule regex).
        for _ in 0..200 {
            let mut key = shaped(kind, rng);
            let before = key.clone();
            assert!(
                his_v1_repair(&mut key, seed(seed_name)),
                "{} -> {}",
                String::from_utf8_lossy(&before),
                String::from_utf8_lossy(&key)
            );
            if key.iter().all(|c| kind.alphabet.contains(c) || *c == b'=') {
                return key;
            }
        }
        panic!("no key in the alphabet of {:?}", kind.signature);
    }

    #[test]
    fn seed_names_read_big_endian() {
        assert_eq!(seed("ROSeed00"), 0x524f_5365_6564_3030);
        assert_eq!(seed("RWSeed00"), 0x5257_5365_6564_3030);
        assert_eq!(seed("Default0"), MARVIN_SEED_DEFAULT0);
        assert_eq!(seed("AadPwd00"), AAD_SEED);
        assert_eq!(seed_from_name("Short00"), None);
    }

    #[test]
    fn his_v1_repair_then_valid_for_every_kind_and_seed() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for kind in KINDS {
            for &name in kind.seeds {
                for _ in 0..4 {
                    let key = valid_key(kind, name, &mut rng);
                    let sig_at =
                        key.len() - key.iter().rev().take_while(|&&c| c == b'=').count() - 10;
                    assert_eq!(
                        &key[sig_at..sig_at + 4],
                        kind.signature,
                        "repair moved the signature"
                    );
                    assert!(
                        his_v1_valid(&key, &[seed(name)]),
                        "{}",
                        String::from_utf8_lossy(&key)
                    );
                    // Every other seed of the kind rejects it: that is how
                    // rules sharing a signature tell their keys apart.
                    for &other in kind.seeds.iter().filter(|&&o| o != name) {
                        assert!(
                            !his_v1_valid(&key, &[seed(other)]),
                            "{name} key passes {other}"
                        );
                    }
                    assert!(!his_v1_valid(&key, &[seed("Unknown0")]));
                    assert!(his_v1_valid(&key, &[seed("Unknown0"), seed(name)]));
                    assert!(!his_v1_valid(&key, &[]));
                }
            }
        }
    }

    #[test]
    fn his_v1_rejects_any_one_character_change() {
        let mut rng = Rng(42);
        for kind in KINDS {
            let name = kind.seeds[0];
            let key = valid_key(kind, name, &mut rng);
            let seeds: Vec<u64> = kind.seeds.iter().map(|s| seed(s)).collect();
            for i in 0..key.len() {
                for &c in BASE64_STD.iter().chain(BASE64_URL[62..].iter()).chain(b"=") {
                    // `+`/`-` and `/`/`_` are the same digit in the two
                    // alphabets: swapping one in a key that has no other
                    // special character spells the same bytes.
                    let same_digit =
                        BASE64_VALUE[usize::from(c)] == BASE64_VALUE[usize::from(key[i])];
                    if c == key[i] || same_digit {
                        continue;
                    }
                    let mut changed = key.clone();
                    changed[i] = c;
                    assert!(
                        !his_v1_valid(&changed, &seeds),
                        "{} with char {i} changed to {}",
                        String::from_utf8_lossy(&key),
                        c as char
                    );
                }
            }
            // Truncated or extended keys fail too.
            // (Missing `=` padding alone is tolerated, as Microsoft's decoder
            // re-adds it; the rule regexes require it.)
            let data_len = key.iter().rposition(|&c| c != b'=').unwrap() + 1;
            let mut shorter = key.clone();
            shorter.remove(data_len - 1);
            assert!(!his_v1_valid(&shorter, &seeds));
            let mut longer = key.clone();
            longer.insert(0, b'A');
            assert!(!his_v1_valid(&longer, &seeds));
        }
    }

    #[test]
    fn his_v1_rejects_mixed_alphabets() {
        let mut rng = Rng(7);
        let storage = &KINDS[0];
        let functions = &KINDS[5];
        let mut mixed = 0;
        for _ in 0..50 {
            let std_key = valid_key(storage, "Default0", &mut rng);
            // The same bytes in the URL-safe alphabet are the same key.
            let url: Vec<u8> = std_key
                .iter()
                .map(|&c| match c {
                    b'+' => b'-',
                    b'/' => b'_',
                    c => c,
                })
                .collect();
            assert!(his_v1_valid(&url, &[seed("Default0")]));
            // Mixing the alphabets is rejected, whichever way round.
            if let Some(i) = std_key.iter().position(|&c| c == b'/') {
                let mut m = url.clone();
                m[i] = b'/';
                if m.iter().any(|&c| c == b'-' || c == b'_') {
                    assert!(!his_v1_valid(&m, &[seed("Default0")]));
                    mixed += 1;
                }
            }
            let fk = valid_key(functions, "Master00", &mut rng);
            if let Some(i) = fk.iter().position(|&c| c == b'_' || c == b'-') {
                let mut m = fk.clone();
                m[i] = if fk[i] == b'_' { b'/' } else { b'+' };
                if m.iter().any(|&c| c == b'-' || c == b'_') {
                    assert!(!his_v1_valid(&m, &[seed("Master00")]));
                    mixed += 1;
                }
            }
        }
        assert!(mixed > 10, "too few mixed keys exercised: {mixed}");
    }

    #[test]
    fn his_v1_accepts_the_base62_text_fallback_for_88_characters() {
        let mut rng = Rng(99);
        let kind = &KINDS[1];
        let key = valid_key(kind, "MastRW00", &mut rng);
        let decoded = decode(&key[..80], true).unwrap();
        let mut fallback = key.clone();
        fallback[80..].copy_from_slice(&cask_canonical_text(marvin32(
            decoded.bytes(),
            seed("MastRW00"),
        )));
        assert_ne!(fallback, key);
        assert!(his_v1_valid(&fallback, &[seed("MastRW00")]));
        assert!(!his_v1_valid(&fallback, &[seed("MastRO00")]));
    }

    /// A CASK key shaped like the per-provider rules, checksum not yet set.
    fn cask_shaped(rng: &mut Rng, provider: &[u8; 4], reserved: &[u8; 4], long: bool) -> Vec<u8> {
        let mut key = rng.fill(ALNUM, 52);
        key.extend_from_slice(b"JQQJ99");
        key.push(rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
        key.push(rng.pick(b"ABCDEFGHIJKL"));
        key.extend(rng.fill(ALNUM, 12));
        key.extend_from_slice(reserved);
        key.extend_from_slice(provider);
        key.extend_from_slice(b"0000");
        if long {
            key.extend_from_slice(b"00==");
        }
        key
    }

    const PROVIDERS: &[&[u8; 4]] = &[
        b"AZDO", b"AZEG", b"AZCS", b"ACOG", b"AZAC", b"AZFR", b"AZMR", b"AZMP", b"msql", b"TEST",
    ];

    /// Writes the raw-base64 checksum encoding into `key` (the older one).
    fn with_raw_checksum(key: &[u8]) -> Vec<u8> {
        let mut out = key.to_vec();
        let head = decode(&key[..80], true).unwrap();
        let raw = cask_raw_text(marvin32(head.bytes(), MARVIN_SEED_DEFAULT0));
        let n = key.len() - 80;
        out[80..].copy_from_slice(&raw[..n]);
        out
    }

    #[test]
    fn cask_repair_then_valid_in_both_encodings_and_lengths() {
        let mut rng = Rng(5);
        let mut raw_alnum = 0;
        for &provider in PROVIDERS {
            for long in [false, true] {
                for _ in 0..8 {
                    let mut key = cask_shaped(&mut rng, provider, b"AAAA", long);
                    assert!(cask_repair(&mut key));
                    assert!(cask_valid(&key), "{}", String::from_utf8_lossy(&key));
                    let raw = with_raw_checksum(&key);
                    assert_ne!(raw, key);
                    assert!(cask_valid(&raw), "raw {}", String::from_utf8_lossy(&raw));
                    if raw[80..]
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || *c == b'=')
                    {
                        raw_alnum += 1;
                    }
                    // A short key's checksum is the long form's prefix.
                    if long {
                        assert!(cask_valid(&key[..84]));
                        assert!(cask_valid(&with_raw_checksum(&key[..84])));
                    }
                }
            }
        }
        assert!(raw_alnum > 0);
    }

    #[test]
    fn cask_rejects_any_one_character_change() {
        let mut rng = Rng(11);
        for long in [false, true] {
            let mut key = cask_shaped(&mut rng, b"ACOG", b"AAAB", long);
            assert!(cask_repair(&mut key));
            for encoded in [key.clone(), with_raw_checksum(&key)] {
                for i in 0..encoded.len() {
                    for &c in ALNUM.iter().chain(b"+/=") {
                        if c == encoded[i] {
                            continue;
                        }
                        let mut changed = encoded.clone();
                        changed[i] = c;
                        assert!(
                            !cask_valid(&changed),
                            "{} with char {i} changed to {}",
                            String::from_utf8_lossy(&encoded),
                            c as char
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn cask_layout_is_checked() {
        let mut rng = Rng(13);
        let mut key = cask_shaped(&mut rng, b"AZEG", b"AAAA", false);
        assert!(cask_repair(&mut key));
        assert!(cask_valid(&key));
        // Each layout violation, with the checksum made to hold again, so
        // only the layout check can reject it.
        let violations: &[(usize, &[u8])] = &[
            (52, b"XQQJ"),
            (56, b"8"),
            (57, b"A"),
            (59, b"M"),
            (76, b"AzEG"),
            (76, b"1ZEG"),
        ];
        for &(at, text) in violations {
            let mut bad = key.clone();
            bad[at..at + text.len()].copy_from_slice(text);
            assert!(cask_repair(&mut bad));
            assert!(
                !cask_valid(&bad),
                "{} accepted",
                String::from_utf8_lossy(&bad)
            );
        }
        // Derived and hashed kinds, and a lower-case provider, are CASK keys.
        for (at, text) in [(57, b"D" as &[u8]), (57, b"H"), (76, b"azeg")] {
            let mut ok = key.clone();
            ok[at..at + text.len()].copy_from_slice(text);
            assert!(cask_repair(&mut ok));
            assert!(cask_valid(&ok));
        }
        assert!(!cask_valid(&key[..83]));
        let mut bad_long = key.clone();
        bad_long.extend_from_slice(b"0A==");
        assert!(
            !cask_valid(&bad_long),
            "the long form's tail is checked exactly"
        );
    }

    fn entra_shaped(rng: &mut Rng) -> Vec<u8> {
        let mut s = rng.fill(AAD_ALPHABET, 3);
        s.extend_from_slice(b"8Q~");
        s.extend(rng.fill(AAD_ALPHABET, 34));
        s
    }

    #[test]
    fn entra_repair_then_valid_and_one_change_rejected() {
        let mut rng = Rng(17);
        for _ in 0..100 {
            let mut s = entra_shaped(&mut rng);
            assert!(entra_client_secret_repair(&mut s));
            assert!(entra_client_secret_valid(&s));
        }
        let mut s = entra_shaped(&mut rng);
        assert!(entra_client_secret_repair(&mut s));
        for i in 0..s.len() {
            for &c in AAD_ALPHABET.iter() {
                if c == s[i] {
                    continue;
                }
                let mut changed = s.clone();
                changed[i] = c;
                assert!(
                    !entra_client_secret_valid(&changed),
                    "char {i} -> {}",
                    c as char
                );
            }
        }
        // The checksum is keyed by its seed: another seed's digits differ.
        let other = encode_padded::<6>(
            marvin32(&s[..ENTRA_HEAD], MARVIN_SEED_DEFAULT0),
            AAD_ALPHABET,
        );
        let mut wrong_seed = s.clone();
        wrong_seed[ENTRA_HEAD..].copy_from_slice(&other[..3]);
        assert!(wrong_seed == s || !entra_client_secret_valid(&wrong_seed));
        let mut seven = s.clone();
        seven[3] = b'7';
        assert!(!entra_client_secret_valid(&seven));
        assert!(!entra_client_secret_valid(&s[..39]));
    }

    #[test]
    fn wrong_seed_is_rejected_for_cask() {
        // CASK keys are always checksummed under "Default0": a key whose
        // checksum was computed under another seed is not one.
        let mut rng = Rng(19);
        let mut key = cask_shaped(&mut rng, b"AZMP", b"AAAA", false);
        let head = decode(&key[..80], true).unwrap();
        let canon = cask_canonical_text(marvin32(head.bytes(), seed("SendRecv")));
        key[80..84].copy_from_slice(&canon[..4]);
        assert!(!cask_valid(&key));
    }

    #[test]
    fn nothing_panics_on_arbitrary_input() {
        let mut rng = Rng(23);
        let mut inputs: Vec<Vec<u8>> =
            vec![vec![], vec![b'='; 88], vec![0xff; 84], vec![b'A'; 200]];
        for n in 0..220 {
            inputs.push((0..n).map(|_| rng.below(256) as u8).collect());
            inputs.push(rng.fill(b"AQgw+/-_=JQ9~.8", n));
        }
        let seeds = [seed("Default0"), seed("Master00")];
        for input in &inputs {
            let _ = his_v1_valid(input, &seeds);
            let _ = cask_valid(input);
            let _ = entra_client_secret_valid(input);
            let _ = super::super::azure_devops_pat_valid(input);
            let mut copy = input.clone();
            let _ = his_v1_repair(&mut copy, seeds[0]);
            let mut copy = input.clone();
            let _ = cask_repair(&mut copy);
            let mut copy = input.clone();
            let _ = entra_client_secret_repair(&mut copy);
        }
    }
}
