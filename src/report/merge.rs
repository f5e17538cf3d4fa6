//! `patscan merge`: reports of the same rule set and patscan version
//! joined into the report one run over all their inputs would have
//! written: two folders scanned separately, two repositories, the shards
//! of `scan --org --shard I/N`. Secrets found in several inputs become one
//! (by fingerprint), the order is the one a single run uses (repository,
//! path, line, …; secrets by confidence, then first appearance), and the
//! summary is recomputed.
//!
//! Inputs are checked first: one format, the same rule set and patscan
//! version (reports of other rules would merge into something no run
//! describes); and when they are organisation runs, the same
//! organisation and detection key (rules, limits, patscan version), no
//! shard twice.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::civil_time::epoch_seconds;

#[derive(Debug, Error)]
pub enum MergeError {
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error("{0}")]
    Mismatch(String),
}

/// What kind of report a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--format json` (secrets with their occurrences).
    Json,
    /// `--format json --ungrouped`.
    JsonUngrouped,
    Jsonl,
    Sarif,
}

/// One parsed input.
pub struct Input {
    pub path: String,
    pub kind: Kind,
    /// The document; for JSON Lines, an array of the lines.
    pub value: Value,
}

impl Input {
    /// Recognises the format from the content.
    pub fn parse(path: &str, text: &str) -> Result<Input, MergeError> {
        let error = |message: String| MergeError::Input {
            path: path.to_string(),
            message,
        };
        let trimmed = text.trim();
        let whole = serde_json::from_str::<Value>(trimmed).ok();
        let (kind, value) = match whole {
            Some(v) if v.get("runs").is_some() => (Kind::Sarif, v),
            Some(v) if v.get("secrets").is_some() && v.get("summary").is_some() => (Kind::Json, v),
            Some(v) if v.get("findings").is_some() && v.get("summary").is_some() => {
                (Kind::JsonUngrouped, v)
            }
            // One finding is a one-line JSON Lines file.
            Some(v) if v.get("fingerprint").is_some() => (Kind::Jsonl, Value::Array(vec![v])),
            Some(_) => {
                return Err(error(
                    "not a patscan JSON, JSON Lines or SARIF report".into(),
                ))
            }
            None => {
                let mut lines = Vec::new();
                for (n, line) in trimmed.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let value: Value = serde_json::from_str(line).map_err(|e| {
                        error(format!(
                            "line {}: not JSON ({e}); not a patscan report",
                            n + 1
                        ))
                    })?;
                    lines.push(value);
                }
                (Kind::Jsonl, Value::Array(lines))
            }
        };
        Ok(Input {
            path: path.to_string(),
            kind,
            value,
        })
    }
}

/// Merges `inputs` (all of one kind) into one document, plus warnings
/// (missing shards). JSON Lines come back as an array of lines.
pub fn merge(inputs: &[Input]) -> Result<(Value, Vec<String>), MergeError> {
    let Some(first) = inputs.first() else {
        return Err(MergeError::Mismatch("nothing to merge".into()));
    };
    if let Some(other) = inputs.iter().find(|i| i.kind != first.kind) {
        return Err(MergeError::Mismatch(format!(
            "{} is {:?} and {} is {:?}: merge reports of one format",
            first.path, first.kind, other.path, other.kind
        )));
    }
    match first.kind {
        Kind::Json | Kind::JsonUngrouped => {
            check_rule_sets(inputs)?;
            let warnings = if is_org_run(first) {
                check_organisations(inputs)?
            } else if is_image_run(first) {
                check_images(inputs)?
            } else {
                Vec::new()
            };
            Ok((merge_json(inputs, first.kind == Kind::Json), warnings))
        }
        Kind::Jsonl => {
            let warnings = check_jsonl(inputs)?;
            let mut rows: Vec<Value> = inputs
                .iter()
                .flat_map(|i| i.value.as_array().cloned().unwrap_or_default())
                .collect();
            sort_rows(&mut rows);
            Ok((Value::Array(rows), warnings))
        }
        Kind::Sarif => {
            let warnings = check_sarif(inputs)?;
            Ok((merge_sarif(inputs), warnings))
        }
    }
}

/// A JSON report of `scan --org`.
fn is_org_run(input: &Input) -> bool {
    input.value["summary"]["organisation"].is_object()
}

/// A JSON report of `scan --image`.
fn is_image_run(input: &Input) -> bool {
    input.value["summary"]["images"].is_object()
}

/// Image runs: all of them, under one detection key; every shard once.
fn check_images(inputs: &[Input]) -> Result<Vec<String>, MergeError> {
    let first = &inputs[0];
    let key = &first.value["summary"]["images"]["detection_key"];
    for input in &inputs[1..] {
        let images = &input.value["summary"]["images"];
        if !images.is_object() {
            return Err(MergeError::Mismatch(format!(
                "{} is an image run (`scan --image`) and {} is not: merge the shards of one                  image list, or reports of other scans",
                first.path, input.path
            )));
        }
        if &images["detection_key"] != key {
            return Err(MergeError::Mismatch(format!(
                "{} and {} come from different rules or detection settings (or patscan                  versions) ({} against {}): their merge would describe no run",
                first.path, input.path, key, images["detection_key"]
            )));
        }
    }
    let shards: Vec<Option<&str>> = inputs
        .iter()
        .map(|i| i.value["summary"]["images"]["shard"].as_str())
        .collect();
    shard_warnings(inputs, &shards)
}

/// Every JSON input records the same rule set and patscan version
/// (`summary.rule_set`), and either all are organisation runs or none is.
fn check_rule_sets(inputs: &[Input]) -> Result<(), MergeError> {
    let first = &inputs[0];
    let rule_set = |input: &Input| -> Result<Value, MergeError> {
        let id = &input.value["summary"]["rule_set"];
        if id["patscan"].is_string() && id["rules"].is_string() {
            Ok(id.clone())
        } else {
            Err(MergeError::Input {
                path: input.path.clone(),
                message: "records no rule set (summary.rule_set): written by an older patscan \
                          or by `patscan verify`, so whether it matches the others cannot be \
                          told; scan again to merge it"
                    .into(),
            })
        }
    };
    let expected = rule_set(first)?;
    for input in &inputs[1..] {
        let found = rule_set(input)?;
        if found != expected {
            return Err(MergeError::Mismatch(format!(
                "{} and {} come from different rules or patscan versions (patscan {} with \
                 rules {} against patscan {} with rules {}): their merge would describe no run",
                first.path,
                input.path,
                expected["patscan"],
                expected["rules"],
                found["patscan"],
                found["rules"]
            )));
        }
        if is_org_run(input) != is_org_run(first) {
            let (org, other) = if is_org_run(first) {
                (first, input)
            } else {
                (input, first)
            };
            return Err(MergeError::Mismatch(format!(
                "{} is an organisation run (`scan --org`) and {} is not: merge the shards \
                 of one organisation, or reports of local scans",
                org.path, other.path
            )));
        }
    }
    Ok(())
}

/// The organisation summaries agree; every shard is there once.
fn check_organisations(inputs: &[Input]) -> Result<Vec<String>, MergeError> {
    let mut orgs = Vec::new();
    for input in inputs {
        let org = &input.value["summary"]["organisation"];
        if !org.is_object() {
            return Err(MergeError::Input {
                path: input.path.clone(),
                message: "not the report of a `scan --org` run (no summary.organisation)".into(),
            });
        }
        orgs.push((input, org));
    }
    let (first, org) = orgs[0];
    for (input, other) in &orgs[1..] {
        for (key, what) in [
            ("spec", "organisations"),
            (
                "detection_key",
                "rules or detection settings (or patscan versions)",
            ),
        ] {
            if other[key] != org[key] {
                return Err(MergeError::Mismatch(format!(
                    "{} and {} come from different {what} ({} against {}): their merge would \
                     describe no run",
                    first.path, input.path, org[key], other[key]
                )));
            }
        }
    }
    let shards: Vec<Option<&str>> = orgs.iter().map(|(_, o)| o["shard"].as_str()).collect();
    shard_warnings(inputs, &shards)
}

/// Refuses a shard given twice or mixed shard counts; warns of missing
/// shards.
fn shard_warnings(inputs: &[Input], shards: &[Option<&str>]) -> Result<Vec<String>, MergeError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut count = None;
    for (input, shard) in inputs.iter().zip(shards) {
        let Some(shard) = shard else { continue };
        if let Some(earlier) = seen.insert(shard, &input.path) {
            return Err(MergeError::Mismatch(format!(
                "{earlier} and {} are both shard {shard}",
                input.path
            )));
        }
        let n = shard.split_once('/').map(|(_, n)| n.to_string());
        if count.get_or_insert_with(|| n.clone()) != &n {
            return Err(MergeError::Mismatch(format!(
                "{} is shard {shard}, of a different split than the others",
                input.path
            )));
        }
    }
    let mut warnings = Vec::new();
    if let Some(Some(n)) = count {
        if let Ok(n) = n.parse::<u64>() {
            let missing: Vec<String> = (0..n)
                .map(|i| format!("{i}/{n}"))
                .filter(|s| !seen.contains_key(s.as_str()))
                .collect();
            if !missing.is_empty() {
                warnings.push(format!(
                    "shards {} are missing: the merged report covers only part of the \
                     organisation",
                    missing.join(", ")
                ));
            }
        }
    }
    Ok(warnings)
}

/// JSON Lines carry no summary: the findings' repositories must be of one
/// organisation (or of none: local scans). Which rules wrote them cannot
/// be told, which the warning says.
fn check_jsonl(inputs: &[Input]) -> Result<Vec<String>, MergeError> {
    let mut org: Option<(Value, Value, &str)> = None;
    for input in inputs {
        for row in input.value.as_array().into_iter().flatten() {
            let repo = &row["repository"];
            let here = (repo["platform"].clone(), repo["organisation"].clone());
            match &org {
                None => org = Some((here.0, here.1, &input.path)),
                Some((p, o, path)) if (p, o) != (&here.0, &here.1) => {
                    return Err(MergeError::Mismatch(format!(
                        "{path} and {} hold findings of different organisations \
                         ({p}:{o} against {}:{})",
                        input.path, here.0, here.1
                    )))
                }
                Some(_) => {}
            }
        }
    }
    Ok(vec![
        "JSON Lines reports do not record the rules or patscan version that wrote them: \
         merged without checking that they agree (JSON and SARIF reports are checked)"
            .into(),
    ])
}

// ---- the report order, as `scan::finish` and `group` make it --------------

/// One part of a sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    N(i128),
    S(String),
}

fn s(value: &Value) -> Part {
    Part::S(value.as_str().unwrap_or_default().to_string())
}

fn n(value: &Value) -> Part {
    Part::N(value.as_u64().map_or(0, i128::from))
}

/// Where `Origin`'s derived order puts each kind (its variant order).
fn origin_rank(kind: &str) -> i128 {
    match kind {
        "file" => 0,
        "stdin" => 1,
        "staged" => 2,
        "commit" => 3,
        "unreachable-commit" => 4,
        "commit-message" => 5,
        "tag-message" => 6,
        "unreachable" => 7,
        "ci-log" => 8,
        "pipeline-variable" => 9,
        "image-layer" => 10,
        "image-config" => 11,
        _ => 12,
    }
}

/// Where `LayerState`'s derived order puts each state.
fn state_rank(state: Option<&str>) -> i128 {
    match state {
        Some("visible") => 0,
        Some("overwritten") => 1,
        Some("deleted") => 2,
        _ => 3,
    }
}

/// A row's place in a report: repository, path, line, column, rule, then
/// the origin, field by field as `Finding`'s order compares them.
fn row_key(row: &Value, rule_id: &Value) -> Vec<Part> {
    let mut key = Vec::with_capacity(16);
    let repo = &row["repository"];
    if repo.is_object() {
        key.push(Part::N(1));
        key.push(s(&repo["platform"]));
        key.push(s(&repo["organisation"]));
        key.push(match &repo["project"] {
            Value::String(p) => Part::S(p.clone()),
            _ => Part::N(0),
        });
        key.extend([s(&repo["name"]), s(&repo["url"]), s(&repo["id"])]);
    } else {
        key.push(Part::N(0));
    }
    key.extend([
        s(&row["path"]),
        n(&row["line"]),
        n(&row["column"]),
        s(rule_id),
    ]);
    let kind = row["origin"].as_str().unwrap_or_default();
    key.push(Part::N(origin_rank(kind)));
    let fields: &[&str] = match kind {
        "tag-message" => &["tag", "author", "date"],
        "ci-log" => &["pipeline", "run", "run_id", "job", "step", "log_url"],
        "pipeline-variable" => &["setting", "owner", "variable"],
        "image-layer" | "image-config" => &[],
        _ => &["commit", "author", "date", "summary", "blob"],
    };
    key.extend(fields.iter().map(|f| s(&row[*f])));
    if kind.starts_with("image-") {
        // As `Origin`'s derived order: the image, then the layer (its
        // digest, index and state) or the config (digest, field).
        let image = &row["image"];
        key.extend([
            s(&image["reference"]),
            s(&image["manifest"]),
            match &image["platform"] {
                Value::String(p) => Part::S(p.clone()),
                _ => Part::N(-1),
            },
        ]);
        if kind == "image-layer" {
            key.extend([
                s(&image["layer_digest"]),
                n(&image["layer_index"]),
                Part::N(state_rank(image["layer_state"].as_str())),
            ]);
        } else {
            key.extend([s(&image["config_digest"]), s(&image["config_field"])]);
        }
    }
    key
}

/// Sorts rows into report order and drops exact copies (a place reported
/// by two overlapping inputs).
fn sort_rows(rows: &mut Vec<Value>) {
    rows.sort_by_cached_key(|r| (row_key(r, &r["rule_id"]), r.to_string()));
    rows.dedup();
}

/// When a place appeared, as `group` dates it: its commit's date for
/// the kinds that have a commit.
fn appeared(row: &Value) -> i64 {
    match row["origin"].as_str() {
        Some("commit" | "unreachable-commit" | "commit-message") => row["date"]
            .as_str()
            .and_then(epoch_seconds)
            .unwrap_or(i64::MAX),
        _ => i64::MAX,
    }
}

fn confidence_rank(value: &Value) -> u8 {
    match value.as_str() {
        Some("high") => 2,
        Some("medium") => 1,
        _ => 0,
    }
}

// ---- JSON ------------------------------------------------------------------

/// Fields of a grouped secret that are not the token's own.
const GROUP_FIELDS: [&str; 5] = [
    "occurrences",
    "occurrence_count",
    "first_seen",
    "nearby_organisations",
    "verification",
];

fn merge_json(inputs: &[Input], grouped: bool) -> Value {
    // Every place, with the token it belongs to.
    let mut tokens: HashMap<String, Map<String, Value>> = HashMap::new();
    let mut organisations: HashMap<String, Vec<Value>> = HashMap::new();
    let mut verifications: HashMap<String, Value> = HashMap::new();
    let mut rows: Vec<Value> = Vec::new();
    for input in inputs {
        if grouped {
            for secret in input.value["secrets"].as_array().into_iter().flatten() {
                let Some(object) = secret.as_object() else {
                    continue;
                };
                let fingerprint = secret["fingerprint"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let mut token = object.clone();
                for field in GROUP_FIELDS {
                    token.remove(field);
                }
                for org in secret["nearby_organisations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let list = organisations.entry(fingerprint.clone()).or_default();
                    if !list.contains(org) {
                        list.push(org.clone());
                    }
                }
                if secret["verification"].is_object() {
                    verifications
                        .entry(fingerprint.clone())
                        .or_insert_with(|| secret["verification"].clone());
                }
                for place in secret["occurrences"].as_array().into_iter().flatten() {
                    // A row: the token's fields with the place's.
                    let mut row = token.clone();
                    if let Some(place) = place.as_object() {
                        row.extend(place.clone());
                    }
                    rows.push(Value::Object(row));
                }
                tokens.entry(fingerprint).or_insert(token);
            }
        } else {
            rows.extend(
                input.value["findings"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
    }
    sort_rows(&mut rows);

    let mut problems: Vec<Value> = inputs
        .iter()
        .flat_map(|i| i.value["problems"].as_array().cloned().unwrap_or_default())
        .collect();
    problems.sort_by_key(|p| (p["path"].to_string(), p["message"].to_string()));
    problems.dedup();

    let mut summary = merge_summaries(inputs, &rows, problems.len());
    let mut document = Map::new();
    if grouped {
        let groups = group_rows(&rows, &tokens);
        summary.insert("secrets".into(), json!(groups.len()));
        summary.insert("occurrences".into(), json!(rows.len()));
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let secrets: Vec<Value> = groups
            .into_iter()
            .map(|(fingerprint, token, places)| {
                let mut secret = token;
                if let Some(orgs) = organisations.get(&fingerprint) {
                    secret.insert("nearby_organisations".into(), Value::Array(orgs.clone()));
                }
                if let Some(v) = verifications.get(&fingerprint) {
                    *statuses
                        .entry(v["status"].as_str().unwrap_or_default().to_string())
                        .or_insert(0) += 1;
                    secret.insert("verification".into(), v.clone());
                }
                if let Some(first) = places.iter().find(|p| {
                    matches!(
                        p["origin"].as_str(),
                        Some("commit" | "unreachable-commit" | "commit-message")
                    )
                }) {
                    secret.insert(
                        "first_seen".into(),
                        json!({"commit": first["commit"], "author": first["author"], "date": first["date"]}),
                    );
                }
                secret.insert("occurrence_count".into(), json!(places.len()));
                secret.insert("occurrences".into(), Value::Array(places));
                Value::Object(secret)
            })
            .collect();
        document.insert("secrets".into(), Value::Array(secrets));
        if !statuses.is_empty() {
            document.insert("verification_summary".into(), json!(statuses));
        }
    } else {
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for row in &rows {
            if let Some(status) = row["verification"]["status"].as_str() {
                *statuses.entry(status.to_string()).or_insert(0) += 1;
            }
        }
        document.insert("findings".into(), Value::Array(rows));
        if !statuses.is_empty() {
            document.insert("verification_summary".into(), json!(statuses));
        }
    }
    document.insert("problems".into(), Value::Array(problems));
    document.insert("summary".into(), Value::Object(summary));
    Value::Object(document)
}

/// The rows (in report order) grouped by fingerprint, each group's places
/// split from its token, in `group`'s order.
fn group_rows(
    rows: &[Value],
    tokens: &HashMap<String, Map<String, Value>>,
) -> Vec<(String, Map<String, Value>, Vec<Value>)> {
    let mut by_fingerprint: HashMap<&str, Vec<(usize, &Value)>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (position, row) in rows.iter().enumerate() {
        let fingerprint = row["fingerprint"].as_str().unwrap_or_default();
        by_fingerprint
            .entry(fingerprint)
            .or_insert_with(|| {
                order.push(fingerprint);
                Vec::new()
            })
            .push((position, row));
    }
    let mut groups: Vec<_> = order
        .into_iter()
        .map(|fingerprint| {
            let mut places = by_fingerprint.remove(fingerprint).unwrap_or_default();
            places.sort_by_key(|(position, row)| (appeared(row), *position));
            let (position, first) = places[0];
            let key = (
                Reverse(confidence_rank(&first["confidence"])),
                (appeared(first), position),
                fingerprint.to_string(),
            );
            let token = tokens.get(fingerprint).cloned().unwrap_or_default();
            let places: Vec<Value> = places
                .into_iter()
                .map(|(_, row)| {
                    let mut place = row.as_object().cloned().unwrap_or_default();
                    for field in token.keys() {
                        place.remove(field);
                    }
                    Value::Object(place)
                })
                .collect();
            (key, (fingerprint.to_string(), token, places))
        })
        .collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Counters summed, counts recomputed, the organisation's repositories
/// joined.
fn merge_summaries(inputs: &[Input], rows: &[Value], problems: usize) -> Map<String, Value> {
    let mut summary = inputs[0].value["summary"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let sum = |key: &str| -> u64 {
        inputs
            .iter()
            .map(|i| i.value["summary"][key].as_u64().unwrap_or(0))
            .sum()
    };
    for key in [
        "files_scanned",
        "bytes_scanned",
        "binary_files_skipped",
        "large_files_skipped",
        "archives_scanned",
        "archive_members_scanned",
    ] {
        summary.insert(key.into(), json!(sum(key)));
    }
    let seconds: f64 = inputs
        .iter()
        .map(|i| {
            i.value["summary"]["duration_seconds"]
                .as_f64()
                .unwrap_or(0.0)
        })
        .sum();
    summary.insert("duration_seconds".into(), json!(seconds));
    summary.insert("problems".into(), json!(problems));
    summary.insert("findings".into(), json!(rows.len()));
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        *by_rule
            .entry(row["rule_id"].as_str().unwrap_or_default().to_string())
            .or_insert(0) += 1;
    }
    summary.insert("findings_by_rule".into(), json!(by_rule));
    let mut suppressed = Map::new();
    for key in ["inline_comment", "allowlist", "baseline"] {
        let total: u64 = inputs
            .iter()
            .map(|i| i.value["summary"]["suppressed"][key].as_u64().unwrap_or(0))
            .sum();
        suppressed.insert(key.into(), json!(total));
    }
    summary.insert("suppressed".into(), Value::Object(suppressed));
    let stale: BTreeSet<String> = inputs
        .iter()
        .flat_map(|i| {
            i.value["summary"]["stale_baseline_entries"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|v| v.to_string())
        .collect();
    summary.insert(
        "stale_baseline_entries".into(),
        Value::Array(
            stale
                .into_iter()
                .filter_map(|v| serde_json::from_str(&v).ok())
                .collect(),
        ),
    );
    if inputs
        .iter()
        .any(|i| i.value["summary"]["cache"].is_object())
    {
        let mut cache = Map::new();
        for key in ["hits", "rescanned", "misses"] {
            let total: u64 = inputs
                .iter()
                .map(|i| i.value["summary"]["cache"][key].as_u64().unwrap_or(0))
                .sum();
            cache.insert(key.into(), json!(total));
        }
        summary.insert("cache".into(), Value::Object(cache));
    }
    if let Some(Value::Object(mut images)) = summary.get("images").cloned() {
        images.remove("shard");
        for key in [
            "layers_scanned",
            "layers_cached",
            "layers_failed",
            "layer_bytes",
        ] {
            let total: u64 = inputs
                .iter()
                .map(|i| i.value["summary"]["images"][key].as_u64().unwrap_or(0))
                .sum();
            images.insert(key.into(), json!(total));
        }
        // One entry per reference: a scanned one over a failed copy.
        let mut listed: BTreeMap<String, Value> = BTreeMap::new();
        for input in inputs {
            let own = input.value["summary"]["images"]["images"].as_array();
            for image in own.into_iter().flatten() {
                let key = image["reference"].as_str().unwrap_or_default().to_string();
                let better = image["status"] == "scanned";
                match listed.get(&key) {
                    Some(_) if !better => {}
                    _ => {
                        listed.insert(key, image.clone());
                    }
                }
            }
        }
        images.insert(
            "images".into(),
            Value::Array(listed.into_values().collect()),
        );
        summary.insert("images".into(), Value::Object(images));
    }
    if let Some(Value::Object(org)) = summary.get("organisation").cloned() {
        let mut org = org;
        org.remove("shard");
        // One entry per repository: a scanned one over a skipped copy.
        let mut repositories: BTreeMap<(String, String), Value> = BTreeMap::new();
        for input in inputs {
            let listed = input.value["summary"]["organisation"]["repositories"].as_array();
            for repo in listed.into_iter().flatten() {
                let key = (
                    repo["name"].as_str().unwrap_or_default().to_string(),
                    repo["id"].as_str().unwrap_or_default().to_string(),
                );
                let better = repo["status"] == "scanned";
                match repositories.get(&key) {
                    Some(_) if !better => {}
                    _ => {
                        repositories.insert(key, repo.clone());
                    }
                }
            }
        }
        org.insert(
            "repositories".into(),
            Value::Array(repositories.into_values().collect()),
        );
        summary.insert("organisation".into(), Value::Object(org));
    }
    summary
}

// ---- SARIF -----------------------------------------------------------------

/// Run properties an organisation scan's SARIF log carries.
pub const SARIF_ORGANISATION: &str = "patscan/organisation";
pub const SARIF_DETECTION_KEY: &str = "patscan/detectionKey";
pub const SARIF_SHARD: &str = "patscan/shard";

fn check_sarif(inputs: &[Input]) -> Result<Vec<String>, MergeError> {
    let run = |i: &Input| i.value["runs"][0].clone();
    let first = run(&inputs[0]);
    let rule_ids = |run: &Value| -> Vec<Value> {
        run["tool"]["driver"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["id"].clone())
            .collect()
    };
    let version = |run: &Value| run["tool"]["driver"]["version"].clone();
    for input in &inputs[1..] {
        let other = run(input);
        if version(&other) != version(&first) {
            return Err(MergeError::Mismatch(format!(
                "{} and {} were written by different patscan versions ({} against {})",
                inputs[0].path,
                input.path,
                version(&first),
                version(&other)
            )));
        }
        for (key, what) in [
            (SARIF_ORGANISATION, "organisations"),
            (SARIF_DETECTION_KEY, "rules or detection settings"),
        ] {
            if other["properties"][key] != first["properties"][key] {
                return Err(MergeError::Mismatch(format!(
                    "{} and {} come from different {what}",
                    inputs[0].path, input.path
                )));
            }
        }
        if rule_ids(&other) != rule_ids(&first) {
            return Err(MergeError::Mismatch(format!(
                "{} and {} were written with different rules",
                inputs[0].path, input.path
            )));
        }
    }
    let shards: Vec<Option<String>> = inputs
        .iter()
        .map(|i| {
            run(i)["properties"][SARIF_SHARD]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let shards: Vec<Option<&str>> = shards.iter().map(|s| s.as_deref()).collect();
    shard_warnings(inputs, &shards)
}

/// The first log with every input's results (in report order, exact
/// copies dropped) and notifications.
fn merge_sarif(inputs: &[Input]) -> Value {
    let mut log = inputs[0].value.clone();
    let mut results: Vec<Value> = Vec::new();
    let mut notifications: Vec<Value> = Vec::new();
    let mut omitted = 0;
    for input in inputs {
        let run = &input.value["runs"][0];
        results.extend(run["results"].as_array().cloned().unwrap_or_default());
        notifications.extend(
            run["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        omitted += run["properties"]["patscan/omittedResults"]
            .as_u64()
            .unwrap_or(0);
    }
    results.sort_by_cached_key(|r| (sarif_key(r), r.to_string()));
    results.dedup();
    notifications.sort_by_key(|n| n.to_string());
    notifications.dedup();
    let run = &mut log["runs"][0];
    run["results"] = Value::Array(results);
    if run["invocations"][0].is_object() {
        run["invocations"][0]["toolExecutionNotifications"] = Value::Array(notifications);
    }
    if let Some(properties) = run["properties"].as_object_mut() {
        properties.remove(SARIF_SHARD);
        if omitted > 0 {
            properties.insert("patscan/omittedResults".into(), json!(omitted));
        }
    }
    log
}

/// A SARIF result's place in report order, from its location and the
/// repository and origin it carries in its properties.
fn sarif_key(result: &Value) -> Vec<Part> {
    let properties = &result["properties"];
    let location = &result["locations"][0]["physicalLocation"];
    let mut row = properties["origin"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    row.insert("origin".into(), properties["origin"]["kind"].clone());
    row.insert("repository".into(), properties["repository"].clone());
    row.insert("path".into(), location["artifactLocation"]["uri"].clone());
    row.insert("line".into(), location["region"]["startLine"].clone());
    row.insert("column".into(), location["region"]["startColumn"].clone());
    row_key(&Value::Object(row), &result["ruleId"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        let kind = |text: &str| Input::parse("x", text).map(|i| i.kind);
        assert_eq!(kind(r#"{"runs": []}"#).unwrap(), Kind::Sarif);
        assert_eq!(
            kind(r#"{"secrets": [], "summary": {}}"#).unwrap(),
            Kind::Json
        );
        assert_eq!(
            kind(r#"{"findings": [], "summary": {}}"#).unwrap(),
            Kind::JsonUngrouped
        );
        assert_eq!(
            kind("{\"fingerprint\":\"a\"}\n{\"fingerprint\":\"b\"}\n").unwrap(),
            Kind::Jsonl
        );
        assert_eq!(kind("").unwrap(), Kind::Jsonl);
        assert!(kind("{\"a\": 1}").is_err());
        assert!(kind("not json\n").is_err());
    }

    #[test]
    fn a_shard_given_twice_or_of_another_split_is_refused() {
        let input = |path: &str, shard: &str| Input {
            path: path.into(),
            kind: Kind::Json,
            value: json!({"secrets": [], "problems": [], "summary": {
                "rule_set": {"patscan": "0.1.0", "rules": "r"},
                "organisation": {
                "spec": "github:acme", "detection_key": "k", "shard": shard,
                "repositories_listed": 0, "repositories": [], "api": "x"}}}),
        };
        assert!(merge(&[input("a", "0/2"), input("b", "0/2")]).is_err());
        assert!(merge(&[input("a", "0/2"), input("b", "1/3")]).is_err());
        let (_, warnings) = merge(&[input("a", "0/3"), input("b", "2/3")]).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("1/3"), "{warnings:?}");
    }

    fn local(path: &str, rules: &str, patscan: &str) -> Input {
        Input {
            path: path.into(),
            kind: Kind::Json,
            value: json!({"secrets": [], "problems": [], "summary": {
                "files_scanned": 2, "rule_set": {"patscan": patscan, "rules": rules}}}),
        }
    }

    #[test]
    fn local_scans_of_one_rule_set_merge_and_others_are_refused() {
        let (merged, warnings) =
            merge(&[local("a", "r1", "0.1.0"), local("b", "r1", "0.1.0")]).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(merged["summary"]["files_scanned"], 4);
        assert!(merged["summary"].get("organisation").is_none());
        for other in [local("b", "r2", "0.1.0"), local("b", "r1", "0.2.0")] {
            let err = merge(&[local("a", "r1", "0.1.0"), other]).unwrap_err();
            assert!(err.to_string().contains("different rules"), "{err}");
        }
        let mut old = local("b", "r1", "0.1.0");
        old.value["summary"]
            .as_object_mut()
            .unwrap()
            .remove("rule_set");
        let err = merge(&[local("a", "r1", "0.1.0"), old]).unwrap_err();
        assert!(err.to_string().contains("records no rule set"), "{err}");
    }
}
