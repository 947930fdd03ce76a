import type { InstallStep } from '../contracts.js';

/** `; extras a, b; groups g; dev; lock frozen` for what the plan selects beyond the defaults, else nothing. */
export function describeSelection(steps: InstallStep[]): string {
  const extras = new Set<string>();
  const groups = new Set<string>();
  let dev = false;
  let lock: string | undefined;
  for (const step of steps) {
    if (step.kind === 'project' || step.kind === 'uv-project') {
      step.extras.forEach((e) => extras.add(e));
      step.groups.forEach((g) => groups.add(g));
    }
    if (step.kind === 'uv-project') {
      dev ||= step.dev;
      if (step.lockFile && step.lock !== 'locked') lock = step.lock === 'update' ? 're-lock' : 'frozen';
    }
    if (step.kind === 'rye-lock') dev ||= step.files.some((f) => f.endsWith('requirements-dev.lock'));
  }
  const parts = [
    extras.size ? `extras ${[...extras].join(', ')}` : '',
    groups.size ? `groups ${[...groups].join(', ')}` : '',
    dev ? 'dev dependencies' : '',
    lock ? `lock: ${lock}` : '',
  ].filter(Boolean);
  return parts.length ? `; ${parts.join('; ')}` : '';
}
