import { matchPythonVersion } from '../python-version.js';
import { resolveProject, type CommonOptions } from '../setup/context.js';
import { readState } from '../setup/state.js';
import { inspectVenv, type IsolationCheck } from '../setup/verify.js';

export interface EnvReport {
  path: string;
  /** `ready`: recorded as set up and the interpreter checks pass. */
  state: 'ready' | 'missing' | 'incomplete' | 'broken';
  detail?: string;
  python?: { version: string; executable: string; base?: string };
  provider?: { name: string; version?: string; path?: string };
  projectType?: string;
  updatedAt?: string;
  checks: IsolationCheck[];
}

/** Report the project's env without changing it. */
export async function describeEnv(options: CommonOptions): Promise<EnvReport> {
  const { executor, venvPath, detection } = await resolveProject(options);
  const state = await readState(executor, venvPath);
  const exists = await executor.exists(venvPath);
  if (!exists) return { path: venvPath, state: 'missing', detail: 'no venv yet: run `pymgr setup`', checks: [] };
  const check = await inspectVenv(executor, venvPath, [], { versionOk: (v) => matchPythonVersion(detection.python.request, [v]) !== undefined });
  const base = {
    path: venvPath,
    python: check.facts ? { version: check.facts.version, executable: `${venvPath}/bin/python`, base: state?.python.executable } : undefined,
    provider: state?.provider,
    projectType: state?.projectType,
    updatedAt: state?.updatedAt,
    checks: check.checks,
  };
  if (!check.verified) {
    return { ...base, state: 'broken', detail: check.checks.filter((c) => !c.ok).map((c) => c.detail).join('; ') };
  }
  if (!state || state.status !== 'ready') return { ...base, state: 'incomplete', detail: 'the last setup did not finish: run `pymgr setup`' };
  return { ...base, state: 'ready' };
}
