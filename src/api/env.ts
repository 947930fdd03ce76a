import { toPymgrError } from '../errors.js';
import { matchPythonVersion } from '../python-version.js';
import { createProvider } from '../../providers/index.js';
import { executorOf, resolveProject } from '../core/context.js';
import { startCostMeter } from '../core/cost.js';
import { describeManagerChange, fingerprintMatches } from '../core/fingerprint.js';
import { readState } from '../core/state.js';
import { recoverInterrupted } from '../core/build-aside.js';
import { inspectVenv } from '../core/verify.js';
import type { CommonOptions, EnvReport, IsolationCheck } from '../types.js';

export type { EnvReport };

/** Report the project's env without changing it (except that the previous env a killed setup kept aside is put back first). */
export async function describeEnv(options: CommonOptions = {}): Promise<EnvReport> {
  try {
    const executor = executorOf(options);
    const spent = startCostMeter(executor);
    const report = await inspectEnv({ ...options, executor });
    return { ...report, ...spent() };
  } catch (err) {
    throw toPymgrError(err);
  }
}

async function inspectEnv(options: CommonOptions): Promise<EnvReport> {
  const { executor, venvPath, detection, ctx } = await resolveProject(options);
  // A setup killed while it kept the previous env aside: report (and restore) that env, the last verified one.
  await recoverInterrupted(executor, venvPath);
  const state = await readState(executor, venvPath);
  if (!(await executor.exists(venvPath))) return { path: venvPath, state: 'missing', detail: 'no venv yet: run `pymgr setup`', checks: [] };
  const expected = ctx.config.verify.packages ? detection.plan.expected : [];
  const check = await inspectVenv(executor, venvPath, expected, {
    versionOk: (v) => matchPythonVersion(detection.python.raw, [v]) !== undefined,
    timeoutMs: ctx.config.verify.timeoutMs,
    files: ctx.config.verify.deep ? 'deep' : 'full',
    dependencies: true,
  });
  const base = {
    path: venvPath,
    python: check.facts ? { version: check.facts.version, executable: `${venvPath}/bin/python`, base: state?.python.executable } : undefined,
    provider: state?.provider,
    projectType: state?.projectType,
    updatedAt: state?.updatedAt,
    checks: check.checks,
  };
  // What the request decides (packages, the Python version) is judged after "did the inputs change".
  const requested = (c: IsolationCheck) => c.name.startsWith('package:') || c.name === 'python-version';
  const failed = (packages: boolean) => check.checks.filter((c) => !c.ok && requested(c) === packages);
  // Not a working venv at all: broken, whatever else is true.
  if (failed(false).length) return { ...base, state: 'broken', detail: failed(false).map((c) => c.detail).join('; ') };
  if (!state || state.status !== 'ready') return { ...base, state: 'incomplete', detail: 'the last setup did not finish: run `pymgr setup`' };
  // Another manager asked for (--provider, config): setup would rebuild with it.
  const swapped = describeManagerChange(ctx.config.provider, state.provider.name);
  if (swapped) return { ...base, state: 'outdated', detail: `${swapped} since the last setup: run \`pymgr setup\`` };
  // Inputs changed since the last setup (a newly requested package is naturally missing then).
  const probe = await (await createProvider(state.provider.name)).probe(ctx);
  if (!(await fingerprintMatches({ executor, plan: detection.plan, provider: probe, request: detection.python, venvPath, config: ctx.config }, state.fingerprint))) {
    return { ...base, state: 'outdated', detail: 'the project, its config or the manager changed since the last setup: run `pymgr setup`' };
  }
  if (failed(true).length) return { ...base, state: 'broken', detail: failed(true).map((c) => c.detail).join('; ') };
  return { ...base, state: 'ready' };
}
