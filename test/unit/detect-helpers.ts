/** Shared helpers for the detection unit tests (not a test file itself). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configSchema, type PymgrConfig, type PymgrConfigInput } from '../../src/config/schema.js';
import { detectProject, type DetectOptions, type ProjectDetection } from '../../src/detect/detect-project.js';
import { PymgrError } from '../../src/errors.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { makeTemp } from '../helpers/project.js';
import { repoRoot } from '../helpers/tools.js';

export const executor = new HostExecutor();

export function fixture(name: string): string {
  return join(repoRoot, 'fixtures', name);
}

export function config(input: PymgrConfigInput = {}): PymgrConfig {
  return configSchema.parse(input);
}

/** A temporary project with the given files (path → content). */
export function project(files: Record<string, string>): string {
  const dir = makeTemp('pymgr-detect-');
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

export function detect(dir: string, input: PymgrConfigInput = {}, options?: DetectOptions): Promise<ProjectDetection> {
  return detectProject(executor, dir, config(input), options);
}

/** The PymgrError `promise` rejects with (fails the test when it resolves or throws something else). */
export async function detectError(promise: Promise<unknown>): Promise<PymgrError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PymgrError) return err;
    throw err;
  }
  throw new Error('expected a PymgrError, but it resolved');
}

export const PEP621 = (name: string, deps: string[] = [], extra = '') =>
  `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${name}"\nversion = "0.1.0"\ndependencies = ${JSON.stringify(deps)}\n${extra}`;
