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
  /** Poll interval while waiting (default 200 ms). */
  pollMs?: number;
  signal?: AbortSignal;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: (owner: string) => void;
}

/**
 * Serialise setups of one env: an atomic `mkdir` of `<venv>.pymgr-lock` through the executor
 * (so it works on the host and in containers alike). The owner writes its pid and host and
 * refreshes the file while it holds the lock. A lock left by a killed process is taken over when
 * its owner is a dead process on this host, or when it has not been refreshed for `staleMs`;
 * takeovers are serialised and re-checked (see `takeOver`), and a holder releases or refreshes
 * only a lock that still carries its own random token.
 */
export async function acquireEnvLock(executor: Executor, venvPath: string, options: LockOptions = {}): Promise<EnvLock> {
  const path = lockPathFor(venvPath);
  const ownerFile = `${path}/owner.json`;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 200;
  const token = randomUUID();
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  // Modes are explicit: the umask can only take bits away, so no group or other write bit (umask 002).
  await executor.mkdir(parent, { recursive: true, mode: 0o755 });
  const start = Date.now();
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await executor.mkdir(path, { mode: 0o755 })) break;
    const owner = await readOwner(executor, ownerFile);
    const st = await executor.stat(owner ? ownerFile : path);
    const age = st ? Date.now() - st.mtimeMs : Number.POSITIVE_INFINITY;
    if (isStale(owner, age, staleMs)) {
      await takeOver(executor, path, owner, staleMs);
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.(owner ? `pid ${owner.pid} on ${owner.host}` : 'another setup');
    }
    if (Date.now() - start > timeoutMs) {
      throw new PymgrError('LOCK_TIMEOUT', `Another setup of ${venvPath} has held ${path} for over ${Math.round(timeoutMs / 1000)} s`, {
        hint: `Wait for it to finish. If no setup is running, remove ${path} (or run \`pymgr doctor --fix\`).`,
      });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const me: Owner = { pid: process.pid, host: hostname(), since: Date.now(), token };
  await executor.writeFile(ownerFile, JSON.stringify(me), { mode: 0o644 });
  // Refresh while held, but never write into a lock that is no longer ours.
  const timer = setInterval(() => {
    void readOwner(executor, ownerFile)
      .then((o) => (o?.token === token ? executor.writeFile(ownerFile, JSON.stringify(me), { mode: 0o644 }) : undefined))
      .catch(() => undefined);
  }, Math.max(1000, staleMs / 4));
  timer.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // Remove only our own lock: after a takeover (we were stopped for longer than staleMs) it is someone else's.
      if ((await readOwner(executor, ownerFile))?.token === token) await executor.remove(path, { recursive: true });
    },
  };
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
export async function inspectLock(executor: Executor, path: string, staleMs = 60_000): Promise<LockStatus | undefined> {
  const st = await executor.stat(path);
  if (!st) return undefined;
  const owner = await readOwner(executor, `${path}/owner.json`);
  const ownerSt = owner ? await executor.stat(`${path}/owner.json`) : undefined;
  const age = Date.now() - (ownerSt ?? st).mtimeMs;
  const who = owner ? `pid ${owner.pid} on ${owner.host}` : 'no owner recorded';
  if (owner && owner.host === hostname() && !isAlive(owner.pid)) return { path, stale: true, detail: `${who}, which is no longer running`, owner };
  if (age > staleMs) return { path, stale: true, detail: `${who}, not refreshed for ${Math.round(age / 1000)} s`, owner };
  return { path, stale: false, detail: who, owner };
}

/**
 * Remove a lock judged stale (by {@link inspectLock}) if it still is that same stale lock, with
 * the same serialised re-check that waiters use. Returns whether it was removed.
 */
export async function removeStaleLock(executor: Executor, judged: LockStatus, staleMs = 60_000): Promise<boolean> {
  if (!judged.stale) return false;
  await takeOver(executor, judged.path, judged.owner, staleMs);
  return !(await executor.exists(judged.path));
}

/**
 * Remove a lock judged stale, safely against other waiters doing the same. Takeovers are
 * serialised by a second directory (`<lock>.takeover`); holding it, the waiter checks again that
 * the lock is still the same stale one (same owner, still stale) before removing it. A lock that
 * another waiter has meanwhile taken over is therefore never removed.
 */
async function takeOver(executor: Executor, path: string, stale: Owner | undefined, staleMs: number): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await executor.mkdir(guard, { mode: 0o755 }))) {
    // A takeover in progress; one abandoned by a crash within that instant is cleared after 10 s.
    const st = await executor.stat(guard);
    if (st && Date.now() - st.mtimeMs > 10_000) await executor.remove(guard, { recursive: true });
    return;
  }
  try {
    const ownerFile = `${path}/owner.json`;
    const now = await readOwner(executor, ownerFile);
    const st = await executor.stat(now ? ownerFile : path);
    if (st && sameOwner(now, stale) && isStale(now, Date.now() - st.mtimeMs, staleMs)) {
      await executor.remove(path, { recursive: true });
    }
  } finally {
    await executor.remove(guard, { recursive: true });
  }
}

/** A lock is stale when its owner is a dead process on this host, or it was not refreshed for `staleMs`. */
function isStale(owner: Owner | undefined, age: number, staleMs: number): boolean {
  return (!!owner && owner.host === hostname() && !isAlive(owner.pid)) || age > staleMs;
}

async function readOwner(executor: Executor, file: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await executor.readFile(file)) as Owner;
    return typeof o.pid === 'number' ? o : undefined;
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
