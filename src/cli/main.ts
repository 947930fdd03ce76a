/**
 * The CLI entry point. The warm no-op `pymgr setup [dir] [--json]` is answered here without
 * loading the argument parser or any of the library's machinery (see cli/fast-path.ts);
 * everything else goes to the full CLI in commands.ts.
 */
import { processIO, type CliIO } from './output.js';

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const fast = await tryFastSetup(argv, io);
  if (fast !== undefined) return fast;
  const { runCli } = await import('./commands.js');
  return runCli(argv, io, { fastPathTried: isPlainSetup(argv) });
}

/** `setup`, at most one directory and `--json`: nothing else changes the quick key. */
function isPlainSetup(argv: string[]): boolean {
  if (argv[0] !== 'setup') return false;
  const positional = argv.slice(1).filter((a) => a !== '--json');
  return positional.length <= 1 && !positional.some((a) => a.startsWith('-'));
}

async function tryFastSetup(argv: string[], io: CliIO): Promise<number | undefined> {
  if (!isPlainSetup(argv)) return undefined;
  const json = argv.includes('--json');
  const positional = argv.slice(1).filter((a) => a !== '--json');
  const { tryQuickReuse } = await import('./fast-path.js');
  // The same key the full CLI uses when no config flags are given (flags {}, no config file).
  const result = await tryQuickReuse({ projectDir: positional[0] ?? '.', flags: {}, configFile: undefined });
  if (!result) return undefined;
  const { printSetupResult } = await import('./output.js');
  printSetupResult(io, result, json);
  return 0;
}
