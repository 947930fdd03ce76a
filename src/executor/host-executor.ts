import { promises as fs, constants as fsConstants, accessSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { execa } from 'execa';
import type { ExecOptions, ExecResult, Executor, ExecutorCost, FileStat } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { mergeEnv } from './env.js';
import { EXEC_VAR, HOLDER, HOLDER_VAR, holderEntry, nextExecTag, stopProcessesWith } from './holder.js';

export { mergeEnv };

export interface HostExecutorOptions {
  /** Base environment for programs (default: `process.env`). Injectable for tests. */
  env?: Record<string, string | undefined>;
}

/** Runs programs and touches files on this machine, through execa and node:fs. */
export class HostExecutor implements Executor {
  readonly kind = 'host' as const;
  readonly description = 'host';
  private readonly baseEnv: Record<string, string>;
  private execs = 0;

  constructor(options: HostExecutorOptions = {}) {
    this.baseEnv = mergeEnv(options.env ?? process.env, undefined);
  }

  cost(): ExecutorCost {
    return { execs: this.execs };
  }

  async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.execs++;
    if (options.user !== undefined) {
      throw new PymgrError('USAGE', `Running as another user (${options.user}) is not supported on the host`, {
        hint: 'Run pymgr as that user instead, or use a Docker executor.',
      });
    }
    // Tagged with this process (see ./holder.ts): what a pymgr killed with -9 left running is found
    // and stopped; and with this program, whose own children a stopped step stops too.
    const tag = nextExecTag();
    const env = mergeEnv(this.baseEnv, { ...options.env, [HOLDER_VAR]: HOLDER, [EXEC_VAR]: tag });
    const child = execa(file, [...args], {
      cwd: options.cwd,
      env,
      extendEnv: false,
      input: options.stdin,
      stdin: options.stdin === undefined ? 'ignore' : undefined,
      timeout: options.timeoutMs,
      cancelSignal: options.signal,
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
      buffer: true,
    });
    if (options.onOutput) {
      const cb = options.onOutput;
      child.stdout?.on('data', (chunk: Buffer) => cb('stdout', chunk.toString('utf8')));
      child.stderr?.on('data', (chunk: Buffer) => cb('stderr', chunk.toString('utf8')));
    }
    // Stopped (a signal, a timeout): execa stops the program, not what it started (uv's build
    // backend), which may hold its output open, so execa would wait for it: stopped at once.
    const entry = `${EXEC_VAR}=${tag}`;
    const stopStarted = () => void stopProcessesWith(entry, 2_000);
    options.signal?.addEventListener('abort', stopStarted, { once: true });
    const timer = options.timeoutMs ? setTimeout(stopStarted, options.timeoutMs) : undefined;
    timer?.unref();
    let result;
    try {
      result = await child;
    } finally {
      options.signal?.removeEventListener('abort', stopStarted);
      clearTimeout(timer);
    }
    // Started meanwhile by a program being stopped: looked for once more.
    if (result.isCanceled || result.timedOut) await stopProcessesWith(entry, 2_000);
    if (result.isCanceled) {
      throw options.signal?.reason instanceof Error
        ? options.signal.reason
        : new PymgrError('COMMAND_FAILED', `Aborted: ${file}`, { cause: options.signal?.reason });
    }
    const code = (result as { code?: string }).code;
    let exitCode: number;
    if (code === 'ENOENT') exitCode = 127;
    else if (code === 'EACCES') exitCode = 126;
    else if (typeof result.exitCode === 'number') exitCode = result.exitCode;
    else exitCode = -1;
    return {
      command: [file, ...args],
      exitCode,
      stdout: String(result.stdout ?? ''),
      stderr: exitCode === 127 && !result.stderr ? `${file}: not found` : String(result.stderr ?? ''),
      timedOut: result.timedOut === true,
    };
  }

  /**
   * {@link Executor.stopLeftovers}: a pymgr killed with -9 leaves its programs running (an
   * installer goes on writing into the env). Every program this executor starts carries
   * `_PYMGR_HOLDER=<host>/<pid>` (inherited by its children); those of the dead `from` are killed.
   */
  async stopLeftovers(from: { host: string; pid: number }): Promise<number> {
    if (from.host !== hostname()) return 0; // another machine's programs are out of reach
    return stopProcessesWith(holderEntry(from));
  }

  async readFile(path: string): Promise<string> {
    return readFileSync(path, 'utf8');
  }

  async writeFile(path: string, content: string, options: { mode?: number } = {}): Promise<void> {
    await fs.writeFile(path, content, { encoding: 'utf8', mode: options.mode });
  }

  // Lookups and reads (exists, stat, readDir, realpath, readFile) are answered synchronously: the kernel answers them
  // from its caches in microseconds, while a round trip through libuv's thread pool costs 50–100 µs,
  // and detecting one project makes a few dozen of them (see `npm run bench`, detection row).

  async exists(path: string): Promise<boolean> {
    try {
      accessSync(path, fsConstants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = lstatSync(path);
      return {
        isFile: s.isFile(),
        isDirectory: s.isDirectory(),
        isSymbolicLink: s.isSymbolicLink(),
        uid: s.uid,
        gid: s.gid,
        mode: s.mode & 0o7777,
        size: s.size,
        mtimeMs: s.mtimeMs,
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async mkdir(path: string, options: { recursive?: boolean; mode?: number } = {}): Promise<boolean> {
    try {
      const made = await fs.mkdir(path, { recursive: options.recursive ?? false, mode: options.mode });
      return options.recursive ? made !== undefined : true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !options.recursive) return false;
      throw err;
    }
  }

  async readDir(path: string): Promise<string[] | undefined> {
    try {
      return readdirSync(path).sort();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async remove(path: string, options: { recursive?: boolean; large?: boolean } = {}): Promise<void> {
    if (options.recursive && options.large) {
      // A whole env (thousands of entries): rm -rf takes about half the time of Node's walk; when it
      // fails, Node's removal runs and reports the error.
      const res = await execa('rm', ['-rf', '--', path], { reject: false, stdin: 'ignore', encoding: 'utf8' }).catch(() => undefined);
      if (res?.exitCode === 0) return;
    }
    await fs.rm(path, { recursive: options.recursive ?? false, force: true });
  }

  rename(from: string, to: string): Promise<void> {
    return fs.rename(from, to);
  }

  async realpath(path: string): Promise<string> {
    return realpathSync(path);
  }

  async getEnv(): Promise<Record<string, string>> {
    return { ...this.baseEnv };
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

