import { PymgrError } from '../errors.js';
import { describeExpected } from './create-config-error.js';
import { listConfigLeaves, type ConfigLeaf } from './list-config-leaves.js';
import { suggestName } from './suggest-name.js';

/**
 * `PYMGR_*` variables that are not configuration keys: they are read elsewhere (or by tests), and
 * are never reported as unknown. `PYMGR_CONFIG` names the config file to load.
 */
export const RESERVED_ENV_VARIABLES: readonly string[] = ['PYMGR_CONFIG', 'PYMGR_TOOLS_DIR', 'PYMGR_STATE_DIR', 'PYMGR_DEBUG'];
/** Prefixes of reserved variables (test settings). */
export const RESERVED_ENV_PREFIXES: readonly string[] = ['PYMGR_TEST_'];

/** Whether a `PYMGR_*` variable is reserved (not a config key). */
export function isReservedEnvVariable(name: string): boolean {
  return RESERVED_ENV_VARIABLES.includes(name) || RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p));
}

export interface EnvConfig {
  /** A partial config (the same shape as a file) built from the variables. */
  input: Record<string, unknown>;
  /** Dotted key path → the variable that set it. */
  variables: Record<string, string>;
}

/**
 * Build the configuration layer that `PYMGR_*` variables set. The mapping comes from the schema:
 * the key path in UPPER_SNAKE with `__` between levels (`index.extraUrls` → `PYMGR_INDEX__EXTRA_URLS`).
 * Lists are comma-separated, booleans are `true`/`false`/`1`/`0` (any case), numbers are decimal.
 * An empty variable counts as unset. An unknown `PYMGR_*` variable, or a value that cannot be read
 * as the key's type, throws CONFIG_INVALID naming the variable. Enum values and the like are checked
 * later by the schema (see `loadConfig`).
 */
export function readEnvConfig(env: Record<string, string | undefined>): EnvConfig {
  const leaves = listConfigLeaves().filter((leaf) => leaf.envName);
  const byName = new Map(leaves.map((leaf) => [leaf.envName as string, leaf]));
  const input: Record<string, unknown> = {};
  const variables: Record<string, string> = {};
  const unknown: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('PYMGR_')) continue;
    const raw = env[name];
    if (isReservedEnvVariable(name)) continue;
    const leaf = byName.get(name);
    if (!leaf) {
      unknown.push(name);
      continue;
    }
    if (raw === undefined || raw === '') continue;
    setAt(input, leaf.segments, parseEnvValue(name, raw, leaf));
    variables[leaf.path] = name;
  }
  if (unknown.length > 0) throw createUnknownVariableError(unknown, [...byName.keys()]);
  return { input, variables };
}

function createUnknownVariableError(names: string[], known: string[]): PymgrError {
  const candidates = [...known, ...RESERVED_ENV_VARIABLES];
  const described = names.map((name) => {
    const suggestion = suggestName(name.slice('PYMGR_'.length), candidates.map((c) => c.slice('PYMGR_'.length)));
    return { name, suggestion: suggestion ? `PYMGR_${suggestion}` : undefined };
  });
  const first = described[0];
  const line = (d: { name: string; suggestion?: string }) =>
    `${d.name} is not a pymgr setting${d.suggestion ? ` (did you mean ${d.suggestion}?)` : ''}`;
  const message =
    described.length === 1
      ? `Unknown environment variable: ${line(first)}`
      : `Unknown environment variables:\n${described.map((d) => `  - ${line(d)}`).join('\n')}`;
  return new PymgrError('CONFIG_INVALID', message, {
    hint: first.suggestion
      ? `Rename ${first.name} to ${first.suggestion}, or unset it.`
      : `Unset ${first.name}. pymgr settings are the config key paths in UPPER_SNAKE_CASE with __ between levels (e.g. PYMGR_INDEX__OFFLINE); \`pymgr config\` lists them.`,
    details: {
      source: 'env',
      variable: first.name,
      keyPath: undefined,
      allowed: known,
      ...(first.suggestion ? { suggestion: first.suggestion } : {}),
      ...(described.length > 1 ? { variables: described } : {}),
    },
  });
}

function parseEnvValue(name: string, raw: string, leaf: ConfigLeaf): unknown {
  if (leaf.kind === 'array') {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return items.map((item) => parseScalar(name, item, leaf, leaf.itemKind ?? 'string'));
  }
  return parseScalar(name, raw, leaf, leaf.kind);
}

function parseScalar(name: string, raw: string, leaf: ConfigLeaf, kind: string): unknown {
  if (kind === 'boolean') {
    const text = raw.trim().toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw createValueError(name, raw, leaf, 'true, false, 1 or 0');
  }
  if (kind === 'number') {
    const text = raw.trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) throw createValueError(name, raw, leaf, describeExpected(leaf, true));
    return value;
  }
  return raw;
}

function createValueError(name: string, raw: string, leaf: ConfigLeaf, expected: string): PymgrError {
  return new PymgrError(
    'CONFIG_INVALID',
    `Invalid environment variable ${name}: ${JSON.stringify(raw)} is not valid for ${leaf.path}; expected ${expected}`,
    {
      hint: `Set ${name} to ${expected}, or unset it.`,
      details: { source: 'env', variable: name, keyPath: leaf.path, allowed: expected },
    },
  );
}

function setAt(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let current = target;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (next === null || typeof next !== 'object') current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  current[segments[segments.length - 1]] = value;
}
