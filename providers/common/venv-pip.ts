import type { ProviderContext, VenvTarget } from '../../src/contracts.js';
import { lastLines } from '../../src/core/kit.js';

/**
 * Why a pip-based manager cannot install into `venv`: its interpreter does not run, or it has no
 * working pip (uv makes venvs without pip; a venv killed during `python -m venv` has none; a
 * truncated file in pip breaks it). `undefined` when pip imports.
 */
export async function pipProblem(ctx: ProviderContext, venv: VenvTarget, manager: string): Promise<string | undefined> {
  // -B: the check writes nothing into the env (pip's bytecode, when missing, would be).
  const res = await ctx.executor.exec(venv.python, ['-I', '-B', '-c', 'import pip._internal.cli.main'], {
    timeoutMs: 60_000,
    env: { PYTHONPATH: undefined, PYTHONHOME: undefined, VIRTUAL_ENV: undefined },
    signal: ctx.signal,
  });
  if (res.exitCode === 0) return undefined;
  const why = lastLines(res.stderr || res.stdout, 1) || `exit ${res.exitCode}`;
  return `the venv has no working pip, which ${manager} installs with (${why})`;
}
