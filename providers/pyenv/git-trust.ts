/**
 * Scoped trust for git: `safe.directory=<dir>` given to one command through its environment
 * (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`), never written to any config file.
 *
 * git >= 2.35.2 refuses to work in a repository owned by another user ("detected dubious
 * ownership"); command-line scope config (which these variables are) is allowed to override that.
 * The variables also reach every git that the command starts (pyenv and its plugins run git themselves).
 */

/**
 * Variables to lay over `base` so that one command trusts `dirs`. Entries already in `base`
 * (`GIT_CONFIG_COUNT` and its keys) are kept: the new ones are appended after them.
 */
export function buildGitTrustEnv(base: Record<string, string | undefined>, dirs: readonly string[]): Record<string, string> {
  const existing = base.GIT_CONFIG_COUNT;
  let n = existing !== undefined && /^\d+$/.test(existing.trim()) ? Number(existing.trim()) : 0;
  const env: Record<string, string> = {};
  for (const dir of [...new Set(dirs.filter((d) => d.length > 0))]) {
    env[`GIT_CONFIG_KEY_${n}`] = 'safe.directory';
    env[`GIT_CONFIG_VALUE_${n}`] = dir;
    n++;
  }
  env.GIT_CONFIG_COUNT = String(n);
  return env;
}
