import { writeAtomic } from '../executor/write-atomic.js';
import { PROJECT_TYPES, PROVIDER_NAMES, type Executor, type ProjectType, type ProviderName } from '../contracts.js';
import { stateDir, statePath } from './paths.js';

/** What pymgr records inside a venv (`<venv>/.pymgr/state.json`). */
export interface EnvRecord {
  schema: 1;
  /** `ready` only after verification passed; anything else means the last setup did not finish. */
  status: 'in-progress' | 'ready';
  fingerprint: string;
  provider: { name: ProviderName; version?: string; path?: string };
  python: { version: string; executable: string; request: string };
  projectType: ProjectType;
  projectDir: string;
  /** Top-level distributions requested at the last setup (a dropped one forces a rebuild). */
  expected?: string[];
  /**
   * The build that wrote this state (see build-aside.ts): a kept-aside previous env whose marker
   * has the same id belongs to a build that finished and verified, so it may be removed.
   */
  build?: string;
  /** A digest of each input of the fingerprint (a file, a setting), to name what changed since. */
  inputs?: Record<string, string>;
  updatedAt: string;
}

export { stateDir, statePath };

/** The recorded state, or undefined when there is none or it is unreadable. */
export async function readState(executor: Executor, venvPath: string): Promise<EnvRecord | undefined> {
  try {
    const data: unknown = JSON.parse(await executor.readFile(statePath(venvPath)));
    return isEnvRecord(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Write the state atomically (temporary file, then rename), so a kill never leaves half a file.
 * With `defer`, an executor may make the write with its next operation (Executor.writeFileAtomic),
 * whose failure then reports it.
 */
export async function writeState(executor: Executor, venvPath: string, state: EnvRecord, options: { defer?: boolean } = {}): Promise<void> {
  // Explicit modes: no group or other write bit whatever the umask.
  await writeAtomic(executor, statePath(venvPath), JSON.stringify(state, null, 2) + '\n', { mode: 0o644, parents: true, defer: options.defer });
}

/** A record this version of pymgr wrote and can read: the schema, and a known manager and project type. */
function isEnvRecord(data: unknown): data is EnvRecord {
  if (!data || typeof data !== 'object') return false;
  const r = data as Partial<Record<keyof EnvRecord, unknown>>;
  const provider = r.provider as { name?: unknown } | undefined;
  return (
    r.schema === 1 &&
    typeof r.fingerprint === 'string' &&
    (r.status === 'ready' || r.status === 'in-progress') &&
    PROVIDER_NAMES.some((n) => n === provider?.name) &&
    PROJECT_TYPES.some((t) => t === r.projectType) &&
    !!r.python && typeof r.python === 'object'
  );
}
