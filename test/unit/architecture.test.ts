/**
 * The dependency rule of ARCHITECTURE.md, checked over the real import graph of src/ and
 * providers/ (every static import, `export … from`, dynamic `import()` and `import('…')` type,
 * as TypeScript's own pre-processor reads them):
 *
 *   cli → api → (providers | docker) → core → detect → config → executor → foundation
 *
 * - a module imports only modules of its own layer or of a lower one;
 * - providers and docker are peers: neither imports the other;
 * - providers import from src/ only the contract (src/contracts.ts) and the provider kit
 *   (src/core/kit.ts), and no provider folder imports another one (providers/common is shared);
 * - there is no import circle, at file level, anywhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/tools.js';

/** Layers, lowest first. A file belongs to the first layer whose test matches its path. */
const LAYERS: Array<{ name: string; rank: number; match: (file: string) => boolean }> = [
  {
    name: 'foundation',
    rank: 0,
    // The contracts, the public result types, the error family and the small pure helpers
    // everything shares; the config schema is part of the contract (config.schema.json).
    match: (f) => ['src/contracts.ts', 'src/provider-names.ts', 'src/types.ts', 'src/errors.ts', 'src/redact.ts', 'src/python-version.ts', 'src/config/schema.ts'].includes(f),
  },
  { name: 'executor', rank: 1, match: (f) => f.startsWith('src/executor/') },
  { name: 'config', rank: 2, match: (f) => f.startsWith('src/config/') },
  { name: 'detect', rank: 3, match: (f) => f.startsWith('src/detect/') },
  { name: 'core', rank: 4, match: (f) => f.startsWith('src/core/') },
  { name: 'providers', rank: 5, match: (f) => f.startsWith('providers/') },
  { name: 'docker', rank: 5, match: (f) => f.startsWith('src/docker/') },
  { name: 'api', rank: 6, match: (f) => f.startsWith('src/api/') },
  { name: 'cli', rank: 7, match: (f) => f.startsWith('src/cli/') },
  { name: 'index', rank: 8, match: (f) => f === 'src/index.ts' },
];

const PROVIDER_KIT = ['src/contracts.ts', 'src/core/kit.ts'];

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function layerOf(file: string) {
  const layer = LAYERS.find((l) => l.match(file));
  if (!layer) throw new Error(`${file} belongs to no layer: add it to the table in ARCHITECTURE.md and this test`);
  return layer;
}

/** `file` → the repository-relative .ts files it imports (packages and node: built-ins left out). */
function importGraph(): Map<string, string[]> {
  const files = [...listSources('src'), ...listSources('providers')];
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(repoRoot, file), 'utf8'), true, true);
    const targets: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), fileName)).replace(/\.js$/, '.ts');
      if (!known.has(target)) throw new Error(`${file} imports ${fileName}, which is not a source file`);
      if (!targets.includes(target)) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every import circle (strongly connected component of more than one file, or a self-import). */
function findCircles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return circles;
}

/** Every import that breaks the layer rule, as "from → to (why)". */
function findViolations(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    for (const to of targets) {
      const b = layerOf(to);
      if (b.rank > a.rank) out.push(`${from} → ${to} (${a.name} may not import ${b.name}: it is above it)`);
      else if (b.rank === a.rank && a.name !== b.name) out.push(`${from} → ${to} (${a.name} and ${b.name} are peers)`);
      else if (a.name === 'providers' && to.startsWith('src/') && !PROVIDER_KIT.includes(to)) {
        out.push(`${from} → ${to} (providers import only ${PROVIDER_KIT.join(' and ')} from src/)`);
      } else if (a.name === 'providers' && b.name === 'providers') {
        // providers/<name>/… is a provider, providers/common/… the shared helpers, and the files
        // directly in providers/ the registry (which knows each provider by its manifest only).
        const folder = (f: string) => (f.split('/').length === 2 ? 'registry' : f.split('/')[1]);
        const own = folder(from);
        const other = folder(to);
        if (own === 'registry') {
          if (other !== 'registry' && !to.endsWith('/manifest.ts')) out.push(`${from} → ${to} (the registry loads a provider through its manifest only)`);
        } else if (own === 'common') {
          if (other !== 'common') out.push(`${from} → ${to} (providers/common is shared: it imports no provider)`);
        } else if (other === 'registry') out.push(`${from} → ${to} (a provider does not import the registry)`);
        else if (other !== own && other !== 'common') out.push(`${from} → ${to} (a provider never imports another provider)`);
      }
    }
  }
  return out;
}

describe('the dependency rule (ARCHITECTURE.md)', () => {
  const graph = importGraph();

  it('reads a real graph', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(graph.get('src/api/setup.ts')).toContain('src/core/lock.ts');
  });

  it('every source file belongs to a layer', () => {
    expect([...graph.keys()].filter((f) => !LAYERS.some((l) => l.match(f)))).toEqual([]);
  });

  it('has no import circle', () => {
    expect(findCircles(graph)).toEqual([]);
  });

  it('has no import against the layer direction', () => {
    expect(findViolations(graph)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    const bad = new Map<string, string[]>([
      ['src/core/lock.ts', ['src/api/setup.ts']],
      ['src/api/setup.ts', ['src/core/lock.ts']],
      ['providers/mise/mise-provider.ts', ['providers/uv/uv-provider.ts', 'src/executor/run.ts']],
      ['src/docker/host-tools.ts', ['providers/index.ts']],
      ['providers/index.ts', ['providers/uv/manifest.ts', 'providers/uv/uv-provider.ts']],
    ]);
    expect(findCircles(bad)).toEqual([['src/api/setup.ts', 'src/core/lock.ts']]);
    expect(findViolations(bad)).toEqual([
      'src/core/lock.ts → src/api/setup.ts (core may not import api: it is above it)',
      'providers/mise/mise-provider.ts → providers/uv/uv-provider.ts (a provider never imports another provider)',
      'providers/mise/mise-provider.ts → src/executor/run.ts (providers import only src/contracts.ts and src/core/kit.ts from src/)',
      'src/docker/host-tools.ts → providers/index.ts (docker and providers are peers)',
      'providers/index.ts → providers/uv/uv-provider.ts (the registry loads a provider through its manifest only)',
    ]);
  });
});
