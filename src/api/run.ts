import { spawn } from 'node:child_process';
import type { CliIO } from '../cli/output.js';
import { PymgrError } from '../errors.js';
import { resolveProject, type CommonOptions } from '../core/context.js';
import { readState } from '../core/state.js';

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
 * Run a command inside the project's env and return its exit status. On the host the command
 * inherits the terminal; in a container its output is streamed. Refuses to run when the env is
 * not set up (never falls back to a base interpreter).
 */
export async function runInEnv(options: CommonOptions, command: string[], io: CliIO): Promise<number> {
  const { executor, venvPath } = await resolveProject(options);
  const state = await readState(executor, venvPath);
  if (!state || state.status !== 'ready' || !(await executor.exists(`${venvPath}/bin/python`))) {
    throw new PymgrError('VENV_NOT_FOUND', `No ready env at ${venvPath}`, { hint: 'Run `pymgr setup` first.' });
  }
  const [file, ...args] = command;
  const baseEnv = await executor.getEnv();
  const overlay = venvEnvironment(venvPath, baseEnv.PATH);
  if (executor.kind === 'host') {
    const env: Record<string, string | undefined> = { ...process.env, ...overlay };
    delete env.PYTHONHOME;
    return new Promise<number>((resolve, reject) => {
      // Resolve the program on the venv-first PATH, as a shell would.
      const child = spawn(file, args, { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          io.stderr(`pymgr: ${file}: command not found (PATH starts with ${venvPath}/bin)\n`);
          resolve(127);
        } else reject(err);
      });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  }
  const res = await executor.exec(file, args, {
    env: overlay,
    cwd: options.projectDir,
    onOutput: (stream, chunk) => (stream === 'stdout' ? io.stdout(chunk) : io.stderr(chunk)),
  });
  return res.exitCode;
}

function signalNumber(signal: NodeJS.Signals): number {
  const map: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return map[signal] ?? 1;
}
