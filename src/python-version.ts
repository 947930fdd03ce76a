/**
 * Python version requests: parsing what users write, matching it against full versions, and turning a
 * `requires-python` specifier into a request.
 *
 * Versions are compared as parsed PEP 440 versions (@renovatebot/pep440), never as string prefixes:
 * the request `3.1` means `==3.1.*` and never matches 3.11.
 *
 * Accepted request forms (surrounding whitespace ignored):
 *
 * | written                                    | meaning                       | PEP 440 specifier       |
 * |--------------------------------------------|-------------------------------|-------------------------|
 * | `3`                                        | newest 3.x                    | `==3.*`                 |
 * | `3.12`, `3.12.*`                           | newest 3.12.x                 | `==3.12.*`              |
 * | `3.12.1`, `==3.12.1`                       | exactly 3.12.1                | `==3.12.1`              |
 * | `3.13.0rc1`                                | exactly that prerelease       | `==3.13.0rc1`           |
 * | `>=3.10,<3.13`, `~=3.11`, `!=3.12.*`, ...  | a PEP 440 specifier set       | as written              |
 * | `python3.12`, `python-3.12`, `cpython-3.12`, `cpython@3.12`, `python@3.12` | the same, prefix ignored | |
 *
 * Prereleases (a/b/rc/dev) of Python are only ever chosen when the request itself names a
 * prerelease (`3.13.0rc1`, `>=3.13.0rc1`); `3.13` does not pick 3.13.0rc1 even when nothing else is there.
 */
import * as pep440 from '@renovatebot/pep440';
import type { PythonRequest } from './contracts.js';
import { PymgrError } from './errors.js';

/** CPython minor series pymgr knows about, oldest first (used to turn specifiers into a request). */
export const KNOWN_CPYTHON_MINORS: readonly string[] = ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14'];

export type PythonRequestKind = 'major' | 'minor' | 'exact' | 'specifier';

export interface ParsedPythonRequest {
  /** As written. */
  raw: string;
  /** The request with prefixes (`python`, `cpython-`, ...) removed. */
  normalized: string;
  kind: PythonRequestKind;
  /** The equivalent PEP 440 specifier set, e.g. `==3.12.*`. */
  specifier: string;
  /** Whether prerelease Pythons may be chosen (only when the request names a prerelease). */
  allowPrereleases: boolean;
}

const PREFIX = /^(?:c?python)(?:[-@]|(?=\d))/i;
const PLAIN_VERSION = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.\*)?$/;
const PRERELEASE_VERSION = /^\d+(?:\.\d+){1,2}(?:a|b|rc|c|alpha|beta|pre|preview|\.?dev)\.?\d*$/i;
const MENTIONS_PRERELEASE = /\d(?:a|b|rc|c|alpha|beta|pre|preview|\.?dev)\.?\d*/i;

/**
 * Parse a Python version request. Throws PymgrError('PROJECT_INVALID') naming the problem when it is not
 * a version request; callers add where it came from (or rethrow as CONFIG_INVALID for configuration).
 */
export function parsePythonRequest(raw: string): ParsedPythonRequest {
  const trimmed = raw.trim();
  const normalized = trimmed.replace(PREFIX, '').trim();
  const fail = (why: string): never => {
    throw new PymgrError('PROJECT_INVALID', `Invalid Python version request "${raw}": ${why}`, {
      hint: 'Write a version such as 3, 3.12 or 3.12.1, or a PEP 440 specifier such as >=3.10,<3.13.',
      details: { request: raw },
    });
  };
  if (normalized === '') fail('it is empty');

  const plain = PLAIN_VERSION.exec(normalized);
  if (plain) {
    const [, major, minor, patch] = plain;
    const wildcard = normalized.endsWith('.*');
    if (patch !== undefined && !wildcard) {
      return { raw, normalized, kind: 'exact', specifier: `==${major}.${minor}.${patch}`, allowPrereleases: false };
    }
    if (patch !== undefined) {
      return { raw, normalized, kind: 'specifier', specifier: `==${normalized}`, allowPrereleases: false };
    }
    if (minor !== undefined) {
      return { raw, normalized, kind: 'minor', specifier: `==${major}.${minor}.*`, allowPrereleases: false };
    }
    return { raw, normalized, kind: 'major', specifier: `==${major}.*`, allowPrereleases: false };
  }
  if (PRERELEASE_VERSION.test(normalized)) {
    if (pep440.valid(normalized) === null) fail('it is not a PEP 440 version');
    return { raw, normalized, kind: 'exact', specifier: `==${normalized}`, allowPrereleases: true };
  }
  if (/^[<>=!~]/.test(normalized)) {
    if (!pep440.validRange(normalized)) fail('it is not a valid PEP 440 specifier set');
    const exact = /^===?\s*(\d+(?:\.\d+)*)\s*$/.exec(normalized);
    return {
      raw,
      normalized,
      kind: exact && !normalized.includes('*') && exact[1].split('.').length === 3 ? 'exact' : 'specifier',
      specifier: normalized,
      allowPrereleases: MENTIONS_PRERELEASE.test(normalized),
    };
  }
  return fail('expected a version (3, 3.12, 3.12.1) or a PEP 440 specifier (>=3.10,<3.13)');
}

/** Whether `request` is a Python version request pymgr understands. */
export function isValidPythonRequest(request: string): boolean {
  try {
    parsePythonRequest(request);
    return true;
  } catch {
    return false;
  }
}

/**
 * The newest of `available` (full versions such as `3.12.1`) that satisfies `request`, or undefined when
 * none does. Entries that are not PEP 440 versions are ignored. Throws PROJECT_INVALID for an invalid request.
 */
export function matchPythonVersion(request: string, available: readonly string[]): string | undefined {
  const parsed = parsePythonRequest(request);
  let best: { text: string; version: string } | undefined;
  for (const text of available) {
    const info = pep440.explain(text.trim());
    if (!info) continue;
    if ((info.is_prerelease || info.is_devrelease) && !parsed.allowPrereleases) continue;
    if (!pep440.satisfies(info.public, parsed.specifier, { prereleases: parsed.allowPrereleases })) continue;
    if (!best || pep440.gt(info.public, best.version)) best = { text, version: info.public };
  }
  return best?.text;
}

/** A short human description: `Python 3.12 (newest 3.12.x) from .python-version (/p/.python-version)`. */
export function describePythonRequest(request: string | PythonRequest): string {
  const raw = typeof request === 'string' ? request : request.raw;
  let text: string;
  try {
    const parsed = parsePythonRequest(raw);
    switch (parsed.kind) {
      case 'major':
      case 'minor':
        text = `Python ${parsed.normalized.replace(/\.\*$/, '')} (newest ${parsed.normalized.replace(/\.\*$/, '')}.x)`;
        break;
      case 'exact':
        text = `Python ${parsed.specifier.replace(/^===?\s*/, '')}`;
        break;
      default:
        text = `Python ${parsed.specifier}`;
    }
  } catch {
    text = `Python "${raw}" (not a valid request)`;
  }
  if (typeof request !== 'string') {
    text += ` from ${request.source}`;
    if (request.sourcePath) text += ` (${request.sourcePath})`;
  }
  return text;
}

/**
 * Turn a `requires-python` specifier into a request: the newest of the known CPython minor series
 * (`known`, default 3.8 … 3.14) that the specifier allows.
 *
 * - `>=3.10,<3.13` → `3.12`; `>=3.9` → `3.14`; `~=3.11` → `3.14`; `==3.11.*` → `3.11`.
 * - When the specifier allows only part of that series (`>=3.12.4,<3.13`, `==3.12.1`), the answer is the
 *   specifier narrowed to the series, e.g. `>=3.12.4,<3.13,==3.12.*`, so no disallowed patch is chosen.
 * - `undefined` when no known series is allowed (`<2`, `>=4`).
 *
 * Throws PROJECT_INVALID when `spec` is not a PEP 440 specifier set.
 */
export function pickDefaultFromSpecifier(
  spec: string,
  known: readonly string[] = KNOWN_CPYTHON_MINORS,
): string | undefined {
  const trimmed = spec.trim();
  if (!pep440.validRange(trimmed)) {
    throw new PymgrError('PROJECT_INVALID', `Invalid PEP 440 specifier "${spec}"`, {
      hint: 'Write it like >=3.10,<3.13 or ~=3.11.',
      details: { specifier: spec },
    });
  }
  const mentioned = [...trimmed.matchAll(/\d+(?:\.\d+)+/g)].map((m) => m[0]);
  const series = [...known].sort((a, b) => (pep440.gt(`${a}.0`, `${b}.0`) ? -1 : 1));
  for (const minor of series) {
    const patches = Array.from({ length: 41 }, (_, i) => `${minor}.${i}`);
    const extra = mentioned.filter((v) => v.startsWith(`${minor}.`) && v.split('.').length >= 3);
    const allowed = [...patches, ...extra].filter((v) => pep440.satisfies(v, trimmed));
    if (allowed.length === 0) continue;
    if (patches.every((v) => pep440.satisfies(v, trimmed))) return minor;
    return `${trimmed},==${minor}.*`;
  }
  return undefined;
}
