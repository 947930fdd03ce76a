import { posix } from 'node:path';
import type { Executor, ProviderContext } from '../../src/contracts.js';
import { PymgrError, assertSafeToRun, findOnPath, isExecutableFile, pyenvRootFrom } from '../../src/core/kit.js';

/** Where pyenv is (or would be installed) for one context. Nothing here runs pyenv or git. */
export interface PyenvLocation {
  /** The pyenv root (PYENV_ROOT): where versions live and where pyenv is cloned when installed. */
  root: string;
  /** Where the root came from: `config` (providers.pyenv.root), `config-path` (derived from providers.pyenv.path), `PYENV_ROOT`, `home`. */
  rootSource: 'config' | 'config-path' | 'PYENV_ROOT' | 'home';
  /** The pyenv program, when one exists. */
  bin?: string;
  /** `config` (providers.pyenv.path), `root` (`<root>/bin/pyenv`) or `PATH`. */
  binSource?: 'config' | 'root' | 'PATH';
  /** What is in the root directory now. */
  rootState: RootState;
  /** Owner of the root directory, when it exists. */
  rootUid?: number;
  /** Whether `<root>/.git` exists (a git checkout). */
  isGitCheckout: boolean;
}

/**
 * - `missing`: nothing there (pyenv can be cloned to it);
 * - `empty`: an empty directory, possibly a mount point (pyenv is cloned into it, never replacing it);
 * - `pyenv`: has `bin/pyenv`;
 * - `other`: a non-empty directory (or a file) that holds no pyenv: pymgr never touches it.
 */
export type RootState = 'missing' | 'empty' | 'pyenv' | 'other';

/**
 * Find pyenv for `ctx`: the root from providers.pyenv.root, else derived from providers.pyenv.path,
 * else `$PYENV_ROOT`, else `~/.pyenv`; the program from providers.pyenv.path, else `<root>/bin/pyenv`,
 * else (only when the root was not configured) `pyenv` on PATH. Throws MANAGER_NOT_FOUND when
 * providers.pyenv.path names something that is not an executable.
 */
export async function findPyenv(ctx: ProviderContext): Promise<PyenvLocation> {
  const { executor } = ctx;
  const opts = ctx.config.providers.pyenv;
  const env = await executor.getEnv();
  let bin: string | undefined;
  let binSource: PyenvLocation['binSource'];
  let root: string;
  let rootSource: PyenvLocation['rootSource'];

  if (opts.path) {
    if (!(await isExecutableFile(executor, opts.path))) {
      throw new PymgrError('MANAGER_NOT_FOUND', `pyenv not found at ${opts.path} (providers.pyenv.path) on ${executor.description}`, {
        hint: 'Fix providers.pyenv.path, or remove it to let pymgr find pyenv in its root.',
        details: { keyPath: 'providers.pyenv.path' },
      });
    }
    // A pyenv root owned by another uid is pymgr's own case (scoped trust): only the write bits are refused.
    await assertSafeToRun(executor, opts.path, { what: 'pyenv', source: 'providers.pyenv.path', allowForeignOwner: true });
    bin = opts.path;
    binSource = 'config';
  }
  if (opts.root) {
    root = opts.root;
    rootSource = 'config';
  } else if (bin) {
    root = await deriveRootFromProgram(executor, bin, env);
    rootSource = 'config-path';
  } else if (env.PYENV_ROOT) {
    root = env.PYENV_ROOT;
    rootSource = 'PYENV_ROOT';
  } else {
    root = pyenvRootFrom(env);
    rootSource = 'home';
  }
  root = posix.normalize(root).replace(/(.)\/+$/, '$1');

  const st = await executor.stat(root);
  let rootState: RootState;
  if (!st) rootState = 'missing';
  else if (await isExecutableFile(executor, `${root}/bin/pyenv`)) rootState = 'pyenv';
  else if (st.isDirectory || st.isSymbolicLink) rootState = ((await executor.readDir(root)) ?? []).length === 0 ? 'empty' : 'other';
  else rootState = 'other';

  if (!bin && rootState === 'pyenv') {
    bin = `${root}/bin/pyenv`;
    binSource = 'root';
  }
  if (!bin && rootSource !== 'config' && rootState !== 'other') {
    const onPath = await findOnPath(executor, 'pyenv');
    if (onPath) {
      bin = onPath;
      binSource = 'PATH';
    }
  }
  let rootUid: number | undefined;
  if (st) {
    const real = st.isSymbolicLink ? await executor.stat(await executor.realpath(root).catch(() => root)) : st;
    rootUid = real?.uid;
  }
  return { root, rootSource, bin, binSource, rootState, rootUid, isGitCheckout: await executor.exists(`${root}/.git`) };
}

/** `<root>/bin/pyenv` is a link to `<root>/libexec/pyenv`: the root is two levels up from the real file. */
async function deriveRootFromProgram(executor: Executor, bin: string, env: Record<string, string>): Promise<string> {
  let real = bin;
  try {
    real = await executor.realpath(bin);
  } catch {
    /* keep the given path */
  }
  const candidate = posix.dirname(posix.dirname(real));
  if (await executor.exists(`${candidate}/libexec/pyenv`)) return candidate;
  return pyenvRootFrom(env);
}

/** pyenv's own version, read from `libexec/pyenv---version` (running `pyenv --version` would call git). */
export async function readPyenvVersion(executor: Executor, bin: string): Promise<string | undefined> {
  let real = bin;
  try {
    real = await executor.realpath(bin);
  } catch {
    /* keep */
  }
  const dirs = [posix.dirname(real), `${posix.dirname(posix.dirname(real))}/libexec`];
  for (const dir of dirs) {
    try {
      const text = await executor.readFile(`${dir}/pyenv---version`);
      const version = /^\s*version="([^"]+)"/m.exec(text)?.[1];
      if (version) return version;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The uid programs run as where the executor runs (`id -u`), or undefined when it cannot tell. */
export async function readCurrentUid(executor: Executor): Promise<number | undefined> {
  if (executor.kind === 'host' && typeof process.getuid === 'function') return process.getuid();
  const res = await executor.exec('id', ['-u'], { timeoutMs: 10_000, readOnly: true });
  const uid = Number.parseInt(res.stdout.trim(), 10);
  return res.exitCode === 0 && Number.isFinite(uid) ? uid : undefined;
}
