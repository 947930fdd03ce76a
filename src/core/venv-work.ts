/**
 * What a setup does to the venv directory, and how it is undone: the decision (create, update in
 * place, rebuild) with the reason for it, and the work around it that keeps the previous env
 * aside until the new one has verified (see build-aside.ts).
 */
import type { Executor, PythonInterpreter } from '../contracts.js';
import { PymgrError, toPymgrError } from '../errors.js';
import { saveAside, type Aside } from './build-aside.js';
import type { EnvRecord } from './state.js';
import { inspectVenv } from './verify.js';

export interface VenvDecision {
  action: 'created' | 'updated' | 'rebuilt';
  /** Why it is updated or rebuilt (`manager changed: uv → pyenv`); none for a new venv. */
  reason?: string;
  /** The directory holding the venv's files (the target of a symbolic-link venv path). */
  dir: string;
  /** Whether that directory existed before (an empty one is kept: it may be a mount point). */
  existed: boolean;
}

export interface DecideInput {
  state: EnvRecord | undefined;
  /** The manager this setup uses. */
  provider: string;
  python: PythonInterpreter;
  /** Top-level requirements no longer requested (they cannot be uninstalled reliably in place). */
  dropped: string[];
  /** Why the manager cannot use the existing venv (a pip-based manager and a venv without pip). */
  venvProblem: () => Promise<string | undefined>;
  /** Why the env needs an update at all, when known (shown as the reason of an update in place). */
  updateReason?: string;
  /**
   * Called once the cheap checks leave an update in place likely; the venv's interpreter checks the
   * env once the promise it returns settles (what it starts must not change the env).
   */
  onUpdateLikely?: (dir: string) => Promise<void> | void;
}

/**
 * Decide what to do with the venv directory; changes nothing.
 * - missing or empty: `created`;
 * - a venv whose last setup did not finish, built by another manager or another base Python, that
 *   must lose a dropped requirement, fails its checks or that the manager cannot use: `rebuilt`;
 * - otherwise `updated` in place;
 * - a path that is not a directory, or a non-empty directory that is not a venv: an error.
 */
export async function decideVenvWork(executor: Executor, venvPath: string, input: DecideInput): Promise<VenvDecision> {
  let dir = venvPath;
  let st = await executor.stat(venvPath);
  // A venv path that is a symbolic link to a directory (a venv on another disk) is used as is.
  if (st?.isSymbolicLink) {
    const real = await executor.realpath(venvPath).catch(() => undefined);
    st = real ? await executor.stat(real) : undefined;
    if (real && st) dir = real;
    else st = { isDirectory: false } as typeof st;
  }
  if (st && !st.isDirectory) {
    throw new PymgrError('PROJECT_INVALID', `The venv path ${venvPath} exists and is not a directory (or is a broken link)`, {
      hint: 'Set `venv` in the pymgr config to another path; pymgr does not remove it for you.',
    });
  }
  const entries = (await executor.readDir(dir)) ?? [];
  if (!st || entries.length === 0) return { action: 'created', dir, existed: !!st };
  const looksLikeVenv = entries.includes('pyvenv.cfg') || entries.includes('.pymgr');
  if (!looksLikeVenv) {
    throw new PymgrError('PROJECT_INVALID', `${venvPath} exists, is not empty and is not a venv; pymgr will not touch it`, {
      hint: 'Point `venv` in the pymgr config at a new or empty directory, or move that directory away yourself.',
      details: { venv: venvPath, entries: entries.slice(0, 10) },
    });
  }
  const rebuild = (reason: string): VenvDecision => ({ action: 'rebuilt', reason, dir, existed: true });
  const { state, python } = input;
  if (state && state.status !== 'ready') return rebuild('the last setup did not finish');
  if (state && state.provider.name !== input.provider) return rebuild(`manager changed: ${state.provider.name} → ${input.provider}`);
  if (input.dropped.length) return rebuild(`no longer requested: ${input.dropped.join(', ')}`);
  if (!entries.includes('pyvenv.cfg')) return rebuild('not a complete venv (no pyvenv.cfg)');
  await input.onUpdateLikely?.(dir);
  const check = await inspectVenv(executor, venvPath, [], { versionOk: (v) => v === python.version });
  if (!check.verified) {
    const version = check.facts?.version;
    if (version && version !== python.version) return rebuild(`Python changed: ${version} → ${python.version}`);
    return rebuild(`the venv fails its checks: ${check.checks.filter((c) => !c.ok).map((c) => c.detail).join('; ')}`);
  }
  if (state && state.python.executable !== python.executable && !(await sameFile(executor, state.python.executable, python.executable))) {
    return rebuild(`base Python changed: ${state.python.executable} → ${python.executable}`);
  }
  const problem = await input.venvProblem();
  if (problem) return rebuild(problem);
  return {
    action: 'updated',
    reason: input.updateReason ?? (state ? 'the project, its config or the manager changed' : 'a venv pymgr has no record of'),
    dir,
    existed: true,
  };
}

async function sameFile(executor: Executor, a: string, b: string): Promise<boolean> {
  const [ra, rb] = await Promise.all([executor.realpath(a).catch(() => a), executor.realpath(b).catch(() => b)]);
  return ra === rb;
}

/** The venv work in progress: undo it on failure, or drop the kept previous env once verified. */
export interface VenvWork {
  /** The build id to record in the new env's state (`build`). */
  readonly id: string;
  /** Undo: put the previous env back (or remove what was created). Returns what the user is told, if anything. */
  rollback(): Promise<string | undefined>;
  /** The new env is verified and recorded: drop the previous one. */
  commit(): Promise<void>;
}

/**
 * {@link decideVenvWork}, then {@link beginVenvWork}, with an update's snapshot taken while the
 * venv's interpreter checks the env (the snapshot and the check only read the env: the checks run
 * with `-B`). When the decision turns out a rebuild, or an error, the snapshot is stopped and
 * dropped first; a kill in between leaves a snapshot identical to the env, or an unfinished one,
 * which recovery puts back or removes (build-aside.ts).
 */
export async function startVenvWork(executor: Executor, venvPath: string, input: DecideInput, id: string): Promise<{ decision: VenvDecision; work: VenvWork }> {
  const stop = new AbortController();
  let snapshot: Promise<{ aside: Aside } | { error: unknown }> | undefined;
  // The check starts once the copies have (the snapshot's first steps are quick file operations).
  const onUpdateLikely = async (dir: string) => {
    let copying!: () => void;
    const started = new Promise<void>((resolve) => (copying = resolve));
    snapshot = saveAside(executor, dir, 'copy', id, { signal: stop.signal, onCopying: copying }).then((aside) => ({ aside }), (error: unknown) => ({ error }));
    await Promise.race([started, snapshot]);
  };
  /** The snapshot is not wanted: stop it, and drop it when it was complete (saveAside drops an unfinished one). */
  const drop = async (): Promise<void> => {
    stop.abort(new Error('the snapshot is not needed: the env is rebuilt'));
    const taken = await snapshot;
    if (taken && 'aside' in taken) await taken.aside.discard();
  };
  let decision: VenvDecision;
  try {
    decision = await decideVenvWork(executor, venvPath, { ...input, onUpdateLikely });
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  if (!snapshot) return { decision, work: await beginVenvWork(executor, decision, id) };
  if (decision.action !== 'updated') {
    await drop();
    return { decision, work: await beginVenvWork(executor, decision, id) };
  }
  const taken = await snapshot;
  if ('error' in taken) throw taken.error;
  return { decision, work: asideWork(id, decision.dir, taken.aside) };
}

/**
 * Start the work the decision calls for: a rebuild moves the previous env aside (the directory is
 * then empty), an update keeps a hard-link snapshot of it, a new venv needs nothing kept.
 */
export async function beginVenvWork(executor: Executor, decision: VenvDecision, id: string): Promise<VenvWork> {
  const { dir } = decision;
  if (decision.action === 'created') {
    return {
      id,
      async rollback() {
        if (decision.existed) {
          for (const name of (await executor.readDir(dir)) ?? []) await executor.remove(`${dir}/${name}`, { recursive: true });
        } else {
          await executor.remove(dir, { recursive: true });
        }
        return undefined; // there was no previous env: nothing to say
      },
      async commit() {},
    };
  }
  return asideWork(id, dir, await saveAside(executor, dir, decision.action === 'rebuilt' ? 'move' : 'copy', id));
}

/** The work of an update or a rebuild, with the previous env kept in `aside`. */
function asideWork(id: string, dir: string, aside: Aside): VenvWork {
  return {
    id,
    async rollback() {
      try {
        await aside.restore();
      } catch (err) {
        return `the previous env is kept in ${aside.path}, but putting it back failed (${(err as Error).message}): run \`pymgr doctor --fix\``;
      }
      return `the previous env at ${dir} was kept as it was`;
    },
    commit: () => aside.discard(),
  };
}

/**
 * The error of a failed setup, saying what became of the previous env (on the message's first
 * line, so it shows however the message is rendered; also `details.previousEnv`). Without an
 * outcome (there was no previous env) the error is returned as it is.
 */
export function withKeptEnv(err: unknown, outcome: string | undefined): unknown {
  const e = toPymgrError(err);
  if (!outcome) return e;
  const said = (m: string) => {
    const [first, ...rest] = m.split('\n');
    return [`${first.replace(/\s+$/, '')} (${outcome})`, ...rest].join('\n');
  };
  if (!(e instanceof PymgrError)) {
    if (e instanceof Error) e.message = said(e.message);
    return e;
  }
  return new PymgrError(e.code, said(e.message), {
    hint: e.hint,
    cause: e.cause,
    details: { ...e.details, previousEnv: outcome },
  });
}
