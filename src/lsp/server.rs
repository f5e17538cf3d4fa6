//! The server's state and its loop: documents in, diagnostics out.
//!
//! One thread does everything. A change marks its document due; the loop
//! handles every message already waiting before it scans, so a burst of
//! keystrokes (or a paste split into many changes) costs one scan. The
//! first change after a pause is scanned at once; while a document keeps
//! changing, it is scanned at most once per debounce interval (the
//! setting, or ten times what its last scan took, whichever is longer), so
//! typing in a huge file cannot keep a core busy.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Exit, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{
    CodeActionRequest, ExecuteCommand, RegisterCapability, Request as _, Shutdown,
};
use lsp_types::{
    CodeActionParams, Diagnostic, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, ExecuteCommandParams, FileChangeType,
    FileSystemWatcher, GlobPattern, InitializeParams, MessageType, PublishDiagnosticsParams,
    Registration, RegistrationParams, ShowMessageParams, Url,
};
use serde::de::DeserializeOwned;

use crate::baseline::{Baseline, BaselineEntry};
use crate::decode;
use crate::redact::redact_tokens;
use crate::relpath::relative_path;

use super::actions::{code_actions, BaselineArgs, Subject, ADD_TO_BASELINE};
use super::diagnose::{self, Found, Scope};
use super::language::{self, Language};
use super::text::apply_change;
use super::workspace::{Settings, Workspace};
use super::LspError;

/// Files read from disk (saved, not open) larger than this are left to
/// `patscan scan`: the editor's server keeps to what a person edits.
const MAX_DISK_FILE: u64 = 32 << 20;

/// An open document.
struct Document {
    path: Option<PathBuf>,
    language: Language,
    version: i32,
    text: String,
    found: Vec<Found>,
    /// When it is to be scanned next; `None` when its diagnostics are current.
    due: Option<Instant>,
    last_scan: Option<Instant>,
    /// What its last scan took.
    cost: Duration,
}

pub struct Server<'c> {
    connection: &'c Connection,
    workspace: Workspace,
    documents: HashMap<Url, Document>,
    /// Files not open whose diagnostics were published from disk.
    on_disk: HashSet<Url>,
    shutdown: bool,
    next_id: i32,
}

/// How the loop goes on after a message.
enum Flow {
    Continue,
    Exit,
}

impl<'c> Server<'c> {
    pub fn new(connection: &'c Connection, init: &InitializeParams) -> Server<'c> {
        let mut problems = Vec::new();
        let settings = match &init.initialization_options {
            Some(options) if !options.is_null() => {
                serde_json::from_value::<Settings>(options.clone()).unwrap_or_else(|err| {
                    problems.push(format!(
                        "patscan: ignoring the client's settings: {}",
                        redact_tokens(&err.to_string())
                    ));
                    Settings::default()
                })
            }
            _ => Settings::default(),
        };
        let workspace = Workspace::load(roots(init), settings, &mut problems);
        let mut server = Server {
            connection,
            workspace,
            documents: HashMap::new(),
            on_disk: HashSet::new(),
            shutdown: false,
            next_id: 0,
        };
        server.report(problems);
        let watch = init
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        if watch && !server.workspace.folders.is_empty() {
            server.watch_files();
        }
        server
    }

    /// Serves until `exit`; true when `shutdown` came first (exit code 0).
    pub fn run(mut self) -> Result<bool, LspError> {
        loop {
            let due = self.documents.values().filter_map(|d| d.due).min();
            let message = match due {
                Some(due) => match self.connection.receiver.recv_deadline(due) {
                    Ok(message) => Some(message),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok(self.shutdown),
                },
                None => match self.connection.receiver.recv() {
                    Ok(message) => Some(message),
                    Err(_) => return Ok(self.shutdown),
                },
            };
            if let Some(message) = message {
                if let Flow::Exit = self.handle(message)? {
                    return Ok(self.shutdown);
                }
                // Everything already waiting first: a burst of changes is
                // one scan, of its last state.
                while let Ok(message) = self.connection.receiver.try_recv() {
                    if let Flow::Exit = self.handle(message)? {
                        return Ok(self.shutdown);
                    }
                }
            }
            self.scan_due(Instant::now())?;
        }
    }

    fn handle(&mut self, message: Message) -> Result<Flow, LspError> {
        match message {
            Message::Request(request) => self.request(request)?,
            Message::Notification(notification) => return self.notification(notification),
            // Answers to our registration requests: nothing to do.
            Message::Response(_) => {}
        }
        Ok(Flow::Continue)
    }

    fn request(&mut self, request: Request) -> Result<(), LspError> {
        if self.shutdown {
            return self.respond_error(
                request.id,
                ErrorCode::InvalidRequest,
                "the server is shutting down".into(),
            );
        }
        match request.method.as_str() {
            Shutdown::METHOD => {
                self.shutdown = true;
                self.respond(request.id, serde_json::Value::Null)
            }
            CodeActionRequest::METHOD => {
                let (id, params) = match parse::<CodeActionParams>(request) {
                    Ok(parsed) => parsed,
                    Err((id, message)) => {
                        return self.respond_error(id, ErrorCode::InvalidParams, message)
                    }
                };
                let actions = self.code_actions(&params);
                self.respond(id, serde_json::to_value(actions)?)
            }
            ExecuteCommand::METHOD => {
                let (id, params) = match parse::<ExecuteCommandParams>(request) {
                    Ok(parsed) => parsed,
                    Err((id, message)) => {
                        return self.respond_error(id, ErrorCode::InvalidParams, message)
                    }
                };
                match self.execute(params) {
                    Ok(()) => self.respond(id, serde_json::Value::Null),
                    Err(message) => self.respond_error(id, ErrorCode::RequestFailed, message),
                }
            }
            _ => self.respond_error(
                request.id,
                ErrorCode::MethodNotFound,
                format!("patscan does not handle {}", request.method),
            ),
        }
    }

    fn notification(&mut self, notification: Notification) -> Result<Flow, LspError> {
        let method = notification.method.clone();
        let now = Instant::now();
        match method.as_str() {
            Exit::METHOD => return Ok(Flow::Exit),
            DidOpenTextDocument::METHOD => {
                let Some(params) = self.params::<DidOpenTextDocumentParams>(notification) else {
                    return Ok(Flow::Continue);
                };
                let document = params.text_document;
                let path = document.uri.to_file_path().ok();
                let language = match language::from_id(&document.language_id) {
                    known if known != Language::default() => known,
                    _ => language::from_path(document.uri.path()),
                };
                self.on_disk.remove(&document.uri);
                self.documents.insert(
                    document.uri,
                    Document {
                        path,
                        language,
                        version: document.version,
                        text: document.text,
                        found: Vec::new(),
                        due: Some(now),
                        last_scan: None,
                        cost: Duration::ZERO,
                    },
                );
            }
            DidChangeTextDocument::METHOD => {
                let Some(params) = self.params::<DidChangeTextDocumentParams>(notification) else {
                    return Ok(Flow::Continue);
                };
                let interval = self.workspace.settings.debounce();
                if let Some(document) = self.documents.get_mut(&params.text_document.uri) {
                    for change in &params.content_changes {
                        apply_change(&mut document.text, change);
                    }
                    document.version = params.text_document.version;
                    // At once after a pause; else one debounce interval
                    // after the last scan (a scan already due stays due).
                    let wait = interval.max(document.cost * 10);
                    let earliest = document.last_scan.map_or(now, |at| at + wait).max(now);
                    document.due = Some(document.due.unwrap_or(earliest));
                }
            }
            DidSaveTextDocument::METHOD => {
                let Some(params) = self.params::<DidSaveTextDocumentParams>(notification) else {
                    return Ok(Flow::Continue);
                };
                let uri = params.text_document.uri;
                if let Some(document) = self.documents.get_mut(&uri) {
                    if let Some(text) = params.text {
                        document.text = text;
                    }
                    document.due = Some(now);
                }
                if let Ok(path) = uri.to_file_path() {
                    self.file_changed(&path, now)?;
                }
            }
            DidCloseTextDocument::METHOD => {
                let Some(params) = self.params::<DidCloseTextDocumentParams>(notification) else {
                    return Ok(Flow::Continue);
                };
                let uri = params.text_document.uri;
                self.documents.remove(&uri);
                // The file on disk still holds what was saved: it keeps its
                // diagnostics, as any saved workspace file does; the
                // editor's unsaved ones go.
                if !self.scan_disk(&uri)? {
                    self.publish(uri, Vec::new(), None)?;
                }
            }
            DidChangeWatchedFiles::METHOD => {
                let Some(params) = self.params::<DidChangeWatchedFilesParams>(notification) else {
                    return Ok(Flow::Continue);
                };
                for change in params.changes {
                    let Ok(path) = change.uri.to_file_path() else {
                        continue;
                    };
                    if self.file_changed(&path, now)? {
                        continue;
                    }
                    if self.documents.contains_key(&change.uri) {
                        continue; // the editor's text is newer
                    }
                    if change.typ == FileChangeType::DELETED {
                        if self.on_disk.remove(&change.uri) {
                            self.publish(change.uri, Vec::new(), None)?;
                        }
                    } else {
                        self.scan_disk(&change.uri)?;
                    }
                }
            }
            // `initialized`, `$/cancelRequest`, `$/setTrace`, settings
            // changes: nothing to do.
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Reloads what a change to `path` invalidates: a folder's config or
    /// baseline, or ignore files. True when `path` was one of those.
    fn file_changed(&mut self, path: &Path, now: Instant) -> Result<bool, LspError> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let mut problems = Vec::new();
        let mut touched = Vec::new();
        for index in 0..self.workspace.folders.len() {
            let folder = &self.workspace.folders[index];
            let ignore_file = matches!(name, ".gitignore" | ".ignore" | "exclude")
                && path.starts_with(&folder.root);
            if folder.is_config(path) {
                self.workspace.reload(index, &mut problems);
            } else if path == folder.baseline_path {
                self.workspace.folders[index].reload_baseline(&mut problems);
            } else if ignore_file {
                self.workspace.folders[index].ignores.clear();
            } else {
                continue;
            }
            touched.push(index);
        }
        self.report(problems);
        if touched.is_empty() {
            return Ok(false);
        }
        self.rescan(&touched, now)?;
        Ok(true)
    }

    /// Scans again every document and published file of these folders.
    fn rescan(&mut self, folders: &[usize], now: Instant) -> Result<(), LspError> {
        for document in self.documents.values_mut() {
            let folder = document
                .path
                .as_deref()
                .and_then(|p| self.workspace.folder_of(p));
            if folder.is_some_and(|f| folders.contains(&f)) {
                document.due = Some(now);
            }
        }
        let files: Vec<Url> = self.on_disk.iter().cloned().collect();
        for uri in files {
            self.scan_disk(&uri)?;
        }
        Ok(())
    }

    /// Scans every document whose time has come.
    fn scan_due(&mut self, now: Instant) -> Result<(), LspError> {
        let due: Vec<Url> = self
            .documents
            .iter()
            .filter(|(_, d)| d.due.is_some_and(|t| t <= now))
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in due {
            let Some(document) = self.documents.get_mut(&uri) else {
                continue;
            };
            let started = Instant::now();
            let (found, diagnostics) = diagnose_text(
                &mut self.workspace,
                document.path.as_deref(),
                &document.text,
            );
            document.found = found;
            document.due = None;
            document.last_scan = Some(started);
            document.cost = started.elapsed();
            let version = document.version;
            self.publish(uri, diagnostics, Some(version))?;
        }
        Ok(())
    }

    /// Publishes the diagnostics of a file that is not open, read from disk:
    /// none when it is gone, outside the workspace, binary or too large.
    /// True when it published some.
    fn scan_disk(&mut self, uri: &Url) -> Result<bool, LspError> {
        // Asked before the file is read: a build writing thousands of
        // ignored files into `target/` costs a lookup each, not a read.
        let text = uri
            .to_file_path()
            .ok()
            .filter(|path| {
                self.workspace
                    .folder_of(path)
                    .is_some_and(|i| !self.workspace.folders[i].skips(path))
            })
            .and_then(|path| read_text(&path).map(|text| (path, text)));
        let diagnostics = match &text {
            Some((path, text)) => diagnose_text(&mut self.workspace, Some(path), text).1,
            None => Vec::new(),
        };
        if diagnostics.is_empty() {
            if self.on_disk.remove(uri) {
                self.publish(uri.clone(), diagnostics, None)?;
            }
            return Ok(false);
        }
        self.on_disk.insert(uri.clone());
        self.publish(uri.clone(), diagnostics, None)?;
        Ok(true)
    }

    fn code_actions(&self, params: &CodeActionParams) -> Vec<lsp_types::CodeActionOrCommand> {
        let uri = &params.text_document.uri;
        let Some(document) = self.documents.get(uri) else {
            return Vec::new();
        };
        let folder = document
            .path
            .as_deref()
            .and_then(|p| self.workspace.folder_of(p))
            .map(|i| &self.workspace.folders[i]);
        let baseline = folder.map(|f| {
            relative_path(
                &f.baseline_path.to_string_lossy(),
                std::slice::from_ref(&f.root),
            )
        });
        let subject = Subject {
            uri,
            text: &document.text,
            language: document.language,
            found: &document.found,
            baseline: baseline.as_deref(),
        };
        code_actions(&subject, params.range, &params.context.diagnostics)
    }

    /// `workspace/executeCommand`: adds a token to its folder's baseline.
    fn execute(&mut self, params: ExecuteCommandParams) -> Result<(), String> {
        if params.command != ADD_TO_BASELINE {
            return Err(format!("unknown command {}", params.command));
        }
        let args: BaselineArgs = params
            .arguments
            .into_iter()
            .next()
            .ok_or("the command takes one argument")
            .and_then(|v| serde_json::from_value(v).map_err(|_| "malformed argument"))
            .map_err(str::to_string)?;
        let path = args
            .uri
            .to_file_path()
            .map_err(|()| "the document is not a file".to_string())?;
        let index = self
            .workspace
            .folder_of(&path)
            .ok_or("the document is in no workspace folder")?;
        let folder = &mut self.workspace.folders[index];
        let target = folder.baseline_path.clone();
        // A baseline that does not parse is never overwritten: the entries
        // in it would be lost.
        let existing = if target.is_file() {
            Baseline::load(&target).map_err(|e| redact_tokens(&e.to_string()))?
        } else {
            Baseline::default()
        };
        let relative = relative_path(&path.to_string_lossy(), std::slice::from_ref(&folder.root));
        let baseline = existing.with_entry(BaselineEntry {
            rule_id: args.rule_id.clone(),
            secret_sha256: args.secret_sha256,
            paths: vec![relative],
        });
        write_baseline(&target, &baseline)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        folder.baseline = Some(baseline);
        self.rescan(&[index], Instant::now())
            .map_err(|e| e.to_string())?;
        self.show(
            MessageType::INFO,
            format!(
                "patscan: added a {} token to {}",
                args.rule_id,
                target.display()
            ),
        )
        .map_err(|e| e.to_string())
    }

    /// Asks the client to send changes to the workspace's files (saved
    /// files, configs, baselines, ignore files).
    fn watch_files(&mut self) {
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*".to_string()),
                kind: None,
            }],
        };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "patscan-watched-files".to_string(),
                method: DidChangeWatchedFiles::METHOD.to_string(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        self.next_id += 1;
        let request = Request::new(
            RequestId::from(format!("patscan-{}", self.next_id)),
            RegisterCapability::METHOD.to_string(),
            params,
        );
        // A client gone already is noticed by the loop.
        let _ = self.connection.sender.send(request.into());
    }

    fn params<P: DeserializeOwned>(&mut self, notification: Notification) -> Option<P> {
        let method = notification.method.clone();
        match serde_json::from_value(notification.params) {
            Ok(params) => Some(params),
            Err(err) => {
                // serde's message can quote a value: masked.
                eprintln!(
                    "patscan lsp: malformed {method}: {}",
                    redact_tokens(&err.to_string())
                );
                None
            }
        }
    }

    fn publish(
        &self,
        uri: Url,
        diagnostics: Vec<Diagnostic>,
        version: Option<i32>,
    ) -> Result<(), LspError> {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Notification::new(PublishDiagnostics::METHOD.to_string(), params).into())
    }

    fn show(&self, typ: MessageType, message: String) -> Result<(), LspError> {
        let params = ShowMessageParams { typ, message };
        self.send(Notification::new(ShowMessage::METHOD.to_string(), params).into())
    }

    /// Problems loading a config or baseline: shown to the user (already
    /// masked) and logged.
    fn report(&self, problems: Vec<String>) {
        for problem in problems {
            eprintln!("patscan lsp: {problem}");
            let _ = self.show(MessageType::WARNING, problem);
        }
    }

    fn respond(&self, id: RequestId, result: serde_json::Value) -> Result<(), LspError> {
        self.send(Response::new_ok(id, result).into())
    }

    fn respond_error(
        &self,
        id: RequestId,
        code: ErrorCode,
        message: String,
    ) -> Result<(), LspError> {
        self.send(Response::new_err(id, code as i32, message).into())
    }

    fn send(&self, message: Message) -> Result<(), LspError> {
        self.connection
            .sender
            .send(message)
            .map_err(|_| LspError::Disconnected)
    }
}

/// Scans a document's text with what its folder honours; nothing for a
/// file a folder scan would skip.
fn diagnose_text(
    workspace: &mut Workspace,
    path: Option<&Path>,
    text: &str,
) -> (Vec<Found>, Vec<Diagnostic>) {
    let folder = path.and_then(|p| workspace.folder_of(p));
    match (folder, path) {
        (Some(index), Some(path)) => {
            let folder = &mut workspace.folders[index];
            if folder.skips(path) {
                return (Vec::new(), Vec::new());
            }
            let relative =
                relative_path(&path.to_string_lossy(), std::slice::from_ref(&folder.root));
            diagnose::scan(
                text,
                &Scope {
                    config: &folder.config,
                    baseline: folder.baseline.as_ref(),
                    path: &relative,
                },
            )
        }
        _ => {
            let name = path.map(|p| p.to_string_lossy().into_owned());
            diagnose::scan(
                text,
                &Scope {
                    config: workspace.fallback(),
                    baseline: None,
                    path: name.as_deref().unwrap_or("untitled"),
                },
            )
        }
    }
}

/// A file's text as an editor would show it: UTF-16 with a byte-order mark
/// transcoded, invalid UTF-8 replaced. `None` when it cannot be read, is
/// larger than [`MAX_DISK_FILE`] or is binary.
fn read_text(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() || metadata.len() > MAX_DISK_FILE {
        return None;
    }
    // The head first: a binary file is left after its first block.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    (&mut file)
        .take(crate::scanner::BINARY_SNIFF_BYTES as u64)
        .read_to_end(&mut bytes)
        .ok()?;
    if let Some((encoding, bom)) = decode::sniff_utf16(&bytes) {
        let head = io::Cursor::new(bytes[bom..].to_vec());
        let mut reader = decode::Utf16Reader::new(head.chain(file), encoding);
        let mut text = String::new();
        reader.read_to_string(&mut text).ok()?;
        return Some(text);
    }
    if crate::scanner::is_binary_head(&bytes) {
        return None;
    }
    file.take(MAX_DISK_FILE).read_to_end(&mut bytes).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// Writes the baseline beside its place and moves it there, so an editor
/// or a scan never reads half a file.
fn write_baseline(target: &Path, baseline: &Baseline) -> std::io::Result<()> {
    let temporary = target.with_extension("json.patscan-tmp");
    let mut file = std::fs::File::create(&temporary)?;
    baseline.write(&mut file)?;
    file.sync_all()?;
    std::fs::rename(&temporary, target)
}

/// The workspace folders the client names (or its older root).
#[allow(deprecated)] // `root_path`, `root_uri`: what older clients send
fn roots(init: &InitializeParams) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = init
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().ok())
        .collect();
    if roots.is_empty() {
        if let Some(root) = init.root_uri.as_ref().and_then(|u| u.to_file_path().ok()) {
            roots.push(root);
        } else if let Some(root) = &init.root_path {
            roots.push(PathBuf::from(root));
        }
    }
    roots
}

/// A request's parameters, or its id and what was wrong with them.
fn parse<P: DeserializeOwned>(request: Request) -> Result<(RequestId, P), (RequestId, String)> {
    let id = request.id;
    serde_json::from_value(request.params)
        .map(|params| (id.clone(), params))
        .map_err(|err| {
            (
                id,
                format!("invalid parameters: {}", redact_tokens(&err.to_string())),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_on_disk_are_read_as_an_editor_shows_them() {
        let dir = tempfile::tempdir().unwrap();
        let utf16 = dir.path().join("utf16.ps1");
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("$pat = 'é'\n".encode_utf16().flat_map(u16::to_le_bytes));
        std::fs::write(&utf16, bytes).unwrap();
        assert_eq!(read_text(&utf16).as_deref(), Some("$pat = 'é'\n"));
        let binary = dir.path().join("a.bin");
        std::fs::write(&binary, b"ELF\0\0\x01token").unwrap();
        assert_eq!(read_text(&binary), None);
        let latin1 = dir.path().join("old.txt");
        std::fs::write(&latin1, b"caf\xe9 ok").unwrap();
        assert_eq!(read_text(&latin1).as_deref(), Some("caf\u{fffd} ok"));
        assert_eq!(read_text(&dir.path().join("gone")), None);
    }
}
