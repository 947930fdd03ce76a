#!/usr/bin/env node
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

const argv = process.argv.slice(2);
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
