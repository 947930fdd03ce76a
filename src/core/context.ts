/**
 * What every verb does first: find the project directory, load the config, detect the project
 * and build the one provider context the command uses.
 */
import { posix, resolve as resolveHostPath } from 'node:path';
import type { Executor, Provider, ProviderContext, ProviderName } from '../contracts.js';
import { describeOrigin } from '../config/describe-sources.js';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { CONFIG_SEARCH_PLACES, listSearchDirs } from '../config/find-config-file.js';
import { MISE_TOML_FILES } from '../detect/find-python-request.js';
import type { PymgrConfig } from '../config/schema.js';
import { detectProject, type ProjectDetection } from '../detect/detect-project.js';
import { isPymgrError, PymgrError } from '../errors.js';
import { HostExecutor } from '../executor/host-executor.js';
import type { CommonOptions } from '../types.js';
import { memoise } from './memo.js';
import { structuredProgress } from './progress.js';
import { defaultToolsDir, homeDir } from './paths.js';
import { redact } from '../redact.js';
import type { ProgressEvent } from '../contracts.js';

export type { CommonOptions };

export interface Resolved {
  executor: Executor;
  projectDir: string;
  resolved: ResolvedConfig;
  detection: ProjectDetection;
  venvPath: string;
  ctx: ProviderContext;
}

/** The executor the options name, else the host. */
export function executorOf(options: CommonOptions): Executor {
  return options.executor ?? new HostExecutor();
}

/** Load config, detect the project and build the provider context. */
export async function resolveProject(options: CommonOptions): Promise<Resolved> {
  let executor = executorOf(options);
  await prefetchProjectReads(executor, options.projectDir);
  const start = await resolveProjectDir(executor, options.projectDir);
  const load = (projectDir: string) => loadConfig({ projectDir, env: options.env, flags: options.flags, configFile: options.configFile, executor });
  let projectDir = start;
  let resolved = await load(projectDir);
  // docker.user: everything from here on (detection, the managers, the files) runs as that user.
  const user = resolved.config.docker.user;
  if (user && executor.kind !== 'host') {
    if (!executor.asUser) throw new PymgrError('USAGE', `${executor.description} cannot run programs as another user (docker.user: ${user})`);
    executor = await executor.asUser(user);
  }
  let detection: ProjectDetection;
  try {
    detection = await detectProject(executor, projectDir, resolved.config, { configPythonOrigin: describeOrigin(resolved, 'python') });
  } catch (err) {
    if (!options.searchUp || !isPymgrError(err, 'PROJECT_UNRECOGNISED')) throw err;
    const found = await findProjectAbove(executor, start, resolved.config, err);
    projectDir = found.dir;
    resolved = await load(projectDir);
    detection = await detectProject(executor, projectDir, resolved.config, { configPythonOrigin: describeOrigin(resolved, 'python') });
    detection.reasons.unshift({ rule: 'project-root', file: projectDir, message: `project root ${projectDir}: the nearest Python project above ${start}` });
  }
  const venvPath = venvPathFor(projectDir, resolved.config);
  const ctx = await createContext(options, executor, projectDir, resolved.config);
  return { executor, projectDir, resolved, detection, venvPath, ctx };
}

/**
 * The nearest directory above `start` that is a Python project, up to the home directory (when
 * `start` is inside it) or the file-system root. A broken project on the way is the answer too
 * (its error is thrown: it is the project the user is in). None: PROJECT_UNRECOGNISED saying how far
 * pymgr looked.
 */
async function findProjectAbove(executor: Executor, start: string, config: PymgrConfig, notHere: PymgrError): Promise<{ dir: string }> {
  const home = homeDir(await executor.getEnv());
  const stop = start === home || start.startsWith(`${home}/`) ? home : '/';
  for (let dir = start; dir !== stop; ) {
    dir = posix.dirname(dir);
    try {
      await detectProject(executor, dir, config);
      return { dir };
    } catch (err) {
      if (!isPymgrError(err, 'PROJECT_UNRECOGNISED')) throw err;
    }
  }
  throw new PymgrError('PROJECT_UNRECOGNISED', `No Python project found in ${start} or any directory above it (up to ${stop})`, {
    hint: notHere.hint,
    cause: notHere,
    details: { projectDir: start, searchedUpTo: stop },
  });
}

/** The provider context of one command (its probes are memoised against it). */
export async function createContext(options: CommonOptions, executor: Executor, projectDir: string, config: PymgrConfig): Promise<ProviderContext> {
  return {
    executor,
    config,
    projectDir,
    toolsDir: options.toolsDir ?? (await defaultToolsDir(executor, options.env)),
    progress: options.onProgress ? structuredProgress(redactingSink(options.onProgress)) : () => undefined,
    signal: options.signal,
  };
}

/** Progress events with credentials in URLs redacted at the source: no event a caller gets carries a password. */
function redactingSink(onProgress: (e: ProgressEvent) => void): (e: ProgressEvent) => void {
  return (e) => onProgress({ ...e, message: redact(e.message), ...(e.output !== undefined ? { output: redact(e.output) } : {}) });
}

/**
 * The venv path: `config.venv`, relative to the project directory unless absolute. The root
 * directory is refused: its lock and kept-aside siblings would have no directory to live in.
 */
export function venvPathFor(projectDir: string, config: PymgrConfig): string {
  const path = posix.isAbsolute(config.venv) ? posix.normalize(config.venv) : posix.join(projectDir, config.venv);
  if (path.replace(/\/+$/, '') === '') {
    throw new PymgrError('PROJECT_INVALID', `The venv path ${config.venv} is the root directory`, {
      hint: 'Set `venv` (--venv) to a directory of its own, such as .venv or /opt/venv.',
      details: { venv: config.venv },
    });
  }
  return path.replace(/(.)\/+$/, '$1');
}

/** The project directory as an absolute path, before anything is checked (a container needs an absolute one). */
function absoluteProjectDir(executor: Executor, dir: string | undefined): string {
  if (executor.kind === 'host') return resolveHostPath(dir ?? '.');
  if (!dir || !posix.isAbsolute(dir)) {
    throw new PymgrError('USAGE', `The project directory in ${executor.description} must be an absolute path (got ${dir ?? 'none'})`, {
      hint: 'Pass the path of the project inside the container, e.g. /work/project.',
    });
  }
  return posix.normalize(dir);
}

/** Files in a project directory that config loading and detection read when they are there. */
const PROJECT_FILES = [
  'pyproject.toml', 'setup.py', 'setup.cfg', 'uv.lock', 'requirements.lock', 'requirements-dev.lock',
  'requirements.txt', 'requirements-dev.txt', 'constraints.txt', '.python-version', '.tool-versions', 'runtime.txt',
  ...MISE_TOML_FILES,
];

/**
 * Learn, in one go, what config loading and detection will read of the project (a container: one
 * exec instead of one per file): the directory, its listing and its usual files, the config
 * search places of every directory up to the home directory. Best effort: whatever is not learnt
 * here is read when asked.
 */
async function prefetchProjectReads(executor: Executor, dir: string | undefined): Promise<void> {
  if (!executor.prefetch || !dir || !posix.isAbsolute(dir)) return;
  const project = posix.normalize(dir);
  const home = homeDir(executor.guessEnv?.() ?? (await executor.getEnv()));
  const stop = project === home || project.startsWith(`${home}/`) ? home : '/';
  const searched = listSearchDirs(project, stop, posix);
  await executor.prefetch([
    { op: 'stat', path: project },
    { op: 'realpath', path: project },
    { op: 'readDir', path: `${project}/requirements` },
    ...MISE_TOML_FILES.filter((f) => f.includes('/')).map((f) => ({ op: 'exists' as const, path: `${project}/${f}` })),
    ...searched.map((d) => ({ op: 'readDir' as const, path: d })),
    ...[...new Set([...PROJECT_FILES, ...CONFIG_SEARCH_PLACES.filter((f) => !/\.[cm]?js$/.test(f))])].flatMap((f) => [
      { op: 'readFile' as const, path: `${project}/${f}` },
      { op: 'stat' as const, path: `${project}/${f}` },
    ]),
  ]);
}

/** The project directory, which must exist: its real path. */
export async function resolveProjectDir(executor: Executor, dir: string | undefined): Promise<string> {
  const projectDir = absoluteProjectDir(executor, dir);
  const st = await executor.stat(projectDir);
  if (!st || !(st.isDirectory || st.isSymbolicLink)) {
    throw new PymgrError('PROJECT_UNRECOGNISED', `${projectDir} is not a directory on ${executor.description}`, {
      hint: 'Pass the directory of a Python project.',
    });
  }
  return executor.realpath(projectDir);
}

/**
 * The project directory for the verbs that also report on a directory that is not a project
 * (doctor, config): its real path when it exists, else the absolute path as given.
 */
export async function locateProjectDir(executor: Executor, dir: string | undefined): Promise<string> {
  const abs = executor.kind === 'host' || (dir && posix.isAbsolute(dir)) ? absoluteProjectDir(executor, dir) : posix.normalize(dir ?? '/');
  try {
    return await executor.realpath(abs);
  } catch {
    return abs;
  }
}

/** Every provider of one command, loaded once. */
export function providerLoader(load: (name: ProviderName) => Promise<Provider>): (name: ProviderName) => Promise<Provider> {
  return memoise(load);
}

/**
 * Whether a provider can be used for automatic selection: its manager is found, or it can be
 * installed without git (uv provisioned with pip). Memoised: one probe per provider per command.
 *
 * A manager whose `providers.<name>.path` the config sets is the user's decision, never skipped:
 * when it fails its probe, this throws the error choosing that provider explicitly gives
 * (`ensureManager`: MANAGER_BROKEN naming the key and the program's output, or MANAGER_NOT_FOUND),
 * before anything is changed. With a configured path `ensureManager` never downloads or replaces
 * a manager, so asking it is only a probe.
 */
export function providerAvailability(ctx: ProviderContext, load: (name: ProviderName) => Promise<Provider>): (name: ProviderName) => Promise<boolean> {
  return memoise(async (name: ProviderName) => {
    const provider = await load(name);
    if ((await provider.probe(ctx)).found) return true;
    if (ctx.config.providers[name].path) return (await provider.ensureManager(ctx)).found;
    return provider.canProvision ? provider.canProvision(ctx) : false;
  });
}
