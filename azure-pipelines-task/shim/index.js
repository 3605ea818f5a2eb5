// gitship Azure Pipelines task shim.
//
// The agent runs this file with its own Node (the Node24 handler, or
// Node20_1 on agents older than 4.265.1). It finds the step's Go binary
// for the agent's OS and CPU, and runs it with the agent's environment
// unchanged: the task inputs are already there as INPUT_<NAME>, and the
// binary reads them itself. No npm packages: the task folder ships as it
// is (Node's https, crypto and fs do the download), and the binary does
// the work.
//
// Which binary, first found wins:
//   1. GITSHIP_BINARY (a pipeline variable or the agent's environment):
//      that file, as it is.
//   2. bin/<os>-<arch>/gitship-<step>[.exe] in this folder: the bundled
//      VSIX, for agents with no way out.
//   3. gitship-<step> on PATH, when it reports the task's release version
//      (any version in a task folder that is not from a release).
//   4. The agent's tool cache, AGENT_TOOLSDIRECTORY/gitship-<step>/
//      <version>/<arch> with its <arch>.complete marker (the layout of
//      azure-pipelines-tool-lib), checked against release.json.
//   5. A download of the release's asset from step.json's downloadUrl (or
//      GITSHIP_DOWNLOAD_URL: a mirror, a file share), checked against the
//      SHA-256 in release.json before it is cached or run. A file that
//      does not match is deleted and refused.
//
// Layout of a task folder (tfx packs each folder on its own):
//   task.json, index.js (this file),
//   step.json     {"step": "lint", "downloadUrl": "https://.../v{version}/{asset}"}
//   release.json  {"version": "1.2.3", "assets": {"linux/amd64": {"name", "sha256"}}},
//                 written by tools/release
//   bin/<os>-<arch>/gitship-<step>[.exe]  in the bundled variant only
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');
const url = require('url');

const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const GOARCH = { x64: 'amd64', arm64: 'arm64' };

// escapeData escapes a logging command's message the way
// azure-pipelines-task-lib does, so a message cannot end the command early
// or start another one.
function escapeData(s) {
  return String(s).replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

// fail reports why the task could not run, as an error the run page shows
// and as the task's result. task.issue is task-lib's name for the agent's
// logissue command (the agent takes both); MockTestRunner counts only it.
function fail(out, message) {
  out.write(`##vso[task.issue type=error;]${escapeData(message)}\n`);
  out.write(`##vso[task.complete result=Failed;]${escapeData(message)}\n`);
}

// binaryPath returns where the bundled binary for this OS and CPU must
// be, or an error message when gitship ships none for them.
function binaryPath(dir, step, platform, arch) {
  const goos = GOOS[platform];
  const goarch = GOARCH[arch];
  if (!goos || !goarch) {
    return { error: `gitship-${step} has no build for ${platform}/${arch}: supported are linux, darwin and windows on x64 and arm64` };
  }
  const exe = `gitship-${step}${goos === 'windows' ? '.exe' : ''}`;
  const file = path.join(dir, 'bin', `${goos}-${goarch}`, exe);
  if (!fs.existsSync(file)) {
    return { error: `gitship-${step} for ${goos}/${goarch} is missing from the task: expected ${file}`, file };
  }
  return { file };
}

function readJSON(file) {
  try {
    return { value: JSON.parse(fs.readFileSync(file, 'utf8')) };
  } catch (err) {
    return { error: `cannot read ${file}: ${err.message}` };
  }
}

// readConfig reads step.json and, when the folder is from a release,
// release.json.
function readConfig(dir) {
  const file = path.join(dir, 'step.json');
  const cfg = readJSON(file);
  if (cfg.error) {
    return cfg;
  }
  const step = cfg.value.step;
  if (typeof step !== 'string' || !/^[a-z][a-z0-9-]*$/.test(step)) {
    return { error: `${file}: "step" must name a gitship step, got ${JSON.stringify(step)}` };
  }
  const config = { step, downloadUrl: cfg.value.downloadUrl || '' };
  const relFile = path.join(dir, 'release.json');
  if (fs.existsSync(relFile)) {
    const rel = readJSON(relFile);
    if (rel.error) {
      return rel;
    }
    const { version, assets } = rel.value;
    if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version) || typeof assets !== 'object' || !assets) {
      return { error: `${relFile}: want {"version": "MAJOR.MINOR.PATCH", "assets": {...}}` };
    }
    config.release = { version, assets };
  }
  return config;
}

// onPath finds an executable on the PATH of env, as the agent's shell
// would.
function onPath(name, env, platform) {
  const dirs = (env.PATH || env.Path || '').split(platform === 'win32' ? ';' : ':');
  const exts = platform === 'win32' ? ['.exe'] : [''];
  for (const d of dirs) {
    if (!d) {
      continue;
    }
    for (const ext of exts) {
      const p = path.join(d, name + ext);
      try {
        const st = fs.statSync(p);
        if (st.isFile() && (platform === 'win32' || (st.mode & 0o111) !== 0)) {
          return p;
        }
      } catch (err) {
        // not here
      }
    }
  }
  return '';
}

function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('error', reject)
      .on('data', (b) => h.update(b))
      .on('end', () => resolve(h.digest('hex')));
  });
}

// expand fills a download URL template.
function expand(template, vars) {
  return template.replace(/\{(version|asset|step|os|arch)\}/g, (_, k) => vars[k]);
}

// fetchTo copies what src names (http:, https:, file: or a local path)
// into the open file fd, returning the SHA-256 of what was written.
// Redirects are followed (GitHub sends release assets from another host).
function fetchTo(src, dest, redirects = 5) {
  const isURL = /^[a-z][a-z0-9+.-]*:\/\//i.test(src);
  if (!isURL || src.startsWith('file://')) {
    const file = isURL ? url.fileURLToPath(src) : src;
    return pipeHashed(fs.createReadStream(file), dest);
  }
  const u = new URL(src);
  const client = { 'http:': http, 'https:': https }[u.protocol];
  if (!client) {
    return Promise.reject(new Error(`unsupported URL scheme ${u.protocol}`));
  }
  return new Promise((resolve, reject) => {
    const req = client.get(u, { headers: { 'User-Agent': 'gitship-azure-task' } }, (res) => {
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location) {
        res.resume();
        if (redirects === 0) {
          reject(new Error('too many redirects'));
          return;
        }
        resolve(fetchTo(new URL(res.headers.location, u).toString(), dest, redirects - 1));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode} ${res.statusMessage || ''}`.trim()));
        return;
      }
      pipeHashed(res, dest).then(resolve, reject);
    });
    req.setTimeout(120000, () => req.destroy(new Error('no data for 120 seconds')));
    req.on('error', reject);
  });
}

function pipeHashed(stream, dest) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    const out = fs.createWriteStream(dest, { mode: 0o700 });
    stream.on('error', (err) => {
      out.destroy();
      reject(err);
    });
    stream.on('data', (b) => h.update(b));
    out.on('error', reject);
    // 'close', not 'finish': until the file is closed, running it fails
    // with ETXTBSY on Linux.
    out.on('close', () => resolve(h.digest('hex')));
    stream.pipe(out);
  });
}

function debug(out, msg) {
  out.write(`${msg}\n`);
}

// resolveBinary finds or fetches the binary to run: { file } or { error }.
async function resolveBinary(o, cfg) {
  const { dir, env, platform, arch, out } = o;
  const step = cfg.step;
  const name = `gitship-${step}`;
  if (env.GITSHIP_BINARY) {
    if (!fs.existsSync(env.GITSHIP_BINARY)) {
      return { error: `GITSHIP_BINARY=${env.GITSHIP_BINARY}: no such file` };
    }
    debug(out, `${name}: ${env.GITSHIP_BINARY} (GITSHIP_BINARY)`);
    return { file: env.GITSHIP_BINARY };
  }
  const bundled = binaryPath(dir, step, platform, arch);
  if (bundled.error && !bundled.file) {
    return bundled; // no build for this OS or CPU
  }
  if (!bundled.error) {
    return { file: bundled.file };
  }
  const goos = GOOS[platform];
  const goarch = GOARCH[arch];
  const rel = cfg.release;

  const found = onPath(name, env, platform);
  if (found) {
    if (!rel) {
      debug(out, `${name}: ${found} (PATH)`);
      return { file: found };
    }
    const v = childProcess.spawnSync(found, ['--version'], { env, encoding: 'utf8', timeout: 30000, windowsHide: true });
    const said = String(v.stdout || '').trim();
    if (v.status === 0 && said === `${name} version ${rel.version}`) {
      debug(out, `${name}: ${found} (PATH, version ${rel.version})`);
      return { file: found };
    }
    debug(out, `${name}: not using ${found} on PATH: it says ${JSON.stringify(said)}, the task is ${rel.version}`);
  }
  if (!rel) {
    return { error: `${name} for ${goos}/${goarch}: not on PATH, GITSHIP_BINARY is not set, and this task folder is not from a release (no release.json, so nothing to download)` };
  }
  const asset = rel.assets[`${goos}/${goarch}`];
  if (!asset || typeof asset.name !== 'string' || !/^[0-9a-f]{64}$/.test(asset.sha256)) {
    return { error: `release ${rel.version} has no ${name} for ${goos}/${goarch} in release.json` };
  }
  const exe = goos === 'windows' ? `${name}.exe` : name;

  // The tool cache, as azure-pipelines-tool-lib lays it out.
  const tools = env.AGENT_TOOLSDIRECTORY;
  let cacheDir = '';
  if (tools) {
    cacheDir = path.join(tools, name, rel.version, arch);
    const cached = path.join(cacheDir, exe);
    if (fs.existsSync(`${cacheDir}.complete`) && fs.existsSync(cached)) {
      const got = await sha256File(cached);
      if (got !== asset.sha256) {
        return { error: `${cached}: SHA-256 ${got}, release ${rel.version} has ${asset.sha256} for ${asset.name}: the tool cache holds another file; delete ${cacheDir} and ${cacheDir}.complete` };
      }
      debug(out, `${name}: ${cached} (tool cache, ${rel.version})`);
      return { file: cached };
    }
  }

  const template = env.GITSHIP_DOWNLOAD_URL || cfg.downloadUrl;
  if (!template) {
    return { error: `${dir}/step.json has no downloadUrl and GITSHIP_DOWNLOAD_URL is not set` };
  }
  const src = expand(template, { version: rel.version, asset: asset.name, step, os: goos, arch: goarch });
  // Downloaded next to the cache (the same file system: moved in by a
  // rename once verified), or in the agent's temporary folder.
  const tmpRoot = tools || env.AGENT_TEMPDIRECTORY || os.tmpdir();
  fs.mkdirSync(tmpRoot, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(tmpRoot, `.${name}-`));
  const tmp = path.join(tmpDir, exe);
  debug(out, `${name}: downloading ${src}`);
  let got;
  try {
    got = await fetchTo(src, tmp);
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    return { error: `download ${src}: ${err.message} (set GITSHIP_DOWNLOAD_URL to a mirror, or GITSHIP_BINARY to a binary on the agent)` };
  }
  if (got !== asset.sha256) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    return { error: `${src}: SHA-256 mismatch for ${asset.name}: expected ${asset.sha256} (release.json of release ${rel.version}), got ${got}; refused, nothing cached` };
  }
  if (!cacheDir) {
    debug(out, `${name}: ${tmp} (AGENT_TOOLSDIRECTORY is not set: not cached)`);
    return { file: tmp };
  }
  try {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
    fs.renameSync(tmpDir, cacheDir);
    fs.writeFileSync(`${cacheDir}.complete`, '');
  } catch (err) {
    // Another agent on this machine may be caching it right now.
    debug(out, `${name}: not cached (${err.message}); running ${tmp}`);
    return { file: tmp };
  }
  debug(out, `${name}: cached ${path.join(cacheDir, exe)}`);
  return { file: path.join(cacheDir, exe) };
}

// run finds the binary, starts it and resolves to the exit code the task
// should end with. Options default to the agent's: this folder, the
// process's environment, OS and CPU, and stdout for logging commands.
async function run(opts = {}) {
  const o = {
    dir: opts.dir || __dirname,
    env: opts.env || process.env,
    platform: opts.platform || process.platform,
    arch: opts.arch || process.arch,
    out: opts.out || process.stdout,
  };
  const cfg = readConfig(o.dir);
  if (cfg.error) {
    fail(o.out, cfg.error);
    return 1;
  }
  let bin;
  try {
    bin = await resolveBinary(o, cfg);
  } catch (err) {
    bin = { error: `gitship-${cfg.step}: ${err.message}` };
  }
  if (bin.error) {
    fail(o.out, bin.error);
    return 1;
  }
  if (o.platform !== 'win32') {
    // A VSIX is a zip: the executable bit is gone after the agent unpacks
    // it. If the folder is read-only, try to run it anyway and report that.
    try {
      fs.chmodSync(bin.file, 0o755);
    } catch (err) {
      o.out.write(`##vso[task.issue type=warning;]${escapeData(`chmod ${bin.file}: ${err.message}`)}\n`);
    }
  }
  const result = childProcess.spawnSync(bin.file, [], {
    stdio: 'inherit',
    env: o.env,
    cwd: o.env.BUILD_SOURCESDIRECTORY || process.cwd(),
    windowsHide: true,
  });
  if (result.error) {
    fail(o.out, `cannot start ${bin.file}: ${result.error.message}`);
    return 1;
  }
  if (result.signal) {
    fail(o.out, `gitship-${cfg.step} was stopped by ${result.signal}`);
    return 1;
  }
  if (result.status !== 0) {
    // The agent treats a non-zero exit of a Node task as an
    // infrastructure failure; task.complete says it is the step's verdict.
    // The step has already printed its findings and errors.
    const meaning = { 1: 'the check failed', 2: 'bad usage or configuration' }[result.status] || 'failed';
    o.out.write(`##vso[task.complete result=Failed;]${escapeData(`gitship-${cfg.step} exited with ${result.status}: ${meaning}`)}\n`);
  }
  return result.status;
}

// main runs the task as the agent does and sets the process's exit code.
function main() {
  return run().then((code) => {
    process.exitCode = code;
  });
}

module.exports = { run, main, binaryPath, escapeData, expand };

// The agent runs this file (node index.js); azure-pipelines-task-lib's
// TaskMockRunner require()s it from mock-run.js. Either way the task runs.
// Anything else that requires it (its tests) gets the functions only.
const parent = module.parent && module.parent.filename;
if (require.main === module || (parent && /azure-pipelines-task-lib[\\/]mock-run\.js$/.test(parent))) {
  main();
}
