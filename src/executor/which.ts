import type { Executor, ReadRequest } from '../contracts.js';

/**
 * Find an executable by name on the executor's PATH (or the `pathValue` given), like `which`.
 * Returns its absolute path or `undefined`. `alsoLearn`: reads the caller will make next, learnt in
 * the same batch as the PATH candidates (a container: no exec of their own).
 */
export async function findOnPath(executor: Executor, name: string, pathValue?: string, alsoLearn: readonly ReadRequest[] = []): Promise<string | undefined> {
  const candidates = pathCandidates(pathValue === undefined ? await executor.getEnv() : { PATH: pathValue }, name);
  // Every candidate looked at in one go where that is cheaper (a container: one exec).
  await executor.prefetch?.([...candidates.map((p) => ({ op: 'stat' as const, path: p })), ...alsoLearn]);
  for (const candidate of candidates) {
    if (await isExecutableFile(executor, candidate)) return candidate;
  }
  return undefined;
}

/** Where `name` is looked for on `env.PATH` (a default PATH when it has none), in order. */
export function pathCandidates(env: Record<string, string | undefined>, name: string): string[] {
  const path = env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  return path.split(':').filter(Boolean).map((dir) => `${dir.replace(/\/+$/, '')}/${name}`);
}

/**
 * True when `path` is (or links to) a regular file with an execute bit. A path that cannot be
 * looked at (an unreadable directory on PATH, a link loop) is simply not an executable, as for
 * `which`: one bad PATH entry must not stop the search.
 */
export async function isExecutableFile(executor: Executor, path: string): Promise<boolean> {
  try {
    let st = await executor.stat(path);
    if (st?.isSymbolicLink) st = await executor.stat(await executor.realpath(path));
    return !!st && st.isFile && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * A pyenv shim (`<root>/shims/<name>`) is a bash script whose answer depends on the current
 * directory's `.python-version`: resolve it to the real executable once, preferring the global
 * version's copy (`<root>/version`), then any installed version that has it. Anything that is not a
 * pyenv shim is returned unchanged; a shim with no real executable behind it gives `undefined`.
 */
export async function resolvePyenvShim(executor: Executor, path: string): Promise<string | undefined> {
  const m = /^(.*)\/shims\/([^/]+)$/.exec(path);
  if (!m) return path;
  const [, root, name] = m;
  const versions = await executor.readDir(`${root}/versions`);
  if (!versions) return path;
  let global: string[] = [];
  try {
    global = (await executor.readFile(`${root}/version`)).split(/\s+/).filter(Boolean);
  } catch {
    /* no global version file */
  }
  for (const v of [...global, ...[...versions].reverse()]) {
    const candidate = `${root}/versions/${v}/bin/${name}`;
    if (await isExecutableFile(executor, candidate)) return candidate;
  }
  return undefined;
}
