/**
 * The CLI entry point. The warm no-op `pymgr setup [dir] [--json]` is answered here without
 * loading the argument parser or any of the library's machinery (see cli/fast-path.ts);
 * everything else goes to the full CLI in commands.ts.
 */
import { processIO, type CliIO } from './output.js';

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const plain = plainSetup(argv);
  const fast = plain && (await tryFastSetup(plain, argv.includes('--json'), io));
  if (fast !== undefined) return fast;
  const { runCli } = await import('./commands.js');
  return runCli(argv, io, { fastPathTried: plain !== undefined });
}

/** `setup`, at most one directory, `--json` and `--docker <container>`: nothing else changes the quick key. */
function plainSetup(argv: string[]): { dir?: string; docker?: string } | undefined {
  if (argv[0] !== 'setup') return undefined;
  const rest = argv.slice(1).filter((a) => a !== '--json');
  let docker: string | undefined;
  const at = rest.indexOf('--docker');
  if (at >= 0) {
    docker = rest[at + 1];
    if (docker === undefined || docker.startsWith('-')) return undefined;
    rest.splice(at, 2);
  }
  if (rest.length > 1 || rest.some((a) => a.startsWith('-'))) return undefined;
  return { dir: rest[0], ...(docker !== undefined ? { docker } : {}) };
}

async function tryFastSetup(plain: { dir?: string; docker?: string }, json: boolean, io: CliIO): Promise<number | undefined> {
  const { tryQuickReuse } = await import('./fast-path.js');
  // The same key the full CLI uses when no config flags are given (flags {}, no config file).
  const result = await tryQuickReuse({ projectDir: plain.dir ?? '.', flags: {}, configFile: undefined, ...(plain.docker !== undefined ? { docker: plain.docker } : {}) });
  if (!result) return undefined;
  const { printSetupResult } = await import('./output.js');
  printSetupResult(io, result, json);
  return 0;
}
