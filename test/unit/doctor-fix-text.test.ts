/**
 * Every problem doctor reports carries a non-empty `fix`, whatever produced it: a provider's own
 * probe, a probe that throws (a plain Error or a PymgrError without a hint), the project, the
 * config, the venv or its lock. Runs doctor on real temporary directories with an executor whose
 * programs fail in the chosen way (no manager is run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult } from '../../src/contracts.js';
import { doctor, type DoctorReport } from '../../src/api/doctor.js';
import { PymgrError } from '../../src/errors.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp, writeTree } from '../helpers/project.js';
import { renderDoctorReport } from '../../src/cli/render.js';

/** A directory with a `uv` on it, so the uv probe always has a program to run (and fail). */
function makeFakeUvBin(): string {
  const bin = makeTemp('pymgr-doctor-fix-bin-');
  writeFileSync(join(bin, 'uv'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return bin;
}

/** A host executor (PATH: a fake uv first) whose every program run fails by throwing `make()`. */
class ThrowingExecutor extends HostExecutor {
  constructor(private readonly make: (file: string) => Error) {
    super({ env: { ...process.env, PATH: `${makeFakeUvBin()}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
  }
  override async exec(file: string, _args: readonly string[], _options?: ExecOptions): Promise<ExecResult> {
    throw this.make(file);
  }
}

function expectEveryProblemHasFix(report: DoctorReport): void {
  const all = [...report.problems, ...report.managers.flatMap((m) => m.problems)];
  for (const p of all) {
    expect(typeof p.fix, `${p.code}: ${p.message}`).toBe('string');
    expect(p.fix!.trim(), `${p.code}: ${p.message}`).not.toBe('');
  }
  for (const p of report.problems) expect(renderDoctorReport(report)).toContain(`fix: ${p.fix}`);
}

describe('doctor: every problem has a fix', () => {
  afterAll(() => cleanupTemp());

  const plainError = () => new ThrowingExecutor((file) => new Error(`spawn ${file} exploded`));
  const hintless = () => new ThrowingExecutor((file) => new PymgrError('COMMAND_FAILED', `${file} could not be started`));

  it('probes that throw a plain Error: PROBE_FAILED with a fix', async () => {
    const report = await doctor({ projectDir: makeTemp('pymgr-doctor-fix-'), env: {}, toolsDir: makeTemp(), executor: plainError() });
    const failed = report.problems.filter((p) => p.code === 'PROBE_FAILED');
    expect(failed.length, renderDoctorReport(report)).toBeGreaterThan(0);
    expect(failed[0].message).toContain('exploded');
    expectEveryProblemHasFix(report);
  });

  it('probes that throw a PymgrError without a hint: its code, with a fix', async () => {
    const report = await doctor({ projectDir: makeTemp('pymgr-doctor-fix-'), env: {}, toolsDir: makeTemp(), executor: hintless() });
    expect(report.problems.some((p) => p.code === 'COMMAND_FAILED'), renderDoctorReport(report)).toBe(true);
    expectEveryProblemHasFix(report);
  });

  it('a project whose venv is not a venv, with a stale lock, and no manager', async () => {
    const projectDir = writeTree({ 'requirements.txt': 'six==1.16.0\n', '.venv/keep.txt': 'mine\n' }, 'pymgr-doctor-fix-');
    mkdirSync(join(projectDir, '.venv.pymgr-lock'));
    writeFileSync(join(projectDir, '.venv.pymgr-lock', 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), since: Date.now() }));
    const report = await doctor({ projectDir, env: {}, toolsDir: makeTemp(), executor: plainError() });
    expect(report.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['VENV_NOT_A_VENV', 'LOCK_STALE']));
    expectEveryProblemHasFix(report);
  });

  it('a broken pyproject.toml and an invalid config file', async () => {
    const broken = writeTree({ 'pyproject.toml': '[project\nname = \n' }, 'pymgr-doctor-fix-');
    expectEveryProblemHasFix(await doctor({ projectDir: broken, env: {}, toolsDir: makeTemp(), executor: hintless() }));
    const badConfig = writeTree({ 'requirements.txt': 'six\n', '.pymgrrc.json': '{"provider": "nope"}' }, 'pymgr-doctor-fix-');
    const report = await doctor({ projectDir: badConfig, env: {}, toolsDir: makeTemp(), executor: hintless() });
    expect(report.problems.some((p) => p.code === 'CONFIG_INVALID'), renderDoctorReport(report)).toBe(true);
    expectEveryProblemHasFix(report);
  });
});
