import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';

/**
 * Finding and reading the config file.
 *
 * Search places, in the order they are tried in each directory (the first hit wins; later files in
 * the same directory are not read):
 * `.pymgrrc` (YAML or JSON), `.pymgrrc.json`, `.pymgrrc.yaml`, `.pymgrrc.yml`, `.pymgrrc.js`,
 * `.pymgrrc.cjs`, `.pymgrrc.mjs`, `pymgr.config.js`, `pymgr.config.cjs`, `pymgr.config.mjs`,
 * `package.json` (its `pymgr` key) and `pyproject.toml` (its `[tool.pymgr]` table). A
 * `package.json` without `pymgr`, a `pyproject.toml` without `[tool.pymgr]`, and an empty file do
 * not count: the search goes on.
 *
 * The search starts in the project directory and goes up one directory at a time, up to and
 * including the stop directory (default: the user's home directory), or to the file-system root
 * when the project is not under it. There is no user-global config directory.
 *
 * A file that is found but cannot be parsed (broken JSON, YAML, TOML or JavaScript) is an error
 * (CONFIG_INVALID naming the file and, where the parser gives one, the line and column), whether
 * it was discovered or named: silently skipping a config file the user wrote would make pymgr do
 * something else than asked.
 *
 * On the host, cosmiconfig (imported lazily, only when a directory holds a candidate file) reads the
 * directory. Through a non-host executor
 * (Docker), the same search is done with the executor's `readDir`/`readFile`, for the static
 * formats only: a JavaScript config file found in a container is a CONFIG_INVALID error.
 */

export const CONFIG_SEARCH_PLACES: readonly string[] = [
  '.pymgrrc',
  '.pymgrrc.json',
  '.pymgrrc.yaml',
  '.pymgrrc.yml',
  '.pymgrrc.js',
  '.pymgrrc.cjs',
  '.pymgrrc.mjs',
  'pymgr.config.js',
  'pymgr.config.cjs',
  'pymgr.config.mjs',
  'package.json',
  'pyproject.toml',
];

export interface FoundConfigFile {
  /** Absolute path of the file (where the executor runs). */
  file: string;
  /** The file and the part of it that holds the config, for messages: `/p/pyproject.toml [tool.pymgr]`. */
  label: string;
  /** The parsed config (not yet validated); `{}` for an empty file named explicitly. */
  config: unknown;
}

export interface FindConfigFileOptions {
  /** Absolute directory to start from. */
  projectDir: string;
  /** The last directory searched (default: home directory; for an executor, its `HOME`). */
  stopDir?: string;
  /** Where to look; default: the host, through cosmiconfig. */
  executor?: Executor;
}

const JS_EXTENSIONS = new Set(['.js', '.cjs', '.mjs', '.ts', '.mts', '.cts']);

/** A parse failure with its location, thrown by the loaders below. */
class ConfigParseError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'ConfigParseError';
  }
}

function labelFor(file: string): string {
  const base = path.basename(file);
  if (base === 'package.json') return `${file} ("pymgr" key)`;
  if (base === 'pyproject.toml') return `${file} [tool.pymgr]`;
  return file;
}

type LoaderFn = (filepath: string, content: string) => unknown;

interface Loaders {
  json: LoaderFn;
  yaml: LoaderFn;
  toml: LoaderFn;
}

let cachedLoaders: Promise<Loaders & { js: Record<string, LoaderFn> }> | undefined;

/** The loaders for every format; cosmiconfig and smol-toml are imported on first use only. */
function getLoaders(): Promise<Loaders & { js: Record<string, LoaderFn> }> {
  cachedLoaders ??= (async () => {
    const { defaultLoaders } = await import('cosmiconfig');
    const loadYaml = defaultLoaders.noExt as LoaderFn;
    const yaml: LoaderFn = (filepath, content) => {
      try {
        return loadYaml(filepath, content);
      } catch (err) {
        const e = err as { reason?: string; mark?: { line: number; column: number }; message: string };
        const what = path.extname(filepath) === '' ? 'not valid YAML or JSON' : 'YAML error';
        throw new ConfigParseError(
          `${what}: ${e.reason ?? e.message}`,
          e.mark ? e.mark.line + 1 : undefined,
          e.mark ? e.mark.column + 1 : undefined,
        );
      }
    };
    const json: LoaderFn = (filepath, content) => {
      try {
        return JSON.parse(content);
      } catch (err) {
        // JSON.parse gives no line; a YAML parser (JSON is YAML) usually can.
        let line: number | undefined;
        let column: number | undefined;
        try {
          loadYaml(filepath, content);
        } catch (yamlErr) {
          const mark = (yamlErr as { mark?: { line: number; column: number } }).mark;
          if (mark) {
            line = mark.line + 1;
            column = mark.column + 1;
          }
        }
        throw new ConfigParseError(`JSON error: ${(err as Error).message}`, line, column);
      }
    };
    const toml: LoaderFn = async (filepath, content) => {
      const { parse, TomlError } = await import('smol-toml');
      let doc: Record<string, unknown>;
      try {
        doc = parse(content) as Record<string, unknown>;
      } catch (err) {
        if (err instanceof TomlError) {
          throw new ConfigParseError(`TOML error: ${err.message.split('\n')[0]}`, err.line, err.column);
        }
        throw err;
      }
      if (path.basename(filepath) !== 'pyproject.toml') return doc;
      const tool = doc.tool as Record<string, unknown> | undefined;
      // Only a pyproject.toml with [tool.pymgr] is a config file.
      return tool && typeof tool === 'object' && 'pymgr' in tool ? tool.pymgr : null;
    };
    const js: Record<string, LoaderFn> = {};
    for (const ext of ['.js', '.cjs', '.mjs']) js[ext] = (defaultLoaders as unknown as Record<string, LoaderFn>)[ext];
    return { json, yaml, toml, js };
  })();
  return cachedLoaders;
}

function loaderFor(loaders: Loaders, file: string): LoaderFn {
  const ext = path.extname(file);
  if (ext === '.json') return loaders.json;
  if (ext === '.toml') return loaders.toml;
  // `.pymgrrc`, `.yaml`, `.yml` and any other name: YAML, which also reads JSON.
  return loaders.yaml;
}

/** The directories searched, nearest first. */
export function listSearchDirs(projectDir: string, stopDir: string, p: path.PlatformPath = path): string[] {
  const stop = p.resolve(stopDir);
  let dir = p.resolve(projectDir);
  const dirs = [dir];
  while (dir !== stop) {
    const parent = p.dirname(dir);
    if (parent === dir) break;
    dirs.push(parent);
    dir = parent;
  }
  return dirs;
}

function createParseError(file: string, err: unknown): PymgrError {
  if (err instanceof PymgrError) return err;
  const e = err as { message?: string; line?: number; column?: number };
  let reason = String(e?.message ?? err)
    .replace(/^(JSON|YAML|TypeScript) Error in [^\n]*:\n/, '')
    .trim();
  const isJs = JS_EXTENSIONS.has(path.extname(file));
  if (isJs) reason = `JavaScript error: ${reason}`;
  const at = e?.line !== undefined ? ` at line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''}` : '';
  return new PymgrError('CONFIG_INVALID', `Cannot read config file ${file}${at}: ${reason}`, {
    hint: isJs
      ? `Fix the error in ${file} (it must export the config object as its default export).`
      : `Fix the syntax of ${file}${at}, or remove the file.`,
    cause: err,
    details: { source: 'file', file, keyPath: undefined, allowed: undefined, line: e?.line, column: e?.column },
  });
}

type Explorer = { search(from?: string): Promise<{ config: unknown; filepath: string; isEmpty?: boolean } | null>; load(file: string): Promise<{ config: unknown; filepath: string; isEmpty?: boolean } | null> };

async function createExplorer(): Promise<Explorer> {
  const { cosmiconfig } = await import('cosmiconfig');
  const loaders = await getLoaders();
  return cosmiconfig('pymgr', {
    searchPlaces: [...CONFIG_SEARCH_PLACES],
    searchStrategy: 'none',
    cache: false,
    packageProp: 'pymgr',
    loaders: {
      ...loaders.js,
      '.json': loaders.json,
      '.yaml': loaders.yaml,
      '.yml': loaders.yaml,
      '.toml': loaders.toml,
      noExt: loaders.yaml,
      default: loaders.yaml,
    },
  }) as Explorer;
}

/** A name only pymgr's config has (`.pymgrrc*`, `pymgr.config.*`), unlike package.json or pyproject.toml. */
function isOwnConfigName(name: string): boolean {
  return CONFIG_SEARCH_PLACES.includes(name) && (name.startsWith('.pymgrrc') || name.startsWith('pymgr.config.'));
}

/** A directory where pymgr's config file would be: an error, never silently skipped. */
function configIsDirectory(file: string): PymgrError {
  return new PymgrError('CONFIG_INVALID', `${file} is a directory, not a config file`, {
    hint: `pymgr reads ${path.basename(file)} as a config file (JSON or YAML). Remove or rename that directory, or put the config in another file (.pymgrrc.json, pyproject.toml [tool.pymgr]).`,
    details: { source: 'file', file, keyPath: undefined, allowed: undefined },
  });
}

/**
 * Search for the config file from `projectDir` upwards. Returns `undefined` when there is none;
 * throws CONFIG_INVALID when one is found but cannot be read.
 */
export async function findConfigFile(options: FindConfigFileOptions): Promise<FoundConfigFile | undefined> {
  if (options.executor && options.executor.kind !== 'host') return findThroughExecutor(options.executor, options);
  let explorer: Explorer | undefined;
  for (const dir of listSearchDirs(options.projectDir, options.stopDir ?? homedir())) {
    // Each search place looked up by name (synchronous: microseconds each, where listing a big
    // directory such as /tmp, or a thread-pool round trip, costs far more); cosmiconfig is
    // imported (~20 ms) only when a candidate exists.
    const present = CONFIG_SEARCH_PLACES.flatMap((name) => {
      try {
        const st = statSync(path.join(dir, name), { throwIfNoEntry: false });
        return st ? [{ name, isDirectory: st.isDirectory() }] : [];
      } catch {
        return [];
      }
    });
    if (present.length === 0) continue;
    for (const { name, isDirectory } of present) {
      if (isDirectory && isOwnConfigName(name)) throw configIsDirectory(path.join(dir, name));
    }
    explorer ??= await createExplorer();
    let result;
    try {
      result = await explorer.search(dir);
    } catch (err) {
      const file = (err as { filepath?: string }).filepath ?? dir;
      throw createParseError(file, err);
    }
    if (result && !result.isEmpty) return { file: result.filepath, label: labelFor(result.filepath), config: result.config };
  }
  return undefined;
}

/**
 * Read a config file the user named. A missing file, a file that cannot be parsed, and a
 * `package.json`/`pyproject.toml` without a pymgr section are CONFIG_INVALID errors.
 */
export async function readConfigFile(file: string, executor?: Executor): Promise<FoundConfigFile> {
  const remote = executor && executor.kind !== 'host' ? executor : undefined;
  const notFound = () =>
    new PymgrError('CONFIG_INVALID', `Config file not found: ${file}${remote ? ` (in ${remote.description})` : ''}`, {
      hint: 'Check the path given with --config (a relative path is taken from the current directory; with --docker, from the project directory there) or PYMGR_CONFIG (from the project directory).',
      details: { source: 'file', file, keyPath: undefined, allowed: undefined },
    });
  let result: { config: unknown; isEmpty?: boolean } | null;
  if (remote) {
    if (!(await remote.exists(file))) throw notFound();
    result = await loadThroughExecutor(remote, file);
  } else {
    const explorer = await createExplorer();
    try {
      result = await explorer.load(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw configIsDirectory(file);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound();
      throw createParseError(file, err);
    }
  }
  if (result === null) {
    const section = path.basename(file) === 'package.json' ? 'a "pymgr" key' : 'a [tool.pymgr] table';
    throw new PymgrError('CONFIG_INVALID', `Config file ${file} has no pymgr configuration: it lacks ${section}`, {
      hint: `Add ${section} to ${file}, or name another config file.`,
      details: { source: 'file', file, keyPath: undefined, allowed: undefined },
    });
  }
  return { file, label: labelFor(file), config: result.isEmpty ? {} : result.config };
}

async function loadThroughExecutor(
  executor: Executor,
  file: string,
): Promise<{ config: unknown; isEmpty?: boolean } | null> {
  const ext = path.posix.extname(file);
  if (JS_EXTENSIONS.has(ext)) {
    throw new PymgrError(
      'CONFIG_INVALID',
      `Config file ${file} is JavaScript, which pymgr cannot load inside ${executor.description}`,
      {
        hint: 'Use a static format there instead: .pymgrrc (YAML or JSON), .pymgrrc.json, .pymgrrc.yaml, package.json#pymgr or pyproject.toml [tool.pymgr].',
        details: { source: 'file', file, keyPath: undefined, allowed: ['.pymgrrc', '.pymgrrc.json', '.pymgrrc.yaml', '.pymgrrc.yml', 'package.json', 'pyproject.toml'] },
      },
    );
  }
  const content = await executor.readFile(file);
  if (content.trim() === '') return { config: undefined, isEmpty: true };
  const loaders = await getLoaders();
  let loaded: unknown;
  try {
    loaded = await loaderFor(loaders, file)(file, content);
  } catch (err) {
    throw createParseError(file, err);
  }
  if (path.posix.basename(file) === 'package.json') {
    loaded = loaded && typeof loaded === 'object' ? ((loaded as Record<string, unknown>).pymgr ?? null) : null;
  }
  if (loaded === null) return null;
  if (loaded === undefined) return { config: undefined, isEmpty: true };
  return { config: loaded };
}

async function findThroughExecutor(executor: Executor, options: FindConfigFileOptions): Promise<FoundConfigFile | undefined> {
  const stopDir = options.stopDir ?? (await executor.getEnv()).HOME ?? '/';
  for (const dir of listSearchDirs(options.projectDir, stopDir, path.posix)) {
    const names = await executor.readDir(dir);
    if (!names) continue;
    const present = new Set(names);
    for (const place of CONFIG_SEARCH_PLACES) {
      if (!present.has(place)) continue;
      const file = path.posix.join(dir, place);
      const st = await executor.stat(file);
      if (st?.isDirectory) {
        if (isOwnConfigName(place)) throw configIsDirectory(file);
        continue;
      }
      const result = await loadThroughExecutor(executor, file);
      if (result && !result.isEmpty) return { file, label: labelFor(file), config: result.config };
    }
  }
  return undefined;
}
