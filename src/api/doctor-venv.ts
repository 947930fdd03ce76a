/**
 * doctor's checks of what setup keeps and needs for the env: a previous env left aside by a killed
 * setup (`--fix` puts it back, or removes a leftover), and a venv the configured manager did not
 * build or cannot use (setup rebuilds it aside).
 */
import type { Executor, Problem, Provider, ProviderContext } from '../contracts.js';
import { inspectAside, recoverInterrupted } from '../core/build-aside.js';
import { readState } from '../core/state.js';

export interface VenvFindings {
  problems: Array<Problem & { subject: string }>;
  fixed: string[];
}

/** A previous env kept aside by a setup that did not finish; with `fix`, recovered (under the env lock). */
export async function checkAside(executor: Executor, venvPath: string, fix: boolean): Promise<VenvFindings> {
  const found: VenvFindings = { problems: [], fixed: [] };
  const aside = await inspectAside(executor, venvPath);
  if (!aside) return found;
  if (fix) {
    const done = await recoverInterrupted(executor, venvPath);
    if (done) {
      found.fixed.push(done.action === 'restore' ? `put the previous env back from ${done.path} (${done.detail})` : `removed ${done.path} (${done.detail})`);
      return found;
    }
  }
  found.problems.push({
    subject: 'venv',
    code: 'VENV_ASIDE_LEFTOVER',
    severity: 'warning',
    message: aside.action === 'restore'
      ? `A setup was interrupted: ${aside.path} holds ${aside.detail}; the env at ${venvPath} is unfinished`
      : `${aside.path} is left over: ${aside.detail}`,
    fix: aside.action === 'restore'
      ? 'Run `pymgr doctor --fix` to put the previous env back (setup, run and env do it too).'
      : 'Run `pymgr doctor --fix` to remove it (the next setup does it too).',
    fixable: true,
  });
  return found;
}

/** A venv built by another manager than the configured one, or one the configured manager cannot install into. */
export async function checkVenvManager(ctx: ProviderContext, venvPath: string, provider: Provider): Promise<VenvFindings> {
  const found: VenvFindings = { problems: [], fixed: [] };
  const { executor } = ctx;
  if (!(await executor.exists(`${venvPath}/bin/python`))) return found;
  const state = await readState(executor, venvPath);
  const rebuild = `Run \`pymgr setup\`: it rebuilds the env with ${provider.name}, keeping the current one until the new one verifies.`;
  if (state && state.provider.name !== provider.name) {
    found.problems.push({
      subject: 'venv',
      code: 'VENV_OTHER_MANAGER',
      severity: 'warning',
      message: `The env at ${venvPath} was built by ${state.provider.name}; the configured manager is ${provider.name}`,
      fix: rebuild,
    });
  }
  const problem = await provider.venvProblem?.(ctx, { path: venvPath, python: `${venvPath}/bin/python` }).catch(() => undefined);
  if (problem) {
    found.problems.push({
      subject: 'venv',
      code: 'VENV_UNUSABLE_BY_MANAGER',
      severity: 'error',
      message: `${provider.name} cannot use the env at ${venvPath}: ${problem}`,
      fix: rebuild,
    });
  }
  return found;
}
