/**
 * The provider kit: everything a provider (providers/<name>/) may use from src/ besides the
 * contract itself (src/contracts.ts). Providers import nothing else from src/ (the dependency
 * rule in ARCHITECTURE.md, checked by test/unit/architecture.test.ts), so this file is the whole
 * surface a new manager is written against:
 *
 * - errors: {@link PymgrError} (throw it with a code, a short message and a hint);
 * - running programs through the executor: {@link runChecked} (throws COMMAND_FAILED with the
 *   tool's output), {@link commandFailed}, {@link lastLines};
 * - finding programs: {@link findOnPath}, {@link isExecutableFile}, {@link resolvePyenvShim};
 * - Python version requests (PEP 440): {@link parsePythonRequest}, {@link matchPythonVersion},
 *   {@link pickDefaultFromSpecifier};
 * - credentials out of what is shown: {@link redact}, {@link redactArgs}; and off command lines:
 *   {@link prepareIndexAccess} (index flags, a private netrc or variables, and a clean-up);
 * - distribution names (PEP 503): {@link normalizeName};
 * - refusing a manager binary another user could have changed: {@link assertSafeToRun};
 * - a cross-process lock on a path (on the executor's file system): {@link acquireEnvLock};
 * - one answer per key for the life of a context: {@link memoise}; a manager's answer about
 *   itself (`--version`) learnt once per binary, across processes: {@link probeBinary};
 * - the types a provider and the registry see: {@link PymgrConfig}, {@link ProviderChoice};
 * - where things live: {@link defaultPyenvRoot}, {@link pyenvRootFrom} (src/core/paths.ts).
 */
export { PymgrError } from '../errors.js';
export { commandFailed, lastLines, runChecked } from '../executor/run.js';
export { findOnPath, isExecutableFile, pathCandidates, resolvePyenvShim } from '../executor/which.js';
export { matchPythonVersion, parsePythonRequest, pickDefaultFromSpecifier } from '../python-version.js';
export { redact, redactArgs } from '../redact.js';
export { normalizeName } from '../detect/requirement-names.js';
export { acquireEnvLock } from './lock.js';
export { assertSafeToRun, safeToRunReads } from './trust.js';
export { prepareIndexAccess, type IndexAccess } from './index-access.js';
export { memoise, type Memoised } from './memo.js';
export { probeBinary } from './probe-cache.js';
export { defaultPyenvRoot, pyenvRootFrom } from './paths.js';
export type { PymgrConfig } from '../config/schema.js';
export type { ProviderChoice } from '../types.js';
