import { matchPythonVersion, parsePythonRequest, pickDefaultFromSpecifier } from '../../src/core/kit.js';

/** One Python that mise has installed, as `mise ls --installed --json python` reports it. */
export interface MiseInstalledPython {
  /** Full version as mise names it, e.g. `3.12.1`. */
  version: string;
  /** mise's install directory (for a pyenv-synced one, a symbolic link into pyenv's versions). */
  installPath: string;
  /** The version the active config asked for and the file it came from, when mise reports them. */
  requestedVersion?: string;
  sourcePath?: string;
}

/**
 * Parse the JSON of `mise ls --installed --json python`: an array of
 * `{ version, install_path, installed, active, requested_version?, source?: { type, path } }`.
 * Entries that are not installed or have no path are skipped. Throws on text that is not that JSON.
 */
export function parseMiseLs(json: string): MiseInstalledPython[] {
  const data: unknown = JSON.parse(json);
  if (!Array.isArray(data)) throw new Error('expected a JSON array');
  const out: MiseInstalledPython[] = [];
  for (const item of data as Array<Record<string, unknown>>) {
    if (!item || typeof item !== 'object') continue;
    const version = item.version;
    const installPath = item.install_path;
    if (typeof version !== 'string' || typeof installPath !== 'string' || item.installed === false) continue;
    const source = item.source as { path?: unknown } | undefined;
    out.push({
      version,
      installPath,
      requestedVersion: typeof item.requested_version === 'string' ? item.requested_version : undefined,
      sourcePath: typeof source?.path === 'string' ? source.path : undefined,
    });
  }
  return out;
}

/** Plain CPython versions (`3.12.1`, `3.13.0rc1`) from `mise ls-remote python` output, one a line. */
export function parseMiseLsRemote(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?$/.test(l));
}

/**
 * The version to hand to `mise install python@<version>` for a request, or undefined when there is
 * no safe one.
 * - exact (`3.12.1`) → that version;
 * - minor or major (`3.12`, `3`) → the prefix: mise then picks its newest build in that series
 *   (mise matches `3.1` as the 3.1 series, not 3.11; pymgr re-checks the result anyway);
 * - a specifier (`>=3.10,<3.13`) → the newest of `remote` (mise's list of versions) that satisfies it,
 *   else the newest known minor series it allows in full (`3.12`).
 */
export function chooseInstallVersion(request: string, remote: readonly string[] = []): string | undefined {
  const parsed = parsePythonRequest(request);
  switch (parsed.kind) {
    case 'exact':
      return parsed.specifier.replace(/^===?\s*/, '');
    case 'minor':
    case 'major':
      return parsed.normalized.replace(/\.\*$/, '');
    default: {
      const fromRemote = matchPythonVersion(request, remote);
      if (fromRemote) return fromRemote;
      const minor = pickDefaultFromSpecifier(parsed.specifier);
      return minor && /^\d+\.\d+$/.test(minor) ? minor : undefined;
    }
  }
}
