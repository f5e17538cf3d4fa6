// The patscan extension for VS Code: it starts `patscan lsp` and leaves the
// rest (diagnostics, quick fixes, the workspace's config and baseline) to
// the server. The server never touches the network.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function settings() {
  const config = vscode.workspace.getConfiguration('patscan');
  return {
    command: config.get('path') || 'patscan',
    options: {
      baseline: config.get('baseline'),
      debounceMs: config.get('debounceMs'),
      generic: config.get('generic'),
    },
  };
}

function start() {
  const { command, options } = settings();
  client = new LanguageClient(
    'patscan',
    'patscan',
    { command, args: ['lsp'] },
    {
      // Every file and unsaved buffer, whatever its language: a token can
      // be pasted anywhere.
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      initializationOptions: options,
    },
  );
  return client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('patscan')) {
        if (client) {
          await client.stop();
        }
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
