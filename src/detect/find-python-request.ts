/**
 * Where a project's Python version request comes from: an ordered table of sources, the first that
 * answers wins. Only the project directory is searched (never its parents or the home directory).
 *
 * | order | source            | file(s)                                                   | value read                        |
 * |-------|-------------------|-----------------------------------------------------------|-----------------------------------|
 * | 1     | `config`          | pymgr configuration (`python`)                            | as written                        |
 * | 2     | `.python-version` | `.python-version`                                         | first non-empty, non-`#` line     |
 * | 3     | `mise.toml`       | `.mise.toml`, `mise.toml`, `.config/mise.toml` (this order)| `[tools] python` (string, list, `{ version }`) |
 * | 4     | `.tool-versions`  | `.tool-versions`                                          | first version on the `python` line |
 * | 5     | `requires-python` | `pyproject.toml`                                          | the specifier; providers pick the newest installed match   |
 * | 6     | `runtime.txt`     | `runtime.txt`                                             | `python-3.11.4` → `3.11.4`        |
 * | 7     | `default`         | —                                                         | `options.defaultPython ?? '3'` (newest available) |
 *
 * mise's own files come before `.tool-versions` because mise gives its TOML files precedence over
 * `.tool-versions`. A file that is present but says nothing about Python (a mise.toml without python,
 * an empty .python-version) does not answer; a file whose value is not a valid request is an error
 * (PROJECT_INVALID naming the file; CONFIG_INVALID for the configuration).
 */
import { posix as path } from 'node:path';
import type { Executor, PythonRequest } from '../contracts.js';
import { PymgrError, isPymgrError } from '../errors.js';
import { parsePythonRequest, pickDefaultFromSpecifier, KNOWN_CPYTHON_MINORS } from '../python-version.js';
import { readTomlFile, type PyprojectInfo } from './read-project-metadata.js';

export interface PythonSourceContext {
  executor: Executor;
  projectDir: string;
  configPython?: string;
  /** Where `configPython` came from (`--python`, `PYMGR_PYTHON`, a config file's path). */
  configPythonOrigin?: string;
  defaultPython?: string;
  /** Absolute paths of the files present (undefined when absent). */
  files: {
    pyproject?: string;
    pythonVersionFile?: string;
    toolVersions?: string;
    miseTomls: string[];
    runtimeTxt?: string;
  };
  pyproject?: PyprojectInfo;
}

export interface PythonSourceRule {
  id: string;
  description: string;
  resolve(ctx: PythonSourceContext): Promise<PythonRequest | undefined>;
}

/**
 * Check a request from a file; an invalid one becomes PROJECT_INVALID naming the file (and key). The
 * returned `raw` has prefixes removed (`python-3.11.4` in runtime.txt → `3.11.4`), so providers get a plain request.
 */
function checkRequest(raw: string, source: string, sourcePath: string | undefined, where: string): PythonRequest {
  let normalized: string;
  try {
    normalized = parsePythonRequest(raw).normalized;
  } catch (err) {
    const why = isPymgrError(err) ? err.message.replace(/^Invalid Python version request "[^"]*": /, '') : String(err);
    const code = source === 'config' ? 'CONFIG_INVALID' : 'PROJECT_INVALID';
    throw new PymgrError(code, `${where}: invalid Python version "${raw}": ${why}`, {
      hint: `Fix the Python version in ${where}: write e.g. 3.12, 3.12.1 or >=3.10,<3.13.`,
      cause: err,
      details: { source, ...(sourcePath ? { file: sourcePath } : {}), request: raw },
    });
  }
  return { raw: normalized, source, ...(sourcePath ? { sourcePath } : {}) };
}

function firstLine(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t !== '' && !t.startsWith('#')) return t;
  }
  return undefined;
}

function tomlToolVersion(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.length > 0 ? tomlToolVersion(value[0]) : undefined;
  if (value && typeof value === 'object' && 'version' in value) return tomlToolVersion((value as { version: unknown }).version);
  return undefined;
}

export const PYTHON_SOURCE_RULES: readonly PythonSourceRule[] = [
  {
    id: 'config',
    description: 'the python setting of the pymgr configuration',
    async resolve(ctx) {
      if (ctx.configPython === undefined) return undefined;
      // Named by its true origin (the flag, the variable or the file), in errors and in the request.
      const origin = ctx.configPythonOrigin;
      const request = checkRequest(ctx.configPython, 'config', undefined, origin?.startsWith('--') ? origin : `configuration key "python"${origin ? ` (${origin})` : ''}`);
      return origin ? { ...request, sourcePath: origin } : request;
    },
  },
  {
    id: 'python-version-file',
    description: 'the first line of .python-version',
    async resolve(ctx) {
      const file = ctx.files.pythonVersionFile;
      if (!file) return undefined;
      const raw = firstLine(await ctx.executor.readFile(file));
      return raw === undefined ? undefined : checkRequest(raw, '.python-version', file, file);
    },
  },
  {
    id: 'mise-toml',
    description: 'the python tool of .mise.toml, mise.toml or .config/mise.toml',
    async resolve(ctx) {
      for (const file of ctx.files.miseTomls) {
        const doc = await readTomlFile(ctx.executor, file);
        const tools = doc.tools as Record<string, unknown> | undefined;
        const value = tools && typeof tools === 'object' ? tools.python : undefined;
        if (value === undefined) continue;
        const raw = tomlToolVersion(value);
        if (raw === undefined) {
          throw new PymgrError('PROJECT_INVALID', `${file}: tools.python must be a version string, a list or { version = "..." }`, {
            hint: `Write e.g. python = "3.12" under [tools] in ${file}.`,
            details: { file, key: 'tools.python' },
          });
        }
        return checkRequest(raw === 'latest' ? '3' : raw, 'mise.toml', file, `${file} (tools.python)`);
      }
      return undefined;
    },
  },
  {
    id: 'tool-versions',
    description: 'the python line of .tool-versions',
    async resolve(ctx) {
      const file = ctx.files.toolVersions;
      if (!file) return undefined;
      const lines = (await ctx.executor.readFile(file)).split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const words = lines[i].replace(/#.*$/, '').trim().split(/\s+/);
        if (words[0] !== 'python') continue;
        if (words.length < 2) {
          throw new PymgrError('PROJECT_INVALID', `${file}:${i + 1}: the python line has no version`, {
            hint: `Write e.g. "python 3.12.1" in ${file}.`,
            details: { file, line: i + 1 },
          });
        }
        return checkRequest(words[1], '.tool-versions', file, `${file}:${i + 1}`);
      }
      return undefined;
    },
  },
  {
    id: 'requires-python',
    description: 'requires-python of pyproject.toml: the specifier itself; the newest installed Python it allows is used',
    async resolve(ctx) {
      const spec = ctx.pyproject?.requiresPython;
      const file = ctx.files.pyproject;
      if (spec === undefined || !file) return undefined;
      let picked: string | undefined;
      try {
        picked = pickDefaultFromSpecifier(spec);
      } catch (err) {
        throw new PymgrError('PROJECT_INVALID', `${file}: project.requires-python "${spec}" is not a PEP 440 specifier`, {
          hint: `Write it like ">=3.10,<3.13" in ${file}.`,
          cause: err,
          details: { file, key: 'project.requires-python', value: spec },
        });
      }
      if (picked === undefined) {
        const known = `${KNOWN_CPYTHON_MINORS[0]}–${KNOWN_CPYTHON_MINORS[KNOWN_CPYTHON_MINORS.length - 1]}`;
        throw new PymgrError('PROJECT_INVALID', `${file}: project.requires-python "${spec}" allows no CPython pymgr knows (${known})`, {
          hint: `Fix project.requires-python in ${file}, or set python in the pymgr configuration.`,
          details: { file, key: 'project.requires-python', value: spec },
        });
      }
      // The request stays the specifier itself: providers pick the newest *installed* Python it
      // allows (an open range like ">=3.8" must not demand a minor nobody has installed).
      return { raw: spec.trim(), source: 'requires-python', sourcePath: file };
    },
  },
  {
    id: 'runtime-txt',
    description: 'runtime.txt (python-3.11.4)',
    async resolve(ctx) {
      const file = ctx.files.runtimeTxt;
      if (!file) return undefined;
      const raw = firstLine(await ctx.executor.readFile(file));
      return raw === undefined ? undefined : checkRequest(raw, 'runtime.txt', file, file);
    },
  },
  {
    id: 'default',
    description: 'the default: the newest Python available',
    async resolve(ctx) {
      return checkRequest(ctx.defaultPython ?? '3', 'default', undefined, 'the default Python request');
    },
  },
];

/** The project's Python request and the rule that gave it. */
export async function findPythonRequest(ctx: PythonSourceContext): Promise<{ request: PythonRequest; rule: PythonSourceRule }> {
  for (const rule of PYTHON_SOURCE_RULES) {
    const request = await rule.resolve(ctx);
    if (request) return { request, rule };
  }
  /* c8 ignore next */
  throw new PymgrError('PYTHON_UNAVAILABLE', 'No Python version request could be made');
}

/** The mise TOML files in precedence order (highest first), relative to the project directory. */
export const MISE_TOML_FILES = ['.mise.toml', 'mise.toml', path.join('.config', 'mise.toml')] as const;
