import { configSchema } from './schema.js';

/**
 * The leaves of the config schema, walked from the zod definition itself so that the environment
 * variable mapping, the source table and the error messages never drift from the schema.
 * Arrays are leaves (a list is set as a whole, by every layer).
 */

export type LeafKind = 'string' | 'boolean' | 'number' | 'enum' | 'array';

export interface ConfigLeaf {
  /** Dotted key path, e.g. `index.offline`. */
  path: string;
  /** The same as segments. */
  segments: string[];
  kind: LeafKind;
  /** For an array: the kind of its items. */
  itemKind?: Exclude<LeafKind, 'array'>;
  /** Allowed values of an enum (or of an array of enums). */
  values?: string[];
  /** Whether the number must be an integer. */
  integer?: boolean;
  /** `PYMGR_INDEX__OFFLINE`; absent for keys that cannot be set from the environment (`$schema`). */
  envName?: string;
  description?: string;
}

// zod 4 keeps the definition under `_zod.def`; only the handful of wrappers used in schema.ts matter.
interface ZodLike {
  _zod: { def: ZodDef };
  description?: string;
}
interface ZodDef {
  type: string;
  innerType?: ZodLike;
  shape?: Record<string, ZodLike>;
  element?: ZodLike;
  entries?: Record<string, string | number>;
  checks?: Array<{ _zod: { def: { check?: string; format?: string } } }>;
  in?: ZodLike;
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** Strip default/optional/prefault wrappers; keep the first description met on the way. */
function unwrap(schema: ZodLike): { inner: ZodLike; description?: string } {
  let current = schema;
  let description = schema.description;
  for (;;) {
    const def = current._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
    description ??= current.description;
  }
  return { inner: current, description };
}

function describeScalar(schema: ZodLike): { kind: Exclude<LeafKind, 'array'>; values?: string[]; integer?: boolean } {
  const def = schema._zod.def;
  switch (def.type) {
    case 'string':
      return { kind: 'string' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'number': {
      const integer = (def.checks ?? []).some((c) => c._zod.def.format === 'safeint' || c._zod.def.format === 'int32');
      return { kind: 'number', integer: integer || undefined };
    }
    case 'enum':
      return { kind: 'enum', values: Object.values(def.entries ?? {}).map(String) };
    default:
      // Anything else is treated as text; schema.ts uses no other leaf types today.
      return { kind: 'string' };
  }
}

/** `extraUrls` → `EXTRA_URLS`. */
export function toEnvSegment(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

function walk(schema: ZodLike, segments: string[], out: ConfigLeaf[]): void {
  const { inner, description } = unwrap(schema);
  const def = inner._zod.def;
  if (def.type === 'object' && def.shape) {
    for (const [key, child] of Object.entries(def.shape)) walk(child, [...segments, key], out);
    return;
  }
  const path = segments.join('.');
  const envName = segments.every((s) => /^[A-Za-z][A-Za-z0-9]*$/.test(s))
    ? `PYMGR_${segments.map(toEnvSegment).join('__')}`
    : undefined;
  if (def.type === 'array' && def.element) {
    const item = describeScalar(unwrap(def.element).inner);
    out.push({ path, segments, kind: 'array', itemKind: item.kind, values: item.values, envName, description });
    return;
  }
  out.push({ path, segments, ...describeScalar(inner), envName, description });
}

let cachedLeaves: ConfigLeaf[] | undefined;

/** Every leaf of the config schema, in schema order. */
export function listConfigLeaves(): ConfigLeaf[] {
  cachedLeaves ??= (() => {
    const out: ConfigLeaf[] = [];
    walk(configSchema as unknown as ZodLike, [], out);
    return out;
  })();
  return cachedLeaves;
}

/**
 * The keys allowed in the object at `segments` (numbers, for array items, are skipped), or
 * `undefined` when that path is not an object in the schema.
 */
export function listAllowedKeys(segments: readonly PropertyKey[]): string[] | undefined {
  let current: ZodLike = configSchema as unknown as ZodLike;
  for (const segment of segments) {
    const { inner } = unwrap(current);
    const def = inner._zod.def;
    if (typeof segment !== 'string') {
      if (def.type !== 'array' || !def.element) return undefined;
      current = def.element;
      continue;
    }
    const child = def.type === 'object' ? def.shape?.[segment] : undefined;
    if (!child) return undefined;
    current = child;
  }
  const def = unwrap(current).inner._zod.def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

/** The leaf at a key path (array indexes dropped), if there is one. */
export function findLeaf(segments: readonly PropertyKey[]): ConfigLeaf | undefined {
  const path = segments.filter((s): s is string => typeof s === 'string').join('.');
  return listConfigLeaves().find((leaf) => leaf.path === path);
}
