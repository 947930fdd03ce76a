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
import type { SetupOptions, SetupResult } from '../types.js';
import { inspectVenv } from '../core/verify.js';
import { ancestors, writeQuickRecord, type QuickKeyInput } from './fast-path.js';

/** Files in the project directory whose content decides the Python request or the project type. */
const PYTHON_SOURCES = [
  '.python-version', '.tool-versions', 'mise.toml', '.mise.toml', '.config/mise.toml', 'runtime.txt',
  'pyproject.toml', 'setup.py', 'setup.cfg', 'uv.lock', 'requirements.lock', 'requirements-dev.lock',
];

/** Record `result` for the fast path under `key`. Never throws: the record is only an optimisation. */
export async function recordFastPath(key: QuickKeyInput, options: SetupOptions, result: SetupResult): Promise<void> {
  try {
    const executor = executorOf(options);
    // A container: only for a project named by its absolute path there (the key holds no host path).
    if (executor.kind !== 'host' && !(key.docker && key.projectDir.startsWith('/'))) return;
    const venvPath = result.venv.path;
    const state = await readState(executor, venvPath);
    if (!state || state.status !== 'ready') return;
    const { projectDir, detection, resolved } = await resolveProject({ ...options, onProgress: undefined });
    const { config } = resolved;
    // Deep verification (hashes) is never answered by the cheap check of the fast path.
    if (config.verify.deep) return;
    const p = (f: string) => `${projectDir}/${f}`;
    const files = [
      ...(await collectDependencyInputs(executor, detection.plan)),
      ...PYTHON_SOURCES.map(p),
      statePath(venvPath),
      asidePathFor(await venvDirectory(executor, venvPath)), // a previous env left aside: the full setup deals with it
      ...(result.provider.path ? [result.provider.path] : []),
      ...(resolved.file ? [resolved.file] : []),
      ...ancestors(projectDir).flatMap((d) => CONFIG_SEARCH_PLACES.map((f) => `${d === '/' ? '' : d}/${f}`)),
    ];
    // A manager of the same name appearing earlier on PATH, or pyenv's global version changing
    // (it decides what a pyenv shim runs), would change which manager is found.
    const env = await executor.getEnv();
    const bin = result.provider.path?.split('/').pop();
    if (bin) files.push(...(env.PATH ?? '').split(':').filter(Boolean).map((d) => `${d}/${bin}`));
    files.push(`${pyenvRootFrom(env)}/version`);
    const dirs = [projectDir, p('requirements'), p('.config')];
    // Found by searching up from a directory below it: a project file appearing in any directory
    // on the way would make that directory the project.
    for (let d = resolveHostPath(key.projectDir); d.startsWith(`${projectDir}/`); d = dirname(d)) dirs.push(d);
    const expected = config.verify.packages ? detection.plan.expected : [];
    // In a container the paths are observed there, by the venv's interpreter, as the check will be.
    const observeThere = executor.kind === 'host' ? undefined : async (paths: string[]) => {
      const seen = (await inspectVenv(executor, venvPath, [], { watch: { paths, statePath: statePath(venvPath) } })).watch;
      return seen && seen.container ? { signatures: seen.signatures, docker: { id: seen.container, ...(config.docker.user ? { user: config.docker.user } : {}) } } : undefined;
    };
    await writeQuickRecord(key, { venvPath, fingerprint: state.fingerprint, files, dirs, expected, result }, async () => {
      // Inputs as they are now (a container's executor forgets what it learnt: it must read again),
      // the same plan (no requirement file appeared) and the same content.
      (executor as { forgetLearnt?: () => void }).forgetLearnt?.();
      const now = await resolveProject({ ...options, onProgress: undefined });
      if (JSON.stringify(now.detection.plan) !== JSON.stringify(detection.plan) || now.detection.python.raw !== result.python.request) return false;
      const fingerprint = await computeFingerprint({
        executor, plan: now.detection.plan, provider: result.provider, request: now.detection.python, venvPath, config: now.resolved.config,
      });
      return fingerprint === state.fingerprint;
    }, observeThere);
  } catch {
    /* only an optimisation */
  }
}
