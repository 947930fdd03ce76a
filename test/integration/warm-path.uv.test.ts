/**
 * The warm no-op fast path (src/cli/fast-path.ts) answers `reused` only while nothing that
 * decides the env has changed; each change below must make the next setup do real work.
 * Through the built CLI with real uv, each case on its own copy of a fixture.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { resolvePyenvShim } from '../../src/executor/which.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findUv, repoRoot, requireTool } from '../helpers/tools.js';

const uvPath = findUv();
const run = requireTool('uv', uvPath);

describe.skipIf(!run)('warm fast path invalidation (real uv, CLI)', () => {
  let stateDir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    stateDir = makeTemp('pymgr-state-');
    env = { PYMGR_STATE_DIR: stateDir };
  });
  afterAll(cleanupTemp);

  const setup = async (dir: string, extra: string[] = [], more: Record<string, string> = {}) => {
    const res = await runCli(['setup', dir, '--json', ...extra], { env: { ...env, ...more } });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    return JSON.parse(res.stdout);
  };
  /** A project set up twice: the second run took the fast path (its record exists). */
  const warmProject = async () => {
    const dir = copyFixture('requirements');
    expect((await setup(dir)).venv.action).toBe('created');
    expect((await setup(dir)).venv.action).toBe('reused');
    // One record, and the hint of the interpreter the fast path started (bin/pymgr.mjs starts it early next time).
    expect(readdirSync(join(stateDir, 'quick')).filter((f) => !f.startsWith('early-')).length).toBe(1);
    expect(readdirSync(join(stateDir, 'quick')).filter((f) => f.startsWith('early-')).length).toBe(1);
    return dir;
  };

  it('a full setup leaves the hint of the check the next run makes: that run takes the interpreter started early (the hint is not rewritten)', async () => {
    const dir = copyFixture('requirements');
    expect((await setup(dir)).venv.action).toBe('created');
    const hints = () => readdirSync(join(stateDir, 'quick')).filter((f) => f.startsWith('early-')).map((f) => join(stateDir, 'quick', f));
    expect(hints()).toHaveLength(1);
    const [hint] = hints();
    const before = { text: readFileSync(hint, 'utf8'), ino: statSync(hint).ino };
    expect(JSON.parse(before.text).args).toContain(join(dir, '.venv'));
    expect((await setup(dir)).venv.action).toBe('reused');
    // Rewritten (a new file renamed in) only when the program started from it was not the one the check needed.
    expect({ text: readFileSync(hint, 'utf8'), ino: statSync(hint).ino }).toEqual(before);
    // An update records again, with the new requirement in the check: the next run takes it too.
    writeFileSync(join(dir, 'requirements.txt'), readFileSync(join(dir, 'requirements.txt'), 'utf8') + 'attrs==23.2.0\n');
    expect((await setup(dir)).venv.action).toBe('updated');
    const updated = { text: readFileSync(hint, 'utf8'), ino: statSync(hint).ino };
    expect(updated.text).toContain('attrs');
    expect((await setup(dir)).venv.action).toBe('reused');
    expect({ text: readFileSync(hint, 'utf8'), ino: statSync(hint).ino }).toEqual(updated);
  });

  it('an edited included requirement file', async () => {
    const dir = await warmProject();
    writeFileSync(join(dir, 'requirements', 'base.txt'), readFileSync(join(dir, 'requirements', 'base.txt'), 'utf8') + 'attrs==23.2.0\n');
    const out = await setup(dir);
    expect(out.venv.action).toBe('updated');
    expect(out.isolation.checks.map((c: { name: string }) => c.name)).toContain('package:attrs');
  });

  it('a new requirement file', async () => {
    const dir = await warmProject();
    writeFileSync(join(dir, 'requirements-extra.txt'), 'attrs==23.2.0\n');
    const out = await setup(dir);
    expect(out.venv.action).toBe('updated');
    expect(out.isolation.checks.map((c: { name: string }) => c.name)).toContain('package:attrs');
  });

  it('a config file appearing in a parent directory', async () => {
    const dir = await warmProject();
    writeFileSync(join(dir, '..', '.pymgrrc.json'), JSON.stringify({ venv: 'env2' }));
    const out = await setup(dir);
    expect(out.venv).toEqual({ path: join(dir, 'env2'), action: 'created' });
  });

  it('a PYMGR_* variable', async () => {
    const dir = await warmProject();
    const out = await setup(dir, [], { PYMGR_VENV: 'env3' });
    expect(out.venv).toEqual({ path: join(dir, 'env3'), action: 'created' });
  });

  it('a changed .python-version', async () => {
    const dir = await warmProject();
    writeFileSync(join(dir, '.python-version'), '3.12\n');
    const out = await setup(dir);
    expect(out.python.version).toMatch(/^3\.12\./);
    expect(out.venv.action).toBe('rebuilt');
  });

  it('packages removed from the venv behind pymgr\'s back', async () => {
    const dir = await warmProject();
    const lib = join(dir, '.venv', 'lib');
    const site = join(lib, readdirSync(lib)[0], 'site-packages');
    for (const name of readdirSync(site)) if (name.startsWith('six')) rmSync(join(site, name), { recursive: true, force: true });
    const out = await setup(dir);
    expect(out.venv.action).toBe('updated');
    expect(out.isolation.checks.find((c: { name: string }) => c.name === 'package:six').ok).toBe(true);
  });

  it('a requirement dropped from the inputs rebuilds the env without it', async () => {
    const dir = await warmProject();
    writeFileSync(join(dir, 'requirements.txt'), '-r requirements/base.txt\n-c constraints.txt\n');
    const out = await setup(dir);
    expect(out.venv.action).toBe('rebuilt');
    const site = join(dir, '.venv', 'lib', readdirSync(join(dir, '.venv', 'lib'))[0], 'site-packages');
    expect(readdirSync(site).some((n) => n.startsWith('six'))).toBe(false);
  });

  it('another uv earlier on PATH', async () => {
    const dir = await warmProject();
    const bin = makeTemp('pymgr-bin-');
    const path = `${bin}:${process.env.PATH}`;
    // Same PATH value for both runs (it is part of the key); the uv appears between them.
    expect((await setup(dir, [], { PATH: path })).venv.action).not.toBe('created');
    expect((await setup(dir, [], { PATH: path })).venv.action).toBe('reused');
    symlinkSync((await resolvePyenvShim(new HostExecutor(), uvPath!))!, join(bin, 'uv'));
    const out = await setup(dir, [], { PATH: path });
    expect(out.provider.path).toBe(join(bin, 'uv'));
    expect(out.venv.action).toBe('updated');
  });

  it('a setup killed during the install is repaired by the next one', async () => {
    const dir = copyFixture('pyproject-setuptools');
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), 'setup', dir, '--provider', 'uv'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let err = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (c) => {
        err += c;
        if (/install: install the project/.test(err)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => resolve());
    });
    await new Promise((r) => child.on('close', r));
    expect(JSON.parse(readFileSync(join(dir, '.venv', '.pymgr', 'state.json'), 'utf8')).status).toBe('in-progress');
    const out = await setup(dir, ['--provider', 'uv']);
    expect(['updated', 'rebuilt']).toContain(out.venv.action);
    expect(out.isolation.verified).toBe(true);
    expect(existsSync(`${join(dir, '.venv')}.pymgr-lock`)).toBe(false);
  });

  it('an unchanged project keeps taking the fast path (it is not always invalidated)', async () => {
    const dir = await warmProject();
    mkdirSync(join(dir, 'src-unrelated'));
    writeFileSync(join(dir, 'main.py'), 'print("changed code, not dependencies")\n');
    // A new directory changes the project's listing (it could hold requirement files): full path, still reused.
    expect((await setup(dir)).venv.action).toBe('reused');
    expect((await setup(dir)).venv.action).toBe('reused');
  });
});
