/**
 * The warm no-op `pymgr setup [dir] [--json] [--docker <c>]`, and an unchanged `pymgr detect
 * [dir] [--json]` on the host, answered before anything else is loaded. The build makes this file
 * its own bundle (dist/quick/quick.js, Node built-ins only; what only a container needs in chunks
 * loaded then), which bin/pymgr.mjs imports first for a `setup` or a `detect`; everything else,
 * and every miss, goes to the full CLI (main.ts).
 */
import { tryQuickDetect, tryQuickReuse } from './fast-path.js';
import { printJson, printSetupResult, processIO, type CliIO } from './output.js';
import { renderDetect } from './render.js';

/** `setup`, at most one directory, `--json` and `--docker <container>`: nothing else changes the quick key. */
export function plainSetup(argv: string[]): { dir?: string; docker?: string } | undefined {
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

/** `detect`, at most one directory, `--json`: the quick key of a detection on the host. */
export function plainDetect(argv: string[]): { dir?: string } | undefined {
  if (argv[0] !== 'detect') return undefined;
  const rest = argv.slice(1).filter((a) => a !== '--json');
  if (rest.length > 1 || rest.some((a) => a.startsWith('-'))) return undefined;
  return { dir: rest[0] };
}

/**
 * The exit status when the recorded result still holds (printed), or `undefined`: not a plain
 * setup, or the full path must run.
 */
export async function quickMain(argv: string[], io: CliIO = processIO): Promise<number | undefined> {
  const detect = plainDetect(argv);
  if (detect) {
    const d = tryQuickDetect({ projectDir: detect.dir ?? '.', searchUp: detect.dir === undefined, flags: {}, configFile: undefined });
    if (!d) return undefined;
    if (argv.includes('--json')) printJson(io, { ok: true, ...d });
    else io.stdout(renderDetect(d));
    return 0;
  }
  const plain = plainSetup(argv);
  if (!plain) return undefined;
  // The same key the full CLI uses when no config flags are given (flags {}, no config file).
  const result = await tryQuickReuse({ projectDir: plain.dir ?? '.', searchUp: plain.dir === undefined, flags: {}, configFile: undefined, ...(plain.docker !== undefined ? { docker: plain.docker } : {}) });
  if (!result) return undefined;
  printSetupResult(io, result, argv.includes('--json'));
  return 0;
}
