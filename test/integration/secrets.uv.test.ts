/**
 * Index credentials never reach a command line, nor any file pymgr or the managers write, on the
 * host. A loopback index (test/helpers/auth-index.ts) serves a wheel only with the right Basic auth
 * header; while the real uv (and pip, through pyenv's Python) installs from it, every process's
 * command line is sampled. The install must succeed (so the credentials did arrive), uv's command
 * line must have been seen (so the sampling covered the install), and the password appears nowhere.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthIndex, type AuthIndex } from '../helpers/auth-index.js';
import { cleanupTemp, makeTemp, python, type CliRun } from '../helpers/project.js';
import { countFiles, filesContaining, sampleCmdlines } from '../helpers/secret-scan.js';
import { buildWheel } from '../helpers/wheels.js';
import { findPyenvRoot, findUv, repoRoot, requireTool } from '../helpers/tools.js';

const hasUv = requireTool('uv', findUv());
const pyenvRoot = findPyenvRoot();
const hasPyenv = requireTool("the host's pyenv (~/.pyenv) with a 3.11 Python", pyenvRoot && readdirSync(join(pyenvRoot, 'versions')).some((v) => v.startsWith('3.11.')));
const PASSWORD = 'Pw-s3cr3t-7f3a9c';
const USER = 'bob';

/** The built CLI with `stdin` given, in an environment of private temp directories. */
function cli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env } as NodeJS.ProcessEnv,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    if (stdin !== undefined) child.stdin!.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe.skipIf(!hasUv)('index credentials on the host (real uv, pip)', () => {
  let index: AuthIndex;
  let root: string;

  beforeAll(async () => {
    root = makeTemp('pymgr-secrets-');
    const wheels = join(root, 'wheels');
    mkdirSync(wheels);
    buildWheel(wheels, 'authdep', '1.0.0');
    // Each response is held back a little, so the installer runs long enough to be sampled.
    index = await startAuthIndex(wheels, USER, PASSWORD, 150);
  });
  afterAll(async () => {
    await index?.close();
    cleanupTemp();
  });

  /** A project and private pymgr, uv and temporary directories for one run. */
  function scene(name: string, files: Record<string, string>) {
    const base = join(root, name);
    const dirs = { project: join(base, 'proj'), state: join(base, 'state'), tools: join(base, 'tools'), uvCache: join(base, 'uv-cache'), tmp: join(base, 'tmp') };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    for (const [rel, text] of Object.entries(files)) writeFileSync(join(dirs.project, rel), text);
    const env = { PYMGR_STATE_DIR: dirs.state, PYMGR_TOOLS_DIR: dirs.tools, UV_CACHE_DIR: dirs.uvCache, TMPDIR: dirs.tmp, UV_NO_PROGRESS: '1' };
    return { dirs, env };
  }

  async function installAndWatch(run: () => Promise<CliRun>, installer: RegExp) {
    const before = index.requests.length;
    const sampler = sampleCmdlines(20);
    const res = await run();
    const seen = [...sampler.stop()];
    const requests = index.requests.slice(before);
    return { res, seen, requests, installerSeen: seen.filter((l) => installer.test(l)) };
  }

  function assertNothingLeaked(dirs: Record<string, string>, out: CliRun) {
    // Something was written, and none of it holds the password.
    expect(countFiles(join(dirs.project, '.venv'))).toBeGreaterThan(5);
    expect(filesContaining(Object.values(dirs), PASSWORD)).toEqual([]);
    expect(out.stdout + out.stderr).not.toContain(PASSWORD);
    // The private netrc directory is gone.
    expect(readdirSync(dirs.tmp).filter((n) => n.startsWith('pymgr-netrc-'))).toEqual([]);
  }

  it('--index-url-file: uv pip install gets the credentials through a private netrc, never on a command line', async () => {
    const { dirs, env } = scene('file', { 'requirements.txt': 'authdep==1.0.0\n' });
    const urlFile = join(root, 'file-url.txt');
    writeFileSync(urlFile, `${index.urlWithCredentials()}\n`, { mode: 0o600 });
    const w = await installAndWatch(() => cli(['setup', dirs.project, '--provider', 'uv', '--index-url-file', urlFile, '--json'], env), /\buv pip install\b/);
    expect(w.res.code, w.res.stderr).toBe(0);
    expect(w.installerSeen.length).toBeGreaterThan(0); // the sampling saw uv running...
    expect(w.installerSeen.join('\n')).toContain(index.url()); // ...with the index URL, without credentials
    expect(w.seen.filter((l) => l.includes(PASSWORD))).toEqual([]);
    expect(w.requests.some((r) => r.authorised && r.path.startsWith('/files/authdep-1.0.0'))).toBe(true);
    expect(w.res.stderr).not.toContain('warning');
    expect(await python(join(dirs.project, '.venv', 'bin', 'python'), 'import authdep; print(authdep.__version__)')).toBe('1.0.0');
    assertNothingLeaked(dirs, w.res);
  });

  it('PYMGR_INDEX__URL: uv sync of a uv project (which writes uv.lock) leaks nothing either', async () => {
    const { dirs, env } = scene('env', {
      'pyproject.toml': '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = ["authdep"]\n\n[tool.uv]\npackage = false\n',
    });
    const w = await installAndWatch(
      () => cli(['setup', dirs.project, '--provider', 'uv'], { ...env, PYMGR_INDEX__URL: index.urlWithCredentials() }),
      /\buv sync\b/,
    );
    expect(w.res.code, w.res.stderr).toBe(0);
    expect(w.installerSeen.length).toBeGreaterThan(0);
    expect(w.seen.filter((l) => l.includes(PASSWORD))).toEqual([]);
    expect(readFileSync(join(dirs.project, 'uv.lock'), 'utf8')).toContain('authdep');
    expect(await python(join(dirs.project, '.venv', 'bin', 'python'), 'import authdep; print(authdep.__file__)')).toContain(dirs.project);
    assertNothingLeaked(dirs, w.res);
  });

  it.skipIf(!hasPyenv)('--index-url - (standard input): pip, with its own netrc lookup, leaks nothing', async () => {
    const { dirs, env } = scene('stdin', { 'requirements.txt': 'authdep==1.0.0\n' });
    const w = await installAndWatch(
      () => cli(['setup', dirs.project, '--provider', 'pyenv', '--python', '3.11', '--index-url', '-'], { ...env, PYENV_ROOT: pyenvRoot! }, `${index.urlWithCredentials()}\n`),
      /-m pip install\b/,
    );
    expect(w.res.code, w.res.stderr).toBe(0);
    expect(w.installerSeen.length).toBeGreaterThan(0);
    expect(w.seen.filter((l) => l.includes(PASSWORD))).toEqual([]);
    expect(await python(join(dirs.project, '.venv', 'bin', 'python'), 'import authdep; print(authdep.__version__)')).toBe('1.0.0');
    assertNothingLeaked(dirs, w.res);
  });

  it("a password in --index-url still works, with a warning (and a ~/.netrc of the user's own does not get in the way)", async () => {
    const { dirs, env } = scene('flag', { 'requirements.txt': 'authdep==1.0.0\n' });
    const home = join(root, 'flag-home');
    mkdirSync(home);
    // The user's netrc names another host; pymgr's private netrc must carry it over, not drop it.
    writeFileSync(join(home, '.netrc'), 'machine other.invalid\nlogin x\npassword y\n');
    chmodSync(join(home, '.netrc'), 0o600);
    const w = await installAndWatch(
      () => cli(['setup', dirs.project, '--provider', 'uv', '--index-url', index.urlWithCredentials()], { ...env, HOME: home }),
      /\buv pip install\b/,
    );
    expect(w.res.code, w.res.stderr).toBe(0);
    expect(w.res.stderr).toMatch(/^pymgr: warning: the password in --index-url is visible to other local users/m);
    expect(w.res.stderr.split('\n').filter((l) => l.includes('warning'))).toHaveLength(1);
    // Only pymgr's own process (the flag itself) shows it; no installer does.
    expect(w.installerSeen.length).toBeGreaterThan(0);
    expect(w.seen.filter((l) => l.includes(PASSWORD) && !l.includes('pymgr.mjs'))).toEqual([]);
    assertNothingLeaked(dirs, w.res);
  });

  it("the user's own ~/.netrc keeps working beside pymgr's credentials (its entries are carried into the private netrc)", async () => {
    const { dirs, env } = scene('own-netrc', { 'requirements.txt': 'authdep==1.0.0\n' });
    const home = join(root, 'own-netrc-home');
    mkdirSync(home);
    // The same index under another host name, known only to the user's netrc.
    writeFileSync(join(home, '.netrc'), `machine localhost\nlogin ${USER}\npassword ${PASSWORD}\n`, { mode: 0o600 });
    const before = index.requests.length;
    const res = await cli(['setup', dirs.project, '--provider', 'uv'], {
      ...env,
      HOME: home,
      PYMGR_INDEX__URL: index.urlWithCredentials(),
      PYMGR_INDEX__EXTRA_URLS: index.url('localhost'),
    });
    expect(res.code, res.stderr).toBe(0);
    const requests = index.requests.slice(before);
    expect(requests.filter((r) => r.host === 'localhost' && r.authorised).length).toBeGreaterThan(0);
    assertNothingLeaked(dirs, res);
  });

  it('providers.uv.keyringProvider reaches uv as --keyring-provider (and the netrc still supplies the password)', async () => {
    const { dirs, env } = scene('keyring', { 'requirements.txt': 'authdep==1.0.0\n' });
    const res = await cli(['setup', dirs.project, '--provider', 'uv', '--json'], {
      ...env,
      PYMGR_INDEX__URL: index.urlWithCredentials(),
      PYMGR_PROVIDERS__UV__KEYRING_PROVIDER: 'subprocess',
    });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const commands: string[][] = JSON.parse(res.stdout).install.commands;
    expect(commands.some((c) => c.join(' ').includes('--keyring-provider subprocess'))).toBe(true);
    expect(res.stdout).not.toContain(PASSWORD);
    const bad = await cli(['setup', dirs.project, '--provider', 'uv', '--json'], { ...env, PYMGR_PROVIDERS__UV__KEYRING_PROVIDER: 'always' });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('CONFIG_INVALID');
  });

  it('without credentials, the index sends 401 and the install fails (the test index really needs them)', async () => {
    const { dirs, env } = scene('none', { 'requirements.txt': 'authdep==1.0.0\n' });
    const res = await cli(['setup', dirs.project, '--provider', 'uv', '--index-url', index.url()], { ...env, UV_HTTP_RETRIES: '0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/401|auth/i);
  });
});
