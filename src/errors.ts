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
