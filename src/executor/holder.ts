/**
 * Every program pymgr starts says which pymgr process started it: `_PYMGR_HOLDER=<host>/<pid>` in
 * its environment, which whatever it starts inherits. Programs outlive a pymgr killed with -9 (an
 * installer goes on writing into the env; a container's exec goes on without its client), so a
 * setup that takes over the lock of one that died first stops what it left running
 * (`Executor.stopLeftovers`), found by that entry. Outside the PYMGR_ settings' namespace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const HOLDER_VAR = '_PYMGR_HOLDER';

/** This process's entry value: `<host>/<pid>`. */
export const HOLDER = `${hostname()}/${process.pid}`;

/**
 * Each program the host executor starts also carries `_PYMGR_EXEC=<host>/<pid>/<n>`, its own:
 * a step that is stopped (a signal, a timeout) stops what the program started too (an
 * installer's build backend), found by that entry though it was re-parented.
 */
export const EXEC_VAR = '_PYMGR_EXEC';
let execs = 0;

/** A new value for {@link EXEC_VAR}. */
export function nextExecTag(): string {
  return `${HOLDER}/${++execs}`;
}

/** The environment entry of the programs that the pymgr process `from` started. */
export function holderEntry(from: { host: string; pid: number }): string {
  return `${HOLDER_VAR}=${from.host}/${from.pid}`;
}

/**
 * On this machine (Linux: /proc): SIGKILL every process whose environment holds exactly `entry`,
 * then wait (up to `waitMs`) until they are gone, so nothing they were writing lands afterwards.
 * Processes of other users that cannot be read are passed over. Resolves to how many were killed.
 */
export async function stopProcessesWith(entry: string, waitMs = 5_000): Promise<number> {
  const marked = processesWith(entry);
  // A process that was starting (forked before the kill) holds the entry too: look again until none is left.
  const until = Date.now() + waitMs;
  for (let left = marked; left.length; left = processesWith(entry)) {
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    if (Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return marked.length;
}

/** Live (not zombie) processes whose environment holds `entry`, this one excepted. */
export function processesWith(entry: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return []; // no /proc: nothing can be found (and nothing is claimed)
  }
  const needle = Buffer.from(`\0${entry}\0`);
  const out: number[] = [];
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${p}/environ`);
      const padded = Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]);
      if (padded.indexOf(needle) < 0) continue;
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue; // exited, not yet reaped
      out.push(pid);
    } catch {
      /* gone, or another user's */
    }
  }
  return out;
}
