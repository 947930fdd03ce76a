/**
 * Isolation verification with real interpreters: it must fail for the classic false positives
 * (the base interpreter passed off as a venv, a package that only the base has) and pass for a
 * real venv, also at a path with spaces, quotes and non-ASCII characters.
 * Needs: a Python 3 with the venv module (the machine's pyenv 3.12 / 3.11).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { assertIsolated, inspectVenv } from '../../src/core/verify.js';
import { isPymgrError } from '../../src/errors.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';

const root = findPyenvRoot();
const base311 = root ? join(root, 'versions', '3.11.7') : undefined;
const run = requireTool('the pyenv Python 3.11.7 (with uv installed in it)', base311 && existsSync(join(base311, 'bin', 'uv')));
const executor = new HostExecutor();

describe.skipIf(!run)('isolation verification (real interpreters)', () => {
  afterAll(cleanupTemp);

  it('a real venv at an awkward path passes every check', async () => {
    const venv = join(makeTemp(), 'dir with "quotes" and ünïcödé', '.venv');
    mkdirSync(join(venv, '..'), { recursive: true });
    execFileSync(join(base311!, 'bin', 'python3.11'), ['-m', 'venv', '--without-pip', venv]);
    const report = await inspectVenv(executor, venv, [], { versionOk: (v) => v === '3.11.7' });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.facts?.prefix).toBe(venv);
  });

  it('the base interpreter passed off as a venv fails (sys.prefix == sys.base_prefix)', async () => {
    const report = await inspectVenv(executor, base311!, []);
    expect(report.verified).toBe(false);
    expect(report.checks.find((c) => c.name === 'prefix-differs-from-base')?.ok).toBe(false);
    let err: unknown;
    try {
      assertIsolated(report, base311!);
    } catch (e) {
      err = e;
    }
    expect(isPymgrError(err, 'ISOLATION_FAILED')).toBe(true);
    expect((err as Error).message).toContain('not a venv');
  });

  it('a package that only the base interpreter has does not count as installed in the venv', async () => {
    const venv = join(makeTemp(), 'sys-site');
    execFileSync(join(base311!, 'bin', 'python3.11'), ['-m', 'venv', '--without-pip', '--system-site-packages', venv]);
    // uv is importable here, but only through the base's site-packages.
    const report = await inspectVenv(executor, venv, ['uv'], {});
    const check = report.checks.find((c) => c.name === 'package:uv');
    expect(check?.ok).toBe(false);
    expect(check?.detail).toMatch(/outside the venv/);
    expect(report.verified).toBe(false);
  });

  it('a venv whose interpreter is gone fails at the first check', async () => {
    const report = await inspectVenv(executor, join(makeTemp(), 'nothing-here'), []);
    expect(report.verified).toBe(false);
    expect(report.checks).toEqual([expect.objectContaining({ name: 'interpreter-runs', ok: false })]);
  });
});
