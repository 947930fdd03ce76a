// Loaded into a pymgr CLI with NODE_OPTIONS=--import <this file> by the container fault trials:
// kill -9 of the process at an exact moment of its work in a container, counted in Engine API
// exec starts (every program pymgr runs there is one).
//
//   TEST_KILL_AT_EXEC=<n>           the n-th exec start (1-based), or
//   TEST_KILL_AT_EXEC=/<regex>/     the start of the first exec whose command (the create
//                                   request's body) matches
//   TEST_KILL_WHEN=before|after     before its request is sent (the exec was created and never
//                                   runs), or once it is sent (it runs on without its client)
//
// Test-only: it patches net.Socket's write in this process and nothing else.
import net from 'node:net';

const spec = process.env.TEST_KILL_AT_EXEC ?? '';
const pattern = /^\/(.+)\/$/.exec(spec);
const at = pattern ? undefined : Number(spec);
const match = pattern ? new RegExp(pattern[1]) : undefined;
const when = process.env.TEST_KILL_WHEN === 'before' ? 'before' : 'after';
if (match || (Number.isInteger(at) && at > 0)) {
  let seen = 0;
  let armed = false;
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function patchedWrite(chunk, ...rest) {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('latin1') : '';
    if (match && /"Cmd"\s*:/.test(text) && match.test(text)) armed = true;
    if (/^POST \S*\/exec\/[^/\s]+\/start/.test(text.slice(0, 200)) && (match ? armed : ++seen === at)) {
      if (when === 'before') process.kill(process.pid, 'SIGKILL');
      const done = typeof rest[rest.length - 1] === 'function' ? rest.pop() : undefined;
      return write.call(this, chunk, ...rest, (err) => {
        done?.(err);
        process.kill(process.pid, 'SIGKILL');
      });
    }
    return write.call(this, chunk, ...rest);
  };
}
