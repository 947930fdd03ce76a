/**
 * Needs: the machine's pyenv (~/.pyenv, a git checkout: cloned from file://), git, root (to chown).
 * `doctor` explains a pyenv root owned by another uid, with its fix, through the library and the
 * built CLI in both output modes; reports a non-pyenv root, a broken venv and a stale lock, and
 * `fix: true` removes only the stale lock.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/api/doctor.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { assertGitConfigUnchanged, listTree, makeGitPyenvRoot, snapshotGitConfig } from '../helpers/pyenv.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';
import { renderDoctorReport } from '../../src/cli/render.js';

const machineRoot = findPyenvRoot();
const hasPyenv = requireTool('pyenv', machineRoot);
const hasGitCheckout = hasPyenv && requireTool('a git checkout of pyenv in ~/.pyenv (to clone from)', existsSync(join(machineRoot!, '.git')));
const isRoot = process.getuid?.() === 0;
if (hasGitCheckout && !isRoot) requireTool('root (to chown a pyenv root to uid 1000)', false);

describe.skipIf(!hasGitCheckout || !isRoot)('pymgr doctor', () => {
  const gitConfig = snapshotGitConfig();
  let root: string;

  beforeAll(() => {
    root = makeGitPyenvRoot(join(makeTemp('pymgr-doctor-'), 'pyenv'), machineRoot!, { owner: 1000 });
  });
  afterAll(() => {
    assertGitConfigUnchanged(gitConfig);
    cleanupTemp();
  });

  it('library: a foreign-owned pyenv root is a problem with its explanation and fix; pyenv is still usable', async () => {
    const report = await doctor({ projectDir: copyFixture('requirements'), env: {}, flags: { providers: { pyenv: { root } } } });
    const pyenv = report.managers.find((m) => m.name === 'pyenv')!;
    expect(pyenv).toMatchObject({ found: true, path: root, needsGit: false });
    const problem = report.problems.find((p) => p.code === 'PYENV_ROOT_FOREIGN_OWNER');
    expect(problem).toMatchObject({ subject: 'pyenv', severity: 'warning', fixable: false });
    expect(problem!.message).toContain(root);
    expect(problem!.message).toContain('uid 1000');
    expect(problem!.message).toContain('dubious ownership');
    expect(problem!.fix).toContain(`safe.directory=${root}`);
    expect(problem!.fix).toContain('chown -R');
    expect(renderDoctorReport(report)).toContain('PYENV_ROOT_FOREIGN_OWNER');
    expect(report.ok).toBe(true);
    assertGitConfigUnchanged(gitConfig);
  });

  it('library: works outside a project (managers only)', async () => {
    const report = await doctor({ projectDir: makeTemp('pymgr-doctor-empty-'), env: {}, flags: { providers: { pyenv: { root } } } });
    expect('error' in report.project).toBe(true);
    expect(report.managers.map((m) => m.name).sort()).toEqual(['mise', 'pyenv', 'uv']);
    expect(report.problems.some((p) => p.code === 'PYENV_ROOT_FOREIGN_OWNER')).toBe(true);
  });

  it('CLI --json: one JSON document with the problem and its fix', async () => {
    const dir = copyFixture('requirements');
    const run = await runCli(['doctor', dir, '--json'], { env: { PYMGR_PROVIDERS__PYENV__ROOT: root } });
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.ok).toBe(true);
    const problem = json.problems.find((p: { code: string }) => p.code === 'PYENV_ROOT_FOREIGN_OWNER');
    expect(problem.fix).toContain(`safe.directory=${root}`);
    expect(json.managers.find((m: { name: string }) => m.name === 'pyenv').path).toBe(root);
    assertGitConfigUnchanged(gitConfig);
  });

  it('CLI text: the problem, the explanation and the fix', async () => {
    const dir = copyFixture('requirements');
    const run = await runCli(['doctor', dir], { env: { PYMGR_PROVIDERS__PYENV__ROOT: root } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('PYENV_ROOT_FOREIGN_OWNER');
    expect(run.stdout).toContain('dubious ownership');
    expect(run.stdout).toContain(`safe.directory=${root}`);
  });

  it('a root that is not pyenv, a broken venv and a stale lock: reported; fix removes only the lock', async () => {
    const tmp = makeTemp('pymgr-doctor-bad-');
    const other = join(tmp, 'not-pyenv');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'mine\n');
    const projectDir = copyFixture('requirements');
    const venv = join(projectDir, '.venv');
    mkdirSync(join(venv, 'bin'), { recursive: true });
    writeFileSync(join(venv, 'pyvenv.cfg'), 'home = /nonexistent\n');
    writeFileSync(join(venv, 'bin', 'python'), '#!/bin/sh\nexit 3\n');
    chmodSync(join(venv, 'bin', 'python'), 0o755);
    const lock = `${venv}.pymgr-lock`;
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: Date.now() }));
    const venvBefore = listTree(venv);
    const otherBefore = listTree(other);

    const options = { projectDir, env: {}, flags: { providers: { pyenv: { root: other } } } };
    const report = await doctor(options);
    expect(report.ok).toBe(false);
    const codes = report.problems.map((p) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['PYENV_ROOT_NOT_PYENV', 'VENV_BROKEN', 'LOCK_STALE']));
    expect(report.problems.find((p) => p.code === 'LOCK_STALE')!.fixable).toBe(true);
    expect(report.fixed).toEqual([]);
    expect(existsSync(lock)).toBe(true);

    const fixedReport = await doctor({ ...options, fix: true });
    expect(fixedReport.fixed).toHaveLength(1);
    expect(fixedReport.fixed[0]).toContain(lock);
    expect(existsSync(lock)).toBe(false);
    expect(fixedReport.problems.map((p) => p.code)).not.toContain('LOCK_STALE');
    // Nothing else was touched: the broken venv and the foreign directory are as they were.
    expect(listTree(venv)).toEqual(venvBefore);
    expect(listTree(other)).toEqual(otherBefore);
    assertGitConfigUnchanged(gitConfig);
  });

  it('pyenv to be installed: git missing is an error, git older than 2.35.2 a warning; a pyenv that does not run is broken', async () => {
    const tmp = makeTemp('pymgr-doctor-git-');
    const empty = join(tmp, 'empty-root');
    mkdirSync(empty);
    const noGitBin = join(tmp, 'no-git-bin');
    mkdirSync(noGitBin);
    const oldGitBin = join(tmp, 'old-git-bin');
    mkdirSync(oldGitBin);
    writeFileSync(join(oldGitBin, 'git'), '#!/bin/sh\necho "git version 2.30.1"\n');
    chmodSync(join(oldGitBin, 'git'), 0o755);
    const projectDir = makeTemp('pymgr-doctor-noproject-');
    const flags = { providers: { pyenv: { root: empty } } };

    const missing = await doctor({ projectDir, env: {}, flags, executor: new HostExecutor({ env: { ...process.env, PATH: noGitBin } }) });
    const gitMissing = missing.problems.find((p) => p.code === 'GIT_MISSING');
    expect(gitMissing).toMatchObject({ subject: 'pyenv', severity: 'error' });
    expect(missing.managers.find((m) => m.name === 'pyenv')).toMatchObject({ found: false, needsGit: true });
    expect(missing.ok).toBe(false);

    const old = await doctor({ projectDir, env: {}, flags, executor: new HostExecutor({ env: { ...process.env, PATH: `${oldGitBin}:/usr/bin:/bin` } }) });
    expect(old.problems.find((p) => p.code === 'GIT_OLD')).toMatchObject({ subject: 'pyenv', severity: 'warning' });
    expect(old.problems.find((p) => p.code === 'GIT_OLD')!.message).toContain('2.30.1');
    expect(listTree(empty)).toEqual([]);

    const broken = join(tmp, 'broken-root');
    mkdirSync(join(broken, 'bin'), { recursive: true });
    writeFileSync(join(broken, 'bin', 'pyenv'), '#!/bin/sh\necho "libexec missing" >&2\nexit 1\n');
    chmodSync(join(broken, 'bin', 'pyenv'), 0o755);
    const report = await doctor({ projectDir, env: {}, flags: { providers: { pyenv: { root: broken } } } });
    expect(report.problems.find((p) => p.code === 'PYENV_BROKEN')!.message).toContain('libexec missing');
    expect(report.ok).toBe(false);
  });
});
