/**
 * `doctor --fix` removes a stale pymgr lock, but only the one it judged stale: when another setup
 * takes the lock over between the check and the removal, the new lock is left alone. Real files in
 * a temporary project; the executor's programs fail (no manager is needed for this).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecResult } from '../../src/contracts.js';
import { doctor } from '../../src/api/doctor.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp, writeTree } from '../helpers/project.js';
import { renderDoctorReport } from '../../src/cli/render.js';

const DEAD_PID = 2 ** 22 + 54321;

/** Runs no program; calls `beforeOwnerRead(n)` before the n-th read of a lock's owner.json. */
class LockExecutor extends HostExecutor {
  private ownerReads = 0;
  constructor(private readonly beforeOwnerRead: (n: number, file: string) => void = () => undefined) {
    super();
  }
  override async exec(file: string, args: readonly string[]): Promise<ExecResult> {
    return { command: [file, ...args], exitCode: 127, stdout: '', stderr: `${file}: not run in this test`, timedOut: false };
  }
  override async readFile(path: string): Promise<string> {
    if (path.endsWith('.pymgr-lock/owner.json')) this.beforeOwnerRead(++this.ownerReads, path);
    return super.readFile(path);
  }
}

function makeProjectWithStaleLock(owner: object): { projectDir: string; lock: string } {
  const projectDir = writeTree({ 'requirements.txt': 'six==1.16.0\n' }, 'pymgr-doctor-lock-');
  const lock = join(projectDir, '.venv.pymgr-lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'owner.json'), JSON.stringify(owner));
  return { projectDir, lock };
}

describe('doctor --fix and the pymgr lock', () => {
  afterAll(() => cleanupTemp());

  it('removes a lock whose owner is a dead process here (old and new owner.json formats)', async () => {
    for (const owner of [
      { pid: DEAD_PID, host: hostname(), since: Date.now() },
      { pid: DEAD_PID, host: hostname(), since: Date.now(), token: 'b3c1-old-holder' },
    ]) {
      const { projectDir, lock } = makeProjectWithStaleLock(owner);
      const report = await doctor({ projectDir, env: {}, toolsDir: makeTemp(), executor: new LockExecutor(), fix: true });
      expect(report.fixed).toHaveLength(1);
      expect(report.fixed[0]).toContain(lock);
      expect(existsSync(lock)).toBe(false);
    }
  });

  it('leaves a lock that another setup took over after doctor judged it stale', async () => {
    const { projectDir, lock } = makeProjectWithStaleLock({ pid: DEAD_PID, host: hostname(), since: Date.now() - 5000, token: 'dead-one' });
    const taker = JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now(), token: 'new-holder' });
    // The first read is doctor's check; before any later read, a live setup has taken the lock over
    // (same directory, its own owner.json).
    const executor = new LockExecutor((n, file) => {
      if (n === 2) writeFileSync(file, taker);
    });
    const report = await doctor({ projectDir, env: {}, toolsDir: makeTemp(), executor, fix: true });
    expect(existsSync(lock)).toBe(true);
    expect(readFileSync(join(lock, 'owner.json'), 'utf8')).toBe(taker);
    expect(report.fixed).toEqual([]);
    const held = report.problems.find((p) => p.code === 'LOCK_HELD');
    expect(held, renderDoctorReport(report)).toBeDefined();
    expect(held!.message).toContain(lock);
  });

  it('leaves a lock whose owner changed only in its since (a new holder with the same pid)', async () => {
    const { projectDir, lock } = makeProjectWithStaleLock({ pid: DEAD_PID, host: hostname(), since: 1000 });
    const executor = new LockExecutor((n, file) => {
      if (n === 2) writeFileSync(file, JSON.stringify({ pid: DEAD_PID, host: hostname(), since: 2000 }));
    });
    const report = await doctor({ projectDir, env: {}, toolsDir: makeTemp(), executor, fix: true });
    expect(existsSync(lock)).toBe(true);
    expect(report.fixed).toEqual([]);
  });
});
