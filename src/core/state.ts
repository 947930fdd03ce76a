import type { Executor } from '../contracts.js';

/** What pymgr records inside a venv (`<venv>/.pymgr/state.json`). */
export interface EnvState {
  schema: 1;
  /** `ready` only after verification passed; anything else means the last setup did not finish. */
  status: 'in-progress' | 'ready';
  fingerprint: string;
  provider: { name: string; version?: string; path?: string };
  python: { version: string; executable: string; request: string };
  projectType: string;
  projectDir: string;
  /** Top-level distributions requested at the last setup (a dropped one forces a rebuild). */
  expected?: string[];
  updatedAt: string;
}

export function stateDir(venvPath: string): string {
  return `${venvPath}/.pymgr`;
}

export function statePath(venvPath: string): string {
  return `${stateDir(venvPath)}/state.json`;
}

/** The recorded state, or undefined when there is none or it is unreadable. */
export async function readState(executor: Executor, venvPath: string): Promise<EnvState | undefined> {
  try {
    const data = JSON.parse(await executor.readFile(statePath(venvPath))) as EnvState;
    return data && data.schema === 1 && typeof data.fingerprint === 'string' ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Write the state atomically (temporary file, then rename), so a kill never leaves half a file. */
export async function writeState(executor: Executor, venvPath: string, state: EnvState): Promise<void> {
  await executor.mkdir(stateDir(venvPath), { recursive: true });
  const tmp = `${statePath(venvPath)}.${process.pid}.tmp`;
  await executor.writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await executor.rename(tmp, statePath(venvPath));
}
