import type { ProviderContext } from '../../src/contracts.js';

/**
 * The environment every mise command pymgr runs gets. It never changes the user's global mise
 * configuration or trust list; everything is scoped to this one process:
 *
 * - `MISE_DATA_DIR`, `MISE_CACHE_DIR`, `MISE_STATE_DIR` from `providers.mise.*Dir` when set (else mise's
 *   own defaults, or whatever the user's environment says).
 * - `MISE_TRUSTED_CONFIG_PATHS`: the project directory is added (after any paths the user's environment
 *   already trusts), so mise reads the project's own `mise.toml` for this run without `mise trust`
 *   writing it into the state directory's trust list.
 * - `MISE_PYTHON_COMPILE=0`: precompiled CPython builds only, never a silent build from source. This
 *   overrides `python.compile` in any mise config file (environment beats config files).
 * - `MISE_NOT_FOUND_SYSTEM_FALLBACK=0`, `MISE_AUTO_INSTALL=0`, `MISE_EXEC_AUTO_INSTALL=0`,
 *   `MISE_NOT_FOUND_AUTO_INSTALL=0`: no fallback to a system tool and no installs pymgr did not ask for.
 * - `MISE_OFFLINE=1` when `index.offline`.
 * - `NO_COLOR=1` so messages quoted in errors are plain text.
 */
export function buildMiseEnv(
  config: Pick<ProviderContext['config'], 'providers' | 'index'>,
  projectDir: string,
  baseEnv: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const opts = config.providers.mise;
  const trusted = [...(baseEnv.MISE_TRUSTED_CONFIG_PATHS ?? '').split(':').filter(Boolean)];
  if (!trusted.includes(projectDir)) trusted.push(projectDir);
  const env: Record<string, string | undefined> = {
    MISE_TRUSTED_CONFIG_PATHS: trusted.join(':'),
    MISE_PYTHON_COMPILE: '0',
    MISE_NOT_FOUND_SYSTEM_FALLBACK: '0',
    MISE_AUTO_INSTALL: '0',
    MISE_EXEC_AUTO_INSTALL: '0',
    MISE_NOT_FOUND_AUTO_INSTALL: '0',
    NO_COLOR: '1',
  };
  if (opts.dataDir) env.MISE_DATA_DIR = opts.dataDir;
  if (opts.cacheDir) env.MISE_CACHE_DIR = opts.cacheDir;
  if (opts.stateDir) env.MISE_STATE_DIR = opts.stateDir;
  if (config.index.offline) env.MISE_OFFLINE = '1';
  return env;
}
