/**
 * An unchanged `pymgr detect` is answered from its record (src/cli/fast-path.ts: no program run,
 * no config loaded, `execs: 0`), and every change that could change its answer is noticed: a
 * project file, a config file, a manager appearing on PATH. Through the built CLI.
 */
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';

const run = requireTool('uv', findUv());

describe.skipIf(!run)('pymgr detect fast path (CLI)', () => {
  let env: Record<string, string>;
  let bin: string;
  beforeEach(() => {
    bin = makeTemp('pymgr-bin-');
    // A directory of our own first on PATH, where a manager can appear.
    // (Without node_modules/.bin, where npm's mise is.)
    const path = (process.env.PATH ?? '').split(':').filter((d) => !d.includes('node_modules'));
    env = { PYMGR_STATE_DIR: makeTemp('pymgr-state-'), PATH: [bin, ...path].join(':') };
  });
  afterAll(cleanupTemp);

  const detect = async (dir: string) => {
    const res = await runCli(['detect', dir, '--json'], { env });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const { execs, ...rest } = JSON.parse(res.stdout);
    return { execs, result: rest };
  };

  it('answers an unchanged project from the record, with nothing run, the same answer', async () => {
    const dir = copyFixture('requirements');
    const first = await detect(dir);
    expect(readdirSync(join(env.PYMGR_STATE_DIR, 'quick'))).toHaveLength(1);
    const again = await detect(dir);
    expect(again.execs).toBe(0);
    expect(again.result).toEqual(first.result);
  });

  it('a project file or a config file changed: detected afresh', async () => {
    const dir = copyFixture('requirements');
    await detect(dir);
    expect((await detect(dir)).execs).toBe(0);
    writeFileSync(join(dir, '.python-version'), '3.12\n');
    const changed = await detect(dir);
    expect(changed.result.python).toMatchObject({ request: '3.12', source: '.python-version' });
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ provider: 'pyenv' }));
    expect((await detect(dir)).result.provider).toMatchObject({ name: 'pyenv', source: 'config' });
    rmSync(join(dir, '.pymgrrc.json'));
    expect((await detect(dir)).result.provider.name).not.toBe('pyenv');
  });

  it('found by searching up: a directory on the way that becomes a project is noticed (setup and detect)', async () => {
    const dir = copyFixture('requirements');
    const sub = join(dir, 'tools', 'lint');
    mkdirSync(sub, { recursive: true });
    // Not a project by itself: only a tool's table.
    writeFileSync(join(sub, 'pyproject.toml'), '[tool.ruff]\nline-length = 100\n');
    const up = async (verb: 'detect' | 'setup') => {
      const res = await runCli([verb, '--json'], { env, cwd: sub });
      expect(res.code, res.stderr + res.stdout).toBe(0);
      return JSON.parse(res.stdout);
    };
    expect((await up('detect')).projectDir).toBe(dir);
    expect((await up('detect')).execs).toBe(0);
    expect((await up('setup')).projectDir).toBe(dir);
    expect((await up('setup')).venv.action).toBe('reused');
    // The same file (no name added anywhere) now declares a project: it is the project from here.
    writeFileSync(join(sub, 'pyproject.toml'), '[project]\nname = "lint"\nversion = "0.1.0"\ndependencies = []\n\n[tool.ruff]\nline-length = 100\n');
    expect((await up('detect')).projectDir).toBe(sub);
    const res = await runCli(['setup', '--json'], { env, cwd: sub });
    expect(JSON.parse(res.stdout).projectDir ?? JSON.parse(res.stdout).error?.details?.projectDir).toBe(sub);
  });

  it('a manager that appears on PATH changes the choice, and the record does not hide it', async () => {
    const dir = copyFixture('requirements');
    // mise first, where it is not installed: uv is chosen.
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ preference: ['mise', 'uv', 'pyenv'] }));
    const before = await detect(dir);
    expect(before.result.provider.name).toBe('uv');
    expect((await detect(dir)).execs).toBe(0);
    // A mise appears in a PATH directory.
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'mise'), '#!/bin/sh\necho "2026.9.15 linux-x64 (2026-09-27)"\n');
    chmodSync(join(bin, 'mise'), 0o755);
    const after = await detect(dir);
    expect(after.result.provider.name).toBe('mise');
    expect(after.execs).toBeGreaterThan(0);
  });

  it("setup's fast path too: an env whose manager was the first available is not reused once an earlier one appears", async () => {
    const dir = copyFixture('requirements');
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ preference: ['mise', 'uv', 'pyenv'] }));
    const setup = async () => {
      const res = await runCli(['setup', dir, '--json'], { env });
      return { code: res.code, out: JSON.parse(res.stdout) };
    };
    expect((await setup()).out).toMatchObject({ provider: { name: 'uv', chosenBy: 'preference' }, venv: { action: 'created' } });
    expect((await setup()).out.venv.action).toBe('reused');
    writeFileSync(join(bin, 'mise'), '#!/bin/sh\necho "2026.9.15 linux-x64 (2026-09-27)"\n');
    chmodSync(join(bin, 'mise'), 0o755);
    // The full path runs: it picks mise (this fake one cannot build the env: the uv env is kept).
    const next = await setup();
    expect(next.out.venv?.action).not.toBe('reused');
    expect(next.code === 0 ? next.out.provider.name : JSON.stringify(next.out.error)).toMatch(/mise/);
  });
});
