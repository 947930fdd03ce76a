/**
 * On a machine without uv, pymgr provisions it into its own tools directory with an existing
 * interpreter's pip (git-free), so uv is the default on a fresh machine; with provisioning off it
 * is a clear MANAGER_NOT_FOUND. Needs PyPI (uv's wheel) and one of the machine's Pythons with pip.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { setup } from '../../src/api/setup.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';

const root = findPyenvRoot();
const run = requireTool('a pyenv Python with pip (to provision uv from)', root);

describe.skipIf(!run)('uv provisioning (real pip, real uv wheel)', () => {
  afterAll(cleanupTemp);
  // A PATH with a Python that has pip but no uv anywhere on it.
  const pythonBin = () => {
    const v = readdirSync(join(root!, 'versions')).filter((x) => /^3\.12\./.test(x))[0];
    return join(root!, 'versions', v, 'bin');
  };

  it('installs uv into the tools directory and sets up with it', async () => {
    const dir = copyFixture('requirements');
    const tools = join(makeTemp(), 'tools');
    const env = { PATH: `${pythonBin()}:/usr/bin:/bin`, PYMGR_TOOLS_DIR: tools };
    expect(existsSync(join(pythonBin(), 'uv'))).toBe(false);
    const res = await runCli(['setup', dir, '--json'], { env });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.provider.name).toBe('uv');
    expect(out.provider.path).toBe(join(tools, 'uv-0.13.9', 'bin', 'uv'));
    expect(out.provider.foundBy).toBe('provisioned');
    expect(out.isolation.verified).toBe(true);
    const inode = statSync(join(tools, 'uv-0.13.9')).ino;
    // The next run (the CLI's warm path) is a no-op on the same uv.
    const again = await runCli(['setup', dir, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ provider: { path: out.provider.path }, venv: { action: 'reused' } });
    // The full pipeline finds the provisioned uv in the tools directory and does not install it again.
    const lib = await setup({
      projectDir: dir,
      executor: new HostExecutor({ env: { ...process.env, ...env } }),
      toolsDir: tools,
      env: { ...process.env, ...env },
    });
    expect(lib.provider).toMatchObject({ name: 'uv', foundBy: 'tools-dir', path: out.provider.path });
    expect(lib.venv.action).toBe('reused');
    expect(statSync(join(tools, 'uv-0.13.9')).ino).toBe(inode);
  });

  it('with provisioning off, a missing uv is MANAGER_NOT_FOUND and nothing is created', async () => {
    const dir = copyFixture('requirements');
    const tools = join(makeTemp(), 'tools');
    const env = { PATH: `${pythonBin()}:/usr/bin:/bin`, PYMGR_TOOLS_DIR: tools, PYMGR_PROVIDERS__UV__PROVISION: 'false' };
    const res = await runCli(['setup', dir, '--provider', 'uv', '--json'], { env });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).error.code).toBe('MANAGER_NOT_FOUND');
    expect(existsSync(join(dir, '.venv'))).toBe(false);
    expect(existsSync(tools)).toBe(false);
  });
});
