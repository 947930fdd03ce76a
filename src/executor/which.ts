import type { Executor } from '../contracts.js';

/**
 * Find an executable by name on the executor's PATH (or the `pathValue` given), like `which`.
 * Returns its absolute path or `undefined`.
 */
export async function findOnPath(executor: Executor, name: string, pathValue?: string): Promise<string | undefined> {
  const path = pathValue ?? (await executor.getEnv()).PATH ?? '/usr/local/bin:/usr/bin:/bin';
  for (const dir of path.split(':')) {
    if (!dir) continue;
    const candidate = `${dir.replace(/\/+$/, '')}/${name}`;
    if (await isExecutableFile(executor, candidate)) return candidate;
  }
  return undefined;
}

/** True when `path` is (or links to) a regular file with an execute bit. */
export async function isExecutableFile(executor: Executor, path: string): Promise<boolean> {
  let st = await executor.stat(path);
  if (st?.isSymbolicLink) {
    try {
      st = await executor.stat(await executor.realpath(path));
    } catch {
      return false;
    }
  }
  return !!st && st.isFile && (st.mode & 0o111) !== 0;
}
