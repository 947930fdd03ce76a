/**
 * The contracts every part of pymgr is written against.
 *
 * - An {@link Executor} runs programs and touches files *somewhere*: on the host, or inside a Docker
 *   container. Providers and the detector only ever use an executor, so they work in both places.
 * - A {@link Provider} wraps one Python manager (uv, pyenv, mise). The setup pipeline drives every
 *   provider through the same steps; the conformance suite in `test/integration` runs them all
 *   against the same expectations.
 */

/** Where a program's output came from. */
export type OutputStream = 'stdout' | 'stderr';

export interface ExecOptions {
  /** Working directory (a path where the executor runs). */
  cwd?: string;
  /**
   * Variables laid over the executor's own environment. A key set to `undefined` is removed,
   * so callers can strip e.g. `VIRTUAL_ENV` without rebuilding the whole environment.
   */
  env?: Record<string, string | undefined>;
  /** Text written to the program's standard input, which is then closed. */
  stdin?: string;
  /** Kill the program after this many milliseconds; the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Abort the program; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with every chunk of output as it arrives (already decoded as UTF-8). */
  onOutput?: (stream: OutputStream, chunk: string) => void;
  /** User to run as (Docker executor only: `uid[:gid]` or a name). */
  user?: string;
  /**
   * The program changes no file (a probe such as `uv --version`): an executor that remembers what
   * it read (see {@link Executor.prefetch}) may keep it. Without it, running a program forgets.
   */
  readOnly?: boolean;
}

export interface ExecResult {
  /** The program and its arguments, as run. */
  command: readonly string[];
  /**
   * Exit status; 127 when the program could not be found. Killed by a signal: -1 on the host;
   * 128+n in a container (the engine cannot tell a signal from `exit 128+n`).
   */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when `timeoutMs` ran out and the program was killed. */
  timedOut: boolean;
}

export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Permission bits (e.g. 0o755). */
  mode: number;
  size: number;
  mtimeMs: number;
}

/**
 * Runs programs and does the few file operations providers need, in one place (host or container).
 * Paths are always paths *in that place*. Programs are run from argument arrays, never shell strings.
 * A non-zero exit is not an error at this level: callers look at `exitCode` (see `runChecked`).
 */
export interface Executor {
  /** `host` or `docker`. */
  readonly kind: 'host' | 'docker';
  /** Human description for messages: `host`, `container 3f2a… (name)`. */
  readonly description: string;
  /** Run `file` with `args`. Resolves for any exit status; rejects only on abort or when it cannot run at all. */
  exec(file: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Read a whole text file. Rejects when it does not exist. */
  readFile(path: string): Promise<string>;
  /** Write a whole text file (parents must exist). */
  writeFile(path: string, content: string, options?: { mode?: number }): Promise<void>;
  /** Whether anything exists at `path` (links followed). */
  exists(path: string): Promise<boolean>;
  /** File facts, or `undefined` when nothing is there. Does not follow a final symbolic link. */
  stat(path: string): Promise<FileStat | undefined>;
  /**
   * Create a directory. With `recursive`, parents too and no error when it exists. Without it,
   * resolves `false` when the directory already exists (atomic: usable as a lock).
   */
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<boolean>;
  /** Names in a directory, or `undefined` when it does not exist. */
  readDir(path: string): Promise<string[] | undefined>;
  /**
   * Remove a file or (with `recursive`) a tree. No error when it does not exist. `large`: a tree
   * of thousands of entries (a whole env), which an executor may remove another way (the host:
   * `rm -rf`, about twice as fast as Node's recursive removal).
   */
  remove(path: string, options?: { recursive?: boolean; large?: boolean }): Promise<void>;
  /** Rename within one file system (atomic replace of a file). */
  rename(from: string, to: string): Promise<void>;
  /**
   * Optional: write a whole file so that no reader ever sees part of it — a temporary file beside
   * it, then a rename; with `parents`, missing parent directories are made first (mode 0755). A
   * container does it in one exec instead of three. Callers use `writeAtomic`
   * (src/executor/write-atomic.ts), which does the same in steps where this is missing.
   *
   * With `defer`, an executor that pays a round trip per operation may hold a small write back
   * and make it, in order, at the start of its next program run or file operation (other than
   * another writeFileAtomic), in the same round trip; that operation then fails with the write's
   * error, without doing its own work, when the write fails. A reader through this executor sees
   * the write. For writes whose failure the next operation may report (state kept while the
   * env is worked on); elsewhere the write is made at once.
   */
  writeFileAtomic?(path: string, content: string, options?: { mode?: number; parents?: boolean; defer?: boolean }): Promise<void>;
  /** Optional: make the writes held back by `defer` now (nothing when there are none); rejects as they would. */
  flush?(): Promise<void>;
  /**
   * Optional (where programs outlive the process that started them: a container's execs go on
   * when their client dies): stop every program that the pymgr process `from` (now dead) started
   * here, with whatever they started. Resolves to how many were stopped.
   */
  stopLeftovers?(from: { host: string; pid: number }): Promise<number>;
  /**
   * Optional (where a program's start can reach the place after its pymgr died: a container):
   * run programs only while `lock.file` holds `lock.token`, until the returned function lifts it
   * (the fence before it applies again). The env lock sets it while held; a program refused this
   * way fails with LOCK_STALE and never runs.
   */
  fence?(lock: { file: string; token: string }): () => void;
  /** Canonical path with links resolved; rejects when it does not exist. */
  realpath(path: string): Promise<string>;
  /** The environment programs get by default in this place. */
  getEnv(): Promise<Record<string, string>>;
  /**
   * Optional: a guess of {@link getEnv} that costs nothing (no round trip): the variables known
   * without asking (a container's own, `HOME` as its user's usual one). Only for choosing what to
   * learn ahead ({@link prefetch}); never for a decision. `undefined`: no guess.
   */
  guessEnv?(): Record<string, string> | undefined;
  /**
   * Optional (containers): the same place, with programs and file operations run as `user`
   * (`uid[:gid]` or a name). Config `docker.user` uses it.
   */
  asUser?(user: string): Promise<Executor>;
  /**
   * Optional: learn these reads in one go (a container: one exec instead of one per path). Later
   * `stat`, `readFile`, `readDir`, `realpath` and `exists` calls for the same paths are answered
   * from what was learnt — missing paths included — until the executor next changes a file or
   * runs a program, or half a minute has passed. Best effort: changes nothing and never rejects (what
   * could not be learnt is simply read when asked).
   * With `lazy`, nothing is read now: the reads are kept and learnt with this executor's next
   * prefetch (no round trip of their own), for a caller that knows more reads are coming; a
   * container also makes them in the exec of its next `mkdir` without `recursive`, right after
   * the directory is made (a lock, then what it guards), learnt only when that call made it.
   */
  prefetch?(reads: readonly ReadRequest[], options?: { lazy?: boolean }): Promise<void>;
  /**
   * Optional (containers): the uid and gid its programs run as, learnt once (no `id` program run
   * each time it is asked).
   */
  userIds?(): Promise<{ uid: number; gid: number }>;
  /**
   * Optional: an object shared by the executors that run in one place (a container, and the copies
   * made from its executor with other variables or another user). Answers about the place that do
   * not depend on those — a manager binary's `--version` — are kept per scope rather than per
   * executor object.
   */
  readonly scope?: object;
  /**
   * Optional: a stable name of that place across processes (a container: its engine and full id),
   * under which pymgr may keep such answers on disk (src/core/probe-cache.ts), each still checked
   * against what it depends on.
   */
  readonly placeId?: string;
  /**
   * Optional: what this executor has cost so far, cumulative (callers take differences). Results
   * report these counts (`execs`, `roundTrips`) so a design's cost can be asserted, not only timed.
   */
  cost?(): ExecutorCost;
}

/** One read for {@link Executor.prefetch}. */
export interface ReadRequest {
  op: 'stat' | 'readFile' | 'readDir' | 'realpath' | 'exists';
  path: string;
}

/** The work an executor has done (see {@link Executor.cost}). */
export interface ExecutorCost {
  /** Programs run (every `exec`, and every program a file operation ran). */
  execs: number;
  /**
   * Containers only: Engine API operations, each one a wait on the engine — an exec (create,
   * start, exit status), an archive read or write, a container inspect, a ping.
   */
  roundTrips?: number;
  /** Containers only: the HTTP requests those operations took. */
  requests?: number;
}

export { PROVIDER_NAMES, type ProviderName } from './provider-names.js';
import type { ProviderName } from './provider-names.js';

/** What detection makes of a project directory (the first matching rule of src/detect/). */
export type ProjectType = 'uv' | 'rye' | 'pyproject' | 'setuptools' | 'requirements';
export const PROJECT_TYPES: readonly ProjectType[] = ['uv', 'rye', 'pyproject', 'setuptools', 'requirements'];

/** What a provider is shown of a project when it is asked whether it claims it. */
export interface ProjectFacts {
  projectType: ProjectType;
  /** The project has mise configuration (mise.toml, .mise.toml, .config/mise.toml, .tool-versions). */
  hasMiseConfig: boolean;
  files: { miseToml?: string; toolVersions?: string };
}

/**
 * A provider's declaration in the registry (providers/index.ts): readable without loading the
 * provider's code. Adding a manager means adding its folder with a manifest, and one registry line.
 */
export interface ProviderManifest {
  readonly name: ProviderName;
  /**
   * Why this manager should handle the project (e.g. "a uv project"), or `undefined` when it makes
   * no claim. Automatic selection takes the first claim, in registry order, of a manager that is in
   * `preference` and available.
   */
  claims(project: ProjectFacts): string | undefined;
  /** Load the provider (its code is imported only when a command needs it). */
  load(): Promise<Provider>;
}

/** Something wrong with a manager or an env, with the way to fix it. */
export interface Problem {
  /** Stable code, e.g. `PYENV_ROOT_FOREIGN_OWNER`. */
  code: string;
  severity: 'error' | 'warning';
  /** What is wrong, in plain words. */
  message: string;
  /** What to do about it. */
  fix?: string;
  /** True when `pymgr doctor --fix` can apply the fix safely. */
  fixable?: boolean;
}

/** What a provider found out about its manager. Probing never throws for "not installed". */
export interface ProbeResult {
  name: ProviderName;
  found: boolean;
  /** The manager's executable (or root, for pyenv). */
  path?: string;
  version?: string;
  /** Where it was found: `config`, `PATH`, `PYENV_ROOT`, `tools-dir`, ... */
  source?: string;
  /** Whether using this manager needs git. */
  needsGit: boolean;
  problems: Problem[];
}

/** A Python version request and where it came from. */
export interface PythonRequest {
  /** As written: `3.12`, `3.11.2`, `>=3.10,<3.13`, `3`. */
  raw: string;
  /** `config`, `.python-version`, `.tool-versions`, `mise.toml`, `requires-python`, `runtime.txt`, `default`. */
  source: string;
  /** The file it came from, when it came from a file. */
  sourcePath?: string;
}

/** A concrete interpreter a provider chose for a request. */
export interface PythonInterpreter {
  /** Full version, e.g. `3.12.1`. */
  version: string;
  /** Absolute path of the interpreter (where the executor runs). */
  executable: string;
  /** How it was obtained: `found`, `installed`, `uv-managed`, `pyenv`, `mise`. */
  origin: string;
}

/** One thing to install into a venv. Paths are absolute, where the executor runs. */
export type InstallStep =
  /** `-r` each file; constraint files with `-c`. Includes are resolved by the installer relative to each file. */
  | { kind: 'requirements'; files: string[]; constraints: string[] }
  /** Install the project itself (setup.py, setup.cfg or pyproject). */
  | { kind: 'project'; path: string; editable: boolean; extras: string[]; groups: string[]; constraints?: string[] }
  /** A uv project: `uv sync` (uv) or the lock's pins through pip (other providers). */
  | {
      kind: 'uv-project';
      path: string;
      lockFile?: string;
      extras: string[];
      groups: string[];
      dev: boolean;
      /** What to do with the lock (`dependencies.lock`): `uv sync --locked`, `--frozen`, or re-lock. */
      lock: 'locked' | 'frozen' | 'update';
    }
  /** A rye project: its `requirements.lock` (and `requirements-dev.lock` with dev), `-e file:.` meaning the project. */
  | { kind: 'rye-lock'; path: string; files: string[] };

export interface InstallPlan {
  steps: InstallStep[];
  /** Top-level distributions that must be importable from the venv afterwards (verified). */
  expected: string[];
  index: IndexOptions;
  /**
   * Distributions the verification found incomplete in the venv (files missing, a wrong size, an
   * empty RECORD): the installer must install them again even though their metadata says they are
   * installed (uv: `--reinstall-package`; pip: their dist-info is removed first). Set by setup for
   * a repair; never part of the env's fingerprint.
   */
  reinstall?: PartialDistribution[];
}

/** A distribution in a venv whose files are not all there (see src/core/verify.ts). */
export interface PartialDistribution {
  /** Normalised name (PEP 503). */
  name: string;
  version: string;
  /** Absolute path of its `*.dist-info` directory, where the executor runs. */
  distInfo: string;
  /** What is wrong, e.g. `jinja2/__init__.py is missing`, `its RECORD is empty`. */
  problem: string;
}

export interface IndexOptions {
  url?: string;
  extraUrls: string[];
  findLinks: string[];
  offline: boolean;
  noIndex: boolean;
}

export interface VenvTarget {
  /** Absolute venv path. */
  path: string;
  /** `<path>/bin/python`. */
  python: string;
}

/** Progress events a long step reports (the CLI shows them; the library never prints). */
export interface ProgressEvent {
  /** The phase: `detect`, `lock`, `manager`, `python`, `venv`, `install`, `verify`, ... */
  step: string;
  message: string;
  /** One whole line of a tool's output (ending in a newline), for live display. */
  output?: string;
  /**
   * Set on the first event of a phase (`start`) and on the event that closes it when the next
   * phase begins (`end`, with the phase's duration). Consumers that only show messages may ignore
   * `end` events.
   */
  phase?: { state: 'start' } | { state: 'end'; durationMs: number };
  /**
   * Set while waiting for a lock another process holds (reported when the wait starts and every
   * few seconds): the CLI shows these in every mode, as JSON lines on stderr with `--json`.
   */
  wait?: { path: string; holder: string; heldMs: number; waitedMs: number };
}

/** Everything a provider call gets. */
export interface ProviderContext {
  executor: Executor;
  /** The resolved, validated configuration (plain values). */
  config: import('./config/schema.js').PymgrConfig;
  /** Absolute project directory, where the executor runs. */
  projectDir: string;
  /** pymgr's own tools directory where the executor runs (provisioned managers go here). */
  toolsDir: string;
  progress: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface InstallReport {
  /** The commands that ran, for the record (credentials redacted). */
  commands: string[][];
  /** Notes for the user, e.g. "uv.lock installed through pip". */
  notes: string[];
}

/**
 * One Python manager. Every method takes the context; none prints. "Not installed" is a probe
 * answer, not an error; everything else that goes wrong throws a {@link PymgrError}.
 */
export interface Provider {
  readonly name: ProviderName;
  /** Whether the manager needs git to work (pyenv does; uv and mise do not). */
  readonly needsGit: boolean;
  /** Look for the manager without changing anything. */
  probe(ctx: ProviderContext): Promise<ProbeResult>;
  /**
   * Optional: whether `ensureManager` could install the manager when `probe` does not find it,
   * without git (uv: allowed by config and a Python with pip exists). Automatic selection treats a
   * provisionable manager as available.
   */
  canProvision?(ctx: ProviderContext): Promise<boolean>;
  /**
   * Make the manager usable: find it, or install it where that is allowed and possible
   * (uv from pip into the tools directory; pyenv by cloning). Throws MANAGER_NOT_FOUND otherwise.
   */
  ensureManager(ctx: ProviderContext): Promise<ProbeResult>;
  /** Versions of Python the manager has installed now (full versions, e.g. `3.12.1`). */
  listPythons(ctx: ProviderContext): Promise<PythonInterpreter[]>;
  /**
   * An interpreter for the request: the newest installed one that matches, else install one when
   * allowed. Throws PYTHON_UNAVAILABLE naming what is installed and how to provide one.
   */
  ensurePython(ctx: ProviderContext, request: PythonRequest): Promise<PythonInterpreter>;
  /** Create a venv at `venv.path` from `python` (the directory may exist and be empty). */
  createVenv(ctx: ProviderContext, python: PythonInterpreter, venv: VenvTarget): Promise<void>;
  /** Install the plan into the venv (never into a base interpreter). */
  installDependencies(ctx: ProviderContext, venv: VenvTarget, plan: InstallPlan): Promise<InstallReport>;
  /**
   * Optional: why this manager cannot install into the existing venv at `venv` as it is (say a
   * pip-based manager and a venv without a working pip, as uv makes them), or `undefined` when it
   * can. Setup then rebuilds the venv (aside: the old one is kept until the new one verifies);
   * doctor reports it. Changes nothing.
   */
  venvProblem?(ctx: ProviderContext, venv: VenvTarget): Promise<string | undefined>;
  /**
   * Optional: the reads `ensureManager` and `ensurePython` will make of the executor's files (the
   * manager's candidate paths, the directories Pythons are listed from), so a caller can learn
   * them with a batch of its own ({@link Executor.prefetch}: a container, no round trip of their
   * own). A guess: a read it misses is simply made when asked. Changes nothing, never throws.
   */
  plannedReads?(ctx: ProviderContext): Promise<ReadRequest[]>;
}
