/**
 * Stopping what a dead pymgr left running (src/executor/holder.ts), on real processes: every
 * process carrying the entry goes, with the programs it started, and nothing else.
 */
import { execSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { holderEntry, HOLDER_VAR, stopProcessesWith } from '../../src/executor/holder.js';
import { hostname } from 'node:os';

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));

describe.skipIf(!existsSync('/proc/self/environ'))('stopping the programs of a dead pymgr (/proc)', () => {
  it('kills every process carrying the entry, and the ones they started; leaves the others', async () => {
    const dead = { host: hostname(), pid: 4_000_000 + (process.pid % 1000) }; // no such process: only its entry matters
    const entry = holderEntry(dead);
    const env = { ...process.env, [HOLDER_VAR]: `${dead.host}/${dead.pid}` };
    // A program that starts another (the installer and its build backend).
    const parent = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    const grandchild = Number(await new Promise<string>((r) => parent.stdout!.once('data', (c) => r(String(c).trim()))));
    const other = spawn('sleep', ['30'], { stdio: 'ignore' }); // not the dead one's
    try {
      expect(alive(parent.pid!) && alive(grandchild) && alive(other.pid!)).toBe(true);
      expect(await stopProcessesWith(entry)).toBe(2);
      expect(alive(parent.pid!)).toBe(false);
      expect(alive(grandchild)).toBe(false);
      expect(alive(other.pid!)).toBe(true);
      expect(await stopProcessesWith(entry)).toBe(0);
    } finally {
      other.kill('SIGKILL');
      parent.kill('SIGKILL');
    }
  });

  it('the host executor tags what it runs with this process, and stops only what a process on this machine left', async () => {
    const ex = new HostExecutor();
    const res = await ex.exec('/bin/sh', ['-c', `printf %s "$${HOLDER_VAR}"`]);
    expect(res.stdout).toBe(`${hostname()}/${process.pid}`);
    expect(await ex.stopLeftovers({ host: `not-${hostname()}`, pid: process.pid })).toBe(0);
  });
});

describe.skipIf(!existsSync('/proc/self/environ'))('a program stopped by the host executor (/proc)', () => {
  // A program whose child holds its output open (a build backend writing to the installer's stderr):
  // stopped, both go at once; the executor does not wait for the child to end by itself.
  for (const how of ['abort', 'timeout'] as const) {
    it(`${how}: what it started is stopped too, at once`, async () => {
      const marker = `pymgr-stop-test-${process.pid}-${how}`;
      const controller = new AbortController();
      const t0 = Date.now();
      const done = new HostExecutor()
        .exec('/bin/sh', ['-c', `sleep 29.7 & exec sleep 29.8 # ${marker}`], how === 'abort' ? { signal: controller.signal } : { timeoutMs: 300 })
        .then((r) => r, (e: unknown) => e);
      if (how === 'abort') setTimeout(() => controller.abort(new Error('stopped')), 300);
      const out = await done;
      expect(Date.now() - t0, 'waited for the child to end by itself').toBeLessThan(5_000);
      if (how === 'abort') expect((out as Error).message).toBe('stopped');
      else expect((out as { timedOut: boolean }).timedOut).toBe(true);
      const left = execSync(`ps -eo pid,args | grep -v grep | grep -c 'sleep 29.[78]' || true`, { encoding: 'utf8' });
      expect(Number(left.trim()), 'a sleep was left running').toBe(0);
    });
  }
});
