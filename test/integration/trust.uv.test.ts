/**
 * Nobody else's code runs as you: a manager binary (providers.uv.path, or one in pymgr's tools
 * directory) or the tools directory itself that another user could change is refused, with the
 * file, owner, mode and fix named; the same binary with safe modes is used. And what pymgr
 * creates (tools directory, provisioned uv, state files, the CLI's records, locks) has no group or
 * other write bit, under umask 022 and 002. Real uv; provisioning needs PyPI and a pyenv Python with pip.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireEnvLock } from '../../src/core/lock.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, copyFixture, makeTemp, runCli, type CliRun } from '../helpers/project.js';
import { buildFixtureWheels } from '../helpers/docker.js';
import { findPyenvRoot, findUv, repoRoot, requireTool } from '../helpers/tools.js';

const uv = findUv();
const hasUv = requireTool('uv', uv);
const pyenvRoot = findPyenvRoot();

/** Every path under `dir` (itself included) whose mode has a group or other write bit. */
function groupOrOtherWritable(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o022) out.push(`${p} ${(st.mode & 0o7777).toString(8)}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}

/** The built CLI under `umask`. */
function cliUnderUmask(umask: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'umask "$1"; shift; exec "$@"', 'sh', umask, process.execPath, join(repoRoot, 'bin', 'pymgr.mjs'), ...args], {
      env: { ...process.env, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe.skipIf(!hasUv)('manager binaries other users could change are refused (real uv)', () => {
  afterAll(cleanupTemp);
  /** six and idna (what the quickstart and requirements fixtures ask for) from local wheels, no index. */
  let local: Record<string, string> | undefined;
  const localIndex = () => (local ??= { PYMGR_INDEX__NO_INDEX: 'true', PYMGR_INDEX__FIND_LINKS: buildFixtureWheels(join(makeTemp(), 'wheels')) });

  /** A copy of the real uv at `<dir>/uv` with `mode`. */
  function uvCopy(dir: string, mode: number): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'uv');
    copyFileSync(uv!, file);
    chmodSync(file, mode);
    return file;
  }

  it('a world-writable or group-writable providers.uv.path is refused, naming the file, owner, mode and fix; 0755 is used', async () => {
    const dir = copyFixture('requirements');
    const bin = uvCopy(join(makeTemp(), 'bin'), 0o777);
    const env = { ...localIndex(), PYMGR_PROVIDERS__UV__PATH: bin, PYMGR_STATE_DIR: makeTemp() };
    const res = await runCli(['setup', dir, '--provider', 'uv', '--offline'], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('[MANAGER_UNSAFE]');
    expect(res.stderr).toContain(`Refusing to run uv at ${bin} (providers.uv.path)`);
    expect(res.stderr).toContain(`${bin} is writable by every user (owner uid 0, mode 0777)`);
    expect(res.stderr).toContain(`chmod go-w ${bin}`);
    const json = await runCli(['setup', dir, '--provider', 'uv', '--offline', '--json'], { env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'MANAGER_UNSAFE', details: { path: bin, mode: '0777', uid: 0 } });
    expect(readdirSync(dir)).not.toContain('.venv'); // refused before anything ran

    chmodSync(bin, 0o775);
    const group = await runCli(['setup', dir, '--provider', 'uv', '--offline'], { env });
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('is writable by its group (owner uid 0, mode 0775)');

    chmodSync(bin, 0o755);
    chmodSync(join(bin, '..'), 0o777); // a directory anyone can write: the binary can be swapped
    const parent = await runCli(['setup', dir, '--provider', 'uv', '--offline'], { env });
    expect(parent.code).toBe(1);
    expect(parent.stderr).toContain(`${join(bin, '..')} is writable by every user`);

    chmodSync(join(bin, '..'), 0o755);
    const ok = await runCli(['setup', dir, '--provider', 'uv', '--offline', '--json'], { env });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).provider).toMatchObject({ path: bin, foundBy: 'config' });
  });

  it("a world-writable tools directory, or a uv in it owned by another uid, is refused; the same uv is used once it is safe", async () => {
    const dir = copyFixture('quickstart');
    const tools = join(makeTemp(), 'tools');
    const bin = uvCopy(join(tools, 'uv-0.13.9', 'bin'), 0o755);
    // A PATH without uv: the tools directory is where it is found.
    const env = { ...localIndex(), PATH: '/usr/bin:/bin', PYMGR_TOOLS_DIR: tools, PYMGR_STATE_DIR: makeTemp() };
    chmodSync(tools, 0o777);
    const res = await runCli(['setup', dir, '--provider', 'uv', '--offline'], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`Refusing to run uv at ${bin} (pymgr's tools directory)`);
    expect(res.stderr).toContain(`${tools} is writable by every user (owner uid 0, mode 0777)`);

    chmodSync(tools, 0o755);
    chownSync(bin, 1000, 1000);
    const foreign = await runCli(['setup', dir, '--provider', 'uv', '--offline'], { env });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain(`${bin} is owned by uid 1000, not by you (uid 0) or root (owner uid 1000, mode 0755)`);

    chownSync(bin, 0, 0);
    const ok = await runCli(['setup', dir, '--provider', 'uv', '--offline', '--json'], { env });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).provider).toMatchObject({ path: bin, foundBy: 'tools-dir' });
  });

  it.each(['022', '002'])('files pymgr creates have no group or other write bit (umask %s)', async (umask) => {
    const dir = copyFixture('quickstart');
    const state = join(makeTemp(), 'state');
    const res = await cliUnderUmask(umask, ['setup', dir, '--provider', 'uv', '--offline'], { ...localIndex(), PYMGR_STATE_DIR: state });
    expect(res.code, res.stderr).toBe(0);
    expect(readdirSync(join(state, 'quick')).length).toBeGreaterThan(0);
    expect(groupOrOtherWritable(state)).toEqual([]);
    expect(groupOrOtherWritable(join(dir, '.venv', '.pymgr'))).toEqual([]);
  });

  it.skipIf(!requireTool('a pyenv Python with pip (to provision uv from PyPI)', pyenvRoot))(
    'a uv provisioned under umask 002 is writable by its owner only, and runs',
    async () => {
      const dir = copyFixture('quickstart');
      const tools = join(makeTemp(), 'tools');
      const v = readdirSync(join(pyenvRoot!, 'versions')).find((x) => /^3\.12\./.test(x))!;
      const env = { PATH: `${join(pyenvRoot!, 'versions', v, 'bin')}:/usr/bin:/bin`, PYMGR_TOOLS_DIR: tools, PYMGR_STATE_DIR: makeTemp() };
      const res = await cliUnderUmask('002', ['setup', dir, '--provider', 'uv', '--json'], env);
      expect(res.code, res.stderr + res.stdout).toBe(0);
      expect(JSON.parse(res.stdout).provider).toMatchObject({ foundBy: 'provisioned', path: join(tools, 'uv-0.13.9', 'bin', 'uv') });
      expect(readdirSync(tools)).toContain('uv-0.13.9');
      expect(groupOrOtherWritable(tools)).toEqual([]);
    },
    300_000,
  );

  it('a lock taken under umask 002 has no group or other write bit', async () => {
    const venv = join(makeTemp(), 'v');
    const old = process.umask(0o002);
    try {
      const lock = await acquireEnvLock(new HostExecutor(), venv);
      expect(groupOrOtherWritable(lock.path)).toEqual([]);
      expect(readdirSync(lock.path)).toEqual(['owner.json']);
      await lock.release();
    } finally {
      process.umask(old);
    }
  });
});
