/**
 * What a setup() (or a detect()) learnt on its way to its result that the CLI's fast-path record
 * needs again (the project as resolved; for a setup, the fingerprint verified, the venv's directory). Kept on the result under
 * a symbol, not enumerable: never in `--json`, never part of the public result type; a caller
 * without it (a result from elsewhere) works it out again.
 */
import type { Resolved } from './context.js';

const FACTS = Symbol('pymgr.setupFacts');

export interface SetupFacts {
  resolution: Resolved;
  /** setup(): the fingerprint the env was verified for (its state says `ready` with it). */
  fingerprint?: string;
  /** setup(): the venv's directory (the target of a venv path that is a symbolic link). */
  venvDir?: string;
  /** setup(): the dependency input files the fingerprint hashed (requirement files and what they include). */
  inputFiles?: string[];
}

/** `result` carrying `facts` (the same object). */
export function withFacts<T extends object>(result: T, facts: SetupFacts): T {
  Object.defineProperty(result, FACTS, { value: facts, enumerable: false, configurable: true });
  return result;
}

/** The facts a setup() result carries, if any. */
export function factsOf(result: object): SetupFacts | undefined {
  return (result as { [FACTS]?: SetupFacts })[FACTS];
}
