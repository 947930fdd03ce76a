import type { ExecOptions, ExecResult, Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { redact, redactArgs } from '../redact.js';

export interface RunCheckedOptions extends ExecOptions {
  /** What this command was for, for the error message ("create the venv"). */
  purpose?: string;
  /** The hint attached to the error when it fails. */
  hint?: string;
}

/** Run a program and throw COMMAND_FAILED (with its output, credentials redacted) on a non-zero exit. */
export async function runChecked(
  executor: Executor,
  file: string,
  args: readonly string[],
  options: RunCheckedOptions = {},
): Promise<ExecResult> {
  const result = await executor.exec(file, args, options);
  if (result.exitCode !== 0 || result.timedOut) {
    throw commandFailed(executor, result, options.purpose, options.hint);
  }
  return result;
}

/** What installers and interpreters print when a write failed for want of space. */
const DISK_FULL = /No space left on device|ENOSPC|\[Errno 28\]|os error 28|Disk quota exceeded|EDQUOT/;

export function commandFailed(executor: Executor, result: ExecResult, purpose?: string, hint?: string): PymgrError {
  const cmd = redactArgs(result.command).join(' ');
  // A full disk is the cause whatever the command was for: the caller's hint would mislead.
  if (DISK_FULL.test(result.stderr) || DISK_FULL.test(result.stdout)) {
    hint = `The disk is full (No space left on device) on ${executor.description}: free space where the venv, the manager's cache or the temporary directory live, then run \`pymgr setup\` again (it repairs what the full disk left half-installed).`;
  }
  const why = result.timedOut ? 'timed out' : result.exitCode === 127 ? 'program not found' : `exit ${result.exitCode}`;
  const tail = redact(lastLines(result.stderr || result.stdout, 15));
  return new PymgrError(
    'COMMAND_FAILED',
    `${purpose ? `Could not ${purpose}: ` : ''}\`${cmd}\` failed (${why}) on ${executor.description}${tail ? `\n${tail}` : ''}`,
    { hint, details: { command: redactArgs(result.command), exitCode: result.exitCode, stderr: tail } },
  );
}

/** The last `n` lines of a program's output. */
export function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
