import type { Executor } from '../../src/contracts.js';

/** The first git release that refuses repositories owned by another user ("dubious ownership"). */
export const GIT_OWNERSHIP_CHECK_VERSION = '2.35.2';

export interface GitInfo {
  /** `git` as found (the executor resolves it on its PATH). */
  found: boolean;
  /** e.g. `2.39.5`. */
  version?: string;
  /** Whether the version is at least {@link GIT_OWNERSHIP_CHECK_VERSION}. */
  current?: boolean;
}

/** Parse `git version 2.39.5` (also `2.39.5.windows.1`, `2.37.1 (Apple Git-137.1)`). */
export function parseGitVersion(output: string): string | undefined {
  return /git version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** Whether dotted version `a` is at least `b` (missing parts count as 0). */
export function isVersionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** Run `git --version` (touches no repository). */
export async function readGitInfo(executor: Executor): Promise<GitInfo> {
  const res = await executor.exec('git', ['--version'], { timeoutMs: 30_000 });
  if (res.exitCode !== 0) return { found: false };
  const version = parseGitVersion(res.stdout);
  return { found: true, version, current: version ? isVersionAtLeast(version, GIT_OWNERSHIP_CHECK_VERSION) : undefined };
}
