/**
 * Where pymgr and the managers keep things, each computed in this one place, from the
 * environment of the place the executor runs in (the host, or a container):
 *
 * | path | value |
 * |---|---|
 * | tools directory | `$PYMGR_TOOLS_DIR`, else `$XDG_CACHE_HOME/pymgr/tools`, else `~/.cache/pymgr/tools` |
 * | cache directory (the CLI's fast-path records) | `$PYMGR_STATE_DIR`, else `$XDG_CACHE_HOME/pymgr`, else `~/.cache/pymgr` |
 * | pyenv root | `providers.pyenv.root`, else `$PYENV_ROOT`, else `~/.pyenv` |
 * | env state | `<venv>/.pymgr/state.json` |
 * | files signature (the warm no-op's cheap files check) | `<venv>/.pymgr/files.sig` |
 * | env lock | `<venv>.pymgr-lock` (beside the venv: it exists before the venv does) |
 * | previous env kept aside | `<venv dir>.pymgr-prev` (beside the venv's directory: same file system; see core/build-aside.ts) |
 *
 * These functions take the environment as a plain record, so the CLI's fast path (Node
 * built-ins only) computes exactly the same paths as the library.
 */
import type { Executor } from '../contracts.js';

type Env = Record<string, string | undefined>;

/** `~`, where `env` runs (root's home when HOME is unset, as in a bare container). */
export function homeDir(env: Env): string {
  return env.HOME || '/root';
}

/** `$XDG_CACHE_HOME`, else `~/.cache`. */
function cacheHome(env: Env): string {
  return env.XDG_CACHE_HOME || `${homeDir(env)}/.cache`;
}

/** pymgr's own cache directory (the CLI's fast-path records live in `<it>/quick`). */
export function pymgrCacheDir(env: Env): string {
  return env.PYMGR_STATE_DIR || `${cacheHome(env)}/pymgr`;
}

/** The pyenv root a user with this environment would use: `$PYENV_ROOT`, else `~/.pyenv`. */
export function pyenvRootFrom(env: Env, configured?: string): string {
  return configured || env.PYENV_ROOT || `${homeDir(env)}/.pyenv`;
}

/** {@link pyenvRootFrom} for the executor's environment. */
export async function defaultPyenvRoot(executor: Executor, configured?: string): Promise<string> {
  return configured || pyenvRootFrom(await executor.getEnv());
}

/**
 * pymgr's tools directory where the executor runs: `$PYMGR_TOOLS_DIR` (from `env`, else, on the
 * host, from the process environment), else `$XDG_CACHE_HOME/pymgr/tools`, else `~/.cache/pymgr/tools`.
 */
export async function defaultToolsDir(executor: Executor, env?: Env): Promise<string> {
  return toolsDirFrom(executor, env, await executor.getEnv());
}

/** {@link defaultToolsDir} from the executor's environment as given (a guess: Executor.guessEnv). */
export function toolsDirFrom(executor: Executor, env: Env | undefined, executorEnv: Env): string {
  const fromEnv = (env ?? (executor.kind === 'host' ? process.env : {})).PYMGR_TOOLS_DIR;
  if (fromEnv) return fromEnv;
  return `${cacheHome(executorEnv)}/pymgr/tools`;
}

/** The directory of pymgr's records inside a venv. */
export function stateDir(venvPath: string): string {
  return `${venvPath}/.pymgr`;
}

/** pymgr's state file of a venv. */
export function statePath(venvPath: string): string {
  return `${stateDir(venvPath)}/state.json`;
}

/** The signature of a venv's installed files, recorded at its last full verification. */
export function filesSignaturePath(venvPath: string): string {
  return `${stateDir(venvPath)}/files.sig`;
}

/** The lock directory of a venv. */
export function lockPathFor(venvPath: string): string {
  return `${venvPath.replace(/\/+$/, '')}.pymgr-lock`;
}

/** Where the previous env is kept while the env in `dir` (the venv's real directory) is rebuilt or updated. */
export function asidePathFor(dir: string): string {
  return `${dir.replace(/\/+$/, '')}.pymgr-prev`;
}
