/**
 * Reading project metadata: pyproject.toml (parsed with smol-toml, never searched as text), setup.cfg
 * (a small INI reader for the keys pymgr needs) and, as a last resort, the `name=` literal of setup.py.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';

export interface PyprojectInfo {
  name?: string;
  dependencies: string[];
  optionalDependencies: Record<string, string[]>;
  dependencyGroups: Record<string, string[]>;
  requiresPython?: string;
  buildBackend?: string;
  tool: { uv?: object; rye?: object; pymgr?: object };
  /** Whether there is a `[project]` table (PEP 621). */
  hasProjectTable: boolean;
  /** Whether there is a `[build-system]` table (PEP 517/518). */
  hasBuildSystem: boolean;
  /** Whether there is a `[tool.poetry]` table. */
  hasPoetry: boolean;
  /** `[project].dynamic`. */
  dynamic: string[];
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Parse TOML text; a syntax error becomes PROJECT_INVALID naming the file, line and column. */
export function parseTomlFile(text: string, file: string): Table {
  try {
    return parseToml(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
      throw new PymgrError('PROJECT_INVALID', `${file}:${err.line}:${err.column}: invalid TOML: ${first}`, {
        hint: `Fix the TOML syntax in ${file} at line ${err.line}, column ${err.column}.`,
        cause: err,
        details: { file, line: err.line, column: err.column },
      });
    }
    throw new PymgrError('PROJECT_INVALID', `Cannot parse ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
}

function invalidKey(file: string, key: string, expected: string): PymgrError {
  return new PymgrError('PROJECT_INVALID', `${file}: ${key} must be ${expected}`, {
    hint: `Fix ${key} in ${file}.`,
    details: { file, key },
  });
}

function readStringArray(value: unknown, file: string, key: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalidKey(file, key, 'an array of strings');
  return value as string[];
}

function readOptionalString(value: unknown, file: string, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidKey(file, key, 'a string');
  return value;
}

/** Extract what pymgr needs from a parsed pyproject.toml. Throws PROJECT_INVALID naming a mistyped key. */
export function readPyproject(doc: Table, file: string): PyprojectInfo {
  const project = doc.project;
  if (project !== undefined && !isTable(project)) throw invalidKey(file, 'project', 'a table');
  const buildSystem = doc['build-system'];
  if (buildSystem !== undefined && !isTable(buildSystem)) throw invalidKey(file, 'build-system', 'a table');
  const tool = doc.tool;
  if (tool !== undefined && !isTable(tool)) throw invalidKey(file, 'tool', 'a table');
  const poetry = tool?.poetry;

  const optionalDependencies: Record<string, string[]> = {};
  const opt = project?.['optional-dependencies'];
  if (opt !== undefined) {
    if (!isTable(opt)) throw invalidKey(file, 'project.optional-dependencies', 'a table');
    for (const [k, v] of Object.entries(opt)) optionalDependencies[k] = readStringArray(v, file, `project.optional-dependencies.${k}`);
  }

  const groupsRaw = doc['dependency-groups'];
  if (groupsRaw !== undefined && !isTable(groupsRaw)) throw invalidKey(file, 'dependency-groups', 'a table');
  const dependencyGroups: Record<string, string[]> = {};
  const expand = (name: string, stack: string[]): string[] => {
    if (stack.includes(name)) throw invalidKey(file, `dependency-groups.${name}`, 'free of include-group cycles');
    const entries = groupsRaw?.[name];
    if (!Array.isArray(entries)) throw invalidKey(file, `dependency-groups.${name}`, 'an array');
    const out: string[] = [];
    for (const e of entries) {
      if (typeof e === 'string') out.push(e);
      else if (isTable(e) && typeof e['include-group'] === 'string') out.push(...expand(e['include-group'], [...stack, name]));
      else throw invalidKey(file, `dependency-groups.${name}`, 'strings or { include-group = "..." } tables');
    }
    return out;
  };
  for (const name of Object.keys(groupsRaw ?? {})) dependencyGroups[name] = expand(name, []);

  let name = readOptionalString(project?.name, file, 'project.name');
  let dependencies = readStringArray(project?.dependencies, file, 'project.dependencies');
  if (project === undefined && isTable(poetry)) {
    // Legacy Poetry (no [project]): name and dependencies from [tool.poetry].
    name = readOptionalString(poetry.name, file, 'tool.poetry.name');
    const deps = poetry.dependencies;
    if (deps !== undefined && !isTable(deps)) throw invalidKey(file, 'tool.poetry.dependencies', 'a table');
    dependencies = Object.entries(deps ?? {})
      .filter(([k, v]) => k.toLowerCase() !== 'python' && !(isTable(v) && v.optional === true))
      .map(([k]) => k);
  }

  const pick = (key: 'uv' | 'rye' | 'pymgr'): object | undefined => {
    const v = tool?.[key];
    if (v === undefined) return undefined;
    if (!isTable(v)) throw invalidKey(file, `tool.${key}`, 'a table');
    return v;
  };

  return {
    name,
    dependencies,
    optionalDependencies,
    dependencyGroups,
    requiresPython: readOptionalString(project?.['requires-python'], file, 'project.requires-python'),
    buildBackend: readOptionalString(buildSystem?.['build-backend'], file, 'build-system.build-backend'),
    tool: { uv: pick('uv'), rye: pick('rye'), pymgr: pick('pymgr') },
    hasProjectTable: project !== undefined,
    hasBuildSystem: buildSystem !== undefined,
    hasPoetry: isTable(poetry),
    dynamic: readStringArray(project?.dynamic, file, 'project.dynamic'),
  };
}

/** Read and parse a TOML file through the executor. */
export async function readTomlFile(executor: Executor, file: string): Promise<Table> {
  let text: string;
  try {
    text = await executor.readFile(file);
  } catch (err) {
    throw new PymgrError('PROJECT_INVALID', `Cannot read ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
  return parseTomlFile(text, file);
}

export interface SetupCfgInfo {
  name?: string;
  installRequires: string[];
  extrasRequire: Record<string, string[]>;
  /** Whether it describes a project ([metadata] or [options]), not only tool settings. */
  declaresProject: boolean;
}

/** A small INI reader: sections, `key = value` / `key: value`, indented continuation lines. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(line) || line.trim() === '') continue;
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      section = out[sec[1].trim()] ??= {};
      lastKey = undefined;
      continue;
    }
    if (/^\s/.test(line) && section && lastKey !== undefined) {
      section[lastKey] += `\n${line.trim()}`;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (kv && section) {
      lastKey = kv[1].trim();
      section[lastKey] = kv[2].trim();
    }
  }
  return out;
}

/** What pymgr needs from setup.cfg. */
export function readSetupCfg(text: string): SetupCfgInfo {
  const ini = parseIni(text);
  const extrasRequire: Record<string, string[]> = {};
  // install_requires entries are one per line; `;` there starts a marker, so split lines only.
  const lines = (v: string | undefined) => (v ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
  for (const [k, v] of Object.entries(ini['options.extras_require'] ?? {})) extrasRequire[k] = lines(v);
  return {
    name: ini.metadata?.name || undefined,
    installRequires: lines(ini.options?.install_requires),
    extrasRequire,
    declaresProject: ini.metadata !== undefined || ini.options !== undefined,
  };
}

/**
 * The project name in setup.py when it is written as one string literal (`name="pkg"`). setup.py is a
 * program, so this is a best effort: undefined when there is no such literal or more than one.
 */
export function findSetupPyName(text: string): string | undefined {
  const matches = [...text.matchAll(/\bname\s*=\s*(['"])([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\1/g)];
  const names = new Set(matches.map((m) => m[2]));
  return names.size === 1 ? [...names][0] : undefined;
}
