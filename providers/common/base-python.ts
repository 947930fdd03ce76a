import type { ProviderContext } from '../../src/contracts.js';
import { findOnPath } from '../../src/core/kit.js';

/**
 * An existing interpreter with a working pip, to bootstrap tools with (never used for a project's
 * packages). Tries python3 on PATH, then the usual system locations.
 */
export async function findBasePython(ctx: ProviderContext): Promise<string | undefined> {
  const candidates = [await findOnPath(ctx.executor, 'python3'), '/usr/local/bin/python3', '/usr/bin/python3'];
  for (const c of candidates) {
    if (!c) continue;
    const res = await ctx.executor.exec(c, ['-m', 'pip', '--version'], { timeoutMs: 30_000 });
    if (res.exitCode === 0) return c;
  }
  return undefined;
}
