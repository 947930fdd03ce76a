#!/usr/bin/env node
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
// A warm `setup` is one start of the venv's interpreter: started now, from the hint the last one
// left, while pymgr's code loads; the fast path takes it only when it is exactly the program it
// would start (src/cli/early-check.ts, which names the hint the same way).
if (argv[0] === 'setup') startEarlyCheck();

function startEarlyCheck() {
  try {
    const env = process.env;
    const cache = env.PYMGR_STATE_DIR || `${env.XDG_CACHE_HOME || `${env.HOME || '/root'}/.cache`}/pymgr`;
    let h = 0xcbf29ce484222325n; // FNV-1a, 64 bits
    for (const byte of Buffer.from([process.cwd(), ...argv].join('\0'), 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
    const text = readFileSync(`${cache}/quick/early-${h.toString(16).padStart(16, '0')}.json`, 'utf8');
    const command = JSON.parse(text);
    const vars = { ...env };
    for (const [k, v] of Object.entries(command.env ?? {})) {
      if (v === null) delete vars[k];
      else vars[k] = v;
    }
    const result = new Promise((resolve) => {
      execFile(command.file, command.args, { env: vars, timeout: command.timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stdout, stderr, killed: !!err?.killed });
      });
    });
    globalThis[Symbol.for('pymgr.earlyCheck')] = { text, result };
  } catch {
    /* no hint (or an unreadable one): the fast path starts its own */
  }
}

let finished = false;

// A reader that went away (`pymgr config | head`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') {
      finished = true;
      process.exit(process.exitCode ?? 0);
    }
    throw err;
  });
}

// Never a silent success: a command whose work stopped before it finished (nothing left to wait
// on, e.g. a connection that no longer holds the process) exits 1 and says so.
process.on('exit', () => {
  if (finished) return;
  process.stderr.write('pymgr: internal error: the command stopped before it finished\n');
  process.exitCode = 1;
});

async function start() {
  // The warm no-op of a `setup` (or an unchanged `detect`) first, from its own bundle (nothing else loaded).
  const quick = argv[0] === 'setup' || argv[0] === 'detect';
  if (quick) {
    const code = await (await import('../dist/quick/quick.js')).quickMain(argv);
    if (code !== undefined) return code;
  }
  return (await import('../dist/cli.js')).main(argv, undefined, { quickTried: quick });
}

start().then(
  (code) => { finished = true; process.exitCode = code; },
  (err) => { finished = true; process.stderr.write(`pymgr: internal error: ${err?.stack ?? err}\n`); process.exitCode = 1; },
);
