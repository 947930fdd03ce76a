import { createHash } from 'node:crypto';
import type { Executor, InstallPlan, ProbeResult, PythonRequest } from '../contracts.js';
import type { PymgrConfig } from '../config/schema.js';
import { withoutCredentials } from './index-access.js';

/**
 * Every file whose content decides what gets installed: requirement files and the files they
 * include (`-r`, `-c`, followed relative to the including file), project metadata and lock files.
 */
export async function collectDependencyInputs(executor: Executor, plan: InstallPlan): Promise<string[]> {
  const files = new Set<string>();
  const queue: string[] = [];
  const projectFiles = (dir: string) => ['pyproject.toml', 'setup.py', 'setup.cfg'].map((f) => `${dir}/${f}`);
  for (const step of plan.steps) {
    if (step.kind === 'requirements') queue.push(...step.files, ...step.constraints);
    else if (step.kind === 'project') {
      projectFiles(step.path).forEach((f) => files.add(f));
      queue.push(...(step.constraints ?? []));
    }
    else if (step.kind === 'uv-project') {
      projectFiles(step.path).forEach((f) => files.add(f));
      if (step.lockFile) files.add(step.lockFile);
    } else if (step.kind === 'rye-lock') {
      queue.push(...step.files);
      projectFiles(step.path).forEach((f) => files.add(f));
    }
  }
  while (queue.length) {
    const file = queue.shift()!;
    if (files.has(file)) continue;
    files.add(file);
    let text: string;
    try {
      text = await executor.readFile(file);
    } catch {
      continue;
    }
    const dir = file.slice(0, file.lastIndexOf('/'));
    for (const line of text.split('\n')) {
      const m = /^\s*(?:-r|-c|--requirement|--constraint)(?:\s+|=)(\S+)/.exec(line);
      if (m && !/^[a-z]+:\/\//i.test(m[1])) queue.push(m[1].startsWith('/') ? m[1] : `${dir}/${m[1]}`);
    }
  }
  return [...files].sort();
}

export interface FingerprintInput {
  executor: Executor;
  plan: InstallPlan;
  /** The manager: its name, version and binary (a probe result, or a setup result's provider). */
  provider: Pick<ProbeResult, 'name' | 'version' | 'path'>;
  request: PythonRequest;
  venvPath: string;
  config: PymgrConfig;
  /** The dependency input files, when the caller has collected them already ({@link collectDependencyInputs}). */
  inputs?: readonly string[];
}

/**
 * How packages are fetched, not which: an env installed offline from a wheel directory is the
 * same env as one installed from the index, and `run` or `env` without those flags must not call
 * it outdated (as `uv run` after `uv sync --offline` does not). Left out of the fingerprint.
 */
const TRANSPORT = new Set(['offline', 'noIndex', 'findLinks']);

/** The plan's index settings that decide the env (credentials out: the state file must not let anyone guess them). */
function indexInputs(index: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(index).filter(([key]) => !TRANSPORT.has(key)));
}

/**
 * Whether the env recorded `recorded` for these inputs: the fingerprint as computed now, or as
 * pymgr computed it before the fetch settings left it (an env set up then is not outdated for that).
 * `current` is the fingerprint already computed for `input`, when there is one.
 */
export async function fingerprintMatches(input: FingerprintInput, recorded: string, current?: string): Promise<boolean> {
  if ((current ?? (await computeFingerprint(input))) === recorded) return true;
  return (await computeFingerprint(input, { withTransport: true })) === recorded;
}

/**
 * A hash of everything that decides the env: the provider and its binary, the Python request,
 * the content of every dependency input, and the config that changes what is installed.
 * Missing files hash as missing, so creating one changes the fingerprint.
 */
export async function computeFingerprint(input: FingerprintInput, options: { withTransport?: boolean } = {}): Promise<string> {
  const hash = createHash('sha256');
  const { executor, plan, provider, request, venvPath, config } = input;
  const manager = provider.path ? await executor.stat(provider.path) : undefined;
  // Credentials decide nothing about the env, and the state file must not let anyone guess them.
  const index = {
    ...plan.index,
    url: plan.index.url && withoutCredentials(plan.index.url),
    extraUrls: plan.index.extraUrls.map(withoutCredentials),
    findLinks: plan.index.findLinks.map(withoutCredentials),
  };
  hash.update(
    JSON.stringify({
      v: 1,
      provider: { name: provider.name, version: provider.version, path: provider.path, size: manager?.size, mtime: manager?.mtimeMs },
      python: request.raw,
      venv: venvPath,
      steps: plan.steps,
      expected: plan.expected,
      index: options.withTransport ? index : indexInputs(index),
      dependencies: config.dependencies,
      providerOptions: config.providers[provider.name],
    }),
  );
  for (const file of input.inputs ?? (await collectDependencyInputs(executor, plan))) {
    let content = '\0missing';
    try {
      content = await executor.readFile(file);
    } catch {
      /* missing */
    }
    hash.update(`\n${file}\n${content.length}\n`);
    hash.update(content);
  }
  return hash.digest('hex');
}

/**
 * One digest per input of the fingerprint, keyed by what a person would call it: a file's path,
 * or a setting (`python`, `manager`, `index.url`, `dependencies.extras`, `providers.uv.linkMode`,
 * `the install plan`). Recorded with the env's state so that a later command can say *what*
 * changed (see {@link describeChangedInputs}); the fingerprint itself stays the one hash above.
 */
export async function computeInputDigests(input: FingerprintInput): Promise<Record<string, string>> {
  const { executor, plan, provider, request, venvPath, config } = input;
  const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value) ?? 'undefined').digest('hex').slice(0, 16);
  const manager = provider.path ? await executor.stat(provider.path) : undefined;
  const out: Record<string, string> = {
    manager: digest({ name: provider.name, version: provider.version, path: provider.path, size: manager?.size, mtime: manager?.mtimeMs }),
    python: digest(request.raw),
    venv: digest(venvPath),
    'the install plan': digest({ steps: plan.steps, expected: plan.expected }),
  };
  for (const [key, value] of Object.entries(indexInputs({ ...plan.index }))) out[`index.${key}`] = digest(value);
  for (const [key, value] of Object.entries(config.dependencies)) out[`dependencies.${key}`] = digest(value);
  for (const [key, value] of Object.entries(config.providers[provider.name])) out[`providers.${provider.name}.${key}`] = digest(value);
  for (const file of input.inputs ?? (await collectDependencyInputs(executor, plan))) {
    let content = '\0missing';
    try {
      content = await executor.readFile(file);
    } catch {
      /* missing */
    }
    out[file] = digest(content);
  }
  return out;
}

/**
 * The manager the config names (`provider`, not `auto`) when it is not the one that built the env:
 * `manager changed: pyenv → uv` (setup would rebuild). Undefined otherwise.
 */
export function describeManagerChange(configured: string, recorded: string): string | undefined {
  return configured !== 'auto' && configured !== recorded ? `manager changed: ${recorded} → ${configured}` : undefined;
}

/**
 * What differs between two sets of input digests, for people: `requirements.txt` (a file,
 * relative to `projectDir` when inside it), `setting index.url`, `the manager`, `the Python
 * request`. Empty when nothing recorded differs.
 */
export function describeChangedInputs(before: Record<string, string>, now: Record<string, string>, projectDir: string): string[] {
  let names = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => before[k] !== now[k]);
  // The plan follows from the files: name it only when nothing else explains the change.
  if (names.length > 1) names = names.filter((k) => k !== 'the install plan');
  return names.sort().map((k) => {
    if (k.startsWith('/')) {
      const rel = k.startsWith(`${projectDir}/`) ? k.slice(projectDir.length + 1) : k;
      return before[k] === undefined ? `${rel} (new)` : now[k] === undefined ? `${rel} (no longer an input)` : rel;
    }
    if (k === 'manager') return 'the manager (its version or binary)';
    if (k === 'python') return 'the Python request';
    if (k === 'venv' || k === 'the install plan') return k === 'venv' ? 'the venv path' : k;
    return `setting ${k}`;
  });
}
