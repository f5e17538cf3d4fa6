//! `patscan lsp` driven as an editor drives it: the real binary on a pipe,
//! framed JSON-RPC messages in (initialize, didOpen, didChange with partial
//! edits, codeAction, executeCommand, shutdown, exit), and every byte it
//! writes kept, so each test can assert what the user sees (diagnostics,
//! their ranges in UTF-16 code units, the quick fixes) and that no raw token
//! ever crossed the pipe or reached its log. One test runs a real client:
//! headless Neovim.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{patscan, repo_root, token};

/// How long a test waits for one message before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A language client on the server's standard input and output.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    /// Messages read while waiting for another one.
    backlog: Vec<Value>,
    /// Every byte the server wrote on standard output and standard error.
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    next_id: i64,
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    /// Starts `patscan lsp` on `root` and completes the handshake.
    fn start(root: &Path, options: Value) -> Client {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("patscan"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("patscan lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (sender, messages) = mpsc::channel();
        {
            let mut out = BufReader::new(child.stdout.take().unwrap());
            let written = Arc::clone(&stdout);
            std::thread::spawn(move || loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if out.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    written.lock().unwrap().extend_from_slice(line.as_bytes());
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.trim().parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if out.read_exact(&mut body).is_err() {
                    return;
                }
                written.lock().unwrap().extend_from_slice(&body);
                let message: Value = serde_json::from_slice(&body).expect("a JSON body");
                if sender.send(message).is_err() {
                    return;
                }
            });
        }
        {
            let mut err = child.stderr.take().unwrap();
            let written = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = [0; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    written.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        let mut client = Client {
            child,
            stdin,
            messages,
            backlog: Vec::new(),
            stdout,
            stderr,
            next_id: 0,
        };
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{"uri": uri(root), "name": "root"}],
                "initializationOptions": options,
                "capabilities": {
                    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
                    "textDocument": {"publishDiagnostics": {"versionSupport": true}},
                },
            }),
        );
        assert_eq!(
            result["capabilities"]["textDocumentSync"]["change"], 2,
            "incremental"
        );
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer; the result, or the error
    /// as `{"error": …}`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait(|m| m["id"] == id && m.get("method").is_none());
        match response.get("error") {
            Some(error) => json!({ "error": error }),
            None => response["result"].clone(),
        }
    }

    /// The first message (from the backlog, then the pipe) that `wanted`
    /// accepts; the others are kept.
    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(at);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self.messages.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no awaited message within {PATIENCE:?}; got {:#?}; stderr: {}",
                    self.backlog,
                    String::from_utf8_lossy(&self.stderr.lock().unwrap())
                )
            });
            if message["method"] == "client/registerCapability" {
                let id = message["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            if wanted(&message) {
                return message;
            }
            self.backlog.push(message);
        }
    }

    /// The next diagnostics published for `uri` (with `version`, when given).
    fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let message = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && match version {
                    Some(v) => m["params"]["version"] == v,
                    None => true,
                }
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, path: &Path, language: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {
                "uri": uri(path), "languageId": language, "version": 1, "text": text,
            }}),
        );
        self.diagnostics(&uri(path), Some(1))
    }

    /// Sends one didChange of partial edits `(start line, start character,
    /// end line, end character, new text)`.
    fn change(&mut self, path: &Path, version: i64, edits: &[(u32, u32, u32, u32, &str)]) {
        let changes: Vec<Value> = edits
            .iter()
            .map(|&(l0, c0, l1, c1, text)| {
                json!({
                    "range": {"start": {"line": l0, "character": c0},
                              "end": {"line": l1, "character": c1}},
                    "text": text,
                })
            })
            .collect();
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version},
                   "contentChanges": changes}),
        );
    }

    /// `shutdown`, `exit`; the exit status and everything the server wrote,
    /// on standard output and on standard error.
    fn stop(mut self) -> (ExitStatus, Vec<u8>) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = wait_exit(&mut self.child);
        // The reader threads end with the pipes.
        std::thread::sleep(Duration::from_millis(50));
        let mut written = self.stdout.lock().unwrap().clone();
        written.extend_from_slice(&self.stderr.lock().unwrap());
        (status, written)
    }
}

fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_no_token(written: &[u8], tokens: &[&str]) {
    assert!(!written.is_empty());
    for t in tokens {
        assert!(
            memchr::memmem::find(written, t.as_bytes()).is_none(),
            "a raw token crossed the pipe: {}",
            String::from_utf8_lossy(written)
        );
        // Not even most of it.
        let half = &t[..t.len() / 2 + 2];
        assert!(memchr::memmem::find(written, half.as_bytes()).is_none());
    }
}

fn range(d: &Value) -> (u64, u64, u64, u64) {
    let r = &d["range"];
    (
        r["start"]["line"].as_u64().unwrap(),
        r["start"]["character"].as_u64().unwrap(),
        r["end"]["line"].as_u64().unwrap(),
        r["end"]["character"].as_u64().unwrap(),
    )
}

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    (dir, root)
}

#[test]
fn diagnostics_follow_partial_edits_with_utf16_ranges() {
    let (_dir, root) = workspace();
    let token = token("github-classic-pat", 11);
    let path = root.join("app.js");
    // `const s = "😀"; const t = "` is 26 characters, 27 UTF-16 code units
    // (the emoji is a surrogate pair), 29 bytes.
    let text = format!("// config\nconst s = \"😀\"; const t = \"{token}\";\n");
    let mut client = Client::start(&root, Value::Null);

    let diagnostics = client.open(&path, "javascript", &text);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics[0];
    assert_eq!(range(d), (1, 27, 1, 67));
    assert_eq!(d["severity"], 1, "a checksum-verified token is an error");
    assert_eq!(d["source"], "patscan");
    assert_eq!(d["code"], "github-classic-pat");
    let href = d["codeDescription"]["href"].as_str().unwrap();
    assert!(href.contains("/rules/github.toml#L"), "{href}");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.starts_with("GitHub personal access token (classic): ghp_…[40 chars]"),
        "{message}"
    );
    assert!(message.contains("checksum verified"), "{message}");
    assert!(
        message.contains("github.com/settings/tokens"),
        "the revoke text: {message}"
    );

    // A line inserted above and a second emoji before the token, in one
    // change of two partial edits applied in order.
    client.change(
        &path,
        2,
        &[(0, 0, 0, 0, "'use strict';\n"), (2, 11, 2, 11, "🎉")],
    );
    let diagnostics = client.diagnostics(&uri(&path), Some(2));
    assert_eq!(range(&diagnostics[0]), (2, 29, 2, 69));

    // One character of the token deleted: its checksum fails, no diagnostic.
    client.change(&path, 3, &[(2, 40, 2, 41, "")]);
    assert_eq!(
        client.diagnostics(&uri(&path), Some(3)),
        Vec::<Value>::new()
    );
    // Put back (the edit's text is that character): reported again.
    let removed = &token[11..12];
    client.change(&path, 4, &[(2, 40, 2, 40, removed)]);
    let diagnostics = client.diagnostics(&uri(&path), Some(4));
    assert_eq!(range(&diagnostics[0]), (2, 29, 2, 69));

    // A change replacing the whole text (no range) is honoured too.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&path), "version": 5},
               "contentChanges": [{"text": "const t = 1;\n"}]}),
    );
    assert_eq!(
        client.diagnostics(&uri(&path), Some(5)),
        Vec::<Value>::new()
    );

    let (status, written) = client.stop();
    assert!(status.success(), "{status}");
    assert_no_token(&written, &[&token]);
}

#[test]
fn quick_fixes_allow_comment_environment_variable_and_baseline() {
    let (_dir, root) = workspace();
    let token = token("github-classic-pat", 12);
    let py = root.join("deploy.py");
    let py_text = format!("#!/usr/bin/env python\nimport sys\napi_token = \"{token}\"\n");
    std::fs::write(&py, &py_text).unwrap();
    let ps = root.join("deploy.ps1");
    let ps_text = format!("$pat = '{token}'\n");
    let mut client = Client::start(&root, Value::Null);
    let d = client.open(&py, "python", &py_text);
    assert_eq!(range(&d[0]), (2, 13, 2, 53));

    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&py)},
               "range": d[0]["range"],
               "context": {"diagnostics": d}}),
    );
    let actions = actions.as_array().unwrap();
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Replace the token with the environment variable API_TOKEN",
            "Allow this token here (# patscan:allow)",
            "Add this token to the baseline (.patscan-baseline.json)",
        ]
    );
    for action in actions {
        assert_eq!(action["kind"], "quickfix");
        assert_eq!(action["diagnostics"][0]["code"], "github-classic-pat");
    }
    let env_edits = &actions[0]["edit"]["changes"][uri(&py)];
    assert_eq!(env_edits[0]["newText"], "import os\n");
    assert_eq!(
        env_edits[0]["range"]["start"],
        json!({"line": 1, "character": 0})
    );
    assert_eq!(env_edits[1]["newText"], "os.environ[\"API_TOKEN\"]");
    assert_eq!(
        env_edits[1]["range"],
        json!({"start": {"line": 2, "character": 12}, "end": {"line": 2, "character": 54}})
    );
    let allow = &actions[1]["edit"]["changes"][uri(&py)][0];
    assert_eq!(allow["newText"], " # patscan:allow");
    assert_eq!(allow["range"]["start"], json!({"line": 2, "character": 54}));

    // The client applies the allow comment: the token is allowed now.
    client.change(&py, 2, &[(2, 54, 2, 54, " # patscan:allow")]);
    assert_eq!(client.diagnostics(&uri(&py), Some(2)), Vec::<Value>::new());

    // PowerShell reads the variable its own way.
    let d = client.open(&ps, "powershell", &ps_text);
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&ps)}, "range": d[0]["range"],
               "context": {"diagnostics": d}}),
    );
    assert_eq!(
        actions[0]["edit"]["changes"][uri(&ps)][0]["newText"],
        "$env:PAT"
    );

    // The baseline action: a command the server runs, carrying the hash.
    let command = &actions[2]["command"];
    assert_eq!(command["command"], "patscan.addToBaseline");
    let result = client.request(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert_eq!(result, Value::Null, "{result}");
    assert_eq!(client.diagnostics(&uri(&ps), None), Vec::<Value>::new());
    let baseline = std::fs::read_to_string(root.join(".patscan-baseline.json")).unwrap();
    assert!(
        baseline.contains("\"rule_id\":\"github-classic-pat\""),
        "{baseline}"
    );
    assert!(baseline.contains("deploy.ps1"), "{baseline}");
    // The file is the CLI's: a scan with it reports nothing of this token.
    std::fs::write(&ps, &ps_text).unwrap();
    let scan = patscan()
        .current_dir(&root)
        .args([
            "scan",
            "--baseline",
            ".patscan-baseline.json",
            "--format",
            "json",
            ".",
        ])
        .output()
        .unwrap();
    assert!(
        scan.status.success(),
        "{}",
        String::from_utf8_lossy(&scan.stdout)
    );

    let (status, written) = client.stop();
    assert!(status.success());
    assert_no_token(&written, &[&token]);
}

#[test]
fn the_workspace_config_gitignore_and_saved_files_are_honoured() {
    let (_dir, root) = workspace();
    let gh = token("github-classic-pat", 21);
    let npm = token("npm-token", 22);
    std::fs::write(
        root.join(".patscan.toml"),
        "disabled_rules = [\"npm-token\"]\n[allow]\npaths = [\"fixtures/**\"]\n",
    )
    .unwrap();
    std::fs::write(root.join(".gitignore"), ".env\n").unwrap();
    std::fs::create_dir_all(root.join("fixtures")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    let text = format!("GH={gh}\nNPM={npm}\n");
    let mut client = Client::start(&root, Value::Null);

    let d = client.open(&root.join("src/a.env.example"), "plaintext", &text);
    let codes: Vec<&str> = d.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["github-classic-pat"], "npm-token is disabled");
    assert!(
        client.open(&root.join(".env"), "dotenv", &text).is_empty(),
        "gitignored"
    );
    assert!(
        client
            .open(&root.join("fixtures/t.txt"), "plaintext", &text)
            .is_empty(),
        "allow.paths"
    );

    // A file saved in the workspace, not open: published from disk.
    let saved = root.join("src/saved.sh");
    std::fs::write(&saved, format!("export GH={gh}\n")).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&saved), "type": 1}]}),
    );
    let d = client.diagnostics(&uri(&saved), None);
    assert_eq!(range(&d[0]), (0, 10, 0, 50));
    // Deleted: its diagnostics go.
    std::fs::remove_file(&saved).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&saved), "type": 3}]}),
    );
    assert!(client.diagnostics(&uri(&saved), None).is_empty());

    // The config changes on disk: every open document is scanned again.
    std::fs::write(
        root.join(".patscan.toml"),
        "disabled_rules = [\"github-classic-pat\"]\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&root.join(".patscan.toml")), "type": 2}]}),
    );
    let d = client.diagnostics(&uri(&root.join("src/a.env.example")), Some(1));
    let codes: Vec<&str> = d.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["npm-token"]);
    let d = client.diagnostics(&uri(&root.join("fixtures/t.txt")), Some(1));
    assert_eq!(d.len(), 1, "allow.paths is gone: {d:#?}");

    // A broken config is reported, masked, and the built-in rules stand in.
    std::fs::write(
        root.join(".patscan.toml"),
        format!("[allow]\nvalues = [\"{gh}\"\n"),
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&root.join(".patscan.toml")), "type": 2}]}),
    );
    let shown = client.wait(|m| m["method"] == "window/showMessage");
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(message.contains("invalid config"), "{message}");
    let d = client.diagnostics(&uri(&root.join("src/a.env.example")), Some(1));
    assert_eq!(d.len(), 2);

    // Closed, and never saved: its diagnostics go with it.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&root.join("src/a.env.example"))}}),
    );
    assert!(client
        .diagnostics(&uri(&root.join("src/a.env.example")), None)
        .is_empty());

    let (status, written) = client.stop();
    assert!(status.success());
    assert_no_token(&written, &[&gh, &npm]);
}

#[test]
fn a_burst_of_changes_is_scanned_once_at_its_end() {
    let (_dir, root) = workspace();
    let token = token("gitlab-pat-routable", 31);
    let path = root.join("notes.md");
    let mut client = Client::start(&root, json!({"debounceMs": 300}));
    assert!(client.open(&path, "markdown", "").is_empty());
    // The token typed character by character: 40-odd changes at once.
    for (i, c) in token.chars().enumerate() {
        let mut buf = [0; 4];
        client.change(
            &path,
            i as i64 + 2,
            &[(0, i as u32, 0, i as u32, c.encode_utf8(&mut buf))],
        );
    }
    let last = token.chars().count() as i64 + 1;
    let d = client.diagnostics(&uri(&path), Some(last));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["code"], "gitlab-pat-routable");
    assert_eq!(range(&d[0]), (0, 0, 0, token.len() as u64));
    let published = client
        .backlog
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .count();
    assert!(
        published < 4,
        "{published} scans before the last for {} changes",
        token.len()
    );
    let (status, written) = client.stop();
    assert!(status.success());
    assert_no_token(&written, &[&token]);
}

#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let (_dir, root) = workspace();
    let mut client = Client::start(&root, Value::Null);
    client.notify("exit", Value::Null);
    let status = wait_exit(&mut client.child);
    assert_eq!(status.code(), Some(1));
}

// ------------------------------------------------------------ Neovim

/// Neovim 0.7 or later (vim.diagnostic, vim.lsp.start_client), or `None`
/// with a message saying why the test skips.
fn neovim_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nvim"))
            .find(|candidate| candidate.is_file())
    });
    let Some(nvim) = found else {
        eprintln!("SKIPPED {test}: no nvim on PATH (.ci/run installs Debian's `neovim`)");
        return None;
    };
    let version = Command::new(&nvim).arg("--version").output().ok()?;
    let first = String::from_utf8_lossy(&version.stdout);
    let first = first.lines().next().unwrap_or_default().to_string();
    let numbers: Vec<u32> = first
        .trim_start_matches("NVIM v")
        .split(['.', '-'])
        .take(2)
        .filter_map(|n| n.parse().ok())
        .collect();
    if numbers.len() < 2 || (numbers[0], numbers[1]) < (0, 7) {
        eprintln!("SKIPPED {test}: {first} is older than Neovim 0.7");
        return None;
    }
    Some(nvim)
}

#[test]
fn neovim_shows_the_diagnostic() {
    let Some(nvim) = neovim_or_skip("neovim_shows_the_diagnostic") else {
        return;
    };
    let (_dir, root) = workspace();
    let token = token("github-classic-pat", 41);
    let file = root.join("config.js");
    // An emoji before the token: Neovim turns the UTF-16 column into bytes.
    std::fs::write(&file, format!("// 🔑\nconst k = \"🔑\" + \"{token}\";\n")).unwrap();
    let out = root.join("diagnostics.json");
    let script = root.join("client.lua");
    std::fs::write(
        &script,
        r#"
local bin, file, out, root = os.getenv("PATSCAN_BIN"), os.getenv("FILE"), os.getenv("OUT"), os.getenv("ROOT")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local config = { name = "patscan", cmd = { bin, "lsp" }, root_dir = root }
if vim.lsp.start then
  vim.lsp.start(config)
else
  local id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(buf, id)
end
vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local found = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(found, { lnum = d.lnum, col = d.col, end_col = d.end_col,
    severity = d.severity, source = d.source, message = d.message })
end
local f = io.open(out, "w")
f:write(vim.fn.json_encode(found))
f:close()
vim.cmd("qa!")
"#,
    )
    .unwrap();
    let mut child = Command::new(&nvim)
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("PATSCAN_BIN", assert_cmd::cargo::cargo_bin("patscan"))
        .env("FILE", &file)
        .env("OUT", &out)
        .env("ROOT", &root)
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("nvim did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "nvim: {status}");
    let written = std::fs::read_to_string(&out).expect("the script wrote its findings");
    assert!(!written.contains(&token));
    let found: Value = serde_json::from_str(&written).unwrap();
    let d = &found[0];
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    // `const k = "🔑" + "` is 20 bytes (the emoji is 4).
    assert_eq!(
        (d["lnum"].as_u64(), d["col"].as_u64()),
        (Some(1), Some(20)),
        "{d}"
    );
    assert_eq!(d["end_col"].as_u64(), Some(60));
    assert_eq!(d["severity"], 1, "vim.diagnostic.severity.ERROR");
    assert_eq!(d["source"], "patscan");
    assert!(
        d["message"].as_str().unwrap().contains("ghp_…[40 chars]"),
        "{d}"
    );
}

// ------------------------------------------------------------ VS Code

#[test]
fn the_vscode_extension_starts_the_server_with_the_configured_binary() {
    let dir = repo_root().join("integrations/vscode");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).unwrap()).unwrap();
    let main = manifest["main"].as_str().unwrap();
    let client = std::fs::read_to_string(dir.join(main)).unwrap();
    let setting = &manifest["contributes"]["configuration"]["properties"]["patscan.path"];
    assert_eq!(setting["type"], "string");
    assert_eq!(setting["default"], "patscan");
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());
    assert!(manifest["engines"]["vscode"].is_string());
    assert!(
        client.contains("get('path'") || client.contains("get(\"path\""),
        "reads patscan.path"
    );
    assert!(
        client.contains("'lsp'") || client.contains("\"lsp\""),
        "runs `patscan lsp`"
    );
    for key in ["patscan.baseline", "patscan.debounceMs", "patscan.generic"] {
        let property = &manifest["contributes"]["configuration"]["properties"][key];
        assert!(property.is_object(), "{key}");
        let name = key.trim_start_matches("patscan.");
        assert!(
            client.contains(name),
            "the client passes {key} to the server"
        );
    }
    // The client is valid JavaScript, where Node.js is there to say so.
    match Command::new("node")
        .arg("--check")
        .arg(dir.join(main))
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("node not found: the client's syntax is not checked"),
    }
}
