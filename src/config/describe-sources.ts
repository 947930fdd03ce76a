import type { ResolvedConfig } from './load-config.js';
import { listConfigLeaves } from './list-config-leaves.js';

/** One row of `pymgr config`: a key, its value and where the value came from. */
export interface SourceRow {
  /** Dotted key path, e.g. `index.offline`. */
  key: string;
  /** The resolved value (`undefined` for an optional key nobody set). */
  value: unknown;
  /** `default`, `file`, `env` or `flag`. */
  source: string;
  /** The file or the environment variable, when there is one. */
  where?: string;
}

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
