//! `patscan lsp`: a Language Server Protocol server on standard input and
//! output, so an editor underlines a token the moment it is pasted, before
//! it is ever saved or committed.
//!
//! It scans each open document's text in memory with the same scanner,
//! rules and suppressions as `patscan scan` (the workspace folder's
//! `.patscan.toml`, its baseline, inline allow comments, `.gitignore`), and
//! files saved in the workspace from disk. It never touches the network:
//! this layer may not use `net` or `live` (`tests/architecture.rs`), so no
//! token leaves the machine, and no message it sends holds one unmasked.
//!
//! The protocol's plumbing (framing, JSON-RPC, the reader and writer
//! threads) is `lsp-server`, the crate rust-analyzer is built on; the
//! message types are `lsp-types`.

mod actions;
mod diagnose;
mod ignore;
mod language;
mod server;
mod text;
mod workspace;

use lsp_server::Connection;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, ExecuteCommandOptions,
    InitializeParams, PositionEncodingKind, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions,
};
use thiserror::Error;

pub use actions::ADD_TO_BASELINE;
pub use workspace::{Settings, DEFAULT_BASELINE};

#[derive(Debug, Error)]
pub enum LspError {
    #[error("language server protocol: {0}")]
    Protocol(#[from] lsp_server::ProtocolError),
    #[error("the client's initialize request is malformed: {0}")]
    Initialize(serde_json::Error),
    #[error("cannot encode a message: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the client closed the connection")]
    Disconnected,
    #[error("standard input or output: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves on standard input and output until the client says `exit`.
/// True when it said `shutdown` first, as the protocol asks (the exit code
/// is 0 then, 1 otherwise).
pub fn run_stdio() -> Result<bool, LspError> {
    let (connection, io_threads) = Connection::stdio();
    let clean = serve(&connection)?;
    drop(connection);
    io_threads.join()?;
    Ok(clean)
}

/// Serves on `connection`: the handshake, then messages until `exit`.
pub fn serve(connection: &Connection) -> Result<bool, LspError> {
    let (id, params) = connection.initialize_start()?;
    let init: InitializeParams = serde_json::from_value(params).map_err(LspError::Initialize)?;
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "patscan".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    connection.initialize_finish(id, result)?;
    server::Server::new(connection, &init).run()
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        // The protocol's default, and the one every client supports.
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            work_done_progress_options: Default::default(),
            resolve_provider: None,
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![ADD_TO_BASELINE.to_string()],
            work_done_progress_options: Default::default(),
        }),
        ..ServerCapabilities::default()
    }
}
