/** The env lock, on real directories: serialisation, stale takeover, and never removing another's lock. */
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { acquireEnvLock } from '../../src/core/lock.js';
import { hostname } from 'node:os';
import { cleanupTemp, makeTemp, rejection } from '../helpers/project.js';

const ex = new HostExecutor();
afterEach(cleanupTemp);

describe('acquireEnvLock', () => {
  it('serialises holders: the second waits until the first releases', async () => {
    const venv = join(makeTemp(), '.venv');
    const events: string[] = [];
    const first = await acquireEnvLock(ex, venv, { pollMs: 10 });
    const second = acquireEnvLock(ex, venv, { pollMs: 10, onWait: () => events.push('waiting') }).then((l) => {
      events.push('second');
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    events.push('release first');
    await first.release();
    await (await second).release();
    expect(events).toEqual(['waiting', 'release first', 'second']);
    expect(existsSync(`${venv}.pymgr-lock`)).toBe(false);
  });

  it('takes over a lock left by a dead process on this host at once', async () => {
    const venv = join(makeTemp(), '.venv');
    mkdirSync(`${venv}.pymgr-lock`);
    writeFileSync(`${venv}.pymgr-lock/owner.json`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: Date.now() }));
    const t = Date.now();
    const lock = await acquireEnvLock(ex, venv, { pollMs: 10, timeoutMs: 5000 });
    expect(Date.now() - t).toBeLessThan(2000);
    expect(JSON.parse(readFileSync(`${venv}.pymgr-lock/owner.json`, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock not refreshed for staleMs, and times out on a live one', async () => {
    const venv = join(makeTemp(), '.venv');
    mkdirSync(`${venv}.pymgr-lock`);
    writeFileSync(`${venv}.pymgr-lock/owner.json`, JSON.stringify({ pid: 1, host: 'elsewhere', since: 0 }));
    const err = await rejection(acquireEnvLock(ex, venv, { pollMs: 10, timeoutMs: 150, staleMs: 60_000 }));
    expect(err.code).toBe('LOCK_TIMEOUT');
    expect(err.hint).toContain(`${venv}.pymgr-lock`);
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${venv}.pymgr-lock/owner.json`, old, old);
    const lock = await acquireEnvLock(ex, venv, { pollMs: 10, timeoutMs: 2000, staleMs: 60_000 });
    await lock.release();
  });

  it('many waiters on one stale lock: never two holders at once', async () => {
    const venv = join(makeTemp(), '.venv');
    mkdirSync(`${venv}.pymgr-lock`);
    writeFileSync(`${venv}.pymgr-lock/owner.json`, JSON.stringify({ pid: 1, host: 'elsewhere', since: 0 }));
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${venv}.pymgr-lock/owner.json`, old, old);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const lock = await acquireEnvLock(ex, venv, { pollMs: 5, timeoutMs: 10_000, staleMs: 60_000 });
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
  });

  it('release leaves alone a lock that another holder has taken over', async () => {
    const venv = join(makeTemp(), '.venv');
    const lock = await acquireEnvLock(ex, venv);
    writeFileSync(`${venv}.pymgr-lock/owner.json`, JSON.stringify({ pid: 1, host: 'elsewhere', since: 1, token: 'someone-else' }));
    await lock.release();
    expect(existsSync(`${venv}.pymgr-lock/owner.json`)).toBe(true);
  });
});
