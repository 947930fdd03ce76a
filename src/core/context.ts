import { posix, resolve as resolveHostPath } from 'node:path';
import type { Executor, ProgressEvent, ProviderContext, ProviderName } from '../contracts.js';
import type { PymgrConfigInput } from '../config/schema.js';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { detectProject, type ProjectDetection } from '../detect/detect-project.js';
import { PymgrError } from '../errors.js';
import { HostExecutor } from '../executor/host-executor.js';

/** What every library entry point (setup, env, run, doctor, detect) accepts. */
export interface CommonOptions {
  /** The project directory (where the executor runs). Default: the current directory (host only). */
  projectDir?: string;
  /** Where commands run. Default: a HostExecutor. */
  executor?: Executor;
  /** Config values from CLI flags (highest precedence). */
  flags?: PymgrConfigInput;
  /** An explicit config file (an error when it cannot be read). */
  configFile?: string;
  /** Environment to read PYMGR_* from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** pymgr's tools directory (default: $PYMGR_TOOLS_DIR, else ~/.cache/pymgr/tools where the executor runs). */
  toolsDir?: string;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface Resolved {
  executor: Executor;
  projectDir: string;
  resolved: ResolvedConfig;
  detection: ProjectDetection;
  venvPath: string;
  ctx: ProviderContext;
}

/** Load config, detect the project and build the provider context. */
export async function resolveProject(options: CommonOptions): Promise<Resolved> {
  const executor = options.executor ?? new HostExecutor();
  const projectDir = await resolveProjectDir(executor, options.projectDir);
  const resolved = await loadConfig({ projectDir, env: options.env, flags: options.flags, configFile: options.configFile, executor });
  const detection = await detectProject(executor, projectDir, resolved.config);
  const venvPath = posix.isAbsolute(resolved.config.venv) ? posix.normalize(resolved.config.venv) : posix.join(projectDir, resolved.config.venv);
  const toolsDir = options.toolsDir ?? (await defaultToolsDir(executor, options.env));
  const ctx: ProviderContext = {
    executor,
    config: resolved.config,
    projectDir,
    toolsDir,
    progress: options.onProgress ?? (() => undefined),
    signal: options.signal,
  };
  return { executor, projectDir, resolved, detection, venvPath, ctx };
}

async function resolveProjectDir(executor: Executor, dir: string | undefined): Promise<string> {
  let projectDir: string;
  if (executor.kind === 'host') projectDir = resolveHostPath(dir ?? '.');
  else {
    if (!dir || !posix.isAbsolute(dir)) {
      throw new PymgrError('USAGE', `The project directory in ${executor.description} must be an absolute path (got ${dir ?? 'none'})`, {
        hint: 'Pass the path of the project inside the container, e.g. /work/project.',
      });
    }
    projectDir = posix.normalize(dir);
  }
  const st = await executor.stat(projectDir);
  if (!st || !(st.isDirectory || st.isSymbolicLink)) {
    throw new PymgrError('PROJECT_UNRECOGNISED', `${projectDir} is not a directory on ${executor.description}`, {
      hint: 'Pass the directory of a Python project.',
    });
  }
  return executor.realpath(projectDir);
}

/** `$PYMGR_TOOLS_DIR`, else `$XDG_CACHE_HOME/pymgr/tools`, else `~/.cache/pymgr/tools`, where the executor runs. */
export async function defaultToolsDir(executor: Executor, env?: Record<string, string | undefined>): Promise<string> {
  const fromEnv = (env ?? (executor.kind === 'host' ? process.env : {})).PYMGR_TOOLS_DIR;
  if (fromEnv) return fromEnv;
  const e = await executor.getEnv();
  const cache = e.XDG_CACHE_HOME || `${e.HOME || '/root'}/.cache`;
  return `${cache}/pymgr/tools`;
}

/**
 * Whether a provider can be used for automatic selection: its manager is found, or it can be
 * installed without git (uv provisioned with pip). Memoised: one probe per provider per command.
 */
export function providerAvailability(ctx: ProviderContext, load: (name: ProviderName) => Promise<import('../contracts.js').Provider>) {
  return memoiseProbe(async (name: ProviderName) => {
    const provider = await load(name);
    if ((await provider.probe(ctx)).found) return true;
    return provider.canProvision ? provider.canProvision(ctx) : false;
  });
}

/** Keep provider probes to one per provider per command. */
export function memoiseProbe<T>(fn: (name: ProviderName) => Promise<T>): (name: ProviderName) => Promise<T> {
  const cache = new Map<ProviderName, Promise<T>>();
  return (name) => {
    if (!cache.has(name)) cache.set(name, fn(name));
    return cache.get(name)!;
  };
}
