/**
 * State and repair on the real uv: broken and empty venvs are rebuilt (never reported ready), a stale
 * uv.lock is a clear error, a killed setup is repaired, concurrent setups serialise, and `run`
 * passes exit codes through. Through the built CLI, as users meet it.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, copyFixture, moduleFile, runCli } from '../helpers/project.js';
import { findUv, repoRoot, requireTool } from '../helpers/tools.js';

const run = requireTool('uv', findUv());

function parse(out: string): any {
  return JSON.parse(out);
}

async function setupJson(dir: string, extra: string[] = []) {
  const res = await runCli(['setup', dir, '--json', '--provider', 'uv', ...extra]);
  return { ...res, json: res.stdout.trim() ? parse(res.stdout) : undefined };
}

describe.skipIf(!run)('state and repair (real uv, CLI)', () => {
  afterAll(cleanupTemp);

  it('setup --json prints one document with the promised fields', async () => {
    const dir = copyFixture('requirements');
    const res = await setupJson(dir);
    expect(res.code, res.stderr).toBe(0);
    const j = res.json;
    expect(j.projectType).toBe('requirements');
    expect(j.provider).toMatchObject({ name: 'uv', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(j.python).toMatchObject({ version: expect.stringMatching(/^3\.\d+\.\d+$/), executable: join(dir, '.venv', 'bin', 'python') });
    expect(j.venv).toEqual({ path: join(dir, '.venv'), action: 'created' });
    expect(j.isolation.verified).toBe(true);
    expect(j.isolation.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['prefix-is-venv', 'prefix-differs-from-base', 'executable-in-venv', 'package:six', 'package:idna']),
    );
    expect(typeof j.durationMs).toBe('number');
    // Nothing but the JSON document on stdout.
    expect(res.stdout.trim().startsWith('{') && res.stdout.trim().endsWith('}')).toBe(true);
  });

  it('a venv directory that is empty gets a verified venv in place', async () => {
    const dir = copyFixture('requirements');
    mkdirSync(join(dir, '.venv'));
    const res = await setupJson(dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.venv.action).toBe('created');
    expect(res.json.isolation.verified).toBe(true);
  });

  it('a broken venv (interpreter removed) is rebuilt, never reported ready', async () => {
    const dir = copyFixture('requirements');
    expect((await setupJson(dir)).code).toBe(0);
    for (const f of ['python', 'python3']) rmSync(join(dir, '.venv', 'bin', f), { force: true });
    const env = await runCli(['env', dir, '--json']);
    expect(env.code).toBe(1);
    expect(parse(env.stdout).state).toBe('broken');
    const res = await setupJson(dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.venv.action).toBe('rebuilt');
    expect(res.json.isolation.verified).toBe(true);
    expect(await moduleFile(join(dir, '.venv', 'bin', 'python'), 'six')).toContain(join(dir, '.venv'));
  });

  it('a venv of the wrong Python is rebuilt with the requested one', async () => {
    const dir = copyFixture('requirements');
    const first = await setupJson(dir, ['--python', '3.12']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.python.version).toMatch(/^3\.12\./);
    const second = await setupJson(dir, ['--python', '3.11']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.python.version).toMatch(/^3\.11\./);
    expect(second.json.venv.action).toBe('rebuilt');
  });

  it('a changed requirement file updates the venv in place', async () => {
    const dir = copyFixture('requirements');
    expect((await setupJson(dir)).code).toBe(0);
    writeFileSync(join(dir, 'requirements.txt'), readFileSync(join(dir, 'requirements.txt'), 'utf8') + 'attrs==23.2.0\n');
    const res = await setupJson(dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.venv.action).toBe('updated');
    expect(res.json.isolation.checks.map((c: { name: string }) => c.name)).toContain('package:attrs');
  });

  it('a non-venv directory at the venv path is an error and is left alone', async () => {
    const dir = copyFixture('requirements');
    mkdirSync(join(dir, '.venv'));
    writeFileSync(join(dir, '.venv', 'precious.txt'), 'keep me');
    const res = await setupJson(dir);
    expect(res.code).toBe(1);
    expect(res.json.error.code).toBe('PROJECT_INVALID');
    expect(res.json.error.message).toContain(join(dir, '.venv'));
    expect(readFileSync(join(dir, '.venv', 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('a stale uv.lock is a clear error, never a silent re-lock', async () => {
    const dir = copyFixture('uv-project');
    const lockBefore = readFileSync(join(dir, 'uv.lock'), 'utf8');
    const pyproject = join(dir, 'pyproject.toml');
    writeFileSync(pyproject, readFileSync(pyproject, 'utf8').replace('dependencies = ["six==1.16.0"]', 'dependencies = ["six==1.16.0", "idna==3.7"]'));
    const res = await setupJson(dir);
    expect(res.code).toBe(1);
    expect(res.json.error.code).toBe('PROJECT_INVALID');
    expect(res.json.error.message).toMatch(/uv\.lock is out of date/);
    expect(res.json.error.hint).toMatch(/uv lock/);
    expect(readFileSync(join(dir, 'uv.lock'), 'utf8')).toBe(lockBefore);
    const human = await runCli(['setup', dir, '--provider', 'uv']);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/PROJECT_INVALID.*uv\.lock is out of date/);
  });

  it('a setup killed mid-way is repaired by the next one', async () => {
    const dir = copyFixture('pyproject-setuptools');
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), 'setup', dir, '--provider', 'uv'], { stdio: 'ignore' });
    const state = join(dir, '.venv', '.pymgr', 'state.json');
    // Kill it as soon as it has started changing the venv.
    const deadline = Date.now() + 60_000;
    while (!existsSync(state) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    expect(JSON.parse(readFileSync(state, 'utf8')).status).toBe('in-progress');
    expect(existsSync(`${join(dir, '.venv')}.pymgr-lock`)).toBe(true); // left behind by the kill
    const env = await runCli(['env', dir, '--json']);
    expect(env.code).toBe(1);
    expect(['incomplete', 'broken']).toContain(parse(env.stdout).state);
    const res = await setupJson(dir);
    expect(res.code, res.stderr).toBe(0);
    expect(['rebuilt', 'updated']).toContain(res.json.venv.action);
    expect(res.json.isolation.verified).toBe(true);
    expect(existsSync(`${join(dir, '.venv')}.pymgr-lock`)).toBe(false);
  });

  it('two setups at once are serialised and leave one sound env', async () => {
    const dir = copyFixture('setuppy');
    const [a, b] = await Promise.all([setupJson(dir), setupJson(dir)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const actions = [a.json.venv.action, b.json.venv.action].sort();
    expect(actions).toEqual(['created', 'reused']);
    const env = await runCli(['env', dir, '--json']);
    expect(parse(env.stdout).state).toBe('ready');
  });

  it('run passes exit codes through and runs inside the env', async () => {
    const dir = copyFixture('requirements');
    const before = await runCli(['run', dir, '--', 'python', '-c', 'print(1)']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/VENV_NOT_FOUND/);
    expect((await setupJson(dir)).code).toBe(0);
    const seven = await runCli(['run', dir, '--', 'python', '-c', 'import sys; sys.exit(7)']);
    expect(seven.code).toBe(7);
    const where = await runCli(['run', dir, '--', 'python', '-c', 'import sys, six, os; print(sys.prefix); print(os.environ["VIRTUAL_ENV"]); print(six.__file__)']);
    expect(where.code).toBe(0);
    const [prefix, venvVar, sixFile] = where.stdout.trim().split('\n');
    expect(prefix).toBe(join(dir, '.venv'));
    expect(venvVar).toBe(join(dir, '.venv'));
    expect(sixFile.startsWith(join(dir, '.venv'))).toBe(true);
    const missing = await runCli(['run', dir, '--', 'no-such-program-pymgr']);
    expect(missing.code).toBe(127);
  });

  it('env reports outdated after an input changed, ready after setup', async () => {
    const dir = copyFixture('requirements');
    expect((await setupJson(dir)).code).toBe(0);
    expect(parse((await runCli(['env', dir, '--json'])).stdout).state).toBe('ready');
    writeFileSync(join(dir, 'requirements.txt'), readFileSync(join(dir, 'requirements.txt'), 'utf8') + 'attrs==23.2.0\n');
    const env = await runCli(['env', dir, '--json']);
    expect(env.code).toBe(1);
    expect(parse(env.stdout)).toMatchObject({ state: 'outdated', detail: expect.stringMatching(/pymgr setup/) });
    expect((await setupJson(dir)).code).toBe(0);
    expect(parse((await runCli(['env', dir, '--json'])).stdout).state).toBe('ready');
  });

  it('a venv path that is a symbolic link to a directory is used in place', async () => {
    const dir = copyFixture('requirements');
    const target = join(dir, '..', 'venv-on-another-disk');
    mkdirSync(target);
    symlinkSync(target, join(dir, '.venv'));
    const res = await setupJson(dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.isolation.verified).toBe(true);
    expect(lstatSync(join(dir, '.venv')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(target, 'pyvenv.cfg'))).toBe(true);
  });

  it('a file-system failure is IO_FAILED naming the path, with exit 1 and nothing created', async () => {
    const dir = copyFixture('requirements');
    const res = await setupJson(dir, ['--venv', 'requirements.txt/env']);
    expect(res.code).toBe(1);
    expect(res.json.error).toMatchObject({ code: 'IO_FAILED', message: expect.stringContaining(join(dir, 'requirements.txt')) });
    expect(res.json.error.hint).toBeTruthy();
    expect(existsSync(join(dir, '.venv'))).toBe(false);
  });

  it('run refuses --json (exit 2): the command\'s output is its own', async () => {
    const dir = copyFixture('requirements');
    const res = await runCli(['run', dir, '--json', '--', 'python', '-c', 'print(1)']);
    expect(res.code).toBe(2);
    expect(parse(res.stdout).error.code).toBe('USAGE');
  });
});
