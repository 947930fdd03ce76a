import { writeAtomic } from '../executor/write-atomic.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { lockPathFor } from './paths.js';

export { lockPathFor };

/** A held lock; `release` is idempotent. */
export interface EnvLock {
  path: string;
  release(): Promise<void>;
}

export interface Owner {
  pid: number;
  host: string;
  since: number;
  /** Random per acquisition: tells this holder's lock from a later one at the same path. */
  token?: string;
}

export interface LockOptions {
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** A lock whose owner has not refreshed it for this long is stale (default 60 s). */
  staleMs?: number;
  /**
   * A lock without a readable owner (no owner.json, or an empty or garbled one: what a kill
   * between the lock's mkdir and the owner write leaves) is stale once it is this old (default 3 s).
   * A holder writes its owner file within milliseconds of the mkdir, atomically.
   */
  ownerlessStaleMs?: number;
  /** Poll interval while waiting (default 200 ms). */
  pollMs?: number;
  signal?: AbortSignal;
  /**
   * Called when the lock is busy and we start waiting, then again every `reportEveryMs` while
   * we wait: `holder` is `pid 123 on host` (or `no owner recorded`), `wait` says for how long.
   */
  onWait?: (holder: string, wait: LockWait) => void;
  /** How often a continuing wait is reported (default 5 s). */
  reportEveryMs?: number;
}

/** A wait for a lock someone else holds, as reported to `onWait`. */
export interface LockWait {
  /** The lock directory. */
  path: string;
  /** `pid 123 on host`, or `no owner recorded`. */
  holder: string;
  /** How long the holder has held it (from its owner record, else the lock's age), in ms. */
  heldMs: number;
  /** How long we have been waiting, in ms. */
  waitedMs: number;
}

/**
 * Serialise setups of one env: an atomic `mkdir` of `<venv>.pymgr-lock` through the executor
 * (so it works on the host and in containers alike). The owner writes its pid and host and
 * refreshes the file (atomically: temporary file, then rename) while it holds the lock. A lock
 * left by a killed process is taken over when its owner is a dead process on this host, when it
 * has not been refreshed for `staleMs`, or, with no readable owner, when it is `ownerlessStaleMs` old;
 * every wait is reported to `onWait` (the holder and how long it has held the lock);
 * takeovers are serialised and re-checked (see `takeOver`), and a holder releases or refreshes
 * only a lock that still carries its own random token.
 */
export async function acquireEnvLock(executor: Executor, venvPath: string, options: LockOptions = {}): Promise<EnvLock> {
  const path = lockPathFor(venvPath);
  const ownerFile = `${path}/owner.json`;
  const limits: Limits = { staleMs: options.staleMs ?? 60_000, ownerlessStaleMs: options.ownerlessStaleMs ?? 3_000 };
  const timeoutMs = options.timeoutMs ?? 600_000;
  const pollMs = options.pollMs ?? 200;
  const reportEveryMs = options.reportEveryMs ?? 5_000;
  const token = randomUUID();
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const start = Date.now();
  let reported: number | undefined;
  let parentMade = false;
  for (;;) {
    options.signal?.throwIfAborted();
    // Modes are explicit: the umask can only take bits away, so no group or other write bit (umask 002).
    let made: boolean;
    try {
      made = await executor.mkdir(path, { mode: 0o755 });
    } catch (err) {
      // The venv's directory is usually there: its parents are made only when they are not.
      if (parentMade || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      parentMade = true;
      await executor.mkdir(parent, { recursive: true, mode: 0o755 });
      continue;
    }
    if (made) break;
    const owner = await readOwner(executor, ownerFile);
    const age = await lockAge(executor, path, owner);
    // Released meanwhile (nothing there any more): try the mkdir again at once.
    if (age === undefined) continue;
    if (isStale(owner, age, limits)) {
      await takeOver(executor, path, owner, limits);
      continue;
    }
    const now = Date.now();
    if (reported === undefined || now - reported >= reportEveryMs) {
      reported = now;
      const holder = describeOwner(owner);
      const heldMs = owner && Number.isFinite(owner.since) && owner.since <= now ? now - owner.since : age;
      options.onWait?.(holder, { path, holder, heldMs, waitedMs: now - start });
    }
    if (now - start > timeoutMs) {
      throw new PymgrError('LOCK_TIMEOUT', `Another setup of ${venvPath} (${describeOwner(owner)}) has held ${path} for over ${Math.round(timeoutMs / 1000)} s`, {
        hint: `Wait for it to finish. If no setup is running, remove ${path} (or run \`pymgr doctor --fix\`).`,
      });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const me: Owner = { pid: process.pid, host: hostname(), since: Date.now(), token };
  // Made with the holder's next operation where an executor defers (a container: no round trip of
  // its own); a kill before it leaves an ownerless lock, which is judged by its age.
  await writeOwner(executor, ownerFile, me, true);
  // Where a program's start can arrive late (a container), none runs once the lock is not ours.
  const unfence = executor.fence?.({ file: ownerFile, token });
  // Refresh while held, but never write into a lock that is no longer ours.
  const timer = setInterval(() => {
    void readOwner(executor, ownerFile)
      .then((o) => (o?.token === token ? writeOwner(executor, ownerFile, me) : undefined))
      .catch(() => undefined);
  }, Math.max(1000, limits.staleMs / 4));
  timer.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // Remove only our own lock: after a takeover (we were stopped for longer than staleMs) it is someone else's.
      // A lock that cannot be removed (the container stopped, the disk went away) is left for the next
      // setup, which takes it over; the failure is never what a setup reports in place of its own.
      try {
        if (executor.kind === 'host') {
          if ((await readOwner(executor, ownerFile))?.token === token) await executor.remove(path, { recursive: true });
        } else {
          // Elsewhere (a container) the same check and removal in one program: one round trip, not two.
          await executor.exec('/bin/sh', ['-c', 'grep -qF -- "$2" "$1/owner.json" 2>/dev/null && rm -rf -- "$1"; exit 0', 'sh', path, token], { timeoutMs: 30_000 });
        }
      } catch {
        /* left behind: judged stale later */
      } finally {
        unfence?.();
      }
    },
  };
}

interface Limits {
  staleMs: number;
  ownerlessStaleMs: number;
}

/** `pid 123 on host`, or `no owner recorded`. */
function describeOwner(owner: Owner | undefined): string {
  return owner ? `pid ${owner.pid} on ${owner.host}` : 'no owner recorded';
}

/**
 * How long since the lock was last written: its owner file's mtime (refreshed while held), or
 * for a lock without a readable owner the newest of the directory and whatever file is in it.
 * `undefined` when there is no lock directory any more (its holder released it meanwhile): a lock
 * that is not there is never stale — taking it "over" would remove the next holder's new one.
 */
async function lockAge(executor: Executor, path: string, owner: Owner | undefined): Promise<number | undefined> {
  const ownerSt = await executor.stat(`${path}/owner.json`);
  if (owner && ownerSt) return Date.now() - ownerSt.mtimeMs;
  const dirSt = await executor.stat(path);
  if (!dirSt) return undefined;
  return Date.now() - Math.max(dirSt.mtimeMs, ownerSt?.mtimeMs ?? 0);
}

/** Write the owner file atomically (a temporary file, then a rename): a reader never sees half of it. */
async function writeOwner(executor: Executor, ownerFile: string, owner: Owner, defer = false): Promise<void> {
  await writeAtomic(executor, ownerFile, JSON.stringify(owner), { mode: 0o644, defer });
}

/** The lock directory pymgr uses for the env at `venvPath`. */

/** What a lock directory says about its holder (for `pymgr doctor`). */
export interface LockStatus {
  path: string;
  stale: boolean;
  /** `pid 123 on host`, and why it is stale. */
  detail: string;
  /** The recorded owner, as judged (passed back to {@link removeStaleLock}). */
  owner?: Owner;
}

/** The lock at `path`, or undefined when there is none. Changes nothing. */
export async function inspectLock(executor: Executor, path: string, staleMs = 60_000, ownerlessStaleMs = 3_000): Promise<LockStatus | undefined> {
  const st = await executor.stat(path);
  if (!st) return undefined;
  const owner = await readOwner(executor, `${path}/owner.json`);
  const age = await lockAge(executor, path, owner);
  if (age === undefined) return undefined; // released while we looked
  const who = describeOwner(owner);
  if (owner && owner.host === hostname() && !isAlive(owner.pid)) return { path, stale: true, detail: `${who}, which is no longer running`, owner };
  if (isStale(owner, age, { staleMs, ownerlessStaleMs })) return { path, stale: true, detail: `${who}, not refreshed for ${Math.round(age / 1000)} s`, owner };
  return { path, stale: false, detail: who, owner };
}

/**
 * Remove a lock judged stale (by {@link inspectLock}) if it still is that same stale lock, with
 * the same serialised re-check that waiters use. Returns whether it was removed.
 */
export async function removeStaleLock(executor: Executor, judged: LockStatus, staleMs = 60_000, ownerlessStaleMs = 3_000): Promise<boolean> {
  if (!judged.stale) return false;
  await takeOver(executor, judged.path, judged.owner, { staleMs, ownerlessStaleMs });
  return !(await executor.exists(judged.path));
}

/**
 * Remove a lock judged stale, safely against other waiters doing the same. Takeovers are
 * serialised by a second directory (`<lock>.takeover`); holding it, the waiter checks again that
 * the lock is still the same stale one (same owner, still stale) before removing it. A lock that
 * another waiter has meanwhile taken over is therefore never removed.
 */
async function takeOver(executor: Executor, path: string, stale: Owner | undefined, limits: Limits): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await executor.mkdir(guard, { mode: 0o755 }))) {
    // A takeover in progress; one abandoned by a crash within that instant is cleared after 10 s.
    const st = await executor.stat(guard);
    if (st && Date.now() - st.mtimeMs > 10_000) await executor.remove(guard, { recursive: true });
    return;
  }
  try {
    // Under the guard, the same stale lock still there (a missing one is nobody's to remove).
    const now = await readOwner(executor, `${path}/owner.json`);
    const age = await lockAge(executor, path, now);
    if (age !== undefined && sameOwner(now, stale) && isStale(now, age, limits)) {
      // A holder that died here (kill -9, OOM) may have left programs running where the executor
      // runs them (a container goes on with an exec whose client died): stopped before the env is
      // touched again, or they would go on writing into it.
      const dead = now && now.host === hostname() && !isAlive(now.pid) ? { host: now.host, pid: now.pid } : undefined;
      if (dead) await executor.stopLeftovers?.(dead);
      await executor.remove(path, { recursive: true });
      // Once the lock is gone no program of the dead holder starts (a container's fenced execs
      // check it); one that started between the first pass and the removal is stopped now.
      if (dead) await executor.stopLeftovers?.(dead);
    }
  } finally {
    await executor.remove(guard, { recursive: true });
  }
}

/**
 * A lock is stale when its owner is a dead process on this host, or it was not refreshed for
 * `staleMs`; a lock without a readable owner, once it is `ownerlessStaleMs` old.
 */
function isStale(owner: Owner | undefined, age: number, limits: Limits): boolean {
  if (!owner) return age > limits.ownerlessStaleMs;
  return (owner.host === hostname() && !isAlive(owner.pid)) || age > limits.staleMs;
}

async function readOwner(executor: Executor, file: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await executor.readFile(file)) as Owner;
    return o && typeof o.pid === 'number' && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

function sameOwner(a: Owner | undefined, b: Owner | undefined): boolean {
  if (!a || !b) return a === b;
  return a.pid === b.pid && a.host === b.host && a.since === b.since && a.token === b.token;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
