import type { Executor, PythonInterpreter } from '../../src/contracts.js';
import { defaultPyenvRoot, isExecutableFile } from '../../src/core/kit.js';

/**
 * Pythons that pyenv has installed under `root/versions` (plain CPython versions only), found by
 * listing the directory: no pyenv or git command runs.
 */
export async function listPyenvPythons(executor: Executor, root: string): Promise<PythonInterpreter[]> {
  const names = (await executor.readDir(`${root}/versions`)) ?? [];
  const out: PythonInterpreter[] = [];
  for (const name of names) {
    if (!/^\d+\.\d+\.\d+$/.test(name)) continue;
    const exe = `${root}/versions/${name}/bin/python${name.split('.').slice(0, 2).join('.')}`;
    const alt = `${root}/versions/${name}/bin/python`;
    if (await executor.exists(exe)) out.push({ version: name, executable: exe, origin: 'pyenv' });
    else if (await executor.exists(alt)) out.push({ version: name, executable: alt, origin: 'pyenv' });
  }
  return out;
}

export { defaultPyenvRoot };

/** Order newest first and drop duplicate executables. */
export function sortPythons(list: PythonInterpreter[]): PythonInterpreter[] {
  const seen = new Set<string>();
  const uniq = list.filter((p) => (seen.has(p.executable) ? false : (seen.add(p.executable), true)));
  return uniq.sort((a, b) => compareVersionsDesc(a.version, b.version));
}

/** Sort comparator for dotted versions, newest first (numeric parts compared as numbers). */
export function compareVersionsDesc(a: string, b: string): number {
  const key = (v: string) => v.split(/[.+a-z]/i).map((x) => Number.parseInt(x, 10) || 0);
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (kb[i] ?? 0) - (ka[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The newest `<toolsDir>/<name>-<version>/bin/<name>` that is executable: a manager pymgr
 * provisioned, or copied in from the host (Docker). `undefined` when there is none.
 */
export async function findInToolsDir(executor: Executor, toolsDir: string, name: string): Promise<string | undefined> {
  const entries = (await executor.readDir(toolsDir)) ?? [];
  const versions = entries
    .map((e) => new RegExp(`^${name}-(\\d+(?:\\.\\d+)*)$`).exec(e)?.[1])
    .filter((v): v is string => v !== undefined);
  for (const v of versions.sort(compareVersionsDesc)) {
    const candidate = `${toolsDir}/${name}-${v}/bin/${name}`;
    if (await isExecutableFile(executor, candidate)) return candidate;
  }
  return undefined;
}
