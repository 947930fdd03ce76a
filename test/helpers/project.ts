import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { promisify } from 'node:util';
import { repoRoot } from './tools.js';

const execFileP = promisify(execFile);
const made: string[] = [];

/** A fresh temporary directory (real path), removed by `cleanupTemp`. */
export function makeTemp(prefix = 'pymgr-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

/** Copy `fixtures/<name>` into a fresh temporary directory and return its path. */
export function copyFixture(name: string): string {
  const dir = join(makeTemp(), name);
  cpSync(join(repoRoot, 'fixtures', name), dir, { recursive: true });
  return dir;
}

export function cleanupTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (`bin/pymgr.mjs`) as a user would. */
export async function runCli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Run a Python interpreter and return its stdout (throws on failure). */
export async function python(exe: string, code: string, env?: Record<string, string>): Promise<string> {
  const { stdout } = await execFileP(exe, ['-c', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return stdout.trim();
}

/** Name → version of every distribution the interpreter sees (to prove a base interpreter is unchanged). */
export async function listDistributions(exe: string): Promise<Record<string, string>> {
  const out = await python(
    exe,
    'import json, importlib.metadata as m; print(json.dumps({(d.metadata["Name"] or "").lower(): d.version for d in m.distributions()}))',
    { PYTHONNOUSERSITE: '1' },
  );
  return JSON.parse(out);
}

/** Where `module` is imported from when run by `exe`. */
export async function moduleFile(exe: string, module: string): Promise<string> {
  return python(exe, `import ${module}, os; print(os.path.realpath(${module}.__file__))`);
}

/** A fresh temporary directory holding the given files (relative path → content). */
export function writeTree(files: Record<string, string>, prefix = 'pymgr-test-'): string {
  const dir = makeTemp(prefix);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

/** The PymgrError `promise` rejects with; fails when it resolves or rejects with something else. */
export async function rejection(promise: Promise<unknown>): Promise<PymgrError> {
  try {
    await promise;
  } catch (err) {
    if (isPymgrError(err)) return err;
    throw err;
  }
  throw new Error('expected a PymgrError');
}

/** The PymgrError `fn` throws; fails when it returns or throws something else. */
export function thrown(fn: () => unknown): PymgrError {
  try {
    fn();
  } catch (err) {
    if (isPymgrError(err)) return err;
    throw err;
  }
  throw new Error('expected a PymgrError');
}
