#!/usr/bin/env node
import { main } from '../dist/cli.js';

// A reader that went away (`pymgr config | head`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`pymgr: internal error: ${err?.stack ?? err}\n`); process.exitCode = 1; },
);
