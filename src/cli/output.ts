import type { ProgressEvent } from '../contracts.js';
import { PymgrError, toPymgrError } from '../errors.js';
import { redact } from '../redact.js';

/** Where the CLI writes; injectable so tests can capture. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
}

export const processIO: CliIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  isTTY: !!process.stderr.isTTY,
};

/**
 * Progress display: on a TTY one live status line (rewritten in place) plus the step headings;
 * otherwise plain lines, one per step message. Tool output is shown only with `verbose`.
 * Nothing at all in JSON mode.
 */
export function createProgress(io: CliIO, mode: { json: boolean; verbose: boolean }): (e: ProgressEvent) => void {
  if (mode.json) return () => undefined;
  let live = false;
  let last = '';
  return (e) => {
    if (e.output !== undefined) {
      if (mode.verbose) {
        if (live) io.stderr('\r\x1b[2K');
        live = false;
        io.stderr(redact(e.output));
      } else if (io.isTTY) {
        const line = redact(e.output).trim().split('\n').pop() ?? '';
        if (line) {
          io.stderr(`\r\x1b[2K  ${e.step}: ${line.slice(0, Math.max(20, (process.stderr.columns || 80) - e.step.length - 6))}`);
          live = true;
        }
      }
      return;
    }
    const msg = `${e.step}: ${redact(e.message)}`;
    if (msg === last) return;
    last = msg;
    if (live) io.stderr('\r\x1b[2K');
    live = false;
    io.stderr(`• ${msg}\n`);
  };
}

/** Print an error for people or as the one JSON document. */
export function printError(io: CliIO, err: unknown, json: boolean): void {
  err = toPymgrError(err);
  if (json) {
    const payload = err instanceof PymgrError ? err.toJSON() : { code: 'INTERNAL', message: String((err as Error)?.message ?? err) };
    printJson(io, { ok: false, error: payload });
    return;
  }
  if (err instanceof PymgrError) {
    io.stderr(`pymgr: error [${err.code}]: ${redact(err.message)}\n`);
    if (err.hint) io.stderr(`  hint: ${redact(err.hint)}\n`);
    if (err.cause instanceof Error && !err.message.includes(err.cause.message)) io.stderr(`  cause: ${redact(err.cause.message)}\n`);
  } else {
    io.stderr(`pymgr: internal error: ${(err as Error)?.stack ?? err}\n`);
  }
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(JSON.stringify(value, (_k, v) => (typeof v === 'string' ? redact(v) : v), 2) + '\n');
}

/** The result of `pymgr setup`, for people or as the one JSON document. */
export function printSetupResult(io: CliIO, result: import('../api/setup.js').SetupResult, json: boolean): void {
  if (json) {
    printJson(io, { ok: true, ...result });
    return;
  }
  const p = result.provider;
  io.stdout(
    `ready: ${result.venv.path} (${result.venv.action}) — Python ${result.python.version}, ${p.name}${p.version ? ` ${p.version}` : ''}, ${result.projectType} project, ${result.isolation.checks.length} checks passed in ${result.durationMs} ms\n`,
  );
  for (const note of result.install.notes) io.stdout(`  note: ${redact(note)}\n`);
}
