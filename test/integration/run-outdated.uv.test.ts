/**
 * `run` on a changed project (real uv, built CLI, local wheels): when the inputs changed since the
 * last setup, `run` still runs the command in the env as it is and warns on stderr naming what
 * changed (a file, a setting); `run --sync` and config `run.sync: true` run setup first, as
 * `uv run` does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const run = requireTool('uv', findUv());

function project(rc: Record<string, unknown> = {}): { dir: string; env: Record<string, string>; rc: Record<string, unknown> } {
  const wheels = makeTemp('pymgr-wheels-');
  buildWheel(wheels, 'alpha', '1.0');
  buildWheel(wheels, 'beta', '1.0');
  const config = { provider: 'uv', index: { findLinks: [wheels], noIndex: true }, ...rc };
  const dir = writeTree({ 'requirements.txt': 'alpha==1.0\n', '.pymgrrc': JSON.stringify(config) });
  return { dir, env: { PYMGR_STATE_DIR: makeTemp('pymgr-state-') }, rc: config };
}

const importBeta = ['--', 'python', '-c', 'import beta; print("beta imported")'];

describe.skipIf(!run)('run on a changed project (real uv, CLI)', () => {
  afterAll(cleanupTemp);

  it('an edited requirement file: run warns naming it and still runs; run --sync sets up first', async () => {
    const { dir, env } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');

    const stale = await runCli(['run', dir, '--', 'python', '-c', 'import alpha; print("still runs")'], { env });
    expect(stale.code).toBe(0);
    expect(stale.stdout).toContain('still runs');
    expect(stale.stderr).toMatch(/warning: the env is outdated: requirements\.txt changed since the last setup/);
    expect(stale.stderr).toContain('pymgr run --sync');
    expect((await runCli(['run', dir, ...importBeta], { env })).code).not.toBe(0); // not installed: run did not sync

    const synced = await runCli(['run', dir, '--sync', ...importBeta], { env });
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stdout).toContain('beta imported');
    expect(synced.stderr).not.toMatch(/outdated/);
    const after = await runCli(['run', dir, ...importBeta], { env });
    expect(after.code).toBe(0);
    expect(after.stderr).toBe('');
  });

  it('a changed setting is named as a setting', async () => {
    const { dir, env, rc } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    writeFileSync(join(dir, '.pymgrrc'), JSON.stringify({ ...rc, providers: { uv: { linkMode: 'copy' } } }));
    const res = await runCli(['run', dir, '--', 'python', '-c', 'pass'], { env });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/the env is outdated: setting providers\.uv\.linkMode changed/);
    const python = await runCli(['run', dir, '--python', '3.11', '--', 'python', '-c', 'pass'], { env });
    expect(python.stderr).toMatch(/the env is outdated: setting providers\.uv\.linkMode, the Python request changed/);
  });

  it('config run.sync: true makes every run set up first', async () => {
    const { dir, env } = project({ run: { sync: true } });
    // No setup yet: run creates the env, then runs in it.
    const first = await runCli(['run', dir, '--', 'python', '-c', 'import alpha; print("ok")'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('ok');
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');
    const second = await runCli(['run', dir, ...importBeta], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/outdated/);
    expect(JSON.parse(readFileSync(join(dir, '.venv', '.pymgr', 'state.json'), 'utf8')).status).toBe('ready');
  });
});
