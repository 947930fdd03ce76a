/**
 * The warm no-op fast path. A `pymgr setup` that changes nothing should cost little more than
 * starting Node and the venv's interpreter once, so this module uses Node built-ins only (no
 * config machinery, no zod, no execa) and is loaded before anything heavy.
 *
 * After every successful host setup, `writeQuickRecord` stores, under pymgr's cache directory and
 * keyed by everything that can change the answer (the project directory, the flags, the config
 * file named, the relevant environment variables), the result and a *watch list*: a signature
 * (inode, size, mtime, ctime, or "missing") of every file whose change could change the env:
 * dependency inputs, Python version sources, every config file candidate in the project directory
 * and its ancestors, the manager binary and the venv's state file; and the names in the project
 * directory (a new requirement file changes the plan). `tryQuickReuse` answers only when every signature is unchanged, the
 * recorded state still says ready with the same fingerprint, and the venv's own interpreter passes
 * the isolation checks again, including the files signature of its last full verification (a
 * module file removed since is caught). Anything else: `undefined`, and the caller runs the full setup.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ExecOptions, ExecResult, Executor } from '../contracts.js';
import type { DetectResult, SetupResult } from '../types.js';
import { leaveHint, runCheckCommand, type CheckCommand } from './early-check.js';
import { pymgrCacheDir, statePath } from '../core/paths.js';
import { checkInvocation, inspectVenv } from '../core/verify.js';
import { redact } from '../redact.js';

const ENV_PREFIXES = ['PYMGR_', 'UV_', 'MISE_', 'PYENV', 'XDG_', 'PIP_', 'PYTHON'];
const ENV_NAMES = ['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG'];

export interface QuickKeyInput {
  projectDir: string;
  flags?: unknown;
  configFile?: string;
  env?: Record<string, string | undefined>;
  /** `--docker <container>`: the container as named (its paths are the container's). */
  docker?: string;
  /** `--engine`: the engine that runs it (a context name or an address). */
  engine?: string;
  /** The verb recorded (default setup). */
  verb?: 'detect';
  /**
   * No directory was named: the project is the nearest one at or above `projectDir`. A directory
   * named is the project itself, so the two never share a record.
   */
  searchUp?: boolean;
}

/** A container's fast path: where the checks ran, to be sure the next one runs in the same container. */
export interface QuickDocker {
  /** The container's full id, as its interpreter saw it (a container recreated under the name is another). */
  id: string;
  /** docker.user the setup ran as. */
  user?: string;
}

interface QuickRecord {
  schema: 1;
  venvPath: string;
  fingerprint: string;
  /** Distributions that must still be installed in the venv. */
  expected: string[];
  /** `[path, signature]` of files; `[path + '/', names hash]` of directories. */
  watch: Array<[string, string]>;
  result: SetupResult;
  /** Set for a container: the watch list was observed there, by the venv's interpreter. */
  docker?: QuickDocker;
}

function cacheDir(env: Record<string, string | undefined>): string {
  return join(pymgrCacheDir(env), 'quick');
}

/** The key: a hash of every input outside the files that decides the answer. */
export function quickKey(input: QuickKeyInput): string {
  const env = input.env ?? process.env;
  const relevant = Object.keys(env)
    .filter((k) => ENV_NAMES.includes(k) || ENV_PREFIXES.some((p) => k.startsWith(p)))
    .sort()
    .map((k) => [k, env[k]]);
  return createHash('sha256')
    // Credentials are left out (a record's name must not let anyone check a guessed password).
    .update(JSON.stringify({ v: 2, ...(input.verb ? { verb: input.verb } : {}), ...(input.searchUp ? { up: true } : {}), dir: input.docker ? input.projectDir : resolve(input.projectDir), docker: input.docker ?? null, engine: input.engine ?? null, flags: input.flags ?? {}, configFile: input.configFile ?? null, env: relevant }, (_k, v: unknown) => (typeof v === 'string' ? redact(v) : v)))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The signature of a file (inode, size, mtime, ctime, or `missing`) or, for a path ending in `/`,
 * a hash of the names in that directory (pymgr's own transient lock directories left out). Read
 * synchronously: the few dozen stats cost microseconds each, less than a trip through the thread
 * pool (and on the fast path they run while the venv's interpreter starts).
 */
function observe(path: string): string {
  try {
    if (path.endsWith('/')) {
      const names = readdirSync(path.slice(0, -1)).filter((n) => !n.endsWith('.pymgr-lock')).sort();
      return createHash('sha256').update(names.join('\0')).digest('hex').slice(0, 16);
    }
    const s = statSync(path, { bigint: true, throwIfNoEntry: false });
    return s ? `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : 'missing';
  } catch {
    return 'missing';
  }
}

/** Every ancestor of `dir`, itself included, up to the root. */
export function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) return out;
  }
}

/**
 * Record a successful setup so that the next unchanged one can take the fast path. The watch list
 * is observed first and `stillValid` (the fingerprint recomputed from the files as they are now)
 * is asked afterwards: an input edited while the setup ran is never recorded as unchanged.
 */
export async function writeQuickRecord(
  key: QuickKeyInput,
  record: { venvPath: string; fingerprint: string; files: string[]; dirs: string[]; expected: string[]; result: SetupResult },
  stillValid: () => Promise<boolean>,
  /** Where the paths are not the host's (a container): observe them there, in one go. */
  observeThere?: (paths: string[]) => Promise<{ signatures: string[]; docker: QuickDocker } | undefined>,
): Promise<void> {
  const paths = watchPaths(record);
  let watch: Array<[string, string]>;
  let docker: QuickDocker | undefined;
  if (observeThere) {
    const seen = await observeThere(paths);
    if (!seen || seen.signatures.length !== paths.length) return;
    watch = paths.map((p, i) => [p, seen.signatures[i]]);
    docker = seen.docker;
  } else {
    watch = observeAll(paths);
  }
  if (!(await stillValid())) return;
  const data: QuickRecord = { schema: 1, venvPath: record.venvPath, fingerprint: record.fingerprint, expected: record.expected, watch, result: record.result, ...(docker ? { docker } : {}) };
  await writeRecordFile(key, data);
  // The same command line run again starts this record's check before pymgr's code loads.
  if (!docker) leaveHint(hostCheckCommand(record.venvPath, record.expected), key.env ?? process.env);
}

/** A watch list's paths: files as they are, directories (their listings) with a trailing `/`; sorted, once each. */
function watchPaths(record: { files: string[]; dirs: string[] }): string[] {
  return [...new Set([...record.files, ...record.dirs.map((d) => `${d}/`)])].sort();
}

function observeAll(paths: string[]): Array<[string, string]> {
  return paths.map((p) => [p, observe(p)]);
}

async function writeRecordFile(key: QuickKeyInput, data: object): Promise<void> {
  const dir = cacheDir(key.env ?? process.env);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, `${quickKey(key)}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(data), { mode: 0o644 });
  await fs.rename(tmp, file);
}

/** A recorded `pymgr detect`: its result and everything it was read from. */
interface QuickDetectRecord {
  schema: 1;
  verb: 'detect';
  watch: Array<[string, string]>;
  result: DetectResult;
}

/**
 * Record a host `pymgr detect` (see {@link writeQuickRecord}: the watch list is observed first,
 * then `stillValid` — detection run again — must give the same result).
 */
export async function writeQuickDetectRecord(key: QuickKeyInput, record: { files: string[]; dirs: string[]; result: DetectResult }, stillValid: () => Promise<boolean>): Promise<void> {
  const watch = observeAll(watchPaths(record));
  if (!(await stillValid())) return;
  const data: QuickDetectRecord = { schema: 1, verb: 'detect', watch, result: record.result };
  await writeRecordFile({ ...key, verb: 'detect' }, data);
}

/**
 * The recorded detection when nothing it was read from has changed (no program run, no config
 * loaded); otherwise `undefined`. Never throws.
 */
export function tryQuickDetect(key: QuickKeyInput): DetectResult | undefined {
  try {
    const record = JSON.parse(readFileSync(join(cacheDir(key.env ?? process.env), `${quickKey({ ...key, verb: 'detect' })}.json`), 'utf8')) as QuickDetectRecord;
    if (record.schema !== 1 || record.verb !== 'detect' || key.docker) return undefined;
    if (record.watch.some(([p, sig]) => observe(p) !== sig)) return undefined;
    return { ...record.result, execs: 0 };
  } catch {
    return undefined;
  }
}

/**
 * A minimal host executor for the one interpreter start of the fast path (node:child_process
 * only): the program bin/pymgr.mjs already started from the hint when it is this one
 * (src/cli/early-check.ts), else a start of its own.
 */
const spawnOnly: Pick<Executor, 'exec'> = {
  exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return runCheckCommand(asCheckCommand(file, args, options));
  },
};
function asCheckCommand(file: string, args: readonly string[], options: ExecOptions): CheckCommand {
  return { file, args: [...args], env: options.env, timeoutMs: options.timeoutMs };
}
/** What the host fast path runs to check the env of a record (the check {@link tryQuickReuse} makes). */
const FAST_CHECK = { files: 'signature' } as const;
function hostCheckCommand(venvPath: string, expected: readonly string[]): CheckCommand {
  const { file, args, options } = checkInvocation(venvPath, expected, FAST_CHECK);
  return asCheckCommand(file, args, options);
}

/**
 * The recorded result of the last setup, re-verified, when nothing it depends on has changed;
 * otherwise `undefined`. Never throws: any doubt means "run the full setup".
 */
export async function tryQuickReuse(key: QuickKeyInput): Promise<SetupResult | undefined> {
  const started = Date.now();
  try {
    const env = key.env ?? process.env;
    const record = JSON.parse(readFileSync(join(cacheDir(env), `${quickKey(key)}.json`), 'utf8')) as QuickRecord;
    if (record.schema !== 1 || !!record.docker !== !!key.docker) return undefined;
    const version = record.result.python.version;
    const options = { ...FAST_CHECK, versionOk: (v: string) => v === version };
    let check: Awaited<ReturnType<typeof inspectVenv>>;
    let cost: { execs: number; roundTrips?: number };
    if (key.docker && record.docker) {
      // A container: the watch list, the state and the checks in one exec of the venv's interpreter.
      const there = await containerExecutor(key.docker, record.docker, env, key.engine);
      if (!there) return undefined;
      check = await inspectVenv(there.executor, record.venvPath, record.expected ?? [], {
        ...options,
        watch: { paths: record.watch.map(([p]) => p), statePath: statePath(record.venvPath) },
      });
      const seen = check.watch;
      if (!seen || seen.container !== record.docker.id || !recordHolds(record, seen.signatures, seen.state)) return undefined;
      cost = { execs: 1, roundTrips: there.roundTrips() };
    } else {
      // The watch list first (a few dozen stats: well under a millisecond): when something changed,
      // no interpreter is started for nothing (bin/pymgr.mjs may have started one already, from
      // the hint; it runs on beside the full setup). The files: the cheap signature recorded at
      // the last full verification (a removed file is caught).
      const sigs = record.watch.map(([p]) => observe(p));
      let stateText: string | undefined;
      try {
        stateText = readFileSync(statePath(record.venvPath), 'utf8');
      } catch {
        return undefined;
      }
      if (!recordHolds(record, sigs, stateText)) return undefined;
      check = await inspectVenv(spawnOnly as Executor, record.venvPath, record.expected ?? [], options);
      cost = { execs: 1 };
    }
    if (!check.verified) return undefined;
    const { changes: _changes, ...recorded } = record.result; // nothing changed this time
    return {
      ...recorded,
      venv: { path: record.venvPath, action: 'reused' },
      isolation: { verified: true, checks: check.checks },
      install: { commands: [], notes: ['nothing changed'] },
      durationMs: Date.now() - started,
      ...cost,
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether nothing the record watches changed (every signature as recorded) and the env's state
 * still says ready with the recorded fingerprint.
 */
function recordHolds(record: QuickRecord, signatures: string[], stateText: string | undefined): boolean {
  if (stateText === undefined || signatures.length !== record.watch.length || signatures.some((s, i) => s !== record.watch[i][1])) return false;
  const state = JSON.parse(stateText) as { status?: string; fingerprint?: string };
  return state.status === 'ready' && state.fingerprint === record.fingerprint;
}

/**
 * The container's exec for the fast path: two Engine API requests through node:http
 * (docker/engine-lite.ts), no dockerode, no ping, no inspect. The interpreter's output says
 * everything; without it (no engine, no container, no interpreter) the full path runs.
 */
async function containerExecutor(
  container: string,
  docker: QuickDocker,
  env: Record<string, string | undefined>,
  engine: string | undefined,
): Promise<{ executor: Executor; roundTrips: () => number } | undefined> {
  const { firstEngineCandidate } = await import('../docker/find-engine.js');
  const { liteExec } = await import('../docker/engine-lite.js');
  const connection = firstEngineCandidate({ env, engine });
  if (!connection) return undefined;
  let trips = 0;
  const executor: Pick<Executor, 'exec'> = {
    async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      const vars = Object.entries(options.env ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
      const r = await liteExec(connection, container, [file, ...args], { env: vars, user: docker.user, timeoutMs: options.timeoutMs, hostEnv: env });
      if (r) trips += 1;
      return { command: [file, ...args], exitCode: r ? 0 : 1, stdout: r?.stdout ?? '', stderr: r?.stderr ?? '', timedOut: false };
    },
  };
  return { executor: executor as Executor, roundTrips: () => trips };
}
