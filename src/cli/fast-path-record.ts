/**
 * After a full `pymgr setup` on the host, the CLI records what the result depends on, so that the
 * next unchanged `pymgr setup` takes the fast path (src/cli/fast-path.ts). The library's setup()
 * knows nothing of this: the record is the CLI's own optimisation.
 *
 * The watch list is every file whose change could change the env: dependency inputs, Python
 * version sources, every config file candidate in the project directory and its ancestors, the
 * manager binary (and any binary of that name earlier on PATH), pyenv's global version file and
 * the venv's state file; and the listings of the project directory and its requirement folders.
 * The inputs are detected and hashed again after the watch list is observed, and the record is
 * written only when they still hash to the fingerprint the setup verified: a file added or edited
 * while the setup ran is never recorded as unchanged.
 */
import { dirname, resolve as resolveHostPath } from 'node:path';
import { CONFIG_SEARCH_PLACES } from '../config/find-config-file.js';
import { executorOf, resolveProject } from '../core/context.js';
import { collectDependencyInputs, computeFingerprint } from '../core/fingerprint.js';
import { asidePathFor, pyenvRootFrom, statePath } from '../core/paths.js';
import { venvDirectory } from '../core/build-aside.js';
import { readState } from '../core/state.js';
import { factsOf } from '../core/setup-facts.js';
import type { CommonOptions, DetectResult, SetupOptions, SetupResult } from '../types.js';
import type { Executor } from '../contracts.js';
import type { PymgrConfig } from '../config/schema.js';
import { inspectVenv } from '../core/verify.js';
import { ancestors, writeQuickDetectRecord, writeQuickRecord, type QuickKeyInput } from './fast-path.js';

/** Files in the project directory whose content decides the Python request or the project type. */
const PYTHON_SOURCES = [
  '.python-version', '.tool-versions', 'mise.toml', '.mise.toml', '.config/mise.toml', 'runtime.txt',
  'pyproject.toml', 'setup.py', 'setup.cfg', 'uv.lock', 'requirements.lock', 'requirements-dev.lock',
];

/** A config file pymgr runs (JavaScript): what it imports or reads is not watched, so it is never recorded. */
function isScriptConfig(file: string | undefined): boolean {
  return !!file && /\.(c|m)?js$/.test(file);
}

/**
 * The directories between where the search started (`from`) and the project found above it: each
 * was judged "not a project" from its files, so a change to them (a `[project]` table added to
 * its pyproject.toml, a requirement file in its requirements/, a config file) could make it the
 * project. Their files and folders join the watch list.
 */
function searchedBelow(from: string, projectDir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  for (let d = resolveHostPath(from); d.startsWith(`${projectDir}/`); d = dirname(d)) {
    dirs.push(d, `${d}/requirements`, `${d}/.config`);
    files.push(...PYTHON_SOURCES.map((f) => `${d}/${f}`), ...CONFIG_SEARCH_PLACES.map((f) => `${d}/${f}`));
  }
  return { files, dirs };
}

/**
 * What a project's answer (its detection, its env's inputs) is read from: the dependency inputs,
 * the files that decide the Python request and the project type, the config file and every config
 * candidate up to the root, and the listings of the project and its requirement and config
 * folders; with `searchedFrom`, also the directories passed on the way up from there.
 */
function projectWatch(projectDir: string, inputs: readonly string[], configFile: string | undefined, searchedFrom: string | undefined): { files: string[]; dirs: string[] } {
  const p = (f: string) => `${projectDir}/${f}`;
  const files = [
    ...inputs,
    ...PYTHON_SOURCES.map(p),
    ...(configFile ? [configFile] : []),
    ...ancestors(projectDir).flatMap((d) => CONFIG_SEARCH_PLACES.map((f) => `${d === '/' ? '' : d}/${f}`)),
  ];
  const dirs = [projectDir, p('requirements'), p('.config')];
  if (searchedFrom !== undefined) {
    const below = searchedBelow(searchedFrom, projectDir);
    files.push(...below.files);
    dirs.push(...below.dirs);
  }
  return { files, dirs };
}

/** The fingerprint of the env's state when it says `ready`. */
async function readyFingerprint(executor: Executor, venvPath: string): Promise<string | undefined> {
  const state = await readState(executor, venvPath);
  return state?.status === 'ready' ? state.fingerprint : undefined;
}

/** Record `result` for the fast path under `key`. Never throws: the record is only an optimisation. */
export async function recordFastPath(key: QuickKeyInput, options: SetupOptions, result: SetupResult): Promise<void> {
  try {
    const executor = executorOf(options);
    // A container: only for a project named by its absolute path there (the key holds no host path).
    if (executor.kind !== 'host' && !(key.docker && key.projectDir.startsWith('/'))) return;
    const venvPath = result.venv.path;
    // What the setup itself resolved and verified, when it says (else read and resolved again).
    const facts = factsOf(result);
    const fingerprint = facts?.fingerprint ?? (await readyFingerprint(executor, venvPath));
    if (fingerprint === undefined) return;
    const { projectDir, detection, resolved, ctx } = facts?.resolution ?? (await resolveProject({ ...options, onProgress: undefined }));
    const { config } = resolved;
    // Deep verification (hashes) is never answered by the cheap check of the fast path.
    if (config.verify.deep || isScriptConfig(resolved.file)) return;
    // Found by searching up from a directory below it (on the host): the directories on the way are watched too.
    const { files, dirs } = projectWatch(projectDir, facts?.inputFiles ?? (await collectDependencyInputs(executor, detection.plan)), resolved.file, executor.kind === 'host' ? key.projectDir : undefined);
    files.push(
      statePath(venvPath),
      asidePathFor(facts?.venvDir ?? (await venvDirectory(executor, venvPath))), // a previous env left aside: the full setup deals with it
      ...(result.provider.path ? [result.provider.path] : []),
    );
    // A manager of the same name appearing earlier on PATH, or pyenv's global version changing
    // (it decides what a pyenv shim runs), would change which manager is found.
    const env = await executor.getEnv();
    const bin = result.provider.path?.split('/').pop();
    if (bin) files.push(...(env.PATH ?? '').split(':').filter(Boolean).map((d) => `${d}/${bin}`));
    files.push(`${pyenvRootFrom(env)}/version`);
    // Chosen as the first available in `preference`: a manager earlier in it appearing would be chosen instead.
    if (result.provider.chosenBy === 'preference') {
      const managers = await managersWatch(executor, env, ctx.toolsDir, config);
      files.push(...managers.files);
      dirs.push(...managers.dirs);
    }
    const expected = config.verify.packages ? detection.plan.expected : [];
    // In a container the paths are observed there, by the venv's interpreter, as the check will be.
    const observeThere = executor.kind === 'host' ? undefined : async (paths: string[]) => {
      const seen = (await inspectVenv(executor, venvPath, [], { watch: { paths, statePath: statePath(venvPath) } })).watch;
      return seen && seen.container ? { signatures: seen.signatures, docker: { id: seen.container, ...(config.docker.user ? { user: config.docker.user } : {}) } } : undefined;
    };
    await writeQuickRecord(key, { venvPath, fingerprint, files, dirs, expected, result }, async () => {
      // Inputs as they are now (a container's executor forgets what it learnt: it must read again),
      // the same plan (no requirement file appeared) and the same content.
      (executor as { forgetLearnt?: () => void }).forgetLearnt?.();
      // The manager binary the fingerprint looks at, and the requirement files included from
      // others (found only once those are read): read with the project's files (one batch).
      await executor.prefetch?.([
        ...(result.provider.path ? [{ op: 'stat' as const, path: result.provider.path }] : []),
        ...(facts?.inputFiles ?? []).flatMap((path) => [{ op: 'readFile' as const, path }, { op: 'stat' as const, path }]),
      ], { lazy: true });
      const now = await resolveProject({ ...options, onProgress: undefined });
      if (JSON.stringify(now.detection.plan) !== JSON.stringify(detection.plan) || now.detection.python.raw !== result.python.request) return false;
      const current = await computeFingerprint({
        executor, plan: now.detection.plan, provider: result.provider, request: now.detection.python, venvPath, config: now.resolved.config,
      });
      return current === fingerprint;
    }, observeThere);
  } catch {
    /* only an optimisation */
  }
}

/** The manager binaries whose presence decides which manager detection picks (and a base Python for provisioning uv). */
const MANAGER_NAMES = ['uv', 'mise', 'pyenv', 'python3'];

/**
 * What decides which managers are there: every PATH directory (a binary added or removed changes
 * its times) and each manager name in it, pymgr's tools directory and what is in it, pyenv's
 * root, and the manager paths the config names.
 */
async function managersWatch(
  executor: Executor,
  env: Record<string, string>,
  toolsDir: string,
  config: PymgrConfig,
): Promise<{ files: string[]; dirs: string[] }> {
  const pathDirs = (env.PATH ?? '').split(':').filter(Boolean);
  const tools = (await executor.readDir(toolsDir)) ?? [];
  const pyenvRoot = pyenvRootFrom(env, config.providers.pyenv.root);
  const configured = Object.values(config.providers).map((c) => (c as { path?: string }).path).filter((x): x is string => !!x);
  return {
    files: [
      ...pathDirs,
      ...pathDirs.flatMap((d) => MANAGER_NAMES.map((n) => `${d}/${n}`)),
      '/usr/local/bin/python3', '/usr/bin/python3',
      ...tools.flatMap((t) => MANAGER_NAMES.map((n) => `${toolsDir}/${t}/bin/${n}`)),
      `${pyenvRoot}/bin/pyenv`, `${pyenvRoot}/libexec/pyenv`, `${pyenvRoot}/version`,
      ...configured,
    ],
    dirs: [toolsDir, pyenvRoot, `${pyenvRoot}/versions`],
  };
}

/**
 * Record a host `pymgr detect` for its fast path. Detection reads the project's files and config
 * and probes the managers, so the watch list is the setup's (project files, dependency inputs,
 * config candidates, listings) plus everything that decides which managers are there
 * ({@link managersWatch}). The
 * result is recorded only when detection run again after the watch list was observed gives the
 * same answer. Never throws.
 */
export async function recordDetect(key: QuickKeyInput, options: CommonOptions, result: DetectResult): Promise<void> {
  try {
    const executor = executorOf(options);
    if (executor.kind !== 'host') return;
    // What detect() resolved, when it says (else resolved again).
    const { projectDir, detection, resolved, ctx } = factsOf(result)?.resolution ?? (await resolveProject({ ...options, onProgress: undefined }));
    if (isScriptConfig(resolved.file)) return;
    const managers = await managersWatch(executor, await executor.getEnv(), ctx.toolsDir, resolved.config);
    const { files, dirs } = projectWatch(projectDir, await collectDependencyInputs(executor, detection.plan), resolved.file, key.projectDir);
    files.push(...managers.files);
    dirs.push(...managers.dirs);
    const { execs: _e, roundTrips: _r, ...answer } = result;
    await writeQuickDetectRecord(key, { files, dirs, result: answer }, async () => {
      const { detect } = await import('../api/detect.js');
      const { execs: _e2, roundTrips: _r2, ...again } = await detect({ ...options, onProgress: undefined });
      return JSON.stringify(again) === JSON.stringify(answer);
    });
  } catch {
    /* only an optimisation */
  }
}
