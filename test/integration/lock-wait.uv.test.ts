/**
 * Locks never stall silently (real uv, built CLI, local wheels): a lock left without a readable
 * owner is taken over within seconds, and a wait for a live holder is reported, with `--json`
 * too, as a JSON progress line on stderr naming the holder and how long it has held the lock.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireEnvLock } from '../../src/core/lock.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findUv, repoRoot, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const run = requireTool('uv', findUv());

function project(): { dir: string; env: Record<string, string> } {
  const wheels = makeTemp('pymgr-wheels-');
  buildWheel(wheels, 'alpha', '1.0');
  const dir = writeTree({
    'requirements.txt': 'alpha==1.0\n',
    '.pymgrrc': JSON.stringify({ provider: 'uv', index: { findLinks: [wheels], noIndex: true } }),
  });
  return { dir, env: { PYMGR_STATE_DIR: makeTemp('pymgr-state-') } };
}
// Each test's setup creates the venv: a warm no-op takes no lock (the fast path), a real setup does.

/** The JSON progress lines of stderr. */
function progressLines(stderr: string): Array<{ event: string; step: string; message: string; wait: { holder: string; heldMs: number; waitedMs: number; path: string } }> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe.skipIf(!run)('lock waits (real uv, CLI)', () => {
  afterAll(cleanupTemp);

  it('an ownerless lock (a kill between mkdir and the owner write) is taken over in under 5 s, and the wait is reported in --json', async () => {
    const { dir, env } = project();
    mkdirSync(join(dir, '.venv.pymgr-lock'));
    const t = Date.now();
    const res = await runCli(['setup', dir, '--json', '--provider', 'uv'], { env });
    const took = Date.now() - t;
    expect(res.code, res.stderr).toBe(0);
    expect(took).toBeLessThan(5000);
    expect(JSON.parse(res.stdout).ok).toBe(true);
    const waits = progressLines(res.stderr);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]).toMatchObject({ event: 'progress', step: 'lock', wait: { holder: 'no owner recorded', path: join(dir, '.venv.pymgr-lock') } });
  });

  it('a wait for a live holder is reported at once with the holder and how long it has held the lock', async () => {
    const { dir, env } = project();
    const held = await acquireEnvLock(new HostExecutor(), join(dir, '.venv'));
    const since = Date.now();
    try {
      await new Promise((r) => setTimeout(r, 1200));
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), 'setup', dir, '--json', '--provider', 'uv'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      const sawWait = new Promise<void>((resolve) => {
        child.stderr.on('data', (c) => {
          stderr += c;
          if (progressLines(stderr).length) resolve();
        });
      });
      const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
      await Promise.race([sawWait, new Promise((r) => setTimeout(r, 20_000))]);
      const [first] = progressLines(stderr);
      expect(first?.wait.holder).toBe(`pid ${process.pid} on ${hostname()}`);
      expect(first.wait.heldMs).toBeGreaterThanOrEqual(1000);
      expect(first.wait.heldMs).toBeLessThanOrEqual(Date.now() - since + 1000);
      expect(first.message).toMatch(/waiting for another setup of .*\(pid \d+ on .*, holding it for \d+ s\)/);
      await held.release();
      expect(await closed, stderr).toBe(0);
      expect(JSON.parse(stdout).ok).toBe(true);
    } finally {
      await held.release();
    }
  });

  it('without --json the wait is a plain progress line', async () => {
    const { dir, env } = project();
    mkdirSync(join(dir, '.venv.pymgr-lock'));
    writeFileSync(join(dir, '.venv.pymgr-lock', 'owner.json'), '');
    const res = await runCli(['setup', dir, '--provider', 'uv'], { env });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/• lock: waiting for another setup of .* \(no owner recorded, holding it for \d+ s\)/);
  });
});
