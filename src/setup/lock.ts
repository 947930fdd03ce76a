import { hostname } from 'node:os';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';

/** A held lock; `release` is idempotent. */
export interface EnvLock {
  path: string;
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
  since: number;
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
 * its owner is a dead process on this host, or when it has not been refreshed for `staleMs`.
 */
export async function acquireEnvLock(executor: Executor, venvPath: string, options: LockOptions = {}): Promise<EnvLock> {
  const path = `${venvPath.replace(/\/+$/, '')}.pymgr-lock`;
  const ownerFile = `${path}/owner.json`;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 200;
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  await executor.mkdir(parent, { recursive: true });
  const start = Date.now();
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await executor.mkdir(path)) break;
    const owner = await readOwner(executor, ownerFile);
    const st = await executor.stat(owner ? ownerFile : path);
    const age = st ? Date.now() - st.mtimeMs : Number.POSITIVE_INFINITY;
    const deadHere = owner && owner.host === hostname() && !isAlive(owner.pid);
    if (deadHere || age > staleMs) {
      // Take over, but only the lock we judged stale: re-read the owner just before removing, so a
      // lock another waiter has just taken over is left alone. Then retry the atomic mkdir.
      const now = await readOwner(executor, ownerFile);
      if (sameOwner(now, owner)) await executor.remove(path, { recursive: true });
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.(owner ? `pid ${owner.pid} on ${owner.host}` : 'another setup');
    }
    if (Date.now() - start > timeoutMs) {
      throw new PymgrError('LOCK_TIMEOUT', `Another setup of ${venvPath} has held ${path} for over ${Math.round(timeoutMs / 1000)} s`, {
        hint: `Wait for it to finish. If no setup is running, remove ${path}.`,
      });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const writeOwner = () => executor.writeFile(ownerFile, JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() } satisfies Owner));
  await writeOwner();
  const timer = setInterval(() => void writeOwner().catch(() => undefined), Math.max(1000, staleMs / 4));
  timer.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await executor.remove(path, { recursive: true });
    },
  };
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
  return a.pid === b.pid && a.host === b.host && a.since === b.since;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
