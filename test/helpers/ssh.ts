/**
 * The SSH engine the tests use (scripts/ssh-engine.sh, run by `npm run test:full`): sshd on
 * 127.0.0.1:$PYMGR_SSHD_PORT (2222) with the client key in an agent at $PYMGR_SSHD_DIR/agent.sock.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface SshEngine {
  /** `ssh://root@127.0.0.1:2222` */
  url: string;
  port: number;
  dir: string;
  /** The variables that reach it (the agent's socket). */
  env: Record<string, string>;
}

/** The SSH engine, or `undefined` when it is not set up (pass the result to `requireTool`). */
export function findSshEngine(): SshEngine | undefined {
  const dir = process.env.PYMGR_SSHD_DIR ?? '/run/pymgr-sshd';
  const port = Number(process.env.PYMGR_SSHD_PORT ?? 2222);
  const agent = join(dir, 'agent.sock');
  if (!existsSync(agent)) return undefined;
  try {
    execFileSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: agent }, stdio: 'pipe' });
  } catch {
    return undefined;
  }
  return { url: `ssh://root@127.0.0.1:${port}`, port, dir, env: { SSH_AUTH_SOCK: agent } };
}
