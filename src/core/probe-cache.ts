/**
 * Probes learnt once. What a manager binary prints about itself (`uv --version`) depends on that
 * binary alone, so the answer is kept:
 *
 * - for the life of the process, per executor and per binary: a second `detect()` on the same
 *   executor, or on another host executor, spawns nothing;
 * - across processes, on the host: a file per probe under pymgr's cache directory
 *   (`<cache>/probes/<hash>.json`), keyed by the binary's path, the arguments and the variables
 *   given, and valid only while the binary's signature (inode, size, mtime, ctime; links
 *   followed) is the one recorded. A binary replaced at the same path (another version), or
 *   removed, is noticed on the next call: the host re-reads the signature every time (one stat).
 *
 * Only native executables (ELF, Mach-O) are learnt on the host: a script (a shim) answers for what
 * it runs, which can change while the script stays the same file, so it is asked every time.
 *
 * Entries are written to a private temporary name and renamed into place, so a process never
 * reads a half-written entry; an unreadable or foreign entry is ignored and rewritten. Only runs
 * that exit 0 are kept: a failure is asked again next time.
 *
 * In a container (an executor with a place id: Executor.placeId) the answer is kept for the life
 * of the executor's scope (its container, whatever variables the executor's copies add:
 * Executor.scope) and on the host's disk under the container's id, checked against the binary's
 * stat there (mode, owner, size, mtime): one read, which a batch of reads makes free. Files under
 * 256 KiB are taken for scripts and asked every time. A fact that cannot change while a container
 * exists (its `uname -s -m`) is kept under its id alone ({@link placeFact}).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, promises as fs, readSync, statSync } from 'node:fs';
import type { ExecOptions, ExecResult, Executor } from '../contracts.js';
import { pymgrCacheDir } from './paths.js';

type ProbeOptions = Pick<ExecOptions, 'env' | 'timeoutMs'>;

interface Entry {
  schema: 1;
  path: string;
  args: string[];
  env: string;
  signature: string;
  exitCode: 0;
  stdout: string;
  stderr: string;
}

const perExecutor = new WeakMap<object, Map<string, Promise<ExecResult>>>();
const hostAnswers = new Map<string, { signature: string; result: ExecResult }>();

/** What the probe is asked with: the binary, the arguments, the variables set or removed. */
function probeKey(path: string, args: readonly string[], env: ProbeOptions['env']): { key: string; envText: string } {
  const envText = JSON.stringify(Object.entries(env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v ?? null]));
  const key = createHash('sha256').update(JSON.stringify([path, args, envText])).digest('hex').slice(0, 32);
  return { key, envText };
}

/** The binary's signature, read synchronously (one stat: microseconds, less than a thread-pool round trip). */
async function signatureOf(path: string): Promise<string | undefined> {
  try {
    const s = statSync(path, { bigint: true, throwIfNoEntry: false });
    return s && `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined; // cannot be looked at: the executor will say why when it runs it
  }
}

/**
 * `path args...` through the executor, answered from what was learnt before when the binary is
 * unchanged. Same contract as {@link Executor.exec} (resolves for any exit status).
 */
export async function probeBinary(executor: Executor, path: string, args: readonly string[], options: ProbeOptions = {}): Promise<ExecResult> {
  const { key, envText } = probeKey(path, args, options.env);
  if (executor.kind !== 'host') {
    const scope = executor.scope ?? executor;
    let mine = perExecutor.get(scope);
    if (!mine) perExecutor.set(scope, (mine = new Map()));
    let answer = mine.get(key);
    if (!answer) {
      answer = executor.placeId ? probeThere(executor, executor.placeId, path, args, options) : executor.exec(path, args, { ...options, readOnly: true });
      mine.set(key, answer);
      answer.then((r) => r.exitCode !== 0 && mine!.delete(key), () => mine!.delete(key));
    }
    return answer;
  }

  const signature = await signatureOf(path);
  if (signature === undefined) return executor.exec(path, args, { ...options, readOnly: true }); // gone: let the executor say so
  // A script (a mise or asdf shim, a wrapper) answers for whatever it runs, which can change while
  // the script stays the same file: asked every time.
  if (!isNativeBinary(path)) return executor.exec(path, args, { ...options, readOnly: true });
  const known = hostAnswers.get(key);
  if (known && known.signature === signature) return known.result;

  const file = `${pymgrCacheDir(await executor.getEnv())}/probes/${key}.json`;
  const learnt = await readEntry(file, path, args, envText, signature);
  if (learnt) {
    hostAnswers.set(key, { signature, result: learnt });
    return learnt;
  }

  const result = await executor.exec(path, args, { ...options, readOnly: true });
  // Kept only when the binary did not change while it ran (else the answer may be the old one's).
  if (result.exitCode === 0 && (await signatureOf(path)) === signature) {
    hostAnswers.set(key, { signature, result });
    await remember(file, path, args, envText, signature, result);
  }
  return result;
}

/**
 * A probe in another place (a container) kept on the host's disk under the place's id, valid
 * while the binary's signature there (type, mode, size, mtime to the nanosecond, as `stat` shows
 * it) is the recorded one. The stat is one read: free when a batch of reads learnt it.
 * Only large regular files are learnt (a shim script would answer for what it runs: see the host path).
 */
async function probeThere(executor: Executor, place: string, path: string, args: readonly string[], options: ProbeOptions): Promise<ExecResult> {
  const run = () => executor.exec(path, args, { ...options, readOnly: true });
  const st = await executor.stat(path).catch(() => undefined);
  if (!st?.isFile) return run();
  const signature = `${st.mode}:${st.uid}:${st.size}:${st.mtimeMs}`;
  const { key, envText } = probeKey(`${place}\0${path}`, args, options.env);
  const file = `${pymgrCacheDir(process.env)}/probes/${key}.json`;
  const known = await readEntry(file, path, args, envText, signature);
  if (known) return known;
  const result = await run();
  if (result.exitCode === 0 && st.size >= MIN_NATIVE_BYTES) await remember(file, path, args, envText, signature, result);
  return result;
}

/**
 * Smaller than this, a file in a container is taken for a script (a shim, a wrapper: a few KB) and
 * asked every time, as on the host; the managers' binaries are tens of MB. (Looking at its first
 * bytes would cost a round trip of its own.)
 */
const MIN_NATIVE_BYTES = 256 * 1024;

/** An entry for exactly this probe and signature, as a result; undefined when there is none. */
async function readEntry(file: string, path: string, args: readonly string[], envText: string, signature: string): Promise<ExecResult | undefined> {
  try {
    const entry = JSON.parse(await fs.readFile(file, 'utf8')) as Entry;
    if (entry.schema === 1 && entry.path === path && entry.env === envText && JSON.stringify(entry.args) === JSON.stringify(args) && entry.signature === signature) {
      return { command: [path, ...args], exitCode: 0, stdout: entry.stdout, stderr: entry.stderr, timedOut: false };
    }
  } catch {
    /* not learnt yet, or unreadable: ask */
  }
  return undefined;
}

/**
 * A fact about a place that cannot change while the place exists (a container's kernel name and
 * machine: `uname -s -m`), learnt once and kept on the host's disk under the place's id. Only a
 * run that exits 0 is kept. Without a place id, simply run.
 */
export async function placeFact(executor: Executor, name: string, run: () => Promise<ExecResult>): Promise<ExecResult> {
  const place = executor.placeId;
  if (!place) return run();
  const { key, envText } = probeKey(`${place}\0fact`, [name], {});
  const file = `${pymgrCacheDir(process.env)}/probes/${key}.json`;
  const known = await readEntry(file, name, [], envText, 'fact');
  if (known) return known;
  const result = await run();
  if (result.exitCode === 0) await remember(file, name, [], envText, 'fact', result);
  return result;
}

/** An ELF or Mach-O executable (not a script that runs something else). */
function isNativeBinary(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(4);
      readSync(fd, head, 0, 4, 0);
      const magic = head.readUInt32BE(0);
      return magic === 0x7f454c46 || magic === 0xcffaedfe || magic === 0xcefaedfe || magic === 0xfeedfacf || magic === 0xcafebabe;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Keep a run that exited 0 as the entry for this probe and signature (see {@link writeEntry}). */
async function remember(file: string, path: string, args: readonly string[], envText: string, signature: string, result: ExecResult): Promise<void> {
  await writeEntry(file, { schema: 1, path, args: [...args], env: envText, signature, exitCode: 0, stdout: result.stdout, stderr: result.stderr });
}

/** Write an entry atomically (a private temporary name, then rename); never fails the probe. */
async function writeEntry(file: string, entry: Entry): Promise<void> {
  const dir = file.slice(0, file.lastIndexOf('/'));
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await fs.writeFile(tmp, JSON.stringify(entry), { mode: 0o644, flag: 'wx' });
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Forget what this process learnt (tests). The files stay; they are checked on every read. */
export function forgetProbes(): void {
  hostAnswers.clear();
}
