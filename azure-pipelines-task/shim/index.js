// gitship Azure Pipelines task shim.
//
// The agent runs this file with its own Node 20 (the Node20_1 handler). It
// starts the step's Go binary bundled in this task folder, for the agent's
// OS and CPU, with the agent's environment unchanged: the task inputs are
// already there as INPUT_<NAME>, and the binary reads them itself. No npm
// packages: the task folder ships as it is, and the binary does the work.
//
// Layout of a task folder (tfx packs each folder on its own):
//   task.json, step.json ({"step": "lint"}), index.js (this file),
//   bin/<os>-<arch>/gitship-<step>[.exe]
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const GOARCH = { x64: 'amd64', arm64: 'arm64' };

// escapeData escapes a logging command's message the way
// azure-pipelines-task-lib does, so a message cannot end the command early
// or start another one.
function escapeData(s) {
  return String(s).replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

// fail reports why the task could not run, as an error the run page shows
// and as the task's result.
function fail(message) {
  process.stdout.write(`##vso[task.logissue type=error]${escapeData(message)}\n`);
  process.stdout.write(`##vso[task.complete result=Failed;]${escapeData(message)}\n`);
}

// binaryPath returns where the binary for this OS and CPU must be, or an
// error message when gitship ships none for them.
function binaryPath(dir, step, platform, arch) {
  const goos = GOOS[platform];
  const goarch = GOARCH[arch];
  if (!goos || !goarch) {
    return { error: `gitship-${step} has no build for ${platform}/${arch}: supported are linux, darwin and windows on x64 and arm64` };
  }
  const exe = `gitship-${step}${goos === 'windows' ? '.exe' : ''}`;
  const file = path.join(dir, 'bin', `${goos}-${goarch}`, exe);
  if (!fs.existsSync(file)) {
    return { error: `gitship-${step} for ${goos}/${goarch} is missing from the task: expected ${file}` };
  }
  return { file };
}

function readStep(dir) {
  const file = path.join(dir, 'step.json');
  let config;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { error: `cannot read ${file}: ${err.message}` };
  }
  if (typeof config.step !== 'string' || !/^[a-z][a-z0-9-]*$/.test(config.step)) {
    return { error: `${file}: "step" must name a gitship step, got ${JSON.stringify(config.step)}` };
  }
  return { step: config.step };
}

// run starts the binary and returns the exit code the task should end with.
function run(dir, env, platform, arch) {
  const cfg = readStep(dir);
  if (cfg.error) {
    fail(cfg.error);
    return 1;
  }
  const bin = binaryPath(dir, cfg.step, platform, arch);
  if (bin.error) {
    fail(bin.error);
    return 1;
  }
  if (platform !== 'win32') {
    // A VSIX is a zip: the executable bit is gone after the agent unpacks
    // it. If the folder is read-only, try to run it anyway and report that.
    try {
      fs.chmodSync(bin.file, 0o755);
    } catch (err) {
      process.stdout.write(`##vso[task.logissue type=warning]${escapeData(`chmod ${bin.file}: ${err.message}`)}\n`);
    }
  }
  const result = childProcess.spawnSync(bin.file, [], {
    stdio: 'inherit',
    env,
    cwd: env.BUILD_SOURCESDIRECTORY || process.cwd(),
    windowsHide: true,
  });
  if (result.error) {
    fail(`cannot start ${bin.file}: ${result.error.message}`);
    return 1;
  }
  if (result.signal) {
    fail(`gitship-${cfg.step} was stopped by ${result.signal}`);
    return 1;
  }
  if (result.status !== 0) {
    // The agent treats a non-zero exit of a Node task as an
    // infrastructure failure; task.complete says it is the step's verdict.
    // The step has already printed its findings and errors.
    const meaning = { 1: 'the check failed', 2: 'bad usage or configuration' }[result.status] || 'failed';
    process.stdout.write(`##vso[task.complete result=Failed;]${escapeData(`gitship-${cfg.step} exited with ${result.status}: ${meaning}`)}\n`);
  }
  return result.status;
}

if (require.main === module) {
  process.exitCode = run(__dirname, process.env, process.platform, process.arch);
}

module.exports = { run, binaryPath, escapeData };
