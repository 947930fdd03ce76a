import type { ProgressEvent } from '../contracts.js';
import { PymgrError, toPymgrError } from '../errors.js';
import { redact } from '../redact.js';
import type { SetupResult } from '../types.js';

/** Where the CLI writes; injectable so tests can capture. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (a live progress line is drawn there). */
  isTTY: boolean;
  /** Whether to colour each stream (default: off). */
  colour?: { stdout: boolean; stderr: boolean };
  /** All of standard input (default: process.stdin). */
  readStdin?: () => Promise<string>;
}

/**
 * Colour on a terminal unless NO_COLOR is set (https://no-color.org); FORCE_COLOR (not `0`)
 * turns it on even when the output is not a terminal.
 */
export function colourFor(isTTY: boolean, env: Record<string, string | undefined> = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

export const processIO: CliIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  isTTY: !!process.stderr.isTTY,
  colour: { stdout: colourFor(!!process.stdout.isTTY), stderr: colourFor(!!process.stderr.isTTY) },
};

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;

/** `text` in the given style when colour is on for that stream. */
export function paint(io: CliIO, stream: 'stdout' | 'stderr', style: keyof typeof SGR, text: string): string {
  return io.colour?.[stream] ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text;
}

/** The CLIs whose stderr currently ends in a live (unfinished) progress line. */
const liveLine = new WeakSet<CliIO>();

/** Erase the live progress line, if one is drawn, so the next text starts on a clean line. */
export function clearLiveLine(io: CliIO): void {
  if (!liveLine.has(io)) return;
  io.stderr('\r\x1b[2K');
  liveLine.delete(io);
}

/**
 * Progress display: on a TTY one live status line (rewritten in place) plus the step headings;
 * otherwise plain lines, one per step message. Tool output is shown only with `verbose`.
 * In JSON mode only waits for a lock, as JSON lines on stderr.
 */
export function createProgress(io: CliIO, mode: { json: boolean; verbose: boolean }): (e: ProgressEvent) => void {
  // With --json stdout holds the one result document; a wait for another process is still
  // reported (never a silent stall), as one JSON line on stderr.
  if (mode.json) {
    return (e) => {
      if (e.wait) io.stderr(JSON.stringify({ event: 'progress', step: e.step, message: redact(e.message), wait: { ...e.wait, holder: redact(e.wait.holder) } }) + '\n');
    };
  }
  let last = '';
  return (e) => {
    if (e.phase?.state === 'end') return;
    if (e.output !== undefined) {
      if (mode.verbose) {
        clearLiveLine(io);
        io.stderr(redact(e.output));
      } else if (io.isTTY) {
        const line = redact(e.output).trim().split('\n').pop() ?? '';
        if (line) {
          const width = Math.max(20, (process.stderr.columns || 80) - e.step.length - 6);
          io.stderr(`\r\x1b[2K  ${paint(io, 'stderr', 'dim', `${e.step}: ${line.slice(0, width)}`)}`);
          liveLine.add(io);
        }
      }
      return;
    }
    const msg = `${e.step}: ${redact(e.message)}`;
    if (msg === last) return;
    last = msg;
    clearLiveLine(io);
    io.stderr(`${paint(io, 'stderr', 'cyan', '•')} ${paint(io, 'stderr', 'dim', `${e.step}:`)} ${redact(e.message)}\n`);
  };
}

/** Print an error for people or as the one JSON document. */
export function printError(io: CliIO, err: unknown, json: boolean, verbose = false): void {
  err = toPymgrError(err);
  clearLiveLine(io);
  if (json) {
    const payload = err instanceof PymgrError ? err.toJSON() : { code: 'INTERNAL', message: String((err as Error)?.message ?? err) };
    printJson(io, { ok: false, error: payload });
    return;
  }
  if (err instanceof PymgrError) {
    io.stderr(`pymgr: ${paint(io, 'stderr', 'red', `error[${err.code}]`)}: ${redact(err.message)}\n`);
    if (err.hint) io.stderr(`  ${paint(io, 'stderr', 'yellow', 'hint:')} ${redact(err.hint)}\n`);
    const command = err.details?.command;
    if (verbose && Array.isArray(command)) io.stderr(`  ${paint(io, 'stderr', 'dim', 'command:')} ${redact(command.join(' '))}\n`);
    if (err.cause instanceof Error && !err.message.includes(err.cause.message)) io.stderr(`  cause: ${redact(err.cause.message)}\n`);
  } else {
    io.stderr(`pymgr: internal error: ${(err as Error)?.stack ?? err}\n`);
  }
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(JSON.stringify(value, (_k, v) => (typeof v === 'string' ? redact(v) : v), 2) + '\n');
}

/** The result of `pymgr setup`, for people or as the one JSON document. */
export function printSetupResult(io: CliIO, result: SetupResult, json: boolean): void {
  clearLiveLine(io);
  if (json) {
    printJson(io, { ok: true, ...result });
    return;
  }
  const p = result.provider;
  io.stdout(
    `${paint(io, 'stdout', 'green', 'ready:')} ${result.venv.path} (${result.venv.action}${result.venv.reason ? `: ${result.venv.reason}` : ''}) — Python ${result.python.version}, ${p.name}${p.version ? ` ${p.version}` : ''}, ${result.projectType} project, ${result.isolation.checks.length} checks passed in ${result.durationMs} ms\n`,
  );
  for (const note of result.install.notes) io.stdout(`  note: ${redact(note)}\n`);
  const summary = describeChanges(result.changes);
  if (summary) io.stdout(`  ${paint(io, 'stdout', 'bold', 'changed:')} ${summary}\n`);
}

/**
 * `+2 packages (attrs==23.2.0, six==1.16.0), -1 package (pip==24.0); Python 3.13.0 → 3.12.1; manager uv → pyenv`
 * (the names when there are at most three of a kind), or nothing when nothing changed.
 */
export function describeChanges(changes: SetupResult['changes']): string {
  if (!changes) return '';
  const parts: string[] = [];
  const pkgs: string[] = [];
  const some = (sign: string, list: string[], what: (n: number) => string) => {
    if (list.length) pkgs.push(`${sign}${list.length} ${what(list.length)}${list.length <= 3 ? ` (${list.join(', ')})` : ''}`);
  };
  some('+', changes.added, (n) => (n > 1 ? 'packages' : 'package'));
  some('-', changes.removed, (n) => (n > 1 ? 'packages' : 'package'));
  some('', changes.changed, (n) => (n > 1 ? 'versions changed' : 'version changed'));
  if (pkgs.length) parts.push(pkgs.join(', '));
  if (changes.python) parts.push(`Python ${changes.python.from} → ${changes.python.to}`);
  if (changes.manager) parts.push(`manager ${changes.manager.from} → ${changes.manager.to}`);
  return parts.join('; ');
}
