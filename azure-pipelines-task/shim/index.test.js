// Tests of the task shim, run as the agent runs it: node index.js in a
// task folder, with the inputs and the agent's variables in the
// environment. Run: node --test azure-pipelines-task/shim/ (go test
// ./tools/wrappergen runs it too). The binaries are shell scripts; the
// release's are served by an HTTP server on loopback in this process.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const shim = require('./index.js');

const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
const GOARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const unix = process.platform !== 'win32' && GOOS && GOARCH;
const VERSION = '1.2.3';
const ASSET = `gitship-demo-${GOOS}-${GOARCH}`;

function tmpdir(t, prefix) {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// taskFolder makes a task folder as the agent unpacks it: the shim, its
// step.json, optionally release.json (a release's VSIX) and a bundled
// binary saved without the executable bit (a VSIX is a zip and drops it).
function taskFolder(t, { bundled, release, downloadUrl } = {}) {
  const dir = tmpdir(t, 'gitship-shim-');
  fs.copyFileSync(path.join(__dirname, 'index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, 'step.json'), JSON.stringify({ step: 'demo', downloadUrl: downloadUrl || '' }));
  if (release !== undefined) {
    fs.writeFileSync(path.join(dir, 'release.json'), JSON.stringify({
      version: VERSION,
      assets: { [`${GOOS}/${GOARCH}`]: { name: ASSET, sha256: sha256(release) } },
    }));
  }
  let bin;
  if (bundled !== undefined) {
    const binDir = path.join(dir, 'bin', `${GOOS}-${GOARCH}`);
    fs.mkdirSync(binDir, { recursive: true });
    bin = path.join(binDir, 'gitship-demo');
    fs.writeFileSync(bin, bundled, { mode: 0o644 });
    fs.chmodSync(bin, 0o644); // in case the umask kept it from 0o644
  }
  return { dir, bin };
}

// runShim runs node index.js, asynchronously: the test's HTTP server
// answers in this process meanwhile.
function runShim(dir, env, cwd) {
  return new Promise((resolve) => {
    childProcess.execFile(process.execPath, [path.join(dir, 'index.js')], {
      env: { PATH: process.env.PATH, ...env },
      cwd: cwd || dir,
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      resolve({ status: err ? err.code : 0, stdout, stderr });
    });
  });
}

// serve serves files (name → content) on loopback and counts requests.
async function serve(t, files) {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url);
    if (req.url.startsWith('/moved/')) {
      res.writeHead(302, { Location: `/releases/${req.url.slice('/moved/'.length)}` });
      res.end();
      return;
    }
    const body = files[req.url];
    if (body === undefined) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${server.address().port}`, hits };
}

const printAndExit3 = [
  '#!/bin/sh',
  'echo "failOn=$INPUT_FAILON"',
  'echo "cwd=$(pwd -P)"',
  'exit 3',
  '',
].join('\n');

const released = '#!/bin/sh\necho "released $0"\n';

test('runs the binary with the inputs, in the sources directory, and exits with its code', { skip: !unix }, async (t) => {
  const { dir, bin } = taskFolder(t, { bundled: printAndExit3 });
  const sources = tmpdir(t, 'gitship-src-');
  assert.equal(fs.statSync(bin).mode & 0o111, 0, 'fixture must start without the exec bit');

  const res = await runShim(dir, { INPUT_FAILON: 'warning', BUILD_SOURCESDIRECTORY: sources });

  assert.equal(res.status, 3, `exit code; stdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
  assert.match(res.stdout, /^failOn=warning$/m);
  assert.ok(res.stdout.includes(`\ncwd=${sources}\n`), res.stdout);
  assert.match(res.stdout, /##vso\[task\.complete result=Failed;\]gitship-demo exited with 3/);
  assert.notEqual(fs.statSync(bin).mode & 0o111, 0, 'the shim must set the exec bit');
});

test('without BUILD_SOURCESDIRECTORY the binary runs in the current directory', { skip: !unix }, async (t) => {
  const { dir } = taskFolder(t, { bundled: printAndExit3 });
  const here = tmpdir(t, 'gitship-cwd-');
  const res = await runShim(dir, { INPUT_FAILON: 'error' }, here);
  assert.equal(res.status, 3);
  assert.ok(res.stdout.includes(`cwd=${here}\n`), res.stdout);
});

test('success is exit 0 and sets no result', { skip: !unix }, async (t) => {
  const { dir } = taskFolder(t, { bundled: '#!/bin/sh\necho fine\n' });
  const res = await runShim(dir, {});
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /^fine$/m);
  assert.doesNotMatch(res.stdout, /task\.complete/);
});

test('a binary killed by a signal fails the task with exit 1', { skip: !unix }, async (t) => {
  const { dir } = taskFolder(t, { bundled: '#!/bin/sh\nkill -TERM $$\n' });
  const res = await runShim(dir, {});
  assert.equal(res.status, 1);
  assert.match(res.stdout, /##vso\[task\.complete result=Failed;\]gitship-demo was stopped by SIGTERM/);
});

test('no binary, in a task folder not from a release, fails the task with a clear error', async (t) => {
  const { dir } = taskFolder(t);
  const res = await runShim(dir, { PATH: '/nonexistent' });
  assert.equal(res.status, 1);
  assert.match(res.stdout, /^##vso\[task\.issue type=error;\]gitship-demo for \w+\/\w+: not on PATH, GITSHIP_BINARY is not set, and this task folder is not from a release/m);
  assert.match(res.stdout, /^##vso\[task\.complete result=Failed;\]/m);
});

test('a missing step.json fails the task', async (t) => {
  const { dir } = taskFolder(t);
  fs.rmSync(path.join(dir, 'step.json'));
  const res = await runShim(dir, {});
  assert.equal(res.status, 1);
  assert.match(res.stdout, /##vso\[task\.issue type=error;\]cannot read .*step\.json/);
});

test('GITSHIP_BINARY is run as it is, before anything else', { skip: !unix }, async (t) => {
  const { dir } = taskFolder(t, { bundled: '#!/bin/sh\necho bundled\n', release: released });
  const mine = path.join(tmpdir(t, 'gitship-own-'), 'my-gitship');
  fs.writeFileSync(mine, '#!/bin/sh\necho mine\n', { mode: 0o755 });
  const res = await runShim(dir, { GITSHIP_BINARY: mine });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /^mine$/m);

  const missing = await runShim(dir, { GITSHIP_BINARY: `${mine}.gone` });
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /task\.issue type=error;\]GITSHIP_BINARY=.*my-gitship\.gone: no such file/);
});

test('gitship-<step> on PATH: any version outside a release, the task\'s version in one', { skip: !unix }, async (t) => {
  const binDir = tmpdir(t, 'gitship-path-');
  const onPath = (version) => fs.writeFileSync(path.join(binDir, 'gitship-demo'),
    `#!/bin/sh\n[ "$1" = --version ] && { echo "gitship-demo version ${version}"; exit 0; }\necho "from PATH ${version}"\n`,
    { mode: 0o755 });
  const env = { PATH: `${binDir}:${process.env.PATH}` };

  onPath('dev');
  const dev = taskFolder(t);
  let res = await runShim(dev.dir, env);
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /^from PATH dev$/m);

  // From a release: the right version is used, another is passed over
  // for the release's own binary (here it cannot be fetched: no server).
  const rel = taskFolder(t, { release: released, downloadUrl: 'http://127.0.0.1:1/{asset}' });
  onPath(VERSION);
  res = await runShim(rel.dir, env);
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, new RegExp(`^from PATH ${VERSION.replace(/\./g, '\\.')}$`, 'm'));

  onPath('0.0.9');
  res = await runShim(rel.dir, env);
  assert.equal(res.status, 1);
  assert.match(res.stdout, /not using .*gitship-demo on PATH: it says "gitship-demo version 0\.0\.9", the task is 1\.2\.3/);
  assert.match(res.stdout, /task\.issue type=error;\]download http:\/\/127\.0\.0\.1:1\/gitship-demo-/);
});

test('a release\'s binary is downloaded, verified, cached in the tool cache and reused', { skip: !unix }, async (t) => {
  const srv = await serve(t, { [`/releases/v${VERSION}/${ASSET}`]: released });
  // Through a redirect, as GitHub serves release assets.
  const { dir } = taskFolder(t, { release: released, downloadUrl: `${srv.base}/moved/v{version}/{asset}` });
  const tools = tmpdir(t, 'gitship-tools-');
  const env = { PATH: '/nonexistent', AGENT_TOOLSDIRECTORY: tools, AGENT_TEMPDIRECTORY: tmpdir(t, 'gitship-agent-tmp-') };

  const first = await runShim(dir, env);
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const cached = path.join(tools, 'gitship-demo', VERSION, process.arch, 'gitship-demo');
  assert.ok(first.stdout.includes(`released ${cached}\n`), first.stdout);
  assert.ok(fs.existsSync(path.join(tools, 'gitship-demo', VERSION, `${process.arch}.complete`)), 'tool-lib\'s marker');
  assert.deepEqual(srv.hits, [`/moved/v${VERSION}/${ASSET}`, `/releases/v${VERSION}/${ASSET}`]);

  const second = await runShim(dir, env);
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.ok(second.stdout.includes(`released ${cached}\n`), second.stdout);
  assert.match(second.stdout, /\(tool cache, 1\.2\.3\)/);
  assert.equal(srv.hits.length, 2, 'the second run must not download');

  // A cached file that changed is refused, not run.
  fs.writeFileSync(cached, '#!/bin/sh\necho changed\n');
  const changed = await runShim(dir, env);
  assert.equal(changed.status, 1);
  assert.doesNotMatch(changed.stdout, /^changed$/m);
  assert.match(changed.stdout, /task\.issue type=error;\].*gitship-demo: SHA-256 [0-9a-f]{64}, release 1\.2\.3 has [0-9a-f]{64} .*delete /);
});

// An ELF binary, run right after its download. Run before its file is
// closed, it fails with ETXTBSY: the shim once resolved on the stream's
// 'finish' instead of 'close', and the task failed so on its first run of
// 0.1.0's gitship-lint on a loaded machine. The race depends on timing and
// this test did not reproduce it in 12 runs; it guards the path.
test('a downloaded executable runs as soon as it is verified', { skip: !unix || !fs.existsSync('/bin/true') }, async (t) => {
  const elf = fs.readFileSync('/bin/true');
  const srv = await serve(t, { [`/releases/v${VERSION}/${ASSET}`]: elf });
  const { dir } = taskFolder(t, { release: elf, downloadUrl: `${srv.base}/releases/v{version}/{asset}` });
  const res = await runShim(dir, { PATH: '/nonexistent', AGENT_TOOLSDIRECTORY: tmpdir(t, 'gitship-tools-') });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.doesNotMatch(res.stdout, /ETXTBSY|task\.issue/);
});

test('a tampered download is refused with the file, both digests, and nothing cached', { skip: !unix }, async (t) => {
  const tampered = '#!/bin/sh\necho pwned\n';
  const srv = await serve(t, { [`/releases/v${VERSION}/${ASSET}`]: tampered });
  const { dir } = taskFolder(t, { release: released, downloadUrl: `${srv.base}/releases/v{version}/{asset}` });
  const tools = tmpdir(t, 'gitship-tools-');
  const res = await runShim(dir, { PATH: '/nonexistent', AGENT_TOOLSDIRECTORY: tools });
  assert.equal(res.status, 1, res.stdout);
  assert.doesNotMatch(res.stdout, /pwned/);
  const issue = res.stdout.split('\n').find((l) => l.startsWith('##vso[task.issue type=error;]'));
  assert.ok(issue, res.stdout);
  assert.ok(issue.includes(`${srv.base}/releases/v${VERSION}/${ASSET}: SHA-256 mismatch for ${ASSET}`), issue);
  assert.ok(issue.includes(`expected ${sha256(released)}`), issue);
  assert.ok(issue.includes(`got ${sha256(tampered)}`), issue);
  assert.ok(issue.includes('nothing cached'), issue);
  assert.deepEqual(fs.readdirSync(tools), [], 'nothing may be left in the tool cache');
});

test('GITSHIP_DOWNLOAD_URL replaces step.json\'s URL: a mirror, or a folder on a share', { skip: !unix }, async (t) => {
  const { dir } = taskFolder(t, { release: released, downloadUrl: 'http://127.0.0.1:1/never/{asset}' });
  const share = tmpdir(t, 'gitship-share-');
  fs.mkdirSync(path.join(share, VERSION));
  fs.writeFileSync(path.join(share, VERSION, ASSET), released);

  const res = await runShim(dir, { PATH: '/nonexistent', GITSHIP_DOWNLOAD_URL: `${share}/{version}/{asset}`, AGENT_TEMPDIRECTORY: tmpdir(t, 'gitship-agent-tmp-') });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /AGENT_TOOLSDIRECTORY is not set: not cached/);
  assert.match(res.stdout, /^released /m);

  const srv = await serve(t, { [`/mirror/${ASSET}`]: released });
  const viaHTTP = await runShim(dir, { PATH: '/nonexistent', GITSHIP_DOWNLOAD_URL: `${srv.base}/mirror/{asset}`, AGENT_TOOLSDIRECTORY: tmpdir(t, 'gitship-tools-') });
  assert.equal(viaHTTP.status, 0, viaHTTP.stdout + viaHTTP.stderr);
  assert.deepEqual(srv.hits, [`/mirror/${ASSET}`]);
});

test('a release without an asset for the agent, or a missing asset, fails clearly', { skip: !unix }, async (t) => {
  const srv = await serve(t, {});
  const { dir } = taskFolder(t, { release: released, downloadUrl: `${srv.base}/releases/v{version}/{asset}` });
  const notFound = await runShim(dir, { PATH: '/nonexistent' });
  assert.equal(notFound.status, 1);
  assert.match(notFound.stdout, new RegExp(`task\\.issue type=error;\\]download ${srv.base}/releases/v1\\.2\\.3/${ASSET}: HTTP 404`));

  fs.writeFileSync(path.join(dir, 'release.json'), JSON.stringify({ version: VERSION, assets: {} }));
  const none = await runShim(dir, { PATH: '/nonexistent' });
  assert.equal(none.status, 1);
  assert.match(none.stdout, /release 1\.2\.3 has no gitship-demo for \w+\/\w+ in release\.json/);
});

test('bundled binary path per OS and CPU', (t) => {
  const dir = tmpdir(t, 'gitship-bin-');
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

test('download URL templates', () => {
  assert.equal(shim.expand('https://h/v{version}/{asset}?s={step}&p={os}-{arch}&x={other}',
    { version: '1.2.3', asset: 'gitship-lint-linux-amd64', step: 'lint', os: 'linux', arch: 'amd64' }),
  'https://h/v1.2.3/gitship-lint-linux-amd64?s=lint&p=linux-amd64&x={other}');
});

test('messages cannot break out of a logging command', () => {
  assert.equal(shim.escapeData('50% done\r\n##vso[task.complete result=Succeeded;]'),
    '50%AZP25 done%0D%0A##vso[task.complete result=Succeeded;]');
});
