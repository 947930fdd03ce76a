/**
 * Lock files must parse before anything is installed from them: a broken `uv.lock` is the
 * project's problem (PROJECT_INVALID, naming the file, line and column), found before setup
 * creates or touches the venv, not an installer failure afterwards.
 */
import type { Executor, InstallPlan } from '../contracts.js';
import { PymgrError } from '../errors.js';
import { parseTomlFile } from './read-project-metadata.js';

/** Throw PROJECT_INVALID when a uv.lock of the plan is not valid TOML. */
export async function assertLockFilesParse(executor: Executor, plan: InstallPlan): Promise<void> {
  for (const step of plan.steps) {
    if (step.kind !== 'uv-project' || !step.lockFile) continue;
    let text: string;
    try {
      text = await executor.readFile(step.lockFile);
    } catch {
      continue; // gone since detection: the installer says so
    }
    try {
      parseTomlFile(text, step.lockFile);
    } catch (err) {
      if (!(err instanceof PymgrError)) throw err;
      throw new PymgrError('PROJECT_INVALID', `${err.message} (the lock file is broken)`, {
        hint: `Restore ${step.lockFile} from version control, or delete it and run \`uv lock\` in the project; pymgr installs nothing from a lock it cannot read.`,
        cause: err.cause,
        details: err.details,
      });
    }
  }
}
