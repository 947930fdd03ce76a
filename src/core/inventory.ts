/**
 * What is installed in a venv, read off its site-packages directory names (`<name>-<version>.dist-info`),
 * without starting its interpreter: cheap enough to take before and after every setup, so the result
 * can say what changed.
 */
import type { Executor } from '../contracts.js';
import { normalizeName } from '../detect/requirement-names.js';
import type { SetupChanges } from '../types.js';

/**
 * Distribution name (PEP 503) → version, for every `*.dist-info` in the venv's site-packages.
 * `pythonVersion` (when known): its site-packages is learnt in the same batch as `lib/` (a
 * container: one exec instead of two).
 */
export async function listDistributions(executor: Executor, venvPath: string, pythonVersion?: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const minor = pythonVersion && /^(\d+\.\d+)/.exec(pythonVersion)?.[1];
  if (minor) await executor.prefetch?.([{ op: 'readDir', path: `${venvPath}/lib` }, { op: 'readDir', path: `${venvPath}/lib/python${minor}/site-packages` }]);
  const lib = await executor.readDir(`${venvPath}/lib`).catch(() => undefined);
  for (const entry of lib ?? []) {
    if (!/^(?:python|pypy)\d/.test(entry)) continue;
    const names = await executor.readDir(`${venvPath}/lib/${entry}/site-packages`).catch(() => undefined);
    for (const name of names ?? []) {
      const m = /^(.+)-([^-]+)\.dist-info$/.exec(name);
      if (m) out.set(normalizeName(m[1]), m[2]);
    }
  }
  return out;
}

/** The difference between two inventories (names sorted), plus the Python and manager changes given. */
export function diffDistributions(
  before: Map<string, string>,
  after: Map<string, string>,
  extra: Pick<SetupChanges, 'python' | 'manager'> = {},
): SetupChanges {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [name, version] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(`${name}==${version}`);
    else if (old !== version) changed.push(`${name} ${old} → ${version}`);
  }
  for (const [name, version] of before) if (!after.has(name)) removed.push(`${name}==${version}`);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort(), ...extra };
}
