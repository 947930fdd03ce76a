/**
 * Partial distributions: a dist-info says a distribution is installed while its files are not all
 * there (a file removed, a full disk, a killed install). Installers take the metadata's word
 * for it, so setup names them in the plan (`InstallPlan.reinstall`) and the installer puts them
 * back (providers/common/install.ts). These helpers are the whole decision.
 */
import type { InstallPlan, PartialDistribution } from '../contracts.js';
import type { IsolationReport } from './verify.js';

/** `jinja2 3.1.2 (jinja2/filters.py is missing)`, for progress lines. */
export function describePartial(partial: readonly PartialDistribution[]): string {
  return partial.map((d) => `${d.name} ${d.version} (${d.problem})`).join('; ');
}

/** The report failed only because of partial distributions: reinstalling them is the repair. */
export function onlyPartialFailed(report: IsolationReport): boolean {
  const failed = report.checks.filter((c) => !c.ok);
  return report.partial.length > 0 && failed.every((c) => c.name.startsWith('files:'));
}

/** The plan, also reinstalling `partial` (the plan itself is left as it is: it is fingerprinted). */
export function withReinstall(plan: InstallPlan, partial: readonly PartialDistribution[] | undefined): InstallPlan {
  return partial?.length ? { ...plan, reinstall: [...partial] } : plan;
}
