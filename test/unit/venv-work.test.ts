/**
 * startVenvWork: an update's snapshot is taken while the venv's interpreter checks the env. On a
 * real venv (python3 -m venv, no pip): an update keeps a snapshot the rollback puts back; when the
 * check turns the decision into a rebuild, the speculative snapshot is gone before the previous
 * env is moved aside; when deciding fails, nothing is left beside the venv.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVenvWork, type DecideInput } from '../../src/core/venv-work.js';
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

describe('startVenvWork (real venv, real cp)', () => {
  const ex = new HostExecutor();

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
