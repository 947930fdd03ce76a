/**
 * pip requirement files: reading their lines, following `-r`/`-c` includes, and choosing which of the
 * files found in a project are installed directly.
 *
 * Selection rules (when the configuration does not name the files):
 * - Candidates are `requirements*.txt` in the project directory and `*.txt` in `requirements/`.
 * - `constraints*.txt` (in either place) are constraint files, never requirement files.
 * - Development files — whose name, after `requirements`, has a word such as `dev`, `test`, `lint` or
 *   `docs` (`requirements-dev.txt`, `requirements_test.txt`, `requirements/dev.txt`) — are candidates only
 *   when `dependencies.dev` is true.
 * - A candidate reached through `-r` or `-c` from another selected file is not installed directly: the
 *   file that includes it brings it in. Includes only count from selected files, so a `requirements.txt`
 *   that only `requirements-dev.txt` includes is still installed when dev files are left out.
 * - Order: `requirements.txt` first, then the other top-level files, then `requirements/` (alphabetically).
 */
import { posix as path } from 'node:path';
import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { findEggName, parseRequirementName } from './requirement-names.js';

export type RequirementLine =
  | { kind: 'include'; target: string; line: number }
  | { kind: 'constraint'; target: string; line: number }
  | { kind: 'editable'; target: string; line: number }
  | { kind: 'requirement'; text: string; line: number }
  | { kind: 'option'; text: string; line: number };

const DEV_WORDS = new Set(['dev', 'develop', 'development', 'test', 'tests', 'testing', 'lint', 'linting', 'docs', 'doc', 'typing']);

/** Split pip requirement-file text into meaningful lines (comments and continuations handled). */
export function parseRequirementLines(text: string): RequirementLine[] {
  const out: RequirementLine[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    let line = raw[i];
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + raw[++i];
    line = line.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const opt = /^(-r|--requirement|-c|--constraint|-e|--editable)(?:\s*=\s*|\s+|(?<=^-[rce]))(\S.*)$/.exec(line);
    if (opt) {
      const target = opt[2].trim();
      const kind = opt[1] === '-r' || opt[1] === '--requirement' ? 'include' : opt[1] === '-c' || opt[1] === '--constraint' ? 'constraint' : 'editable';
      out.push({ kind, target, line: lineNo });
    } else if (line.startsWith('-')) {
      out.push({ kind: 'option', text: line, line: lineNo });
    } else {
      // Per-requirement options (--hash=..., --config-settings ...) follow the requirement.
      out.push({ kind: 'requirement', text: line.replace(/\s+--?[A-Za-z].*$/, '').replace(/\s+/g, ' ').trim(), line: lineNo });
    }
  }
  return out;
}

/** Whether a requirement-file entry is a URL or a local path rather than a PEP 508 requirement. */
function isUrlOrPath(text: string): boolean {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@/.test(text)) return false; // PEP 508 `name @ url`
  return (
    /^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) ||
    /^(\.{1,2}|~)?\//.test(text) ||
    text === '.' ||
    text === '..' ||
    /\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar)(#.*)?$/i.test(text)
  );
}

/** Resolve an editable target (`.`, `./pkg`, `file:.`, `file:///abs`) to an absolute path, if local. */
function resolveLocalTarget(target: string, projectDir: string): string | undefined {
  let t = target.replace(/[#].*$/, '');
  if (/^file:\/\//.test(t)) t = t.slice('file://'.length);
  else if (/^file:/.test(t)) t = t.slice('file:'.length);
  else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(t)) return undefined;
  t = t.replace(/\[.*\]$/, '');
  return path.resolve(projectDir, t);
}

export interface RequirementNames {
  /** Normalised names that will be installed. */
  names: string[];
  /** Names left out because they have an environment marker. */
  conditional: string[];
  /** Whether an editable line names the project itself (`-e .`, `-e file:.`). */
  includesProject: boolean;
  /** Every file read (the file and its `-r` includes), absolute. */
  filesRead: string[];
}

/**
 * The distributions a requirement file installs: its requirement lines and those of files it includes
 * with `-r` (relative to the including file), recursively. Options, constraints, URLs and paths without
 * `#egg=` are skipped. `-e` lines naming the project directory set `includesProject`.
 * Throws PROJECT_INVALID when an included file does not exist.
 */
export async function readRequirementNames(
  executor: Executor,
  file: string,
  projectDir: string,
): Promise<RequirementNames> {
  const result: RequirementNames = { names: [], conditional: [], includesProject: false, filesRead: [] };
  const seen = new Set<string>();
  const visit = async (current: string, from?: { file: string; line: number }): Promise<void> => {
    if (seen.has(current)) return;
    seen.add(current);
    const text = await readRequirementFile(executor, current, from);
    result.filesRead.push(current);
    for (const entry of parseRequirementLines(text)) {
      if (entry.kind === 'include') {
        await visit(path.resolve(path.dirname(current), entry.target), { file: current, line: entry.line });
      } else if (entry.kind === 'editable') {
        const local = resolveLocalTarget(entry.target, projectDir);
        if (local !== undefined && local === path.resolve(projectDir)) result.includesProject = true;
        else {
          const egg = findEggName(entry.target);
          if (egg) result.names.push(egg);
        }
      } else if (entry.kind === 'requirement') {
        if (isUrlOrPath(entry.text)) {
          const egg = findEggName(entry.text);
          if (egg) result.names.push(egg);
          continue;
        }
        const req = parseRequirementName(entry.text);
        if (!req) continue;
        (req.conditional ? result.conditional : result.names).push(req.name);
      }
    }
  };
  await visit(file);
  result.names = [...new Set(result.names)];
  result.conditional = [...new Set(result.conditional)];
  return result;
}

async function readRequirementFile(
  executor: Executor,
  file: string,
  from?: { file: string; line: number },
): Promise<string> {
  try {
    return await executor.readFile(file);
  } catch (err) {
    const where = from ? `, included from ${from.file} line ${from.line}` : '';
    throw new PymgrError('PROJECT_INVALID', `Cannot read requirement file ${file}${where}`, {
      hint: from ? `Fix the -r/-c line in ${from.file}, or create ${file}.` : `Create ${file}, or stop referring to it.`,
      cause: err,
      details: { file, ...(from ? { includedFrom: from.file, line: from.line } : {}) },
    });
  }
}

/** The files a requirement file reaches through `-r` and `-c`, recursively (existing ones only). */
async function findReachableFiles(executor: Executor, file: string): Promise<Set<string>> {
  const reached = new Set<string>();
  const visit = async (current: string): Promise<void> => {
    let text: string;
    try {
      text = await executor.readFile(current);
    } catch {
      return;
    }
    for (const entry of parseRequirementLines(text)) {
      if (entry.kind !== 'include' && entry.kind !== 'constraint') continue;
      const target = path.resolve(path.dirname(current), entry.target);
      if (reached.has(target) || target === file) continue;
      reached.add(target);
      await visit(target);
    }
  };
  await visit(file);
  return reached;
}

/** Whether a requirement file is a development file (see the module comment). */
export function isDevRequirementFile(file: string): boolean {
  const base = path.basename(file).replace(/\.txt$/i, '');
  const inDir = path.basename(path.dirname(file)) === 'requirements';
  const words = (inDir ? base : base.replace(/^requirements/i, '')).toLowerCase().split(/[-_.]+/).filter(Boolean);
  return words.some((w) => DEV_WORDS.has(w));
}

export interface DiscoveredRequirementFiles {
  /** All `requirements*.txt` and `requirements/*.txt` files (constraints excluded), absolute. */
  found: string[];
  /** All `constraints*.txt` files found, absolute. */
  foundConstraints: string[];
  /** The files to install directly. */
  selected: string[];
  /** The constraint files to pass with `-c`. */
  constraints: string[];
  /** Why each found file was left out. */
  excluded: { file: string; why: string }[];
}

/** Find and select requirement and constraint files in `projectDir` (see the module comment). */
export async function discoverRequirementFiles(
  executor: Executor,
  projectDir: string,
  topLevel: readonly string[],
  dev: boolean,
): Promise<DiscoveredRequirementFiles> {
  const isConstraint = (n: string) => /^constraints.*\.txt$/i.test(n);
  const top = topLevel.filter((n) => /^requirements.*\.txt$/i.test(n)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const sub = ((await executor.readDir(path.join(projectDir, 'requirements'))) ?? []).filter((n) => /\.txt$/i.test(n)).sort();
  const found = [
    ...top.map((n) => path.join(projectDir, n)),
    ...sub.filter((n) => !isConstraint(n)).map((n) => path.join(projectDir, 'requirements', n)),
  ];
  const foundConstraints = [
    ...topLevel.filter(isConstraint).sort().map((n) => path.join(projectDir, n)),
    ...sub.filter(isConstraint).map((n) => path.join(projectDir, 'requirements', n)),
  ];
  const excluded: { file: string; why: string }[] = [];
  const candidates: string[] = [];
  for (const f of found) {
    if (!dev && isDevRequirementFile(f)) excluded.push({ file: f, why: 'a development file (set dependencies.dev to install it)' });
    else candidates.push(f);
  }
  const selected: string[] = [];
  const covered = new Map<string, string>();
  for (const f of candidates) {
    if (covered.has(f)) {
      excluded.push({ file: f, why: `included by ${covered.get(f)}` });
      continue;
    }
    const reach = await findReachableFiles(executor, f);
    for (const r of reach) if (!covered.has(r)) covered.set(r, f);
    for (let i = selected.length - 1; i >= 0; i--) {
      if (reach.has(selected[i])) {
        excluded.push({ file: selected[i], why: `included by ${f}` });
        selected.splice(i, 1);
      }
    }
    selected.push(f);
  }
  const constraints: string[] = [];
  for (const c of foundConstraints) {
    if (covered.has(c)) excluded.push({ file: c, why: `used as constraints by ${covered.get(c)}` });
    else constraints.push(c);
  }
  return { found, foundConstraints, selected, constraints, excluded };
}

function rank(name: string): number {
  return name.toLowerCase() === 'requirements.txt' ? 0 : 1;
}
