import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isatty } from 'node:tty';
import { PymgrError, toPymgrError } from '../errors.js';
import { resolveProject } from '../core/context.js';
import { readState } from '../core/state.js';
import { recoverInterrupted } from '../core/build-aside.js';
import { computeInputDigests, describeChangedInputs, describeManagerChange, fingerprintMatches } from '../core/fingerprint.js';
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
 * `signal` stops the setup that `sync` runs and then the command (on the host: SIGTERM).
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const prepared = await prepareRun(options);
  return prepared.start({ signal: options.signal });
}

/** How `PreparedRun.start` runs the command. */
export interface StartOptions {
  /** Aborting it stops the command (on the host with SIGTERM) and `start` rejects with the reason. */
  signal?: AbortSignal;
  /**
   * On the host, as `uv run` does, for a program whose last act is the command: while it runs,
   * SIGINT, SIGQUIT, SIGTERM and SIGHUP that this process receives no longer end this process
   * but go to the command, and `start` resolves with its exit status once it has exited.
   * SIGTERM and SIGHUP are forwarded always. SIGINT and SIGQUIT are forwarded unless this process
   * is in its terminal's foreground process group: a Ctrl-C (Ctrl-\) there already reached the
   * command, which is in the same group, and a second delivery would interrupt its clean-up
   * (uv forwards a second Ctrl-C: astral-sh/uv#13756). The handlers are removed when it exits.
   */
  forwardSignals?: boolean;
}

/** A command ready to run in a ready env (setup done when asked, `onOutdated` called). */
export interface PreparedRun {
  venvPath: string;
  /** What changed since the last setup, when something did. */
  changed?: string[];
  /** Start the command and wait for it to exit. */
  start(options?: StartOptions): Promise<RunResult>;
}

/**
 * Everything `run` does before the command starts: recover an interrupted setup, run setup when
 * `sync` (or config `run.sync`) asks, check the env is ready and what changed since the last
 * setup. `options.signal` stops the setup cleanly (the previous env is kept, the lock released);
 * aborted by then, it rejects with the signal's reason rather than hand back a command to start.
 * Lets a caller stop the preparation one way (abort) and the command another (`forwardSignals`).
 */
export async function prepareRun(options: RunOptions): Promise<PreparedRun> {
  try {
    const prepared = await prepareInEnv(options);
    options.signal?.throwIfAborted();
    return prepared;
  } catch (err) {
    throw toPymgrError(err);
  }
}

async function prepareInEnv(options: RunOptions): Promise<PreparedRun> {
  if (options.command.length === 0) {
    throw new PymgrError('USAGE', 'run needs a command', { hint: 'pymgr run [dir] -- python -m pytest' });
  }
  const resolved = await resolveProject(options);
  const { executor, venvPath, projectDir, ctx, detection } = resolved;
  await recoverInterrupted(executor, venvPath); // a killed setup's previous env goes back first
  if (options.sync ?? ctx.config.run.sync) {
    // As `uv run` does: bring the env up to date first (a cheap no-op when nothing changed).
    options.signal?.throwIfAborted();
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
  // Another manager asked for (--provider, config): setup would rebuild with it.
  const swapped = describeManagerChange(ctx.config.provider, state.provider.name);
  if (!(await fingerprintMatches(input, state.fingerprint))) {
    changed = state.inputs ? describeChangedInputs(state.inputs, await computeInputDigests(input), projectDir) : [];
    if (!changed.length && !swapped) changed = ['the project, its config or the manager'];
  }
  if (swapped) changed = [`the manager (${state.provider.name} → ${ctx.config.provider})`, ...(changed ?? [])];
  if (changed) options.onOutdated?.(changed);
  const [file, ...args] = options.command;
  const done = (exitCode: number, notFound = false): RunResult => ({ exitCode, notFound, command: options.command, venvPath, ...(changed ? { changed } : {}) });
  const baseEnv = await executor.getEnv();
  const overlay = venvEnvironment(venvPath, baseEnv.PATH);
  const onOutput = options.onOutput;
  let started = false;
  const start = async (how: StartOptions = {}): Promise<RunResult> => {
    if (started) throw new PymgrError('USAGE', 'a prepared run starts its command once');
    started = true;
    try {
      return await startCommand(how);
    } catch (err) {
      throw toPymgrError(err);
    }
  };
  const startCommand = async (how: StartOptions): Promise<RunResult> => {
    if (executor.kind !== 'host') {
      const res = await executor.exec(file, args, { env: overlay, cwd: projectDir, signal: how.signal, onOutput });
      return done(res.exitCode);
    }
    const env: Record<string, string | undefined> = { ...process.env, ...overlay };
    delete env.PYTHONHOME;
    return new Promise<RunResult>((resolve, reject) => {
      // Resolve the program on the venv-first PATH, as a shell would.
      const child = spawn(file, args, { stdio: onOutput ? ['inherit', 'pipe', 'pipe'] : 'inherit', env: env as NodeJS.ProcessEnv, signal: how.signal });
      // Installed in the same tick as the spawn: no moment where a signal ends this process alone.
      const unforward = how.forwardSignals ? forwardSignalsTo(child) : () => {};
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => onOutput?.('stdout', chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => onOutput?.('stderr', chunk));
      child.on('error', (err: NodeJS.ErrnoException) => {
        unforward();
        if (err.code === 'ENOENT') resolve(done(127, true));
        else reject(err);
      });
      child.on('exit', (code, signal) => {
        unforward();
        resolve(done(code ?? (signal ? 128 + signalNumber(signal) : 1)));
      });
    });
  };
  return { venvPath, ...(changed ? { changed } : {}), start };
}

const FORWARDED = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const;

/** Send the stop signals this process receives to `child` (see `StartOptions.forwardSignals`); returns the undo. */
function forwardSignalsTo(child: ChildProcess): () => void {
  const onSignal = (sig: NodeJS.Signals) => {
    if ((sig === 'SIGINT' || sig === 'SIGQUIT') && terminalSignalsReachChild()) return;
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of FORWARDED) process.on(sig, onSignal);
  return () => {
    for (const sig of FORWARDED) process.off(sig, onSignal);
  };
}

/**
 * Whether a terminal's Ctrl-C reaches the command by itself: this process (and so the command,
 * started in its process group) is in the foreground process group of its controlling terminal.
 * Asked when the signal arrives (job control moves groups to and from the foreground).
 */
function terminalSignalsReachChild(): boolean {
  try {
    // /proc/self/stat: pid (comm) state ppid pgrp session tty_nr tpgid ...
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    // No /proc: a terminal on a standard stream is the best hint of an interactive foreground job.
    return isatty(0) || isatty(1) || isatty(2);
  }
}

/** The number of a signal by name (SIGABRT 6, SIGSEGV 11, ...), for the shell's 128 + n. */
function signalNumber(signal: NodeJS.Signals): number {
  return osConstants.signals[signal] ?? 1;
}
