import * as z from 'zod';
import { PROVIDER_NAMES } from '../provider-names.js';

/**
 * The configuration schema: the one source of truth for `.pymgrrc` and friends, the `PYMGR_*`
 * environment variables, CLI flags and the committed `config.schema.json` (generated from this).
 * Every object is strict: an unknown key is an error.
 */

const providerName = z.enum(PROVIDER_NAMES);

/** An index: an http(s) or file URL, or an absolute directory path (as pip and uv accept). */
function isIndexLocation(value: string): boolean {
  if (value.startsWith('/')) return true;
  if (/\s/.test(value)) return false;
  try {
    return ['http:', 'https:', 'file:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
const indexLocation = z
  .string()
  .min(1)
  .refine(isIndexLocation, { message: 'a URL such as https://pypi.org/simple (http, https or file), or an absolute directory path' });

const uvOptions = z
  .strictObject({
    path: z.string().min(1).optional().describe('Path to the uv binary. Default: PATH, then pymgr\'s tools directory.'),
    provision: z
      .boolean()
      .default(true)
      .describe('Install uv into pymgr\'s tools directory with an existing interpreter\'s pip when none is found.'),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'an exact version such as 0.13.9')
      .default('0.13.9')
      .describe('The uv version pymgr provisions.'),
    cacheDir: z.string().min(1).optional().describe('uv cache directory (UV_CACHE_DIR).'),
    linkMode: z
      .enum(['auto', 'copy', 'hardlink', 'symlink', 'clone'])
      .default('auto')
      .describe('How uv links files from its cache: auto picks copy when the cache and venv are on different file systems.'),
    pythonDownloads: z
      .enum(['never', 'manual', 'automatic'])
      .default('never')
      .describe('Whether uv may download managed Pythons.'),
    keyringProvider: z
      .enum(['disabled', 'subprocess'])
      .optional()
      .describe("uv's --keyring-provider: `subprocess` asks the `keyring` command for index credentials."),
  })
  .prefault({});

const pyenvOptions = z
  .strictObject({
    path: z.string().min(1).optional().describe('Path to the pyenv executable (its root is derived from it).'),
    root: z.string().min(1).optional().describe('pyenv root (PYENV_ROOT). Default: $PYENV_ROOT, then ~/.pyenv.'),
    repository: z
      .string()
      .min(1)
      .default('https://github.com/pyenv/pyenv.git')
      .describe('Where pyenv is cloned from when it has to be installed.'),
    install: z.boolean().default(true).describe('Install pyenv itself, and missing Pythons, when needed.'),
    update: z.boolean().default(false).describe('Pull the latest pyenv before use (runs git).'),
    buildCache: z.string().min(1).optional().describe('Directory of CPython source tarballs (PYTHON_BUILD_CACHE_PATH).'),
    mirrorUrl: z.string().min(1).optional().describe('Mirror for python-build downloads (PYTHON_BUILD_MIRROR_URL).'),
  })
  .prefault({});

const miseOptions = z
  .strictObject({
    path: z.string().min(1).optional().describe('Path to the mise binary. Default: PATH.'),
    dataDir: z.string().min(1).optional().describe('MISE_DATA_DIR.'),
    cacheDir: z.string().min(1).optional().describe('MISE_CACHE_DIR.'),
    stateDir: z.string().min(1).optional().describe('MISE_STATE_DIR.'),
    install: z.boolean().default(true).describe('Install a missing Python with mise (precompiled builds only).'),
    syncPyenv: z.boolean().default(false).describe("Offer pyenv's Pythons to mise (mise sync python --pyenv)."),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of config.schema.json, for editors.'),
    provider: z
      .enum(['auto', ...PROVIDER_NAMES])
      .default('auto')
      .describe('The manager to use; auto picks one from the project and what is installed.'),
    preference: z
      .array(providerName)
      .min(1)
      .default([...PROVIDER_NAMES])
      .describe('The order managers are tried in when provider is auto (git-free first).'),
    python: z.string().min(1).optional().describe('Python version request: 3.12, 3.11.2, >=3.10,<3.13.'),
    venv: z.string().min(1).default('.venv').describe('Where the venv goes, relative to the project directory.'),
    dependencies: z
      .strictObject({
        requirements: z
          .array(z.string().min(1))
          .optional()
          .describe('Requirement files to install (default: the requirements*.txt files found).'),
        constraints: z.array(z.string().min(1)).default([]).describe('Constraint files (-c).'),
        extras: z.array(z.string().min(1)).default([]).describe('Extras of the project to install.'),
        groups: z.array(z.string().min(1)).default([]).describe('Dependency groups (PEP 735) to install.'),
        editable: z.boolean().default(true).describe('Install the project itself in editable mode.'),
        dev: z.boolean().default(false).describe('Install development dependencies (uv dev group, rye dev lock).'),
        allExtras: z.boolean().default(false).describe('Install every extra the project defines (as uv sync --all-extras).'),
        lock: z
          .enum(['locked', 'frozen', 'update'])
          .default('locked')
          .describe('Lock files (uv.lock, rye): locked refuses a stale lock, frozen installs exactly what the lock says, update re-locks.'),
      })
      .prefault({}),
    index: z
      .strictObject({
        url: indexLocation.optional().describe('Primary package index URL.'),
        extraUrls: z.array(indexLocation).default([]).describe('Extra index URLs.'),
        findLinks: z.array(z.string().min(1)).default([]).describe('Directories or URLs of distributions (--find-links).'),
        offline: z.boolean().default(false).describe('Never touch the network.'),
        noIndex: z.boolean().default(false).describe('Ignore package indexes (use find-links only).'),
      })
      .prefault({}),
    providers: z
      .strictObject({
        uv: uvOptions,
        pyenv: pyenvOptions,
        mise: miseOptions,
      })
      .prefault({}),
    docker: z
      .strictObject({
        user: z
          .string()
          .regex(/^[a-zA-Z0-9_][a-zA-Z0-9_.-]*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]*)?$/, 'uid:gid, uid, or a user name')
          .optional()
          .describe('In a container: run the managers as this user (uid:gid); the venv is owned by it.'),
        inherit: z
          .array(z.enum(['ca', 'proxy', 'index']))
          .default(['ca', 'proxy', 'index'])
          .describe("In a container: what the managers' commands get from the host — its CA bundle (copied in), its proxy variables, its index variables (PIP_INDEX_URL, UV_INDEX_URL, ...)."),
      })
      .prefault({}),
    verify: z
      .strictObject({
        packages: z.boolean().default(true).describe('Check that every requested top-level dependency is installed in the venv.'),
        timeoutMs: z.number().int().positive().default(60000).describe('Time limit for the verification interpreter.'),
        deep: z
          .boolean()
          .default(false)
          .describe("Also compare every installed file's hash with its RECORD (slower); sizes and presence are always checked."),
      })
      .prefault({}),
    run: z
      .strictObject({
        sync: z.boolean().default(false).describe('`pymgr run` runs setup first (as `uv run` does; a cheap no-op when nothing changed), like `run --sync`.'),
      })
      .prefault({}),
  })
  .describe('pymgr configuration');

/** The input form (what a user writes). */
export type PymgrConfigInput = z.input<typeof configSchema>;
/** The resolved form (defaults filled in). */
export type PymgrConfig = z.output<typeof configSchema>;

/** Defaults, as the schema fills them in. */
export function defaultConfig(): PymgrConfig {
  return configSchema.parse({});
}
