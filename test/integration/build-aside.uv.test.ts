/**
 * "A failed setup never takes away a working env", on the real uv through the built CLI: for every
 * cause of a failing update (a bad Python request, a missing package, a failing build, offline with
 * an uncached package, kill -9 during the install, kill -9 while the previous env is being moved
 * aside) the previous env is byte for byte as it was, `env` reports it (ready, or outdated where the
 * inputs changed) and `run` imports its packages. Also: the publish keeps a symbolic-link venv path,
 * leftovers are reported by doctor and removed by --fix, and a venv the configured manager cannot
 * use is recognised. Packages are local wheels (offline).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemp, runCli } from '../helpers/project.js';
import { cliJson, killGroup, makeWheelhouse, requirementsProject, startCli, treeFingerprint } from '../helpers/aside.js';
import { findUv, requireTool } from '../helpers/tools.js';
import { execFileSync } from 'node:child_process';

const run = requireTool('uv', findUv());

/** Whether this process may mount a tmpfs (root, outside a restricted container). */
function canMount(): boolean {
  const probe = join(tmpdir(), `pymgr-mount-probe-${process.pid}`);
  mkdirSync(probe, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** An sdist whose setup.py raises, built through an in-tree backend (no setuptools, no network). */
function writeSdist(wheelhouse: string, name: string, setupPy: string): void {
  const work = join(wheelhouse, '..', `sdist-${name}`);
  const root = join(work, `${name}-1.0`);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  writeFileSync(join(root, 'pyproject.toml'), '[build-system]\nrequires = []\nbuild-backend = "shim"\nbackend-path = ["."]\n');
  writeFileSync(
    join(root, 'shim.py'),
    'def get_requires_for_build_wheel(config_settings=None):\n    return []\n' +
      'def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    exec(compile(open("setup.py").read(), "setup.py", "exec"))\n    raise RuntimeError("setup.py built nothing")\n' +
      'def build_sdist(d, config_settings=None):\n    raise RuntimeError("no")\n',
  );
  writeFileSync(join(root, 'setup.py'), setupPy);
  execFileSync('tar', ['-czf', join(wheelhouse, `${name}-1.0.tar.gz`), '-C', work, `${name}-1.0`]);
}

describe.skipIf(!run)('a failed setup never takes away a working env (real uv, CLI)', () => {
  let wheels: string;
  let flags: string[];
  beforeAll(() => {
    wheels = makeWheelhouse();
    writeSdist(wheels, 'explodes', 'raise SystemExit("this package refuses to build")\n');
    writeSdist(wheels, 'slowbuild', 'import time\ntime.sleep(30)\n');
    flags = ['--provider', 'uv', '--python', '3.12', '--offline', '--find-links', wheels];
  });
  afterAll(cleanupTemp);

  /** A ready env with alpha and beta; returns the project, its venv and the venv's fingerprint. */
  async function readyProject(extra: string[] = []) {
    const dir = requirementsProject();
    const res = await cliJson(['setup', dir, ...flags, ...extra]);
    expect(res.code, res.stderr).toBe(0);
    const venv = join(dir, '.venv');
    return { dir, venv, before: treeFingerprint(realpathSync(venv)) };
  }

  /** The previous env is as it was, reported, usable, and nothing is left aside. */
  async function expectKept(dir: string, venv: string, before: Record<string, string>, states: string[], extra: string[] = [], afterKill = false) {
    // A failed setup puts the env back itself; after a kill, `env` does (it runs first here).
    if (!afterKill) {
      expect(treeFingerprint(realpathSync(venv))).toEqual(before);
      expect(readdirSync(join(dir, '..')).filter((n) => n.includes('pymgr-prev'))).toEqual([]);
    }
    const env = await cliJson(['env', dir, ...flags, ...extra]);
    expect(states, env.stdout + env.stderr).toContain(env.json.state);
    expect(treeFingerprint(realpathSync(venv))).toEqual(before);
    const imp = await runCli(['run', dir, ...flags, ...extra, '--', 'python', '-c', 'import alpha, beta, sys; print(alpha.__file__)']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout.trim().startsWith(venv)).toBe(true);
    expect(readdirSync(join(dir, '..')).filter((n) => n.includes('pymgr-prev'))).toEqual([]);
  }

  const addRequirement = (dir: string, line: string) => writeFileSync(join(dir, 'requirements.txt'), readFileSync(join(dir, 'requirements.txt'), 'utf8') + line + '\n');

  it('a bad Python request', async () => {
    const { dir, venv, before } = await readyProject();
    writeFileSync(join(dir, '.python-version'), '3.99\n');
    const flagsNoPython = flags.filter((f, i) => f !== '--python' && flags[i - 1] !== '--python');
    const res = await cliJson(['setup', dir, ...flagsNoPython]);
    expect(res.code).toBe(1);
    expect(res.json.error.code).toBe('PYTHON_UNAVAILABLE');
    expect(res.json.error.message).toMatch(/previous env at .* was kept as it was/);
    const env = await cliJson(['env', dir, ...flagsNoPython]);
    expect(env.json.state).toBe('outdated');
    expect(treeFingerprint(venv)).toEqual(before);
    expect((await runCli(['run', dir, '--', 'python', '-c', 'import alpha, beta'])).code).toBe(0);
  });

  it('a package that does not exist', async () => {
    const { dir, venv, before } = await readyProject();
    addRequirement(dir, 'no-such-package-pymgr==1.0');
    const res = await cliJson(['setup', dir, ...flags]);
    expect(res.code).toBe(1);
    expect(res.json.error.code).toBe('COMMAND_FAILED');
    expect(res.json.error.message).toMatch(/previous env at .* was kept as it was/);
    await expectKept(dir, venv, before, ['outdated']);
  });

  it('a package whose setup.py raises', async () => {
    const { dir, venv, before } = await readyProject();
    addRequirement(dir, 'explodes==1.0');
    const res = await cliJson(['setup', dir, ...flags]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/refuses to build/);
    expect(res.json.error.message).toMatch(/was kept as it was/);
    await expectKept(dir, venv, before, ['outdated']);
  });

  it('offline, a package that is not in the cache', async () => {
    const { dir, venv, before } = await readyProject();
    addRequirement(dir, 'requests==2.0.0');
    const res = await cliJson(['setup', dir, ...flags]);
    expect(res.code).toBe(1);
    expect(res.json.error.message).toMatch(/was kept as it was/);
    await expectKept(dir, venv, before, ['outdated']);
  });

  it('a rebuild that fails (another Python, failing package) puts the previous env back', async () => {
    const { dir, venv, before } = await readyProject();
    addRequirement(dir, 'explodes==1.0');
    const res = await cliJson(['setup', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
    expect(res.code).toBe(1);
    expect(res.json.error.message).toMatch(/was kept as it was/);
    await expectKept(dir, venv, before, ['outdated']);
  });

  it('kill -9 during the install of an update', async () => {
    const { dir, venv, before } = await readyProject();
    addRequirement(dir, 'slowbuild==1.0');
    const cli = startCli(['setup', dir, ...flags]);
    const deadline = Date.now() + 60_000;
    while (!/install: install 1 requirement/.test(cli.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300)); // uv is building slowbuild now
    killGroup(cli.child);
    await cli.done;
    expect(existsSync(`${venv}.pymgr-prev`)).toBe(true); // the snapshot of the previous env
    await expectKept(dir, venv, before, ['outdated'], [], true);
    // And the next setup, with the package fixed, ends verified.
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\ngamma==1.0\n');
    const again = await cliJson(['setup', dir, ...flags]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.venv).toMatchObject({ action: 'updated' });
  });

  it('kill -9 while the previous env is being moved aside for a rebuild', async () => {
    const { dir, venv, before } = await readyProject();
    const cli = startCli(['setup', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
    const deadline = Date.now() + 60_000;
    while (!existsSync(`${venv}.pymgr-prev`) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    killGroup(cli.child);
    await cli.done;
    // Reported and usable as the env for the flags it was built with; outdated for the new request.
    const env = await cliJson(['env', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
    expect(['outdated', 'ready']).toContain(env.json.state);
    if (env.json.state === 'outdated') await expectKept(dir, venv, before, ['ready'], [], true);
    else expect(env.json.python.version).toMatch(/^3\.11\./); // the kill landed after the publish
  });

  it('a rebuild publishes at the final path: the old env is gone, scripts name the venv, a venv link stays a link', async () => {
    const dir = requirementsProject();
    const target = join(dir, '..', 'venv-target');
    mkdirSync(target);
    symlinkSync(target, join(dir, '.venv'));
    expect((await cliJson(['setup', dir, ...flags])).code).toBe(0);
    const before = treeFingerprint(target);
    // A failing rebuild: the link and its target are as they were.
    addRequirement(dir, 'explodes==1.0');
    const failed = await cliJson(['setup', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
    expect(failed.code).toBe(1);
    expect(lstatSync(join(dir, '.venv')).isSymbolicLink()).toBe(true);
    expect(treeFingerprint(target)).toEqual(before);
    // A good rebuild.
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');
    const res = await cliJson(['setup', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json.venv).toMatchObject({ action: 'rebuilt', reason: expect.stringMatching(/^Python changed: 3\.12\.\d+ → 3\.11\.\d+$/) });
    expect(lstatSync(join(dir, '.venv')).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(dir, '..')).filter((n) => n.includes('pymgr-prev'))).toEqual([]);
    const activate = readFileSync(join(target, 'bin', 'activate'), 'utf8');
    expect(activate).toContain(join(dir, '.venv'));
    expect(activate).not.toContain('pymgr-prev');
    const imp = await runCli(['run', dir, '--', 'python', '-c', 'import sys, alpha; print(sys.version_info[:2])']);
    expect(imp.stdout.trim()).toBe('(3, 11)');
  });

  it('a venv directory that is a mount point: the previous env crosses to the sibling and back; the mount stays', async () => {
    if (!requireTool('mount(8) with the right to mount a tmpfs (root)', run && canMount())) return;
    const dir = requirementsProject();
    const venv = join(dir, '.venv');
    mkdirSync(venv);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', venv]);
    try {
      expect((await cliJson(['setup', dir, ...flags])).code).toBe(0);
      const before = treeFingerprint(venv);
      addRequirement(dir, 'explodes==1.0');
      // A failing rebuild (another Python): moved to the sibling on another file system, then back.
      const failed = await cliJson(['setup', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
      expect(failed.code).toBe(1);
      expect(failed.json.error.message).toMatch(/was kept as it was/);
      expect(treeFingerprint(venv)).toEqual(before);
      // A failing update (a copy, hard links cannot cross): the same.
      expect((await cliJson(['setup', dir, ...flags])).code).toBe(1);
      expect(treeFingerprint(venv)).toEqual(before);
      writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');
      const good = await cliJson(['setup', dir, ...flags.map((f) => (f === '3.12' ? '3.11' : f))]);
      expect(good.code, good.stdout).toBe(0);
      expect(good.json.venv.action).toBe('rebuilt');
      expect(execFileSync('findmnt', ['-n', '-o', 'TARGET', venv], { encoding: 'utf8' }).trim()).toBe(venv);
      expect(readdirSync(dir).filter((n) => n.includes('pymgr-prev'))).toEqual([]);
    } finally {
      execFileSync('umount', [venv]);
    }
  });

  it('doctor reports a previous env left aside by a kill; --fix puts it back', async () => {
    const { dir, venv, before } = await readyProject();
    addRequirement(dir, 'slowbuild==1.0');
    const cli = startCli(['setup', dir, ...flags]);
    const deadline = Date.now() + 60_000;
    while (!/install: install 1 requirement/.test(cli.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    killGroup(cli.child);
    await cli.done;
    const doc = await cliJson(['doctor', dir, ...flags]);
    const leftover = doc.json.problems.find((p: { code: string }) => p.code === 'VENV_ASIDE_LEFTOVER');
    expect(leftover, doc.stdout).toMatchObject({ fixable: true, message: expect.stringMatching(/interrupted/) });
    const fixed = await cliJson(['doctor', dir, ...flags, '--fix']);
    expect(fixed.json.fixed.join('\n')).toMatch(/put the previous env back/);
    expect(fixed.json.problems.map((p: { code: string }) => p.code)).not.toContain('VENV_ASIDE_LEFTOVER');
    expect(treeFingerprint(venv)).toEqual(before);
  });
});
