/**
 * Finding the real tools integration tests need. In CI (CI=true) a missing tool is a test
 * failure; locally the test is skipped with a loud reason on stderr.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

function which(name: string): string | undefined {
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Path of uv, or undefined. */
export function findUv(): string | undefined {
  return process.env.PYMGR_TEST_UV ?? which('uv');
}

/** Path of the mise binary installed from npm (a dev dependency), or undefined. */
export function findMise(): string | undefined {
  const p = join(repoRoot, 'node_modules', '@jdxcode', 'mise', 'bin', 'mise');
  return existsSync(p) ? p : which('mise');
}

/** The machine's pyenv root, or undefined. */
export function findPyenvRoot(): string | undefined {
  const root = process.env.PYMGR_TEST_PYENV_ROOT ?? join(process.env.HOME ?? '/root', '.pyenv');
  return existsSync(join(root, 'bin', 'pyenv')) ? root : undefined;
}

/**
 * Decide whether a test that needs `what` can run. Returns true when it can. In CI a missing
 * tool throws (the test fails); locally it prints why and returns false (the caller skips).
 */
export function requireTool(what: string, present: unknown): boolean {
  if (present) return true;
  const msg = `${what} is not available: this integration test cannot run`;
  if (inCI) throw new Error(`${msg} (CI must install it: see .ci/run)`);
  process.stderr.write(`\n*** SKIPPING: ${msg}. Run \`bash .ci/run\` or the README's test command to install it. ***\n\n`);
  return false;
}
