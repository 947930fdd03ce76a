/** The env lock, on real directories: serialisation, stale takeover, and never removing another's lock. */
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
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

  it('waiters racing a release, round after round: a lock that is gone is never "taken over" from its next holder', async () => {
    // A waiter that read no owner (the holder's rm had unlinked it) and then found no directory used
    // to judge the lock ownerless and stale, and removed the next holder's brand-new lock (or failed
    // with ENOTEMPTY while that holder wrote its owner file).
    for (let round = 0; round < 120; round++) {
      const venv = join(makeTemp(), '.venv');
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const lock = await acquireEnvLock(ex, venv, { pollMs: 1, timeoutMs: 10_000 });
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 1));
          inside--;
          await lock.release();
        }),
      );
      expect(most, `round ${round}`).toBe(1);
    }
  }, 60_000);

  it('release leaves alone a lock that another holder has taken over', async () => {
    const venv = join(makeTemp(), '.venv');
    const lock = await acquireEnvLock(ex, venv);
    writeFileSync(`${venv}.pymgr-lock/owner.json`, JSON.stringify({ pid: 1, host: 'elsewhere', since: 1, token: 'someone-else' }));
    await lock.release();
    expect(existsSync(`${venv}.pymgr-lock/owner.json`)).toBe(true);
  });
});

/** Records every file written and renamed, to see how the owner file is written. */
class RecordingExecutor extends HostExecutor {
  readonly writes: string[] = [];
  readonly renames: Array<[string, string]> = [];
  override async writeFile(path: string, content: string, options?: { mode?: number }): Promise<void> {
    this.writes.push(path);
    return super.writeFile(path, content, options);
  }
  override async rename(from: string, to: string): Promise<void> {
    this.renames.push([from, to]);
    return super.rename(from, to);
  }
}

describe('acquireEnvLock: locks without a readable owner, and waits that say so', () => {
  // The first with the default limits; the others judged with a shorter age, to keep the suite fast.
  for (const [what, make, ownerlessStaleMs] of [
    ['a lock directory without owner.json', () => undefined, undefined],
    ['an empty owner.json', (file: string) => writeFileSync(file, ''), 300],
    ['a garbled owner.json', (file: string) => writeFileSync(file, '{"pid": 12'), 300],
    ['an owner.json that is not an owner', (file: string) => writeFileSync(file, '[1, 2]'), 300],
  ] as const) {
    it(`${what} (what a kill between mkdir and the owner write leaves) is taken over in under 5 s`, async () => {
      const venv = join(makeTemp(), '.venv');
      mkdirSync(`${venv}.pymgr-lock`);
      make(`${venv}.pymgr-lock/owner.json`);
      const waits: Array<{ holder: string; heldMs: number }> = [];
      const t = Date.now();
      const lock = await acquireEnvLock(ex, venv, { timeoutMs: 30_000, ownerlessStaleMs, onWait: (_h, w) => waits.push(w) });
      expect(Date.now() - t).toBeLessThan(5000);
      expect(JSON.parse(readFileSync(`${venv}.pymgr-lock/owner.json`, 'utf8')).pid).toBe(process.pid);
      // The wait before the takeover was reported, naming what it waited for.
      expect(waits[0]?.holder).toBe('no owner recorded');
      await lock.release();
      expect(existsSync(`${venv}.pymgr-lock`)).toBe(false);
    });
  }

  it('a live holder is never taken over early; the wait is reported with the holder and how long it has held the lock, again and again', async () => {
    const venv = join(makeTemp(), '.venv');
    mkdirSync(`${venv}.pymgr-lock`);
    const since = Date.now() - 42_000;
    writeFileSync(`${venv}.pymgr-lock/owner.json`, JSON.stringify({ pid: 1, host: 'elsewhere', since, token: 't' }));
    const waits: Array<{ holder: string; heldMs: number; waitedMs: number; path: string }> = [];
    const err = await rejection(acquireEnvLock(ex, venv, { pollMs: 10, timeoutMs: 400, reportEveryMs: 100, onWait: (_h, w) => waits.push(w) }));
    expect(err.code).toBe('LOCK_TIMEOUT');
    expect(err.message).toContain('pid 1 on elsewhere');
    expect(waits.length).toBeGreaterThanOrEqual(3);
    expect(waits[0]).toMatchObject({ holder: 'pid 1 on elsewhere', path: `${venv}.pymgr-lock` });
    expect(waits[0].heldMs).toBeGreaterThanOrEqual(42_000);
    expect(waits.at(-1)!.waitedMs).toBeGreaterThan(waits[0].waitedMs);
    expect(existsSync(`${venv}.pymgr-lock/owner.json`)).toBe(true);
  });

  it('writes its owner file atomically: a temporary file, then a rename onto owner.json', async () => {
    const venv = join(makeTemp(), '.venv');
    const rec = new RecordingExecutor();
    const lock = await acquireEnvLock(rec, venv);
    const owner = `${venv}.pymgr-lock/owner.json`;
    expect(rec.writes).not.toContain(owner);
    expect(rec.renames).toHaveLength(1);
    expect(rec.renames[0][1]).toBe(owner);
    expect(rec.writes).toEqual([rec.renames[0][0]]);
    expect(readdirSync(`${venv}.pymgr-lock`)).toEqual(['owner.json']);
    await lock.release();
  });

  it('release never throws: a lock it cannot remove is left for the next setup to take over', async () => {
    const venv = join(makeTemp(), '.venv');
    class FailingRemove extends HostExecutor {
      override async remove(): Promise<void> {
        throw new Error('Could not run `rm`: the container is not running');
      }
    }
    const lock = await acquireEnvLock(new FailingRemove(), venv);
    await expect(lock.release()).resolves.toBeUndefined();
    expect(existsSync(`${venv}.pymgr-lock/owner.json`)).toBe(true);
  });
});
