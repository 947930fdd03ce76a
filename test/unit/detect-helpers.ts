/** Shared helpers for the detection unit tests (not a test file itself). */
import { join } from 'node:path';
import { configSchema, type PymgrConfig, type PymgrConfigInput } from '../../src/config/schema.js';
import { detectProject, type DetectOptions, type ProjectDetection } from '../../src/detect/detect-project.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { rejection, writeTree } from '../helpers/project.js';
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
  return writeTree(files, 'pymgr-detect-');
}

export function detect(dir: string, input: PymgrConfigInput = {}, options?: DetectOptions): Promise<ProjectDetection> {
  return detectProject(executor, dir, config(input), options);
}

/** The PymgrError `promise` rejects with (fails the test when it resolves or throws something else). */
export const detectError = rejection;

export const PEP621 = (name: string, deps: string[] = [], extra = '') =>
  `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${name}"\nversion = "0.1.0"\ndependencies = ${JSON.stringify(deps)}\n${extra}`;
