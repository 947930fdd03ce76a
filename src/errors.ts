/**
 * One error family for all of pymgr. Every error has a stable `code` callers can branch on,
 * a short `message` (what failed, where), a `hint` (what to do next) and, where there was one,
 * the original `cause`. The library throws these; only the CLI prints them and picks an exit status.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'PROJECT_UNRECOGNISED',
  'PROJECT_INVALID',
  'MANAGER_NOT_FOUND',
  'MANAGER_BROKEN',
  'PYTHON_UNAVAILABLE',
  'COMMAND_FAILED',
  'ISOLATION_FAILED',
  'LOCK_STALE',
  'LOCK_TIMEOUT',
  'VENV_NOT_FOUND',
  'DOCKER_UNAVAILABLE',
  'MANAGER_UNSAFE',
  'IO_FAILED',
  'USAGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface PymgrErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** Extra structured detail (file, key path, command, ...), printed with `--json`. */
  details?: Record<string, unknown>;
}

export class PymgrError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PymgrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PymgrError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** A plain object for JSON output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
      ...(this.cause instanceof Error ? { cause: this.cause.message } : {}),
    };
  }
}

/** True when `err` is a PymgrError, optionally of the given code. */
export function isPymgrError(err: unknown, code?: ErrorCode): err is PymgrError {
  return err instanceof PymgrError && (code === undefined || err.code === code);
}

/** Exit status for the CLI: 2 for usage and configuration errors, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof PymgrError && (err.code === 'CONFIG_INVALID' || err.code === 'USAGE')) return 2;
  return 1;
}

const ERRNO_HINTS: Record<string, string> = {
  EACCES: 'Check the permissions of that path, or run pymgr as a user who may write there.',
  EPERM: 'Check the permissions of that path, or run pymgr as a user who may write there.',
  ENOTDIR: 'A part of that path is a file, not a directory: choose another path (e.g. for `venv`).',
  EEXIST: 'Something already exists at that path: choose another path or move it away yourself.',
  ENOSPC: 'The disk is full: free some space and run again.',
  EROFS: 'That file system is read-only: choose a writable path.',
};

/**
 * A file-system error from Node (`EACCES`, `ENOTDIR`, ...) as IO_FAILED naming the operation and
 * the path; any other error is returned unchanged. Library entry points pass what they throw
 * through this, so callers only ever see PymgrErrors for ordinary failures.
 */
export function toPymgrError(err: unknown): unknown {
  if (err instanceof PymgrError) return err;
  const e = err as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (!e || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return err;
  const where = e.path ? ` ${e.path}${e.dest ? ` -> ${e.dest}` : ''}` : '';
  return new PymgrError('IO_FAILED', `File operation failed: ${e.syscall ?? 'access'}${where}: ${e.code}`, {
    hint: ERRNO_HINTS[e.code] ?? 'Check that path and its permissions, then run again.',
    cause: err,
    details: { errno: e.code, syscall: e.syscall, path: e.path },
  });
}
