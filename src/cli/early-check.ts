/**
 * The warm no-op's interpreter, started before pymgr's own code is loaded.
 *
 * A warm `pymgr setup` on the host is one start of the venv's interpreter (src/cli/fast-path.ts);
 * what costs time beyond it is Node loading pymgr's code first. So each fast-path check leaves a
 * hint naming the exact program it ran (file, arguments, variables), under a name derived from
 * the working directory and the command line; bin/pymgr.mjs reads it before it loads anything
 * and, when a hint is there, starts that program at once. The fast path then takes the running
 * program only when it is exactly the one it would start itself (same file, arguments and
 * variables), and otherwise starts its own; a stale hint costs one wasted interpreter start,
 * never a wrong answer: the program checks the venv as it is when it runs, and the fast path
 * still compares the watch list and the state after starting it, as it always does.
 *
 * The hint's text is the command serialised as {@link serialise} writes it: bin/pymgr.mjs runs it as
 * read (`null` variables removed) and hands back the text with the result.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExecResult } from '../contracts.js';
import { mergeEnv } from '../executor/env.js';
import { pymgrCacheDir } from '../core/paths.js';

/** A program the fast path runs: the file, its arguments, the variables laid over the environment, the time limit. */
export interface CheckCommand {
  file: string;
  args: string[];
  /** `null` (or `undefined`): the variable is removed. */
  env?: Record<string, string | null | undefined>;
  timeoutMs?: number;
}

/** The command as the hint holds it: a removed variable is `null` (JSON has no `undefined`). */
export function serialise(command: CheckCommand): string {
  const env = command.env && Object.fromEntries(Object.entries(command.env).map(([k, v]) => [k, v ?? null]));
  return JSON.stringify({ file: command.file, args: command.args, env, timeoutMs: command.timeoutMs });
}

/**
 * What bin/pymgr.mjs started (it reads the hint and starts the program itself, before loading any
 * module, and leaves them here): the hint's text and the program's result.
 */
export const EARLY_SLOT = Symbol.for('pymgr.earlyCheck');
/** How a run ended, as bin/pymgr.mjs and {@link runCheck} both report it. */
interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  killed: boolean;
}
interface Started {
  text: string;
  result: Promise<Ran>;
}
function takeStarted(): Started | undefined {
  const slot = globalThis as { [EARLY_SLOT]?: Started };
  const started = slot[EARLY_SLOT];
  delete slot[EARLY_SLOT];
  return started;
}

/**
 * Where the hint for this command line in this directory lives:
 * `<pymgr cache>/quick/early-<FNV-1a 64 of cwd NUL argv...>.json`. bin/pymgr.mjs computes the same
 * name by itself (it loads nothing first); test/unit/early-check.test.ts holds them together.
 */
export function earlyHintPath(env: Record<string, string | undefined>, cwd: string, argv: readonly string[]): string {
  return `${pymgrCacheDir(env)}/quick/early-${fnv64([cwd, ...argv].join('\0'))}.json`;
}

/**
 * The result of `command`: the program bin/pymgr.mjs started from the hint when the hint named
 * exactly this one (taken once), else a start of its own; the hint is rewritten when it named
 * something else (or nothing).
 */
export function runCheckCommand(command: CheckCommand, argv: readonly string[] = process.argv.slice(2), env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<ExecResult> {
  const text = serialise(command);
  const started = takeStarted();
  let ran: Promise<Ran>;
  if (started?.text === text) ran = started.result;
  else {
    rememberHint(earlyHintPath(env, cwd, argv), text);
    ran = runCheck(command);
  }
  return ran.then((r) => ({ command: [command.file, ...command.args], exitCode: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.killed }));
}

/**
 * Name `command` in the hint for this command line (a full setup that recorded its result: the
 * same command run again checks that record first).
 */
export function leaveHint(command: CheckCommand, env: Record<string, string | undefined> = process.env, argv: readonly string[] = process.argv.slice(2), cwd = process.cwd()): void {
  rememberHint(earlyHintPath(env, cwd, argv), serialise(command));
}

/** Run `command` as bin/pymgr.mjs does (its variables laid over this process's, `null` removed). */
function runCheck(command: CheckCommand): Promise<Ran> {
  const env = mergeEnv(process.env, command.env && Object.fromEntries(Object.entries(command.env).map(([k, v]) => [k, v ?? undefined])));
  return new Promise((resolvePromise) => {
    execFile(command.file, command.args, { env: env as NodeJS.ProcessEnv, timeout: command.timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
      resolvePromise({ code, stdout, stderr, killed: !!(err as { killed?: boolean } | null)?.killed });
    });
  });
}

/** Write the hint whole (a private temporary name, then a rename); never fails the command. */
function rememberHint(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch {
    /* only an optimisation */
  }
}

/** FNV-1a, 64 bits, as 16 hex digits (no crypto module to load this early). */
function fnv64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}
