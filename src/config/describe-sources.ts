import type { ResolvedConfig } from './load-config.js';
import { listConfigLeaves } from './list-config-leaves.js';
import type { SourceRow } from '../types.js';

export type { SourceRow };

/** Every leaf of the resolved config in schema order, with its source, for display. */
export function describeSources(resolved: ResolvedConfig): SourceRow[] {
  return listConfigLeaves().map((leaf) => {
    let value: unknown = resolved.config;
    for (const segment of leaf.segments) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
    }
    const source = resolved.sources[leaf.path] ?? { source: 'default' as const };
    const where = source.file ?? source.variable;
    return { key: leaf.path, value, source: source.source, ...(where ? { where } : {}) };
  });
}

/** The command-line flag of a config key, where it has one that differs from `--<last segment>`. */
const FLAG_NAMES: Record<string, string> = {
  'dependencies.lock': '--frozen/--locked/--relock',
  'dependencies.extras': '--extra',
  'dependencies.groups': '--group',
  'dependencies.allExtras': '--all-extras',
  'index.url': '--index-url',
  'index.findLinks': '--find-links',
};

/**
 * Where the value of `key` came from, as a user would name it: the flag (`--python`), the
 * environment variable (`PYMGR_PYTHON`) or the config file's path; `undefined` for a default.
 */
export function describeOrigin(resolved: ResolvedConfig, key: string): string | undefined {
  const origin = resolved.sources[key];
  if (!origin || origin.source === 'default') return undefined;
  if (origin.source === 'flag') return FLAG_NAMES[key] ?? `--${key.split('.').pop()!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return origin.source === 'env' ? origin.variable : origin.file;
}
