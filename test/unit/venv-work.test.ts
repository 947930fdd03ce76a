/**
 * startVenvWork: an update's snapshot is taken while the venv's interpreter checks the env. On a
 * real venv (python3 -m venv, no pip): the two overlap; an update keeps a snapshot the rollback
 * puts back; when the check turns the decision into a rebuild, the speculative snapshot is gone
 * before the previous env is moved aside; when deciding fails, nothing is left beside the venv; a
 * snapshot that fails fails an update and not a rebuild; and a drop of the snapshot cut short
 * leaves nothing recovery would put back over the env.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVenvWork, type DecideInput } from '../../src/core/venv-work.js';
import { recoverAside, saveAside } from '../../src/core/build-aside.js';
import { asidePathFor } from '../../src/core/paths.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { treeFingerprint } from '../helpers/aside.js';

afterAll(cleanupTemp);

const version = execFileSync('python3', ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();
const executable = execFileSync('python3', ['-c', 'import sys, os; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' }).trim();

function makeVenv(): string {
  const venv = join(makeTemp('pymgr-work-'), '.venv');
  execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
  writeFileSync(join(venv, 'lib', readdirSync(join(venv, 'lib'))[0], 'site-packages', 'alpha.py'), 'A = 1\n');
  return venv;
}

const input = (over: Partial<DecideInput> = {}): DecideInput => ({
  state: undefined,
  provider: 'uv',
  python: { version, executable, origin: 'found' },
  dropped: [],
  venvProblem: async () => undefined,
  ...over,
});

/** A host executor that logs when each program starts and ends, and can make `cp` fail. */
class LoggingExecutor extends HostExecutor {
  log: string[] = [];
  constructor(private readonly failCp = false) {
    super();
  }
  override async exec(...a: Parameters<HostExecutor['exec']>) {
    const name = a[0].split('/').pop();
    this.log.push(`start ${name}`);
    if (this.failCp && name === 'cp') {
      this.log.push(`end ${name}`);
      return { exitCode: 1, stdout: '', stderr: 'cp: No space left on device', durationMs: 0, command: [a[0], ...a[1]] } as unknown as Awaited<ReturnType<HostExecutor['exec']>>;
    }
    try {
      return await super.exec(...a);
    } finally {
      this.log.push(`end ${name}`);
    }
  }
}

describe('startVenvWork (real venv, real cp)', () => {
  const ex = new HostExecutor();

  it('the snapshot runs while the venv\'s interpreter checks the env', async () => {
    const venv = makeVenv();
    const logged = new LoggingExecutor();
    const { decision, work } = await startVenvWork(logged, venv, input(), 'b0');
    expect(decision.action).toBe('updated');
    await work.commit();
    const cpStart = logged.log.indexOf('start cp');
    expect(cpStart, logged.log.join(', ')).toBeGreaterThan(-1);
    expect(cpStart, logged.log.join(', ')).toBeLessThan(logged.log.indexOf('end python'));
    expect(existsSync(asidePathFor(venv))).toBe(false);
  });

  it('a snapshot that fails fails an update (nothing left beside the venv), not a rebuild', async () => {
    const venv = makeVenv();
    const before = treeFingerprint(venv);
    await expect(startVenvWork(new LoggingExecutor(true), venv, input(), 'b4')).rejects.toThrow(/No space left/);
    expect(existsSync(asidePathFor(venv))).toBe(false);
    expect(treeFingerprint(venv)).toEqual(before);
    const { decision, work } = await startVenvWork(new LoggingExecutor(true), venv, input({ python: { version: '3.0.1', executable, origin: 'found' } }), 'b5');
    expect(decision.action).toBe('rebuilt');
    expect(readdirSync(venv)).toEqual([]);
    await work.rollback();
    expect(treeFingerprint(venv)).toEqual(before);
  });

  it('a drop of the snapshot cut short: recovery removes what is left, the env stays whole', async () => {
    const venv = makeVenv();
    const before = treeFingerprint(venv);
    // Killed in the middle of removing the snapshot: part of it is gone (no state names its build).
    class CutShort extends HostExecutor {
      override async remove(path: string, options: { recursive?: boolean; large?: boolean } = {}) {
        if (!options.large) return super.remove(path, options);
        rmSync(join(path, 'lib'), { recursive: true });
        throw new Error('killed');
      }
    }
    const aside = await saveAside(new CutShort(), venv, 'copy', 'b6');
    await expect(aside.discard()).rejects.toThrow('killed');
    const recovered = await recoverAside(ex, venv);
    expect(recovered?.action).toBe('discard');
    expect(existsSync(asidePathFor(venv))).toBe(false);
    expect(treeFingerprint(venv)).toEqual(before);
  });

  it('an update in place: the snapshot is taken, and the rollback puts the env back byte for byte', async () => {
    const venv = makeVenv();
    const before = treeFingerprint(venv);
    const { decision, work } = await startVenvWork(ex, venv, input(), 'b1');
    expect(decision.action).toBe('updated');
    expect(existsSync(join(asidePathFor(venv), '.pymgr-aside.json'))).toBe(true);
    writeFileSync(join(venv, 'pyvenv.cfg'), 'changed by the installer\n');
    await work.rollback();
    expect(treeFingerprint(venv)).toEqual(before);
    expect(existsSync(asidePathFor(venv))).toBe(false);
  });

  it('a check that fails turns it into a rebuild: the snapshot is dropped and the env moved aside', async () => {
    const venv = makeVenv();
    const before = treeFingerprint(venv);
    const { decision, work } = await startVenvWork(ex, venv, input({ python: { version: '3.0.1', executable, origin: 'found' } }), 'b2');
    expect(decision).toMatchObject({ action: 'rebuilt', reason: `Python changed: ${version} → 3.0.1` });
    expect(readdirSync(venv)).toEqual([]);
    const marker = JSON.parse(execFileSync('cat', [join(asidePathFor(venv), '.pymgr-aside.json')], { encoding: 'utf8' }));
    expect(marker).toMatchObject({ mode: 'move', phase: 'saved', id: 'b2' });
    await work.rollback();
    expect(treeFingerprint(venv)).toEqual(before);
  });

  it('a decision that fails leaves nothing beside the venv', async () => {
    const venv = makeVenv();
    const before = treeFingerprint(venv);
    await expect(startVenvWork(ex, venv, input({ venvProblem: async () => { throw new Error('cannot tell'); } }), 'b3')).rejects.toThrow('cannot tell');
    expect(existsSync(asidePathFor(venv))).toBe(false);
    expect(treeFingerprint(venv)).toEqual(before);
  });
});
