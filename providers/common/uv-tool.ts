import type { ExecResult, ProbeResult, Problem, ProviderContext, PythonInterpreter, VenvTarget } from '../../src/contracts.js';
import { lastLines, runChecked } from '../../src/core/kit.js';

/**
 * uv as a tool any provider may use (the uv provider manages with it; mise installs with it when
 * uv is there): the environment every uv command runs with, and the one `uv venv` command.
 */
export function uvEnvironment(ctx: ProviderContext): Record<string, string | undefined> {
  const opts = ctx.config.providers.uv;
  const env: Record<string, string | undefined> = {
    UV_PYTHON_DOWNLOADS: ctx.config.index.offline ? 'never' : opts.pythonDownloads,
    UV_NO_PROGRESS: '1',
    VIRTUAL_ENV: undefined,
    UV_PROJECT_ENVIRONMENT: undefined,
  };
  if (opts.cacheDir) env.UV_CACHE_DIR = opts.cacheDir;
  if (opts.linkMode !== 'auto') env.UV_LINK_MODE = opts.linkMode;
  else if (ctx.executor.kind === 'docker' || opts.cacheDir) env.UV_LINK_MODE = 'copy';
  if (ctx.config.index.offline) env.UV_OFFLINE = '1';
  return env;
}

/** `uv venv` for `python` at the venv path; `whose` names the interpreter in the progress line. */
export async function createVenvWithUv(ctx: ProviderContext, uv: string, python: PythonInterpreter, venv: VenvTarget, whose = 'Python'): Promise<void> {
  ctx.progress({ step: 'venv', message: `uv venv ${venv.path} (${whose} ${python.version})` });
  await runChecked(ctx.executor, uv, ['venv', '--no-project', '--no-config', '--allow-existing', '--python', python.executable, venv.path], {
    env: uvEnvironment(ctx),
    cwd: ctx.projectDir,
    purpose: `create the venv at ${venv.path}`,
    signal: ctx.signal,
  });
}

/**
 * The probe of a manager that was found but does not run: not usable, one error with its fix.
 * A manager the config names (`source` `config`) is the user's decision: the message names the
 * key (`providers.<name>.path`) and the program's output, and the fix says pymgr leaves it alone.
 */
export function managerDoesNotRun(
  name: ProbeResult['name'],
  found: { path: string; source: string },
  res: ExecResult,
  problem: { code: string; what?: string; fix: string },
): ProbeResult {
  const configured = found.source === 'config';
  const output = lastLines(res.stderr || res.stdout, configured ? 5 : 1).trim() || '(no output)';
  const failure: Problem = {
    code: problem.code,
    severity: 'error',
    message: `${name} at ${found.path}${configured ? ` (providers.${name}.path)` : ''} does not run (${problem.what ? `${problem.what} ` : ''}exit ${res.exitCode}): ${output}`,
    fix: configured
      ? `Point providers.${name}.path at a working ${name}, or remove it to let pymgr find one; pymgr never downloads or replaces a manager the config names.`
      : problem.fix,
  };
  return { name, found: false, path: found.path, source: found.source, needsGit: false, problems: [failure] };
}
