/**
 * Never lose a working env: the last env is kept aside while a new one is built, and put back
 * exactly as it was when the new one does not verify (or the setup is killed).
 *
 * A venv's scripts embed its absolute path, so new envs are always built at their final path and
 * the *previous* env is what moves: its entries go into a sibling directory on the same file system,
 * `<venv>.pymgr-prev` (the venv directory itself stays: it may be a mount point or the target of a
 * symbolic-link venv path, which keeps its link).
 *
 * - `move` (a rebuild): the previous env's entries are renamed into the sibling; the venv directory
 *   is then empty and the new env is created there.
 * - `copy` (an update in place): the sibling gets a hard-link snapshot of the env (`cp -al`, cheap:
 *   no file content is copied), except the few files installers rewrite in place (`bin/`,
 *   `pyvenv.cfg`, `*.pth`, pymgr's own `.pymgr/`), which are copied for real. Installers replace
 *   package files by unlinking and creating, never by writing into them, so the snapshot stays the
 *   previous env while the installer changes the live one.
 *
 * A marker (`.pymgr-aside.json`, written atomically) in the sibling says which entries it holds,
 * how they got there and the id of the build. The new env's state records the same id once it has
 * verified at its final path; only then is the sibling removed. So whatever moment a kill lands on,
 * {@link recoverAside} (run by the next setup, `run`, `env` and `doctor --fix`, under the env lock)
 * can tell a finished build (remove the sibling) from an unfinished one (put the previous env back).
 *
 * Everything goes through the Executor: the same holds inside a container.
 */
import { writeAtomic } from '../executor/write-atomic.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { commandFailed } from '../executor/run.js';
import { acquireEnvLock, inspectLock, type EnvLock } from './lock.js';
import { asidePathFor, lockPathFor } from './paths.js';
import { readState } from './state.js';

const MARKER = '.pymgr-aside.json';

/** Entries an installer may rewrite in place: copied for real into a snapshot, never hard-linked. */
const COPIED_ENTRIES = ['bin', 'pyvenv.cfg', '.pymgr'];

export type AsideMode = 'move' | 'copy';

interface AsideMarker {
  schema: 1;
  /** The build this snapshot is for; the new env's state carries it once verified. */
  id: string;
  mode: AsideMode;
  /** `saving` until every entry is in the sibling, then `saved`. */
  phase: 'saving' | 'saved';
  /** The venv directory's entries when they were put aside. */
  entries: string[];
  venv: string;
  pid: number;
  host: string;
  createdAt: string;
}

/** The previous env, kept aside for one build. */
export interface Aside {
  /** The id the new env's state must record (`build`) before {@link Aside.discard}. */
  readonly id: string;
  readonly mode: AsideMode;
  /** The sibling directory holding the previous env. */
  readonly path: string;
  /** Put the previous env back exactly as it was (the new one's files are removed). */
  restore(): Promise<void>;
  /** The new env is verified and recorded: drop the previous one. */
  discard(): Promise<void>;
}

export { asidePathFor };

/**
 * The directory that holds the venv's files: the venv path itself, or the target of a venv path
 * that is a symbolic link (its siblings are on the target's file system).
 */
export async function venvDirectory(executor: Executor, venvPath: string): Promise<string> {
  const st = await executor.stat(venvPath);
  if (st?.isSymbolicLink) return executor.realpath(venvPath).catch(() => venvPath);
  return venvPath;
}

/** A fresh build id. */
export function newBuildId(): string {
  return randomUUID();
}

/**
 * Put the env in `dir` aside for the build `id` (see the module comment for the two modes).
 * On failure nothing is lost: whatever was moved is moved back before the error is thrown.
 */
export async function saveAside(
  executor: Executor,
  dir: string,
  mode: AsideMode,
  id: string,
  options: { signal?: AbortSignal; onCopying?: () => void } = {},
): Promise<Aside> {
  const path = asidePathFor(dir);
  const entries = ((await executor.readDir(dir)) ?? []).filter((n) => n !== MARKER);
  if (!(await executor.mkdir(path))) {
    // Left by a run that recovery could not judge; never overwrite it.
    throw new PymgrError('IO_FAILED', `${path} already exists: a previous env may be kept there`, {
      hint: `Run \`pymgr doctor --fix\` to put it back or remove it, or look into ${path} and remove it yourself.`,
      details: { path },
    });
  }
  const marker: AsideMarker = {
    schema: 1, id, mode, phase: 'saving', entries, venv: dir, pid: process.pid, host: hostname(), createdAt: new Date().toISOString(),
  };
  await writeMarker(executor, path, marker);
  const aside: Aside = {
    id,
    mode,
    path,
    restore: () => restoreFrom(executor, dir, path, marker),
    discard: () => discardAside(executor, path),
  };
  try {
    if (mode === 'move') {
      for (const name of entries) await moveEntry(executor, `${dir}/${name}`, `${path}/${name}`);
    } else {
      await snapshot(executor, dir, path, entries, options.signal, options.onCopying);
    }
    await writeMarker(executor, path, { ...marker, phase: 'saved' });
  } catch (err) {
    if (mode === 'move') await aside.restore().catch(() => undefined);
    else await aside.discard().catch(() => undefined);
    throw err;
  }
  return aside;
}

/**
 * Drop a kept env for good. The marker goes first (one unlink): a removal cut short then leaves a
 * sibling without a marker, which recovery removes; never a half-removed env it would put back.
 */
async function discardAside(executor: Executor, path: string): Promise<void> {
  await executor.remove(`${path}/${MARKER}`);
  await executor.remove(path, { recursive: true, large: true });
}

/**
 * A hard-link copy of `dir`'s entries into `to`, with the entries installers rewrite copied for
 * real. `signal` stops the copies (the snapshot is then incomplete: the caller drops it);
 * `onCopying` is called once they are started.
 */
async function snapshot(executor: Executor, dir: string, to: string, entries: string[], signal?: AbortSignal, onCopying?: () => void): Promise<void> {
  const linked = entries.filter((n) => !COPIED_ENTRIES.includes(n));
  const copied = entries.filter((n) => COPIED_ENTRIES.includes(n));
  const linking = async () => {
    if (!linked.length) return;
    try {
      await cp(executor, ['-a', '-l', '--', ...linked.map((n) => `${dir}/${n}`), to], signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      // A file system without hard links: a real copy (slower, as safe).
      for (const n of linked) await executor.remove(`${to}/${n}`, { recursive: true });
      await cp(executor, ['-a', '--', ...linked.map((n) => `${dir}/${n}`), to], signal);
    }
  };
  const copying = async () => {
    if (copied.length) await cp(executor, ['-a', '--', ...copied.map((n) => `${dir}/${n}`), to], signal);
  };
  // Side by side (different entries); both have ended before a failure is reported (and the snapshot removed).
  const both = Promise.allSettled([linking(), copying()]);
  onCopying?.();
  const [a, b] = await both;
  for (const r of [a, b]) if (r.status === 'rejected') throw r.reason;
  signal?.throwIfAborted();
  // `*.pth` files in site-packages are appended to in place by some installers (easy-install.pth).
  for (const lib of ['lib', 'lib64']) {
    const st = await executor.stat(`${dir}/${lib}`);
    if (!st?.isDirectory) continue;
    for (const py of (await executor.readDir(`${dir}/${lib}`)) ?? []) {
      const site = `${lib}/${py}/site-packages`;
      const pth = ((await executor.readDir(`${dir}/${site}`)) ?? []).filter((n) => n.endsWith('.pth'));
      if (!pth.length) continue;
      for (const n of pth) await executor.remove(`${to}/${site}/${n}`);
      await cp(executor, ['-a', '--', ...pth.map((n) => `${dir}/${site}/${n}`), `${to}/${site}/`], signal);
    }
  }
}

/**
 * Rename `from` to `to`; when they are on different file systems (a venv directory that is a mount
 * point has its sibling elsewhere), `mv` copies and removes instead. Not atomic then, but the
 * marker makes an interrupted move safe to redo.
 */
async function moveEntry(executor: Executor, from: string, to: string): Promise<void> {
  try {
    await executor.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await executor.remove(to, { recursive: true });
    const res = await executor.exec('mv', ['-f', '-T', '--', from, to], { timeoutMs: 600_000 });
    if (res.exitCode !== 0) throw commandFailed(executor, res, `move ${from} to ${to}`, 'Check free space and permissions next to the venv.');
  }
}

async function cp(executor: Executor, args: string[], signal?: AbortSignal): Promise<void> {
  const res = await executor.exec('cp', args, { timeoutMs: 300_000, ...(signal ? { signal } : {}) });
  if (res.exitCode !== 0) throw commandFailed(executor, res, 'keep a snapshot of the previous env', 'Check free space and permissions next to the venv.');
}

async function writeMarker(executor: Executor, path: string, marker: AsideMarker): Promise<void> {
  await writeAtomic(executor, `${path}/${MARKER}`, JSON.stringify(marker) + '\n');
}

async function readMarker(executor: Executor, path: string): Promise<AsideMarker | undefined> {
  try {
    const m = JSON.parse(await executor.readFile(`${path}/${MARKER}`)) as AsideMarker;
    return m && m.schema === 1 && Array.isArray(m.entries) ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Put the entries kept in `path` back into `dir`, removing what the new build wrote. Idempotent:
 * a restore interrupted at any point is finished by running it again.
 */
async function restoreFrom(executor: Executor, dir: string, path: string, marker: AsideMarker): Promise<void> {
  await executor.mkdir(dir, { recursive: true });
  const kept = new Set(((await executor.readDir(path)) ?? []).filter((n) => n !== MARKER && !n.startsWith(`${MARKER}.`)));
  // What the new build added: not part of the previous env.
  for (const name of (await executor.readDir(dir)) ?? []) {
    if (!marker.entries.includes(name)) await executor.remove(`${dir}/${name}`, { recursive: true });
  }
  for (const name of marker.entries) {
    if (!kept.has(name)) continue; // already back (an earlier, interrupted restore)
    await executor.remove(`${dir}/${name}`, { recursive: true });
    await moveEntry(executor, `${path}/${name}`, `${dir}/${name}`);
  }
  await executor.remove(path, { recursive: true });
}

/** What {@link inspectAside} found next to a venv. */
export interface AsideStatus {
  path: string;
  /**
   * `restore`: a setup was interrupted; the sibling holds the previous env, which recovery puts back.
   * `discard`: the sibling is left over (the build finished, or nothing was moved yet); recovery removes it.
   */
  action: 'restore' | 'discard';
  detail: string;
}

/** Whether a kept-aside env is next to the venv, and what recovery would do with it. Changes nothing. */
export async function inspectAside(executor: Executor, venvPath: string): Promise<AsideStatus | undefined> {
  const dir = await venvDirectory(executor, venvPath);
  const path = asidePathFor(dir);
  if (!(await executor.stat(path))) return undefined;
  const marker = await readMarker(executor, path);
  if (!marker) return { path, action: 'discard', detail: 'an unfinished snapshot (nothing was moved out of the env yet)' };
  const when = `kept by pid ${marker.pid} on ${marker.host} at ${marker.createdAt}`;
  if (marker.mode === 'copy' && marker.phase === 'saving') {
    return { path, action: 'discard', detail: `an unfinished snapshot of the env (${when}); the env itself was not touched` };
  }
  const state = await readState(executor, dir);
  if (state?.status === 'ready' && state.build === marker.id) {
    return { path, action: 'discard', detail: `the previous env of a setup that finished (${when})` };
  }
  return { path, action: 'restore', detail: `the last env, kept while a setup that did not finish ${marker.mode === 'move' ? 'rebuilt' : 'updated'} it (${when})` };
}

/**
 * Finish what an interrupted setup left: put the previous env back, or remove a leftover sibling.
 * Call it holding the env lock. Returns what it did, or undefined when there was nothing to do.
 */
export async function recoverAside(executor: Executor, venvPath: string): Promise<AsideStatus | undefined> {
  const status = await inspectAside(executor, venvPath);
  if (!status) return undefined;
  if (status.action === 'discard') {
    await executor.remove(status.path, { recursive: true, large: true });
    return status;
  }
  const dir = await venvDirectory(executor, venvPath);
  const marker = (await readMarker(executor, status.path))!;
  await restoreFrom(executor, dir, status.path, marker);
  return status;
}

/**
 * For commands that use the env without setting it up (`run`, `env`): when a killed setup left
 * the previous env aside, put it back first, so they see the last verified env. Takes the env
 * lock briefly; when a live setup holds it, changes nothing (that setup recovers it itself).
 */
export async function recoverInterrupted(executor: Executor, venvPath: string): Promise<AsideStatus | undefined> {
  if (!(await inspectAside(executor, venvPath))) return undefined;
  const held = await inspectLock(executor, lockPathFor(venvPath));
  if (held && !held.stale) return undefined; // a live setup: it is its own aside
  let lock: EnvLock;
  try {
    lock = await acquireEnvLock(executor, venvPath, { timeoutMs: 2000 });
  } catch {
    return undefined;
  }
  try {
    return await recoverAside(executor, venvPath);
  } finally {
    await lock.release();
  }
}
