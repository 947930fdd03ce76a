import path from 'node:path';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { createConfigError, describeIssues, type ConfigOrigin } from './create-config-error.js';
import { findConfigFile, readConfigFile, type FoundConfigFile } from './find-config-file.js';
import { listConfigLeaves } from './list-config-leaves.js';
import { readEnvConfig } from './read-env-config.js';
import { configSchema, type PymgrConfig, type PymgrConfigInput } from './schema.js';

export { RESERVED_ENV_VARIABLES, RESERVED_ENV_PREFIXES, isReservedEnvVariable } from './read-env-config.js';
export { CONFIG_SEARCH_PLACES } from './find-config-file.js';

/** Where one resolved value came from. */
export type ConfigSource = {
  source: 'default' | 'file' | 'env' | 'flag';
  /** The config file, for `file`. */
  file?: string;
  /** The environment variable, for `env`. */
  variable?: string;
};

export interface ResolvedConfig {
  /** The validated configuration, defaults filled in. */
  config: PymgrConfig;
  /** Dotted key path of every leaf (arrays are leaves) → where its value came from. */
  sources: Record<string, ConfigSource>;
  /** The config file used, if any. */
  file?: string;
}

export interface LoadConfigOptions {
  /** The project directory: the search for a config file starts here (a path where the executor runs). */
  projectDir: string;
  /** Environment to read `PYMGR_*` from (default: `process.env`). */
  env?: Record<string, string | undefined>;
  /** Values from command-line flags; the same shape as the config, `undefined` values ignored. */
  flags?: PymgrConfigInput;
  /**
   * A config file to use instead of searching (relative: from `projectDir`). Default: `PYMGR_CONFIG`
   * from `env`. Missing or unreadable is an error.
   */
  configFile?: string;
  /** The last directory searched (default: the home directory, where the executor runs). */
  stopDir?: string;
  /** Where the project lives; a non-host executor (Docker) is searched through its file operations. */
  executor?: Executor;
}

/**
 * Resolve the configuration: CLI flags over `PYMGR_*` variables over the config file over the
 * schema's defaults, merged key by key (a list is replaced, never concatenated). Each layer is
 * validated on its own so that an error names where the bad value came from: the file, the
 * variable, or the flag. Throws CONFIG_INVALID.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const remote = options.executor && options.executor.kind !== 'host';
  const p = remote ? path.posix : path;
  const projectDir = p.resolve(options.projectDir);

  const envLayer = readEnvConfig(env);

  const named = options.configFile ?? (env.PYMGR_CONFIG ? env.PYMGR_CONFIG : undefined);
  let found: FoundConfigFile | undefined;
  if (named !== undefined) found = await readConfigFile(p.resolve(projectDir, named), options.executor);
  else {
    try {
      found = await findConfigFile({ projectDir, stopDir: options.stopDir, executor: options.executor });
    } catch (err) {
      // The project's own pyproject.toml that does not parse is the project's problem first.
      const own = p.join(projectDir, 'pyproject.toml');
      if (err instanceof PymgrError && err.details?.file === own && err.details?.line !== undefined) {
        throw new PymgrError('PROJECT_INVALID', err.message.replace('Cannot read config file', 'Cannot parse the project file'), {
          hint: err.hint,
          cause: err.cause,
          details: err.details,
        });
      }
      throw err;
    }
  }

  const fileInput = found?.config ?? {};
  if (found) validateLayer(fileInput, { kind: 'file', file: found.file, label: found.label });
  validateLayer(envLayer.input, { kind: 'env', variables: envLayer.variables });
  const flagInput = dropUndefined(options.flags ?? {}) as Record<string, unknown>;
  validateLayer(flagInput, { kind: 'flag' });

  const merged = mergeDeep(mergeDeep(fileInput as Record<string, unknown>, envLayer.input), flagInput);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    // Every layer passed alone, so this is a problem of the combination (none exist in the schema today).
    throw createConfigError(describeIssues(parsed.error.issues, merged, { kind: 'flag' }), { kind: 'flag' });
  }

  const sources: Record<string, ConfigSource> = {};
  for (const leaf of listConfigLeaves()) {
    if (hasAt(flagInput, leaf.segments)) sources[leaf.path] = { source: 'flag' };
    else if (envLayer.variables[leaf.path]) sources[leaf.path] = { source: 'env', variable: envLayer.variables[leaf.path] };
    else if (found && hasAt(fileInput, leaf.segments)) sources[leaf.path] = { source: 'file', file: found.file };
    else sources[leaf.path] = { source: 'default' };
  }
  return { config: parsed.data, sources, ...(found ? { file: found.file } : {}) };
}

function validateLayer(input: unknown, origin: ConfigOrigin): void {
  const result = configSchema.safeParse(input);
  if (!result.success) throw createConfigError(describeIssues(result.error.issues, input, origin), origin);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function dropUndefined(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = dropUndefined(v);
  return out;
}

/** `over` laid on `base`, objects merged key by key, anything else (lists too) replaced. */
function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

function hasAt(value: unknown, segments: readonly string[]): boolean {
  let current = value;
  for (const segment of segments) {
    if (!isPlainObject(current) || current[segment] === undefined) return false;
    current = current[segment];
  }
  return true;
}
