/**
 * Every public type of the verbs in one place: what the verbs of src/api/ take (setup, detect,
 * showConfig, describeEnv, run, doctor) and what they return. Results are data, never text: the
 * CLI (src/cli/) alone renders them. Names of managers, project types and env states are the
 * narrow unions of src/contracts.ts and {@link EnvState}, never plain strings.
 */
import type { Executor, InstallPlan, InstallReport, OutputStream, Problem, ProbeResult, ProgressEvent, ProjectType, ProviderName } from './contracts.js';
import type { PymgrConfigInput } from './config/schema.js';

// ---------------------------------------------------------------------------------------------
// Options

/** What every verb accepts. */
export interface CommonOptions {
  /** The project directory (where the executor runs). Default: the current directory (host only). */
  projectDir?: string;
  /**
   * When the project directory is not itself a Python project, use the nearest directory above it
   * that is one (as uv and git do), stopping at the home directory or the file-system root. The CLI
   * sets it when no directory is given. Default false: a directory named explicitly is the project.
   */
  searchUp?: boolean;
  /** Where commands run. Default: a HostExecutor. */
  executor?: Executor;
  /** Config values from CLI flags (highest precedence). */
  flags?: PymgrConfigInput;
  /** An explicit config file (an error when it cannot be read). */
  configFile?: string;
  /** The environment pymgr reads: PYMGR_* settings, and what a container inherits from the host (docker.inherit). Default: process.env. */
  env?: Record<string, string | undefined>;
  /** pymgr's tools directory (default: $PYMGR_TOOLS_DIR, else ~/.cache/pymgr/tools where the executor runs). */
  toolsDir?: string;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** Options of `setup`. */
export interface SetupOptions extends CommonOptions {
  /** How long to wait for another setup of the same env (default 10 minutes). */
  lockTimeoutMs?: number;
  /**
   * In a container, first copy the host's uv (and mise, when the project or config asks for mise)
   * into pymgr's tools directory there, when the platforms match (default true). Otherwise the
   * providers use what the image has, or install uv with the image's pip.
   */
  copyHostTools?: boolean;
}

/** Options of `run`. */
export interface RunOptions extends CommonOptions {
  /** The program and its arguments, run with the venv's bin first on PATH. */
  command: string[];
  /**
   * Where the command's output goes. Without it, on the host the command inherits this
   * process's standard streams (a terminal stays a terminal); in a container its output is dropped.
   */
  onOutput?: (stream: OutputStream, chunk: string) => void;
  /** Run setup first, as `uv run` does (default: config `run.sync`, false). Its progress goes to `onProgress`. */
  sync?: boolean;
  /**
   * Called before the command starts when the inputs changed since the last setup (the command
   * still runs in the env as it is), with what changed: files relative to the project, `setting
   * index.url`, `the manager (its version or binary)`, ...
   */
  onOutdated?: (changed: string[]) => void;
}

/** Options of `doctor`. */
export interface DoctorOptions extends CommonOptions {
  /** Apply the fixes marked `fixable` (safe, non-destructive ones only). */
  fix?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Results

/** What setup did to the venv directory. */
export type VenvAction = 'created' | 'reused' | 'updated' | 'rebuilt';

/**
 * The one vocabulary for an env, used by `describeEnv` and `doctor`:
 * - `ready`: set up, verified now, and nothing that decides it has changed since;
 * - `outdated`: verified, but the project, its config or the manager changed (run `pymgr setup`);
 * - `incomplete`: it works, but the last setup did not finish (or pymgr has no record of it);
 * - `broken`: it fails verification;
 * - `missing`: there is no venv;
 * - `not-a-venv`: the venv path holds something that is not a venv (pymgr never touches it).
 */
export type EnvState = 'ready' | 'outdated' | 'incomplete' | 'broken' | 'missing' | 'not-a-venv';

/** One isolation check and its outcome. */
export interface IsolationCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** Why detection decided something: the rule, its message, and the file it read. */
export interface Reason {
  rule: string;
  file?: string;
  message: string;
}

/** The project files detection found (absolute paths). */
export interface ProjectFiles {
  pyproject?: string;
  uvLock?: string;
  ryeLocks: string[];
  setupPy?: string;
  setupCfg?: string;
  /** Requirement files installed directly (configured, or discovered and selected). */
  requirements: string[];
  constraints: string[];
  pythonVersionFile?: string;
  toolVersions?: string;
  miseToml?: string;
  runtimeTxt?: string;
}

/** The manager chosen for a project, and why. */
export interface ProviderChoice {
  name: ProviderName;
  /** `config`: the provider setting; `project`: a provider claimed the project; `preference`: the first available. */
  source: 'config' | 'project' | 'preference';
  reason: string;
}

/** What a setup changed in the env (distributions as `name==version`, sorted). */
export interface SetupChanges {
  added: string[];
  removed: string[];
  /** `name old → new`. */
  changed: string[];
  python?: { from: string; to: string };
  manager?: { from: ProviderName; to: ProviderName };
}

/** The result of `setup`: a verified env. */
export interface SetupResult {
  projectDir: string;
  projectType: ProjectType;
  provider: { name: ProviderName; version?: string; path?: string; foundBy?: string; chosenBy: ProviderChoice['source']; reason: string };
  python: { version: string; executable: string; base: string; request: string; source: string; sourcePath?: string };
  /** `reason`: why it was updated or rebuilt (`manager changed: uv → pyenv`). */
  venv: { path: string; action: VenvAction; reason?: string };
  isolation: { verified: boolean; checks: IsolationCheck[] };
  install: InstallReport;
  /** What changed in the env since before this setup (absent when it was reused as it was). */
  changes?: SetupChanges;
  reasons: string[];
  durationMs: number;
  /** Programs this setup ran (see src/core/cost.ts). */
  execs?: number;
  /** In a container: Engine API round trips this setup made. */
  roundTrips?: number;
}

/** The result of `detect`: what setup would do, nothing changed. */
export interface DetectResult {
  projectDir: string;
  projectType: ProjectType;
  provider: ProviderChoice;
  /** The request (`raw`), its canonical form (`request`) and where it came from. */
  python: { raw: string; request: string; source: string; sourcePath?: string };
  venv: string;
  files: ProjectFiles;
  plan: { steps: InstallPlan['steps']; expected: string[] };
  reasons: Reason[];
  /** Programs detection ran (manager probes). */
  execs?: number;
  /** In a container: Engine API round trips. */
  roundTrips?: number;
}

/** One row of `pymgr config`: a key, its value and where the value came from. */
export interface SourceRow {
  /** Dotted key path, e.g. `index.offline`. */
  key: string;
  /** The resolved value (`undefined` for an optional key nobody set). */
  value: unknown;
  /** `default`, `file`, `env` or `flag`. */
  source: 'default' | 'file' | 'env' | 'flag';
  /** The file or the environment variable, when there is one. */
  where?: string;
}

/** The result of `showConfig`: the resolved config and where every value came from. */
export interface ShownConfig {
  file?: string;
  config: unknown;
  values: SourceRow[];
}

/** The result of `describeEnv`: the env as it is, nothing changed. */
export interface EnvReport {
  path: string;
  state: EnvState;
  detail?: string;
  python?: { version: string; executable: string; base?: string };
  provider?: { name: ProviderName; version?: string; path?: string };
  projectType?: ProjectType;
  updatedAt?: string;
  checks: IsolationCheck[];
  /** Programs run to tell (see src/core/cost.ts). */
  execs?: number;
  /** In a container: Engine API round trips. */
  roundTrips?: number;
}

/** The result of `run`: the command's exit status (its output went where the caller said). */
export interface RunResult {
  /** The command's exit status; 128+n for a signal; 127 when the program was not found. */
  exitCode: number;
  command: string[];
  venvPath: string;
  /** The program was not found on the venv-first PATH. */
  notFound: boolean;
  /** What changed since the last setup, when something did (the command ran in the env as it was). */
  changed?: string[];
}

/** A problem and what it is about (a manager, the env, the project, the config). */
export interface DoctorProblem extends Problem {
  subject: string;
}

/** What doctor found about one manager: its probe, every problem with a fix. */
export type DoctorManager = ProbeResult;

/** The result of `doctor`. */
export interface DoctorReport {
  /** True when no error-level problem remains (warnings do not count). */
  ok: boolean;
  projectDir: string;
  /** The detected project, or why none was detected. */
  project: { type: ProjectType; python: string; pythonSource: string; provider?: { name: ProviderName; reason: string } } | { error: string };
  venv?: { path: string; state: EnvState; detail?: string };
  /** In a container: the engine (its address, credentials shown as ***), why it was chosen, and the container. */
  engine?: { address: string; chosenBy: string; container: string };
  managers: DoctorManager[];
  /** Every problem still present (after fixes, when `fix` was given). */
  problems: DoctorProblem[];
  /** What `fix: true` did, one line each. */
  fixed: string[];
}
