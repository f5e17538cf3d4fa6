// The patscan Azure Pipelines task: reads its inputs the way the agent
// passes them (INPUT_<NAME> environment variables), runs patscan without a
// shell (arguments as a list, so no input can inject a command), publishes
// the SARIF log and sets the task result. No npm dependencies: nothing to
// install on the agent but patscan.
//
// The pipeline's token (SYSTEM_ACCESSTOKEN) is neither read nor passed on:
// patscan gets a copy of the environment without it.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const INSTALL_FROM = 'https://github.com/patscan/patscan';

function input(name, fallback) {
  const value = process.env['INPUT_' + name.toUpperCase()];
  return value === undefined || value === '' ? fallback : value;
}

function bool(name, fallback) {
  return String(input(name, fallback)).toLowerCase() === 'true';
}

// Logging commands: values are escaped as the agent documents, so a path
// or message cannot end the command early or start another.
function escapeData(text) {
  return String(text).replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function complete(result, message) {
  console.log(`##vso[task.complete result=${result};]${escapeData(message)}`);
}

function childEnvironment() {
  const env = { ...process.env };
  delete env.SYSTEM_ACCESSTOKEN;
  return env;
}

function onPath(program) {
  const dirs = (process.env.PATH || '').split(path.delimiter);
  return dirs.map((d) => path.join(d, program)).find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

function findPatscan() {
  const given = input('patscanPath', '');
  if (given) return given;
  const found = onPath('patscan');
  if (found) return found;
  if (!onPath('cargo')) return undefined;
  const root = path.join(process.env.AGENT_TEMPDIRECTORY || '.', 'patscan');
  const install = spawnSync(
    'cargo',
    ['install', '--locked', '--quiet', '--git', INSTALL_FROM, '--root', root, 'patscan'],
    { stdio: 'inherit', env: childEnvironment() }
  );
  return install.status === 0 ? path.join(root, 'bin', 'patscan') : undefined;
}

function scanArguments(sarif) {
  const args = ['scan', '--annotations', '--format', 'sarif', '--output', sarif];
  const baseline = input('baseline', '.patscan-baseline.json');
  if (fs.existsSync(baseline)) args.push('--baseline', baseline);
  const target = (process.env.SYSTEM_PULLREQUEST_TARGETBRANCH || '').replace(/^refs\/heads\//, '');
  if (bool('pullRequestCommits', 'true') && target) {
    spawnSync('git', ['fetch', '--quiet', '--no-tags', 'origin', target], {
      stdio: 'inherit',
      env: childEnvironment(),
    });
    args.push('--history', '--range', `origin/${target}..HEAD`);
  }
  const failOn = input('failOn', 'low');
  if (failOn === 'never') args.push('--exit-zero');
  else if (['low', 'medium', 'high'].includes(failOn)) args.push('--fail-on', failOn);
  else throw new Error(`failOn must be low, medium, high or never, not ${failOn}`);
  args.push(input('path', '.'));
  return args;
}

function main() {
  const sources = process.env.BUILD_SOURCESDIRECTORY || process.cwd();
  process.chdir(sources);
  const patscan = findPatscan();
  if (!patscan) {
    complete('Failed', 'patscan is not on PATH and cargo is not there to install it; set patscanPath');
    return 2;
  }
  const staging = process.env.BUILD_ARTIFACTSTAGINGDIRECTORY || path.join(sources, '.patscan');
  const logs = path.join(staging, 'CodeAnalysisLogs');
  fs.mkdirSync(logs, { recursive: true });
  const sarif = path.join(logs, 'patscan.sarif');
  let args;
  try {
    args = scanArguments(sarif);
  } catch (error) {
    complete('Failed', error.message);
    return 2;
  }
  const run = spawnSync(patscan, args, { stdio: 'inherit', env: childEnvironment() });
  const code = run.status === null ? 2 : run.status;
  if (bool('publishSarif', 'true') && fs.existsSync(sarif)) {
    console.log(
      `##vso[artifact.upload containerfolder=CodeAnalysisLogs;artifactname=CodeAnalysisLogs]${escapeData(sarif)}`
    );
  }
  if (code === 0) {
    complete('Succeeded', 'no new tokens');
  } else if (code === 1) {
    complete('Failed', 'leaked tokens found (see the issues and the Extensions tab)');
  } else {
    complete('Failed', `patscan could not scan (exit ${code})`);
  }
  return code;
}

process.exitCode = main();
