// Loaded into a pymgr CLI with NODE_OPTIONS=--import <this file> by the host fault trials: kill -9
// of the pymgr process alone (what the OOM killer or a `kill -9 <pid>` does; its process group is
// left alone) right after it started its n-th program, which goes on running without it.
//
//   TEST_KILL_AT_SPAWN=<n>   the n-th program started (1-based)
//
// Test-only: it patches ChildProcess's spawn in this process and nothing else.
import { ChildProcess } from 'node:child_process';

const at = Number(process.env.TEST_KILL_AT_SPAWN);
if (Number.isInteger(at) && at > 0) {
  let seen = 0;
  const spawn = ChildProcess.prototype.spawn;
  ChildProcess.prototype.spawn = function patchedSpawn(...args) {
    const out = spawn.apply(this, args);
    if (++seen === at) process.kill(process.pid, 'SIGKILL');
    return out;
  };
}
