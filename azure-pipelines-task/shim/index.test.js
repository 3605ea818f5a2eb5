// Tests of the task shim, run as the agent runs it: node index.js in a
// task folder, with the inputs in the environment. Run: node --test
// azure-pipelines-task/shim/ (go test ./tools/wrappergen runs it too).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const shim = require('./index.js');

const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
const GOARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const unix = process.platform !== 'win32' && GOOS && GOARCH;

// taskFolder makes a task folder as the agent unpacks it: the shim, its
// step.json, and optionally a fake binary saved without the executable bit
// (a VSIX is a zip and drops it).
function taskFolder(t, script) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitship-shim-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(__dirname, 'index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, 'step.json'), JSON.stringify({ step: 'demo' }));
  let bin;
  if (script !== undefined) {
    const binDir = path.join(dir, 'bin', `${GOOS}-${GOARCH}`);
    fs.mkdirSync(binDir, { recursive: true });
    bin = path.join(binDir, 'gitship-demo');
    fs.writeFileSync(bin, script, { mode: 0o644 });
    fs.chmodSync(bin, 0o644); // in case the umask kept it from 0o644
  }
  return { dir, bin };
}

function runShim(dir, env, cwd) {
  return childProcess.spawnSync(process.execPath, [path.join(dir, 'index.js')], {
    env: { PATH: process.env.PATH, ...env },
    cwd: cwd || dir,
    encoding: 'utf8',
  });
}

const printAndExit3 = [
  '#!/bin/sh',
  'echo "failOn=$INPUT_FAILON"',
  'echo "cwd=$(pwd -P)"',
  'exit 3',
  '',
].join('\n');

test('runs the binary with the inputs, in the sources directory, and exits with its code', { skip: !unix }, (t) => {
  const { dir, bin } = taskFolder(t, printAndExit3);
  const sources = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gitship-src-')));
  t.after(() => fs.rmSync(sources, { recursive: true, force: true }));
  assert.equal(fs.statSync(bin).mode & 0o111, 0, 'fixture must start without the exec bit');

  const res = runShim(dir, { INPUT_FAILON: 'warning', BUILD_SOURCESDIRECTORY: sources });

  assert.equal(res.status, 3, `exit code; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
  assert.match(res.stdout, /^failOn=warning$/m);
  assert.match(res.stdout, new RegExp(`^cwd=${sources.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.match(res.stdout, /##vso\[task\.complete result=Failed;\]gitship-demo exited with 3/);
  assert.notEqual(fs.statSync(bin).mode & 0o111, 0, 'the shim must set the exec bit');
});

test('without BUILD_SOURCESDIRECTORY the binary runs in the current directory', { skip: !unix }, (t) => {
  const { dir } = taskFolder(t, printAndExit3);
  const here = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gitship-cwd-')));
  t.after(() => fs.rmSync(here, { recursive: true, force: true }));
  const res = runShim(dir, { INPUT_FAILON: 'error' }, here);
  assert.equal(res.status, 3);
  assert.ok(res.stdout.includes(`cwd=${here}\n`), res.stdout);
});

test('success is exit 0 and sets no result', { skip: !unix }, (t) => {
  const { dir } = taskFolder(t, '#!/bin/sh\necho fine\n');
  const res = runShim(dir, {});
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /^fine$/m);
  assert.doesNotMatch(res.stdout, /task\.complete/);
});

test('a binary killed by a signal fails the task with exit 1', { skip: !unix }, (t) => {
  const { dir } = taskFolder(t, '#!/bin/sh\nkill -TERM $$\n');
  const res = runShim(dir, {});
  assert.equal(res.status, 1);
  assert.match(res.stdout, /##vso\[task\.complete result=Failed;\]gitship-demo was stopped by SIGTERM/);
});

test('a missing binary fails the task with a clear error', (t) => {
  const { dir } = taskFolder(t);
  const res = runShim(dir, {});
  assert.equal(res.status, 1);
  assert.match(res.stdout, /^##vso\[task\.logissue type=error\]gitship-demo for \w+\/\w+ is missing from the task: expected .*gitship-demo/m);
  assert.match(res.stdout, /^##vso\[task\.complete result=Failed;\]/m);
});

test('a missing step.json fails the task', (t) => {
  const { dir } = taskFolder(t);
  fs.rmSync(path.join(dir, 'step.json'));
  const res = runShim(dir, {});
  assert.equal(res.status, 1);
  assert.match(res.stdout, /##vso\[task\.logissue type=error\]cannot read .*step\.json/);
});

test('binary path per OS and CPU', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitship-bin-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cases = [
    ['linux', 'x64', 'linux-amd64', 'gitship-lint'],
    ['darwin', 'arm64', 'darwin-arm64', 'gitship-lint'],
    ['win32', 'x64', 'windows-amd64', 'gitship-lint.exe'],
  ];
  for (const [platform, arch, folder, exe] of cases) {
    const want = path.join(dir, 'bin', folder, exe);
    assert.match(shim.binaryPath(dir, 'lint', platform, arch).error, /is missing/);
    fs.mkdirSync(path.dirname(want), { recursive: true });
    fs.writeFileSync(want, '');
    assert.deepEqual(shim.binaryPath(dir, 'lint', platform, arch), { file: want });
  }
  assert.match(shim.binaryPath(dir, 'lint', 'linux', 'ia32').error, /no build for linux\/ia32/);
  assert.match(shim.binaryPath(dir, 'lint', 'aix', 'x64').error, /no build for aix\/x64/);
});

test('messages cannot break out of a logging command', () => {
  assert.equal(shim.escapeData('50% done\r\n##vso[task.complete result=Succeeded;]'),
    '50%AZP25 done%0D%0A##vso[task.complete result=Succeeded;]');
});
