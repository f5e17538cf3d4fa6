//! The opt-in generic rules (`--generic`, `generic = true`): generated
//! high-entropy passwords in realistic files are found, at low confidence,
//! only when asked for; the look-alikes users of other scanners complain
//! about (variable references, hashes, UUIDs, lock and localisation files)
//! stay quiet even then. Every value is generated here from a seed.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;
use patscan::tokengen::TokenRng;

/// A password as a generator makes one (letters, digits, a symbol), that
/// the generic value filters accept; bounded, so a filter that rejects
/// everything fails the test instead of hanging it.
fn password(rng: &mut TokenRng) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    const SYMBOLS: &[u8] = b"!#%*+-=?@^_~";
    for _ in 0..100 {
        let len = 14 + rng.below(10) as usize;
        let mut value = rng.string(ALNUM, len);
        let at = 1 + rng.below(len as u64 - 2) as usize;
        value.insert_str(at, &rng.string(SYMBOLS, 1));
        if patscan::generic::check_value(value.as_bytes()).is_ok() {
            return value;
        }
    }
    panic!("the generic filters rejected 100 generated passwords");
}

fn hex(rng: &mut TokenRng, len: usize) -> String {
    rng.string(b"0123456789abcdef", len)
}

fn uuid(rng: &mut TokenRng) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

/// Writes the tree; returns the generic findings it must give
/// (path, line, rule) and every generated value.
fn plant_tree(dir: &Path, seed: u64) -> (BTreeSet<(String, usize, String)>, Vec<String>) {
    let mut rng = TokenRng::new(seed);
    let mut expected = BTreeSet::new();
    let mut values = Vec::new();
    let write = |path: &str, text: String| {
        let target = dir.join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, text).unwrap();
    };
    let secret = |rng: &mut TokenRng, values: &mut Vec<String>| {
        let value = password(rng);
        values.push(value.clone());
        value
    };

    // Real secrets, one per line the test names.
    let (a, b) = (secret(&mut rng, &mut values), secret(&mut rng, &mut values));
    write(
        ".env",
        format!(
            "# local settings\nDB_HOST=localhost\nDB_PASSWORD={a}\nREDIS_PASSWORD=${{REDIS_PASSWORD}}\nSTRIPE_API_KEY=\"{b}\"\nAPP_TOKEN=$APP_TOKEN\n"
        ),
    );
    expected.insert((".env".to_string(), 3, "generic-password".to_string()));
    expected.insert((".env".to_string(), 5, "generic-api-key".to_string()));

    let (c, d) = (secret(&mut rng, &mut values), secret(&mut rng, &mut values));
    let tenant = uuid(&mut rng);
    write(
        "src/Api/appsettings.json",
        format!(
            "{{\n  \"ConnectionStrings\": {{\n    \"Default\": \"Server=db;Database=shop;User Id=app;Password={c};\"\n  }},\n  \"AzureAd\": {{\n    \"TenantId\": \"{tenant}\",\n    \"ClientSecret\": \"{d}\",\n    \"ClientSecretRef\": \"@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x)\"\n  }},\n  \"Jwt\": {{ \"Secret\": \"{{{{ jwt_secret }}}}\" }}\n}}\n"
        ),
    );
    // Line 3's password is both generic-password's and the default
    // connection-string-password rule's: see `the_connection_password`.
    expected.insert((
        "src/Api/appsettings.json".to_string(),
        7,
        "generic-secret".to_string(),
    ));

    let e = secret(&mut rng, &mut values);
    write(
        "src/main/resources/application.properties",
        format!(
            "spring.datasource.url=jdbc:postgresql://db:5432/shop\nspring.datasource.password={e}\napp.jwt.secret=${{JWT_SECRET}}\napp.cache.token-ttl=3600\n"
        ),
    );
    expected.insert((
        "src/main/resources/application.properties".to_string(),
        2,
        "generic-password".to_string(),
    ));

    let f = secret(&mut rng, &mut values);
    write(
        "docker-compose.yml",
        format!(
            "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: \"{f}\"\n      PGPASSWORD_FILE: /run/secrets/db_password\n  cache:\n    environment:\n      - REDIS_PASSWORD=${{REDIS_PASSWORD}}\n"
        ),
    );
    expected.insert((
        "docker-compose.yml".to_string(),
        5,
        "generic-password".to_string(),
    ));

    let g = secret(&mut rng, &mut values);
    let digest = hex(&mut rng, 64);
    write(
        "shop/settings.py",
        format!(
            "import os\n\nSECRET_KEY = '{g}'\nDATABASES = {{'default': {{'PASSWORD': os.environ['DB_PASSWORD']}}}}\nAPI_TOKEN = '{digest}'\nEMAIL_HOST_PASSWORD = get_password()\nAUTH_TOKEN = settings.AUTH_TOKEN\n"
        ),
    );
    expected.insert((
        "shop/settings.py".to_string(),
        3,
        "generic-secret".to_string(),
    ));

    // Look-alikes: files where a generic finding means nothing, each with a
    // generated value the filters alone would let through.
    let lock_value = secret(&mut rng, &mut values);
    let integrity = format!("sha512-{}", rng.string(b"ABCDEFabcdef0123456789+/", 86));
    write(
        "web/package-lock.json",
        format!(
            "{{\n  \"packages\": {{\n    \"node_modules/x\": {{\n      \"integrity\": \"{integrity}==\",\n      \"token\": \"{lock_value}\"\n    }}\n  }}\n}}\n"
        ),
    );
    let locale_value = secret(&mut rng, &mut values);
    write(
        "web/src/locales/de.json",
        format!("{{\n  \"password\": \"{locale_value}\",\n  \"login\": \"Anmelden\"\n}}\n"),
    );
    let po_value = secret(&mut rng, &mut values);
    write(
        "po/fr.po",
        format!("msgid \"password\"\nmsgstr \"mot de passe\"\n# password: {po_value}\n"),
    );
    let min_value = secret(&mut rng, &mut values);
    write(
        "web/dist/app.min.js",
        format!("var a={{token:\"{min_value}\"}};\n"),
    );
    let test_value = secret(&mut rng, &mut values);
    write(
        "tests/conftest.py",
        format!(
            "TEST_PASSWORD = '{test_value}'\nuser_password = 'MyTestPassword1!'\ntoken = '{}'\n",
            uuid(&mut rng)
        ),
    );
    (expected, values)
}

/// The connection string's password in appsettings.json (line 3) is the
/// generic password rule's and the default `connection-string-password`
/// rule's (whenever its parser takes the generated password for a real
/// one): one secret, so one finding, the connection string's when it
/// stands (docs/detection.md, "When rules overlap").
fn the_connection_password(json: &serde_json::Value) -> String {
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "src/Api/appsettings.json" && f["line"] == 3)
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert!(
        ["generic-password", "connection-string-password"].contains(&rules[0]),
        "{rules:?}"
    );
    rules[0].to_string()
}

/// (path, line, rule) of each generic finding but the connection string's
/// password (see [`the_connection_password`]), and its confidence.
fn generic_findings(json: &serde_json::Value) -> BTreeSet<(String, usize, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("generic-"))
        .filter(|f| !(f["path"] == "src/Api/appsettings.json" && f["line"] == 3))
        .map(|f| {
            assert_eq!(f["confidence"], "low", "{f}");
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn generic_finds_the_generated_passwords_and_nothing_else() {
    for seed in [1, 2, 3, 4] {
        let dir = tempfile::tempdir().unwrap();
        let (expected, values) = plant_tree(dir.path(), seed);
        let run = scan_json(dir.path(), &["--generic"]);
        assert_eq!(run.code, 1, "stderr: {}", run.stderr);
        assert_eq!(generic_findings(&run.json), expected, "seed {seed}");
        the_connection_password(&run.json);
        // Masked like every other secret.
        for value in &values {
            assert!(!run.stdout.contains(value.as_str()), "a value leaked");
        }
    }
}

#[test]
fn without_generic_the_same_tree_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    plant_tree(dir.path(), 5);
    let run = scan_json(dir.path(), &[]);
    assert!(run.code <= 1, "stderr: {}", run.stderr);
    assert_eq!(generic_findings(&run.json), BTreeSet::new());
}

#[test]
fn the_config_key_turns_generic_on() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = plant_tree(dir.path(), 6);
    fs::write(dir.path().join(".patscan.toml"), "generic = true\n").unwrap();
    let run = scan_json(dir.path(), &[]);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert_eq!(generic_findings(&run.json), expected);
    the_connection_password(&run.json);
    // A generic rule can be disabled like any other.
    fs::write(
        dir.path().join(".patscan.toml"),
        "generic = true\ndisabled_rules = [\"generic-password\", \"generic-secret\", \"generic-api-key\"]\n",
    )
    .unwrap();
    let run = scan_json(dir.path(), &[]);
    assert!(run.code <= 1, "stderr: {}", run.stderr);
    assert_eq!(
        generic_findings(&run.json),
        expected
            .into_iter()
            .filter(|(_, _, rule)| rule == "generic-token")
            .collect()
    );
}

#[test]
fn rules_lists_the_generic_rules_only_with_generic() {
    let listed = |args: &[&str]| {
        let output = patscan().arg("rules").args(args).output().unwrap();
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let default = listed(&[]);
    assert!(!default.contains("generic-password"), "{default}");
    let generic = listed(&["--generic"]);
    for id in [
        "generic-password",
        "generic-secret",
        "generic-token",
        "generic-api-key",
    ] {
        assert!(generic.contains(id), "{id} missing: {generic}");
    }
}
