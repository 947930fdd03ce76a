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
