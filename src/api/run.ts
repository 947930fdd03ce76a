import { spawn } from 'node:child_process';
import { PymgrError, toPymgrError } from '../errors.js';
import { resolveProject } from '../core/context.js';
import { readState } from '../core/state.js';
import { recoverInterrupted } from '../core/build-aside.js';
import { computeFingerprint, computeInputDigests, describeChangedInputs } from '../core/fingerprint.js';
import { createProvider } from '../../providers/index.js';
import type { RunOptions, RunResult } from '../types.js';

export type { RunOptions, RunResult };

/**
 * The environment a command gets inside the venv: VIRTUAL_ENV set, the venv's bin first on PATH,
 * PYTHONHOME removed.
 */
export function venvEnvironment(venvPath: string, basePath: string | undefined): Record<string, string | undefined> {
  return {
    VIRTUAL_ENV: venvPath,
    PATH: `${venvPath}/bin${basePath ? `:${basePath}` : ''}`,
    PYTHONHOME: undefined,
  };
}

/**
 * Run a command inside the project's env and report its exit status. On the host the command
 * inherits this process's standard streams unless `onOutput` is given; in a container its output
 * is streamed to `onOutput`. Refuses to run when the env is not set up (never falls back to a
 * base interpreter). On the host, a program that is not found is exit status 127 with `notFound`.
 * When the inputs changed since the last setup the command still runs, and `onOutdated` (before it
 * starts) and `changed` name what changed; with `sync` (or config `run.sync`) setup runs first.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  try {
    return await runInEnv(options);
  } catch (err) {
    throw toPymgrError(err);
  }
}

async function runInEnv(options: RunOptions): Promise<RunResult> {
  if (options.command.length === 0) {
    throw new PymgrError('USAGE', 'run needs a command', { hint: 'pymgr run [dir] -- python -m pytest' });
  }
  const resolved = await resolveProject(options);
  const { executor, venvPath, projectDir, ctx, detection } = resolved;
  await recoverInterrupted(executor, venvPath); // a killed setup's previous env goes back first
  if (options.sync ?? ctx.config.run.sync) {
    // As `uv run` does: bring the env up to date first (a cheap no-op when nothing changed).
    const { setup } = await import('./setup.js');
    await setup(options);
  }
  const state = await readState(executor, venvPath);
  if (!state || state.status !== 'ready' || !(await executor.exists(`${venvPath}/bin/python`))) {
    throw new PymgrError('VENV_NOT_FOUND', `No ready env at ${venvPath}`, { hint: 'Run `pymgr setup` first.' });
  }
  // Inputs changed since the last setup: still run (the env works), but say what changed.
  let changed: string[] | undefined;
  const probe = await (await createProvider(state.provider.name)).probe(ctx).catch(() => undefined);
  const input = { executor, plan: detection.plan, provider: probe ?? state.provider, request: detection.python, venvPath, config: ctx.config };
  if ((await computeFingerprint(input)) !== state.fingerprint) {
    changed = state.inputs ? describeChangedInputs(state.inputs, await computeInputDigests(input), projectDir) : [];
    if (!changed.length) changed = ['the project, its config or the manager'];
    options.onOutdated?.(changed);
  }
  const [file, ...args] = options.command;
  const done = (exitCode: number, notFound = false): RunResult => ({ exitCode, notFound, command: options.command, venvPath, ...(changed ? { changed } : {}) });
  const baseEnv = await executor.getEnv();
  const overlay = venvEnvironment(venvPath, baseEnv.PATH);
  if (executor.kind === 'host') {
    const env: Record<string, string | undefined> = { ...process.env, ...overlay };
    delete env.PYTHONHOME;
    const onOutput = options.onOutput;
    return new Promise<RunResult>((resolve, reject) => {
      // Resolve the program on the venv-first PATH, as a shell would.
      const child = spawn(file, args, { stdio: onOutput ? ['inherit', 'pipe', 'pipe'] : 'inherit', env: env as NodeJS.ProcessEnv, signal: options.signal });
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => onOutput?.('stdout', chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => onOutput?.('stderr', chunk));
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') resolve(done(127, true));
        else reject(err);
      });
      child.on('exit', (code, signal) => resolve(done(code ?? (signal ? 128 + signalNumber(signal) : 1))));
    });
  }
  const res = await executor.exec(file, args, {
    env: overlay,
    cwd: projectDir,
    signal: options.signal,
    onOutput: options.onOutput,
  });
  return done(res.exitCode);
}

function signalNumber(signal: NodeJS.Signals): number {
  const map: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return map[signal] ?? 1;
}
