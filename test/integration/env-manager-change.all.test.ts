/**
 * Another manager asked for than the one that built the env (--provider, config `provider`): setup
 * would rebuild, so `env` says `outdated` naming the change and `run` warns as for any changed
 * input (real uv and pyenv, built CLI, local wheels).
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findPyenvRoot, findUv, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const hasUv = requireTool('uv', findUv());
const hasPyenv = requireTool('pyenv', findPyenvRoot());

describe.skipIf(!hasUv || !hasPyenv)('env and run when another manager is asked for', () => {
  afterAll(cleanupTemp);

  it('env: outdated (manager changed: pyenv → uv); run warns and still runs; setup rebuilds', async () => {
    const wheels = makeTemp('pymgr-wheels-');
    buildWheel(wheels, 'alpha', '1.0');
    const dir = writeTree({ 'requirements.txt': 'alpha==1.0\n', '.python-version': '3.12\n' });
    const env = { PYMGR_STATE_DIR: makeTemp('pymgr-state-') };
    const flags = ['--offline', '--find-links', wheels];
    const made = await runCli(['setup', dir, '--provider', 'pyenv', ...flags], { env });
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse((await runCli(['env', dir, '--provider', 'pyenv', ...flags, '--json'], { env })).stdout)).toMatchObject({ ok: true, state: 'ready' });

    const asked = await runCli(['env', dir, '--provider', 'uv', ...flags, '--json'], { env });
    expect(JSON.parse(asked.stdout)).toMatchObject({ state: 'outdated', detail: expect.stringContaining('manager changed: pyenv → uv') });
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ provider: 'uv' }));
    const configured = await runCli(['env', dir, ...flags], { env });
    expect(configured.stdout).toMatch(/state: +outdated \(manager changed: pyenv → uv/);

    const ran = await runCli(['run', dir, ...flags, '--', 'python', '-c', 'import alpha; print("ran")'], { env });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('ran');
    expect(ran.stderr).toMatch(/the env is outdated: the manager \(pyenv → uv\) changed since the last setup/);

    const rebuilt = await runCli(['setup', dir, ...flags, '--json'], { env });
    expect(JSON.parse(rebuilt.stdout).venv).toMatchObject({ action: 'rebuilt', reason: 'manager changed: pyenv → uv' });
    expect(JSON.parse((await runCli(['env', dir, ...flags, '--json'], { env })).stdout).state).toBe('ready');
  });
});
