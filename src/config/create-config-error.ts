import type { z } from 'zod';
import { PymgrError } from '../errors.js';
import { findLeaf, listAllowedKeys, type ConfigLeaf } from './list-config-leaves.js';
import { suggestName } from './suggest-name.js';

/** Where a layer of configuration that failed validation came from. */
export type ConfigOrigin =
  /** A config file; `label` says where in it, e.g. `/p/pyproject.toml [tool.pymgr]`. */
  | { kind: 'file'; file: string; label: string }
  /** `PYMGR_*` variables; `variables` maps each dotted key path to the variable that set it. */
  | { kind: 'env'; variables: Record<string, string> }
  /** Command-line flags. */
  | { kind: 'flag' };

/** One thing wrong, in the words the user needs. */
export interface ConfigProblem {
  /** `index.offline`, `preference[1]`, or `` for the whole document. */
  keyPath: string;
  /** What is wrong with it. */
  text: string;
  /** For an unknown key or a bad enum value: the allowed names; otherwise the expected type. */
  allowed: string[] | string;
  /** The closest allowed key, for an unknown key. */
  suggestion?: string;
  /** The environment variable that set it. */
  variable?: string;
  /** What to do about it. */
  hint: string;
}

/** `['preference', 1]` → `preference[1]`. */
export function formatKeyPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out;
}

/** A plain description of what a leaf accepts: `a boolean (true or false)`, `a list of: uv, mise`. */
export function describeExpected(leaf: ConfigLeaf | undefined, item = false): string {
  if (!leaf) return 'a value';
  const kind = item || leaf.kind !== 'array' ? (leaf.kind === 'array' ? leaf.itemKind : leaf.kind) : 'array';
  switch (kind) {
    case 'boolean':
      return 'a boolean (true or false)';
    case 'number':
      return leaf.integer ? 'an integer' : 'a number';
    case 'enum':
      return `one of: ${(leaf.values ?? []).join(', ')}`;
    case 'array':
      return leaf.itemKind === 'enum'
        ? `a list of: ${(leaf.values ?? []).join(', ')}`
        : `a list of ${leaf.itemKind === 'number' ? 'numbers' : 'strings'}`;
    default:
      return 'a string';
  }
}

function getAt(value: unknown, segments: readonly PropertyKey[]): unknown {
  let current = value;
  for (const s of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[s];
  }
  return current;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Turn zod issues for one layer of input into problems the user can act on. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, origin: ConfigOrigin): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const where = origin.kind === 'file' ? origin.file : origin.kind === 'env' ? 'the environment' : 'the flags';
  for (const issue of issues) {
    const segments = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const allowed = listAllowedKeys(segments) ?? [];
      for (const key of issue.keys) {
        const keyPath = formatKeyPath([...segments, key]);
        const suggestion = suggestName(key, allowed.filter((k) => k !== '$schema'));
        const suggested = suggestion ? formatKeyPath([...segments, suggestion]) : undefined;
        problems.push({
          keyPath,
          text: `unknown key "${keyPath}"${suggested ? ` (did you mean "${suggested}"?)` : ''}; allowed keys${segments.length ? ` in "${formatKeyPath(segments)}"` : ''}: ${allowed.join(', ')}`,
          allowed,
          suggestion,
          hint: suggestion
            ? `Rename "${keyPath}" to "${suggested}" in ${where}.`
            : `Remove "${keyPath}" from ${where}; the keys allowed there are: ${allowed.join(', ')}.`,
        });
      }
      continue;
    }
    const keyPath = formatKeyPath(segments);
    const leaf = findLeaf(segments);
    const isItem = typeof segments[segments.length - 1] === 'number';
    const received = getAt(input, segments);
    const subject = keyPath || 'the configuration';
    if (issue.code === 'invalid_value') {
      const values = issue.values.map(String);
      problems.push({
        keyPath,
        text: `${show(received)} is not allowed for ${subject}; allowed values: ${values.join(', ')}`,
        allowed: values,
        hint: `Set ${subject} to one of: ${values.join(', ')}.`,
      });
      continue;
    }
    if (issue.code === 'invalid_type' && issue.expected === 'object') {
      const allowed = listAllowedKeys(segments) ?? [];
      problems.push({
        keyPath,
        text: `${subject} must be an object (a table of keys), not ${show(received)}`,
        allowed: 'object',
        hint: `Make ${subject} an object with some of the keys: ${allowed.join(', ')}.`,
      });
      continue;
    }
    const expected = leaf ? describeExpected(leaf, isItem) : issue.code === 'invalid_type' ? String(issue.expected) : 'a valid value';
    const typeError = issue.code === 'invalid_type';
    problems.push({
      keyPath,
      text: `${show(received)} is not valid for ${subject}: ${typeError ? `expected ${expected}` : issue.message}`,
      allowed: leaf?.kind === 'enum' || (leaf?.kind === 'array' && leaf.itemKind === 'enum') ? leaf.values ?? [] : expected,
      hint:
        typeError && typeof received === 'number' && expected === 'a string'
          ? `Quote the value of ${subject} so it stays text: "${String(received)}" (YAML and TOML read 3.10 as the number 3.1).`
          : typeError
            ? `Set ${subject} to ${expected}.`
            : `Fix ${subject}: ${issue.message}.`,
    });
  }
  if (origin.kind === 'env') {
    for (const problem of problems) {
      const path = problem.keyPath.replace(/\[\d+\]$/, '');
      problem.variable = origin.variables[path];
      if (!problem.variable) continue;
      const leaf = findLeaf(path.split('.'));
      const expected =
        leaf?.kind === 'array'
          ? `a comma-separated list of ${leaf.itemKind === 'enum' ? `: ${(leaf.values ?? []).join(', ')}` : 'values'}`
          : Array.isArray(problem.allowed)
            ? `one of: ${problem.allowed.join(', ')}`
            : problem.allowed;
      problem.hint = `Set ${problem.variable} to ${expected.replace('of :', 'of:')}, or unset it.`;
    }
  }
  return problems;
}

/** The CONFIG_INVALID error for the problems of one layer (at least one problem). */
export function createConfigError(problems: readonly ConfigProblem[], origin: ConfigOrigin): PymgrError {
  const first = problems[0];
  const heading =
    origin.kind === 'file'
      ? `Invalid configuration in ${origin.label}`
      : origin.kind === 'env'
        ? problems.length === 1 && first.variable
          ? `Invalid environment variable ${first.variable}`
          : 'Invalid PYMGR_* environment variables'
        : 'Invalid command-line option';
  const message =
    problems.length === 1
      ? `${heading}: ${first.text}`
      : `${heading} (${problems.length} problems):\n${problems.map((p) => `  - ${p.variable ? `${p.variable}: ` : ''}${p.text}`).join('\n')}`;
  return new PymgrError('CONFIG_INVALID', message, {
    hint: problems.length === 1 ? first.hint : problems.map((p) => p.hint).join('\n'),
    details: {
      source: origin.kind,
      ...(origin.kind === 'file' ? { file: origin.file } : {}),
      ...(first.variable ? { variable: first.variable } : {}),
      keyPath: first.keyPath,
      allowed: first.allowed,
      ...(first.suggestion ? { suggestion: first.suggestion } : {}),
      ...(problems.length > 1
        ? {
            problems: problems.map((p) => ({
              keyPath: p.keyPath,
              message: p.text,
              allowed: p.allowed,
              ...(p.variable ? { variable: p.variable } : {}),
            })),
          }
        : {}),
    },
  });
}
