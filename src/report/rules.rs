//! What `patscan rules` prints: every rule with its provider, confidence and
//! how its findings are validated. The README's "Supported tokens" table is
//! this module's Markdown output, so the documentation cannot drift from the
//! rule files (a test compares them).

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::rules::{
    CheckEncoding, ChecksumInput, ChecksumKind, ChecksumSpec, Prefilter, RuleSet, RuleSpec,
};

/// How a rule's findings are validated, in a few words.
pub fn validation(spec: &RuleSpec) -> String {
    if let Some(parser) = spec.parser {
        return format!("`{}` parser (structure, placeholders)", parser.as_str());
    }
    match &spec.checksum {
        Some(checksum) => {
            let scheme = checksum_words(checksum);
            if let (true, Some(exact)) = (checksum.inferred, checksum.exact_length) {
                format!(
                    "{scheme} (exact for {exact}-character tokens; longer ones failing it are kept at {} confidence)",
                    spec.confidence
                )
            } else if checksum.inferred {
                format!(
                    "{scheme} (scheme inferred: a failing token is kept at {} confidence)",
                    spec.confidence
                )
            } else {
                scheme
            }
        }
        None => match spec.min_entropy {
            Some(floor) => format!("shape, entropy ≥ {floor} bits/char, placeholder filters"),
            None => "shape, placeholder filters".to_string(),
        },
    }
}

/// The short name of a validation kind for the one-line listing.
fn validation_kind(spec: &RuleSpec) -> &'static str {
    if spec.parser.is_some() {
        return "structure";
    }
    match &spec.checksum {
        Some(c) if c.inferred => "checksum?",
        Some(_) => "checksum",
        None => "entropy",
    }
}

fn checksum_words(checksum: &ChecksumSpec) -> String {
    match checksum.algorithm {
        ChecksumKind::AzureDevopsPat => {
            "Marvin32 checksum (CASK, seed `Default0`), signature and date fields".into()
        }
        ChecksumKind::AzureDevopsPatLegacy => {
            "CRC32 xor issuer magic over the decoded key; found bare, no keyword needed".into()
        }
        ChecksumKind::Crc32Base62 => "CRC32 → base62 checksum (last 6 characters)".into(),
        ChecksumKind::GitlabRoutable => "CRC32 → base36 checksum (last 7 characters)".into(),
        ChecksumKind::Atlassian => "CRC32 → hex checksum (last 8 characters)".into(),
        ChecksumKind::AzureHisV1 => format!(
            "Marvin32 checksum in the decoded key (HIS v1; seed{} {})",
            if checksum.seeds.len() == 1 { "" } else { "s" },
            checksum
                .seeds
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ChecksumKind::AzureCask => {
            "Marvin32 checksum (common annotated key, seed `Default0`; base62 or raw base64)".into()
        }
        ChecksumKind::EntraClientSecret => {
            "Marvin32 checksum (seed `AadPwd00`, base-66, last 3 characters)".into()
        }
        ChecksumKind::Crc32 | ChecksumKind::Crc32c | ChecksumKind::Xor => {
            let algorithm = match checksum.algorithm {
                ChecksumKind::Crc32 => "CRC32",
                ChecksumKind::Crc32c => "CRC-32C",
                _ => "XOR",
            };
            let encoding = match checksum.encoding {
                Some(
                    CheckEncoding::Base62
                    | CheckEncoding::Base62LowerFirst
                    | CheckEncoding::Base62LettersFirst,
                ) => "base62",
                Some(CheckEncoding::Base36) => "base36",
                Some(CheckEncoding::Base58) => "base58",
                Some(CheckEncoding::Hex | CheckEncoding::HexUpper | CheckEncoding::HexLe) => "hex",
                Some(CheckEncoding::Base64Le) => "base64",
                None => "?",
            };
            let over = match checksum.input {
                ChecksumInput::All => "",
                ChecksumInput::Body => " of the body",
            };
            let length = checksum.length.unwrap_or(0);
            format!(
                "{algorithm}{over} → {encoding} checksum (last {length} character{})",
                if length == 1 { "" } else { "s" }
            )
        }
    }
}

/// One line per rule: id, family, confidence, validation kind, name.
pub fn write_human(set: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let width = set
        .rules()
        .iter()
        .map(|r| r.spec.id.len())
        .max()
        .unwrap_or(0);
    let family_width = set
        .rules()
        .iter()
        .map(|r| family(&r.spec).len())
        .max()
        .unwrap_or(0);
    for rule in set.rules() {
        let spec = &rule.spec;
        let custom = if spec.custom { " (custom)" } else { "" };
        writeln!(
            out,
            "{:<width$}  {:<family_width$}  {:<6}  {:<9}  {}{custom}",
            spec.id,
            family(spec),
            spec.confidence.as_str(),
            validation_kind(spec),
            spec.name
        )?;
    }
    Ok(())
}

/// Each rule with the way its candidates are found, then the literals of
/// the keyword pass and which searcher took them.
pub fn write_prefilter(set: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let width = set
        .rules()
        .iter()
        .map(|r| r.spec.id.len())
        .max()
        .unwrap_or(0);
    for (index, rule) in set.rules().iter().enumerate() {
        let spec = &rule.spec;
        let how = set.prefilter(index);
        let words = match how {
            Prefilter::Context => spec.context.join(" "),
            Prefilter::Bare => String::new(),
            // The keywords looked up before a run, then those searched.
            Prefilter::PrecededAndAutomaton { searched } => {
                let (searched, before): (Vec<_>, Vec<_>) =
                    (spec.keywords.iter().enumerate()).partition(|(k, _)| searched >> k & 1 == 1);
                let words = |part: Vec<(usize, &String)>| {
                    part.into_iter()
                        .map(|(_, k)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                format!("{} (automaton: {})", words(before), words(searched))
            }
            _ => spec.keywords.join(" "),
        };
        writeln!(out, "{:<width$}  {:<10}  {words}", spec.id, how.as_str())?;
    }
    let literals = set.automaton_keywords();
    let searcher = match set.keywords() {
        Some(k) if k.is_packed() => "the packed SIMD searcher",
        Some(_) => "a DFA (too many for the packed SIMD searcher)",
        None => "nothing",
    };
    let packed = set.keywords().map_or(&[][..], |k| k.packed_literals());
    // Keywords under 4 bytes are searched apart, by their rarest byte.
    let short = literals
        .iter()
        .filter(|k| k.len() < 4 && !packed.contains(k))
        .count();
    let apart = if short > 0 {
        format!(" ({short} of them, shorter than its 4-byte fingerprint, by their rarest byte)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{} keywords in the keyword pass, searched by {searcher}{apart}:",
        literals.len()
    )?;
    writeln!(out, "{}", literals.join(" "))?;
    // Keywords that share 4 bytes or more are one literal of the search.
    writeln!(
        out,
        "\n{} literals in the SIMD search (keywords that share 4 bytes or more are one):",
        packed.len()
    )?;
    writeln!(out, "{}", packed.join(" "))
}

pub(crate) fn family(spec: &RuleSpec) -> &str {
    if spec.custom {
        "custom"
    } else if spec.family.is_empty() {
        "other"
    } else {
        &spec.family
    }
}

/// The README table: rules grouped by provider (alphabetically), with a
/// count line first.
pub fn write_markdown(set: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let mut by_family: BTreeMap<String, Vec<&RuleSpec>> = BTreeMap::new();
    for rule in set.rules() {
        by_family
            .entry(family(&rule.spec).to_lowercase())
            .or_default()
            .push(&rule.spec);
    }
    let total = set.rules().len();
    let checksummed = set
        .rules()
        .iter()
        .filter(|r| r.spec.checksum.as_ref().is_some_and(|c| !c.inferred))
        .count();
    writeln!(
        out,
        "{total} rules from {} providers; {checksummed} of them validated by an issuer checksum.\n",
        by_family.len()
    )?;
    writeln!(out, "| provider | rule | token | confidence | validation |")?;
    writeln!(out, "| --- | --- | --- | --- | --- |")?;
    for specs in by_family.values() {
        for (i, spec) in specs.iter().enumerate() {
            let provider = if i == 0 { family(spec) } else { "" };
            writeln!(
                out,
                "| {provider} | `{}` | {} | {} | {} |",
                spec.id,
                spec.name.replace('|', "\\|"),
                spec.confidence.as_str(),
                validation(spec).replace('|', "\\|")
            )?;
        }
    }
    Ok(())
}
