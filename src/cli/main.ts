/**
 * The CLI entry point. The warm no-op `pymgr setup [dir] [--json]` is answered by quick.ts
 * without loading the argument parser or any of the library's machinery (bin/pymgr.mjs tries its
 * own bundle first); everything else goes to the full CLI in commands.ts.
 */
import { processIO, type CliIO } from './output.js';
import { plainDetect, plainSetup, quickMain } from './quick.js';

export async function main(argv: string[], io: CliIO = processIO, opts: { quickTried?: boolean } = {}): Promise<number> {
  const quick = opts.quickTried ? undefined : await quickMain(argv, io);
  if (quick !== undefined) return quick;
  const { runCli } = await import('./commands.js');
  return runCli(argv, io, { fastPathTried: plainSetup(argv) !== undefined || plainDetect(argv) !== undefined });
}
