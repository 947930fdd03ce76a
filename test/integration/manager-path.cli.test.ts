/**
 * A configured manager path is the user's decision (built CLI): when `providers.uv.path` names a
 * program that fails, or one that is not uv, setup fails with MANAGER_BROKEN naming the key and
 * the program's output, and pymgr downloads nothing and leaves its tools directory untouched
 * (no `pip install uv`, even though a Python with pip is there to do it).
 */
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeFingerprint } from '../helpers/aside.js';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';

function program(body: string): string {
  const file = join(makeTemp('pymgr-fake-uv-'), 'uv');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('providers.uv.path that does not work (CLI)', () => {
  afterAll(cleanupTemp);

  for (const [what, body, output] of [
    ['a program that exits non-zero', 'echo "uv: cannot execute: broken install" >&2; exit 3', 'uv: cannot execute: broken install'],
    ['a program that is not uv', 'echo "this is not a manager"', 'this is not a manager'],
  ] as const) {
    it(`${what}: MANAGER_BROKEN naming providers.uv.path and its output; no download, tools dir untouched`, async () => {
      const uv = program(body);
      const toolsDir = makeTemp('pymgr-tools-');
      writeFileSync(join(toolsDir, 'keep'), 'untouched\n');
      const dir = writeTree({ 'requirements.txt': 'six==1.16.0\n', '.pymgrrc': JSON.stringify({ provider: 'uv', providers: { uv: { path: uv } } }) });
      for (const args of [['setup', dir, '--json'], ['setup', dir, '--json']]) {
        const res = await runCli(args, { env: { PYMGR_TOOLS_DIR: toolsDir, PYMGR_STATE_DIR: makeTemp('pymgr-state-') } });
        expect(res.code).toBe(1);
        const error = JSON.parse(res.stdout).error;
        expect(error.code).toBe('MANAGER_BROKEN');
        expect(error.message).toContain(`uv at ${uv} (providers.uv.path) does not run`);
        expect(error.message).toContain(output);
        expect(error.details.keyPath).toBe('providers.uv.path');
        expect(error.hint).toMatch(/never downloads or replaces/);
        expect(readdirSync(toolsDir)).toEqual(['keep']);
      }
      const human = await runCli(['setup', dir], { env: { PYMGR_TOOLS_DIR: toolsDir } });
      expect(human.stderr).toContain('providers.uv.path');
      expect(human.stderr).not.toMatch(/installing uv|pip install/);
      expect(readdirSync(toolsDir)).toEqual(['keep']);
    });
  }
});

describe('providers.uv.path that does not work, under provider auto (CLI)', () => {
  afterAll(cleanupTemp);

  it('is not skipped for another manager: MANAGER_BROKEN naming providers.uv.path; the working env is left exactly as it was', async () => {
    const env = { PYMGR_TOOLS_DIR: makeTemp('pymgr-tools-'), PYMGR_STATE_DIR: makeTemp('pymgr-state-') };
    const dir = writeTree({ 'requirements.txt': 'six==1.16.0\n' });
    const venv = join(dir, '.venv');
    const first = await runCli(['setup', dir, '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).provider.name).toBe('uv');
    const before = treeFingerprint(venv);

    const uv = program('echo "not really uv"');
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ providers: { uv: { path: uv } } }));
    for (const verb of ['setup', 'detect']) {
      const res = await runCli([verb, dir, '--json'], { env });
      expect(res.code, `${verb}: ${res.stdout}${res.stderr}`).not.toBe(0);
      const error = JSON.parse(res.stdout).error;
      expect(error.code).toBe('MANAGER_BROKEN');
      expect(error.message).toContain(`uv at ${uv} (providers.uv.path) does not run`);
      expect(error.message).toContain('not really uv');
      expect(error.details.keyPath).toBe('providers.uv.path');
      expect(error.hint).toContain('providers.uv.path');
      expect(error.hint).toMatch(/never downloads or replaces/);
      if (verb === 'setup') expect(error.details.previousEnv).toBe(`the previous env at ${venv} was kept as it was`);
    }
    expect(treeFingerprint(venv)).toEqual(before);
    expect(readdirSync(dir).filter((n) => n.startsWith('.venv')).sort()).toEqual(['.venv']);
    expect(existsSync(join(venv, 'bin', 'python'))).toBe(true);

    const run = await runCli(['run', dir, '--', 'python', '-c', 'import six; print("six ok")'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('six ok');
  });
});
