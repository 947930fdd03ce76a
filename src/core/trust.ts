/**
 * Nobody else's code runs as you: before pymgr runs a manager binary it was *told about* (a
 * configured `providers.*.path`) or one it keeps in its tools directory, it checks that no other
 * user could have put it there — like ssh's StrictModes. Refused: the file (links resolved) or a
 * directory that holds it (its own directory; for the tools directory, every directory from the
 * tools directory down to the file) that is writable by group or others (a sticky directory such as
 * /tmp excepted, for directories), or that is owned by a uid other than the one running it or root.
 *
 * A pyenv root owned by another uid is the case pymgr exists to handle, so `allowForeignOwner`
 * relaxes the owner rule (the write-bit rule stays); `pymgr doctor` reports the decision.
 */
import type { Executor, FileStat, ReadRequest } from '../contracts.js';
import { PymgrError } from '../errors.js';

/** One path that fails the rule, and why. */
export interface UnsafePath {
  path: string;
  uid: number;
  mode: number;
  why: string;
}

const uids = new WeakMap<Executor, Promise<number>>();

/** The uid programs run as through `executor` (this process's on the host; `id -u` in a container). */
export function executorUid(executor: Executor): Promise<number> {
  let known = uids.get(executor);
  if (!known) {
    known =
      executor.kind === 'host' && typeof process.getuid === 'function'
        ? Promise.resolve(process.getuid())
        : executor.userIds
          ? executor.userIds().then((ids) => ids.uid)
          : executor.exec('id', ['-u'], { timeoutMs: 30_000, readOnly: true }).then((r) => (r.exitCode === 0 ? Number(r.stdout.trim()) : 0));
    uids.set(executor, known);
  }
  return known;
}

/** `0755`-style text of a mode. */
export function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** Why `st` would let another user change what is there, or undefined when it would not. */
export function whyUnsafe(st: FileStat, me: number, options: { allowForeignOwner?: boolean } = {}): string | undefined {
  const sticky = st.isDirectory && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o002) && !sticky) return 'writable by every user';
  if ((st.mode & 0o020) && !sticky) return 'writable by its group';
  if (!options.allowForeignOwner && st.uid !== me && st.uid !== 0) return `owned by uid ${st.uid}, not by you (uid ${me}) or root`;
  return undefined;
}

/** The first of `paths` that fails the rule, or undefined when every one passes (missing ones are skipped). */
export async function findUnsafePath(executor: Executor, paths: string[], options: { allowForeignOwner?: boolean } = {}): Promise<UnsafePath | undefined> {
  const me = await executorUid(executor);
  await executor.prefetch?.(paths.map((path) => ({ op: 'stat' as const, path })));
  for (const path of paths) {
    const st = await executor.stat(path);
    if (!st) continue;
    const why = whyUnsafe(st, me, options);
    if (why) return { path, uid: st.uid, mode: st.mode, why };
  }
  return undefined;
}

/** The paths the rule looks at for `file`: the real file, its directory, and (with `within`) every directory down from `within`. */
export async function pathsToCheck(executor: Executor, file: string, within?: string): Promise<string[]> {
  // The usual case (no link) in one batch: the file's real path and every stat the rule will ask.
  await executor.prefetch?.(safeToRunReads(file, within));
  const real = await executor.realpath(file).catch(() => file);
  const out = [real, dirOf(real)];
  if (file !== real) out.push(dirOf(file));
  out.push(...dirsWithin(file, within));
  return [...new Set(out)];
}

/**
 * What {@link assertSafeToRun} reads for `file` when it is not a link: a caller that learns these
 * together with its own reads (a container: one batch) leaves the check nothing to ask.
 */
export function safeToRunReads(file: string, within?: string): ReadRequest[] {
  return [{ op: 'realpath', path: file }, ...[file, dirOf(file), ...dirsWithin(file, within)].map((path) => ({ op: 'stat' as const, path }))];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/** With `within`: every directory from `file`'s up to `within` (the tools directory). */
function dirsWithin(file: string, within: string | undefined): string[] {
  const out: string[] = [];
  if (!within) return out;
  const base = within.replace(/\/+$/, '');
  for (let d = dirOf(file); d.startsWith(base) && d.length >= base.length; d = dirOf(d)) {
    out.push(d);
    if (d === base) break;
  }
  return out;
}

export interface SafeToRunOptions {
  /** What it is, for the message: `uv`. */
  what: string;
  /** Where pymgr got it: `providers.uv.path`, `pymgr's tools directory`. */
  source: string;
  /** The tools directory the file is in (every directory from it down is checked). */
  within?: string;
  allowForeignOwner?: boolean;
}

/**
 * Throw MANAGER_UNSAFE when `file` (or a directory that holds it) could have been changed by
 * another user; see the file comment.
 */
export async function assertSafeToRun(executor: Executor, file: string, options: SafeToRunOptions): Promise<void> {
  const bad = await findUnsafePath(executor, await pathsToCheck(executor, file, options.within), options);
  if (!bad) return;
  const fix = bad.why.startsWith('owned')
    ? `make it yours (\`chown\`) or root's, and \`chmod go-w ${bad.path}\``
    : `\`chmod go-w ${bad.path}\``;
  throw new PymgrError(
    'MANAGER_UNSAFE',
    `Refusing to run ${options.what} at ${file} (${options.source}) on ${executor.description}: ${bad.path} is ${bad.why} (owner uid ${bad.uid}, mode ${modeText(bad.mode)})`,
    {
      hint: `Whoever can change it can run code as you. Fix: ${fix}, or use a ${options.what} only you and root can change.`,
      details: { file, path: bad.path, uid: bad.uid, mode: modeText(bad.mode), reason: bad.why },
    },
  );
}
