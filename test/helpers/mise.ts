/**
 * Running the real mise in isolation: a throw-away HOME and XDG directories, and mise's data, cache
 * and state directories passed through pymgr's config, so the user's own mise state is never touched.
 * Also a tiny in-memory executor for unit tests of the mise provider's decisions.
 */
import { existsSync, mkdirSync, readdirSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ExecOptions, ExecResult, Executor, FileStat } from '../../src/contracts.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { makeTemp } from './project.js';

export interface IsolatedMise {
  /** The fake HOME (with empty XDG config/data/state/cache directories under it). */
  home: string;
  dataDir: string;
  cacheDir: string;
  stateDir: string;
  /** The environment programs get (process.env with HOME and XDG_* replaced, MISE_* removed). */
  env: Record<string, string | undefined>;
  executor: HostExecutor;
  /** `providers.mise` flags pointing mise at the directories above. */
  miseFlags: { path: string; dataDir: string; cacheDir: string; stateDir: string; syncPyenv: boolean };
}

/** A fresh isolated mise setup. `pyenvRoot` is kept readable (mise only links to its versions). */
export function makeIsolatedMise(mise: string, options: { pyenvRoot?: string; path?: string } = {}): IsolatedMise {
  const base = makeTemp('pymgr-mise-');
  const home = join(base, 'home');
  const dataDir = join(base, 'mise-data');
  const cacheDir = join(base, 'mise-cache');
  const stateDir = join(base, 'mise-state');
  for (const d of [home, join(home, '.config'), join(home, '.local', 'share'), join(home, '.local', 'state'), join(home, '.cache')]) {
    mkdirSync(d, { recursive: true });
  }
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('MISE_') || key.startsWith('PYMGR_')) delete env[key];
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    VIRTUAL_ENV: undefined,
  });
  if (options.pyenvRoot) env.PYENV_ROOT = options.pyenvRoot;
  if (options.path !== undefined) env.PATH = options.path;
  return {
    home,
    dataDir,
    cacheDir,
    stateDir,
    env,
    executor: new HostExecutor({ env }),
    miseFlags: { path: mise, dataDir, cacheDir, stateDir, syncPyenv: true },
  };
}

/** Every path under `root` with its type and mtime, to prove a directory tree was not changed. */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      out[p] = `${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'}:${st.size}:${st.mtimeMs}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/** The real user's mise directories (never to be changed by a test). */
export function realMiseDirs(): string[] {
  const h = homedir();
  return [join(h, '.config', 'mise'), join(h, '.local', 'share', 'mise'), join(h, '.local', 'state', 'mise'), join(h, '.cache', 'mise')];
}

type Handler = (args: readonly string[], options: ExecOptions) => Partial<ExecResult> | undefined;

/**
 * An in-memory executor for unit tests: programs are handlers keyed by path, files a map.
 * Unknown programs exit 127, like a missing binary.
 */
export class FakeExecutor implements Executor {
  readonly kind = 'host' as const;
  readonly description = 'fake host';
  readonly files = new Map<string, string>();
  readonly programs = new Map<string, Handler>();
  readonly calls: Array<{ file: string; args: readonly string[]; options: ExecOptions }> = [];

  constructor(readonly env: Record<string, string> = { PATH: '/usr/bin', HOME: '/home/u' }) {}

  async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ file, args, options });
    const handler = this.programs.get(file);
    const res = handler?.(args, options);
    if (!handler || !res) return { command: [file, ...args], exitCode: 127, stdout: '', stderr: `${file}: not found`, timedOut: false };
    return { command: [file, ...args], exitCode: 0, stdout: '', stderr: '', timedOut: false, ...res };
  }

  async readFile(path: string): Promise<string> {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`ENOENT: ${path}`);
    return text;
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.files.set(path, content);
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.programs.has(path) || [...this.files.keys(), ...this.programs.keys()].some((k) => k.startsWith(`${path}/`));
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const isFile = this.files.has(path) || this.programs.has(path);
    const isDirectory = !isFile && (await this.exists(path));
    if (!isFile && !isDirectory) return undefined;
    const mode = this.programs.has(path) || isDirectory ? 0o755 : 0o644;
    return { isFile, isDirectory, isSymbolicLink: false, uid: 0, gid: 0, mode, size: 0, mtimeMs: 0 };
  }

  async mkdir(): Promise<boolean> {
    return true;
  }

  async readDir(path: string): Promise<string[] | undefined> {
    const names = new Set<string>();
    for (const k of [...this.files.keys(), ...this.programs.keys()]) {
      if (k.startsWith(`${path}/`)) names.add(k.slice(path.length + 1).split('/')[0]);
    }
    return names.size ? [...names] : undefined;
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }

  async rename(from: string, to: string): Promise<void> {
    const t = this.files.get(from);
    if (t !== undefined) this.files.set(to, t);
    this.files.delete(from);
  }

  async realpath(path: string): Promise<string> {
    return path;
  }

  async getEnv(): Promise<Record<string, string>> {
    return { ...this.env };
  }
}
