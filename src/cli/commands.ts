import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Executor } from '../contracts.js';
import { PROVIDER_NAMES } from '../provider-names.js';
import type { PymgrConfigInput } from '../config/schema.js';
import { PymgrError, exitCodeFor, toPymgrError } from '../errors.js';
import { createProgress, paint, printError, printJson, printSetupResult, processIO, type CliIO } from './output.js';

interface GlobalOpts {
  json?: boolean;
  verbose?: boolean;
  config?: string;
  provider?: string;
  python?: string;
  venv?: string;
  offline?: boolean;
  indexUrl?: string;
  indexUrlFile?: string;
  user?: string;
  findLinks?: string[];
  docker?: string;
  engine?: string;
  upload?: string;
  fix?: boolean;
  all?: boolean;
  frozen?: boolean;
  locked?: boolean;
  relock?: boolean;
  extra?: string[];
  allExtras?: boolean;
  group?: string[];
  dev?: boolean;
  deep?: boolean;
  sync?: boolean;
}

const repeatable = (v: string, prev: string[] = []) => [...prev, v];

/** A find-links value that is a path (not a URL: `scheme://`, `file:`), made absolute against the current directory. */
const localLink = (link: string) => (/^([a-z][a-z0-9+.-]*:\/\/|file:)/i.test(link) ? link : resolvePath(link));

/**
 * Config values given as flags (the highest precedence). On this machine, a relative
 * `--find-links` directory is the user's, relative to the current directory (as for uv and pip);
 * in a container (`--docker`, `bake`) it stays as given, a path there.
 */
function flagsFrom(o: GlobalOpts, where: 'host' | 'container' = o.docker === undefined ? 'host' : 'container'): PymgrConfigInput {
  const flags: Record<string, unknown> = {};
  if (o.provider !== undefined) flags.provider = o.provider;
  if (o.python !== undefined) flags.python = o.python;
  if (o.venv !== undefined) flags.venv = o.venv;
  const index: Record<string, unknown> = {};
  if (o.offline) index.offline = true;
  if (o.indexUrl !== undefined) index.url = o.indexUrl;
  if (o.findLinks?.length) index.findLinks = where === 'host' ? o.findLinks.map(localLink) : o.findLinks;
  if (Object.keys(index).length) flags.index = index;
  const dependencies: Record<string, unknown> = {};
  if (o.frozen) dependencies.lock = 'frozen';
  if (o.locked) dependencies.lock = 'locked';
  if (o.relock) dependencies.lock = 'update';
  if (o.extra?.length) dependencies.extras = o.extra;
  if (o.allExtras) dependencies.allExtras = true;
  if (o.group?.length) dependencies.groups = o.group;
  if (o.dev) dependencies.dev = true;
  if (Object.keys(dependencies).length) flags.dependencies = dependencies;
  if (o.user !== undefined) flags.docker = { user: o.user };
  if (o.deep) flags.verify = { deep: true };
  return flags as PymgrConfigInput;
}

/**
 * `--index-url -` (standard input) and `--index-url-file <path>` read the URL where no other user
 * can see it; a password given in the flag itself still works, with a warning (the process list
 * shows it to every local user).
 */
async function readSecretFlags(o: GlobalOpts, io: CliIO): Promise<void> {
  if (o.indexUrlFile !== undefined && o.indexUrl !== undefined) {
    throw new PymgrError('USAGE', 'Give the index URL once: --index-url or --index-url-file, not both');
  }
  if (o.indexUrlFile !== undefined) {
    const file = o.indexUrlFile;
    const text = await readFile(resolvePath(file), 'utf8').catch((err: unknown) => {
      throw new PymgrError('USAGE', `Cannot read --index-url-file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
        hint: 'Name a readable file holding the index URL on its first line.',
        cause: err,
      });
    });
    o.indexUrl = firstLine(text, `--index-url-file ${file}`);
    o.indexUrlFile = undefined;
  } else if (o.indexUrl === '-') {
    o.indexUrl = firstLine(await (io.readStdin ?? readProcessStdin)(), '--index-url - (standard input)');
  } else if (o.indexUrl !== undefined && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i.test(o.indexUrl)) {
    io.stderr('pymgr: warning: the password in --index-url is visible to other local users in the process list; use --index-url-file, --index-url -, PYMGR_INDEX__URL or the config file\n');
  }
}

function firstLine(text: string, where: string): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
  if (!line) throw new PymgrError('USAGE', `No index URL in ${where}`, { hint: 'Put the URL on the first line.' });
  return line;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** A config file named on the command line is relative to the current directory (on the host). */
function configPath(o: GlobalOpts): string | undefined {
  return o.config === undefined || o.docker ? o.config : resolvePath(o.config);
}

async function executorFor(o: GlobalOpts): Promise<Executor | undefined> {
  if (o.user !== undefined && !o.docker) {
    throw new PymgrError('USAGE', '--user needs --docker: on the host pymgr runs as the user who runs it', { hint: 'Run pymgr as that user instead.' });
  }
  if (o.engine !== undefined && !o.docker) {
    throw new PymgrError('USAGE', '--engine needs --docker: it says which engine runs the container', { hint: 'pymgr setup /work/app --docker my-container --engine ssh://me@gpu-1' });
  }
  if (!o.docker) return undefined;
  const { DockerExecutor } = await import('../docker/docker-executor.js');
  return DockerExecutor.connect(o.docker, o.engine !== undefined ? { engine: { engine: o.engine } } : {});
}

/**
 * In a container the CLI reports what the whole command cost on the engine: finding it and
 * connecting to the container too, not only what the verb itself asked.
 */
function withProcessCost<T extends { execs?: number; roundTrips?: number }>(result: T, executor: Executor | undefined): T {
  const total = executor?.cost?.();
  return total?.roundTrips === undefined ? result : { ...result, execs: total.execs, roundTrips: total.roundTrips };
}

/**
 * The options every verb gets from the command line. Without a directory argument the project is
 * the current directory or, when that is not a Python project, the nearest one above it.
 */
async function commonOptions(dir: string | undefined, o: GlobalOpts, executor?: Executor) {
  return { projectDir: dir, searchUp: dir === undefined, executor: executor ?? (await executorFor(o)), flags: flagsFrom(o), configFile: configPath(o) };
}

/** One-line examples shown by every command's --help (the README's CLI section lists them too). */
export const EXAMPLES: Record<string, string[]> = {
  setup: ['pymgr setup', 'pymgr setup path/to/project --python 3.12', 'pymgr setup --provider pyenv --extra test --dev', 'pymgr setup --frozen', 'pymgr setup --deep', 'pymgr setup /work/app --docker my-container', 'pymgr setup /work/app --docker my-container --engine ssh://me@gpu-1', 'pymgr setup ./app --docker my-container --upload /work/app'],
  run: ['pymgr run -- python -m pytest', 'pymgr run path/to/project -- python -V', 'pymgr run --sync -- python -m pytest'],
  env: ['pymgr env', 'pymgr env --json'],
  detect: ['pymgr detect', 'pymgr detect path/to/project --json'],
  config: ['pymgr config', 'pymgr config --all'],
  doctor: ['pymgr doctor', 'pymgr doctor --fix'],
  bake: ['pymgr bake ./app --image python-base:1 --tag app-env:1', 'pymgr bake ./app --image python-base:1 --tag app-env:1 --mount /srv/wheels:/wheels:ro --find-links /wheels --offline'],
  fleet: ['pymgr fleet fleet.json', 'pymgr fleet fleet.json --concurrency 6 --json > results.json'],
  schema: ['pymgr schema > config.schema.json', 'pymgr schema --fleet > fleet.schema.json'],
};

function addExamples(cmd: Command, name: string): Command {
  return cmd.addHelpText('after', `\nExamples:\n${EXAMPLES[name].map((e) => `  ${e}`).join('\n')}\n`);
}

function addCommon(cmd: Command, opts: { dir?: boolean; config?: boolean; json?: boolean } = {}): Command {
  addExamples(cmd, cmd.name());
  if (opts.dir !== false) cmd.argument('[dir]', 'project directory (default: the current directory, or the nearest project above it)');
  if (opts.json !== false) cmd.option('--json', 'print exactly one JSON document on stdout');
  cmd.option('-v, --verbose', 'show the tools\' output');
  if (opts.config !== false) {
    cmd
      .option('-c, --config <file>', 'use this config file instead of searching for one')
      .addOption(new Option('--provider <name>', 'manager to use').choices(['auto', ...PROVIDER_NAMES]))
      .option('--python <request>', 'Python version request, e.g. 3.12 or ">=3.10,<3.13"')
      .option('--venv <path>', 'venv path (relative to the project directory)')
      .option('--offline', 'never touch the network')
      .option('--index-url <url>', 'primary package index (`-`: read it from standard input)')
      .option('--index-url-file <path>', 'read the primary package index URL from this file (keeps a password off the process list)')
      .option('--find-links <dir>', 'a directory or URL of distributions (repeatable)', repeatable)
      .addOption(new Option('--frozen', 'install exactly what the lock file says (uv sync --frozen)').conflicts(['locked', 'relock']))
      .addOption(new Option('--locked', 'refuse a lock file that is out of date (the default)').conflicts(['relock']))
      .option('--relock', 're-lock when the lock file is out of date (uv sync without --locked)')
      .option('--extra <name>', 'install this extra of the project (repeatable)', repeatable)
      .option('--all-extras', 'install every extra the project defines')
      .option('--group <name>', 'install this dependency group (repeatable)', repeatable)
      .option('--dev', 'install development dependencies (the dev group, rye\'s dev lock)')
      .option('--docker <container>', 'run inside this Docker container (id or name)')
      .option('--engine <context|url>', 'with --docker: the engine, a Docker context name or an address (unix://, tcp://, ssh://user@host); default DOCKER_HOST, DOCKER_CONTEXT, the usual sockets')
      .option('--user <uid:gid>', 'with --docker: run the managers in the container as this user (docker.user)');
  }
  return cmd;
}

/**
 * The full CLI: parses arguments, calls the library, prints, and returns the exit status
 * (0 ok, 1 failure, 2 usage or config error). It never calls process.exit.
 */
export async function runCli(argv: string[], io: CliIO = processIO, opts: { fastPathTried?: boolean } = {}): Promise<number> {
  // `pymgr run [dir] [options] -- <cmd> [args...]`: everything after `--` is the command, verbatim.
  const dashdash = argv.indexOf('--');
  const runCommand = argv[0] === 'run' && dashdash >= 0 ? argv.slice(dashdash + 1) : undefined;
  const parseArgs = runCommand ? argv.slice(0, dashdash) : argv;
  let exitCode = 0;
  let json = parseArgs.includes('--json');
  if (argv[0] === 'run' && parseArgs.includes('--json')) {
    printError(io, new PymgrError('USAGE', 'pymgr run does not take --json: the command\'s own output is passed through', {
      hint: 'Drop --json; use `pymgr env --json` to inspect the env.',
    }), true); // asked for JSON: the usage error is the one JSON document
    return 2;
  }

  const program = new Command('pymgr')
    .description('Isolated, verified Python environments through uv, mise or pyenv, on the host or in Docker.')
    .version(typeof PYMGR_VERSION === "string" ? PYMGR_VERSION : "0.0.0-dev", "--version")
    .exitOverride()
    // Commander's own error lines are not printed: every usage error is reported below in
    // pymgr's one style (or as the one JSON document with --json).
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => undefined });

  const wrap = (fn: (dir: string | undefined, o: GlobalOpts) => Promise<number>) => async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const o = cmd.opts() as GlobalOpts;
    json = !!o.json;
    try {
      await readSecretFlags(o, io);
      exitCode = await fn(args.length > 2 ? (args[0] as string | undefined) : undefined, o);
    } catch (err) {
      printError(io, err, json, !!o.verbose);
      exitCode = exitCodeFor(toPymgrError(err));
    }
  };

  const deepOption = () => new Option('--deep', 'also compare every installed file\'s hash with its RECORD (slower)');
  addCommon(program.command('setup').description('create or update the project\'s verified venv'))
    .addOption(deepOption())
    .option('--upload <path>', 'with --docker: upload the project (here, on this machine) to this path in the container first; only what changed is sent')
    .action(
    wrap(async (dir, o) => {
      // Warm no-op fast path: nothing heavy is loaded unless something changed (in a container:
      // one exec, see cli/fast-path.ts). main() already tried it for a plain `setup [dir] [--json]
      // [--docker <c>]` (the same key): not twice.
      // --upload: the project is here, on the host, and goes to that path in the container first.
      let uploaded: import('../docker/upload.js').UploadReport | undefined;
      let executor: Executor | undefined;
      if (o.upload !== undefined) {
        if (!o.docker) throw new PymgrError('USAGE', '--upload needs --docker: it is where the project goes in that container', { hint: 'pymgr setup ./app --docker my-container --upload /work/app' });
        executor = await executorFor(o);
        const { uploadProject } = await import('../docker/upload.js');
        uploaded = await uploadProject(executor as import('../docker/docker-executor.js').DockerExecutor, resolvePath(dir ?? '.'), o.upload, { venv: o.venv });
        if (!o.json) io.stderr(`${paint(io, 'stderr', 'cyan', '•')} ${paint(io, 'stderr', 'dim', 'upload:')} ${uploaded.sent} sent (${uploaded.bytes} bytes), ${uploaded.removed} removed, ${uploaded.unchanged} unchanged → ${uploaded.to}\n`);
        dir = o.upload;
      }
      const withUpload = <T extends object>(r: T) => (uploaded ? { ...r, upload: uploaded } : r);
      const quickKey = { projectDir: dir ?? '.', searchUp: dir === undefined, flags: flagsFrom(o), configFile: configPath(o), ...(o.docker ? { docker: o.docker } : {}), ...(o.engine ? { engine: o.engine } : {}) };
      const { tryQuickReuse } = await import('./fast-path.js');
      const quick = (opts.fastPathTried && !uploaded) || o.deep ? undefined : await tryQuickReuse(quickKey);
      if (quick) {
        printSetupResult(io, withUpload(quick), !!o.json);
        return 0;
      }
      const { setup } = await import('../api/setup.js');
      executor ??= await executorFor(o);
      const options = {
        ...(await commonOptions(dir, o, executor)),
        ...(uploaded ? { searchUp: false } : {}),
        onProgress: createProgress(io, { json: !!o.json, verbose: !!o.verbose }),
      };
      const done = await untilInterrupted(io, (signal) => setup({ ...options, signal }), { json: !!o.json });
      if (typeof done === 'number') return done;
      await (await import('./fast-path-record.js')).recordFastPath(quickKey, options, done);
      // What the whole command cost, the record for the next run's fast path included.
      const result = withProcessCost(done, executor);
      printSetupResult(io, withUpload(result), !!o.json);
      return 0;
    }),
  );

  addCommon(program.command('detect').description('show what pymgr detects: project type, Python request, provider')).action(
    wrap(async (dir, o) => {
      const executor = await executorFor(o);
      // An unchanged detection on the host is answered from its record (main() already tried
      // for a plain `detect [dir] [--json]`: the same key).
      const quickKey = { projectDir: dir ?? '.', searchUp: dir === undefined, flags: flagsFrom(o), configFile: configPath(o) };
      const { tryQuickDetect } = await import('./fast-path.js');
      const quick = executor || opts.fastPathTried ? undefined : tryQuickDetect(quickKey);
      const options = await commonOptions(dir, o, executor);
      const d = quick ?? withProcessCost(await (await import('../api/detect.js')).detect(options), executor);
      if (!quick && !executor) await (await import('./fast-path-record.js')).recordDetect(quickKey, options, d);
      if (o.json) printJson(io, { ok: true, ...d });
      else io.stdout((await import('./render.js')).renderDetect(d));
      return 0;
    }),
  );

  addCommon(program.command('config').description('show the config values that are set and where each came from (--all: every key)'))
    .option('--all', 'list every key, defaults included')
    .action(
    wrap(async (dir, o) => {
      const { showConfig } = await import('../api/config.js');
      const shown = await showConfig(await commonOptions(dir, o));
      if (o.json) printJson(io, { ok: true, ...shown });
      else io.stdout((await import('./render.js')).renderConfig(shown, { all: !!o.all }));
      return 0;
    }),
  );

  addExamples(program.command('schema'), 'schema')
    .description('print the JSON Schema of the config file (--fleet: of a fleet file)')
    .option('--json', 'same output (it is always JSON)')
    .option('--fleet', 'the schema of fleet files (pymgr fleet) instead')
    .action(async (o: { fleet?: boolean }) => {
      if (o.fleet) printJson(io, (await import('../config/fleet-file.js')).generateFleetJsonSchema());
      else printJson(io, (await import('../config/json-schema.js')).generateJsonSchema());
    });

  addExamples(program.command('fleet'), 'fleet')
    .description('build every env of a fleet file on its Docker engines, in parallel (only what is not ready is redone)')
    .argument('<file>', 'the fleet file (JSON; see fleet.schema.json)')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('-v, --verbose', 'show every step of every env')
    .option('--concurrency <n>', 'envs set up at once over all engines (overrides the file)')
    .option('--placements <file>', 'where to remember which engine has which env (default: in pymgr\'s cache directory)')
    .action(async (file: string, o: { json?: boolean; verbose?: boolean; concurrency?: string; placements?: string }) => {
      json = !!o.json;
      try {
        exitCode = await runFleet(io, file, o);
      } catch (err) {
        printError(io, err, json, !!o.verbose);
        exitCode = exitCodeFor(toPymgrError(err));
      }
    });

  addCommon(program.command('env').description('report the project\'s env: path, Python, provider, state')).addOption(deepOption()).action(
    wrap(async (dir, o) => {
      const { describeEnv } = await import('../api/env.js');
      const executor = await executorFor(o);
      const env = withProcessCost(await describeEnv(await commonOptions(dir, o, executor)), executor);
      if (o.json) printJson(io, { ok: env.state === 'ready', ...env });
      else io.stdout((await import('./render.js')).renderEnv(env));
      return env.state === 'ready' ? 0 : 1;
    }),
  );

  addCommon(program.command('run').description('run a command inside the env: pymgr run [dir] -- <cmd> [args...]'), { json: false })
    .option('--sync', 'run setup first when needed (as `uv run` does); config run.sync')
    .action(
    wrap(async (dir, o) => {
      if (!runCommand || runCommand.length === 0) {
        throw new PymgrError('USAGE', 'pymgr run needs a command after `--`', { hint: 'pymgr run [dir] -- python -m pytest' });
      }
      const { run, prepareRun } = await import('../api/run.js');
      const executor = await executorFor(o);
      const options: import('../types.js').RunOptions = {
        ...(await commonOptions(dir, o, executor)),
        command: runCommand,
        ...(o.sync ? { sync: true } : {}),
        // Progress of the setup that --sync (or run.sync) runs first, on stderr as for setup.
        onProgress: createProgress(io, { json: false, verbose: !!o.verbose }),
        onOutdated: (changed) =>
          io.stderr(
            `pymgr: ${paint(io, 'stderr', 'yellow', 'warning')}: the env is outdated: ${changed.join(', ')} changed since the last setup; running the command in the env as it is (\`pymgr setup\` or \`pymgr run --sync\` brings it up to date)\n`,
          ),
        // On the host the command inherits the terminal; a container's output is streamed here.
        onOutput: executor ? (stream, chunk) => (stream === 'stdout' ? io.stdout(chunk) : io.stderr(chunk)) : undefined,
      };
      // On the host: the setup that --sync runs first stops cleanly on a signal, as `pymgr setup`
      // does (the previous env kept, the lock released, exit 128 + n). Then, as `uv run` does,
      // the command gets the signals, and pymgr waits for it and exits with its exit code: a
      // terminal's Ctrl-C reaches it through the process group, and what is sent to pymgr alone
      // is forwarded (SIGTERM, SIGHUP; SIGINT when pymgr is not the terminal's foreground job).
      const runOnHost = async () => {
        const prepared = await untilInterrupted(io, (signal) => prepareRun({ ...options, signal }));
        return typeof prepared === 'number' ? prepared : prepared.start({ forwardSignals: true });
      };
      // In a container the command is not in this terminal's process group: Ctrl-C must reach it
      // through pymgr, which stops it there and exits 128 + the signal's number.
      const res = executor ? await untilInterrupted(io, (signal) => run({ ...options, signal })) : await runOnHost();
      if (typeof res === 'number') return res;
      if (res.notFound) io.stderr(`pymgr: ${runCommand[0]}: command not found (PATH starts with ${res.venvPath}/bin)\n`);
      return res.exitCode;
    }),
  );

  addCommon(program.command('bake').description('bake the project\'s verified env into a Docker image (reused when already baked)'), { config: true })
    .requiredOption('--image <base>', 'the base image')
    .requiredOption('--tag <name>', 'the image to make, repo[:tag]')
    .option('--target <path>', 'where the project goes in the image', '/work/project')
    .option('--mount <host:container[:ro]>', 'a bind mount for the build only, e.g. a wheel directory (repeatable)', repeatable)
    .action(
      wrap(async (dir, o) => {
        const b = o as GlobalOpts & { image: string; tag: string; target: string; mount?: string[] };
        if (o.docker) throw new PymgrError('USAGE', 'bake makes its own container from --image: --docker does not apply', { hint: 'pymgr bake ./app --image python-base:1 --tag app-env:1 (--engine picks the engine)' });
        const { bakeImage } = await import('../api/bake.js');
        const result = await bakeImage({
          projectDir: resolvePath(dir ?? '.'),
          image: b.image,
          tag: b.tag,
          target: b.target,
          flags: flagsFrom(o, 'container'),
          ...(b.mount?.length ? { mounts: b.mount } : {}),
          ...(o.engine ? { engine: { engine: o.engine } } : {}),
          version: typeof PYMGR_VERSION === 'string' ? PYMGR_VERSION : '0.0.0-dev',
          onProgress: createProgress(io, { json: !!o.json, verbose: !!o.verbose }),
        });
        if (o.json) printJson(io, { ok: true, ...result });
        else io.stdout(`${paint(io, 'stdout', 'green', 'baked:')} ${result.image.tag} (${result.action}) — ${result.image.id.slice(7, 19)}, Python ${result.labels['io.pymgr.python'] ?? '?'}, ${result.labels['io.pymgr.provider'] ?? '?'}, venv ${result.venv}\n`);
        return 0;
      }),
    );

  addCommon(program.command('doctor').description('check every manager, the pyenv root, git and the env; --fix applies safe fixes'))
    .option('--fix', 'apply the safe fixes (never global git config)')
    .addOption(deepOption())
    .action(
      wrap(async (dir, o) => {
        const { doctor } = await import('../api/doctor.js');
        const report = await doctor({ ...(await commonOptions(dir, o)), fix: !!o.fix });
        if (o.json) printJson(io, report);
        else io.stdout((await import('./render.js')).renderDoctorReport(report));
        return report.ok ? 0 : 1;
      }),
    );

  try {
    await program.parseAsync(parseArgs, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      printError(io, usageError(err, argv, runCommand !== undefined), json);
      return 2;
    }
    printError(io, err, json);
    return exitCodeFor(err);
  }
  if (parseArgs.length === 0) {
    program.outputHelp();
    return 2;
  }
  return exitCode;
}

/**
 * `pymgr fleet <file>`: the live view on a terminal, the one JSON document with --json. The first
 * Ctrl-C starts no new env and stops the running setups (each keeps its previous env: nothing is
 * published half-built; a running bake finishes); a second one ends pymgr at once (what a
 * running setup leaves aside is put back by the next one).
 */
async function runFleet(io: CliIO, file: string, o: { json?: boolean; verbose?: boolean; concurrency?: string; placements?: string }): Promise<number> {
  const { readFleetFile } = await import('../config/fleet-file.js');
  const fleet = await readFleetFile(file);
  let concurrency = fleet.concurrency;
  if (o.concurrency !== undefined) {
    concurrency = Number(o.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new PymgrError('USAGE', `--concurrency must be a whole number of at least 1 (got ${o.concurrency})`);
  }
  const { createHash } = await import('node:crypto');
  const { join } = await import('node:path');
  const { pymgrCacheDir } = await import('../core/paths.js');
  const placementsFile = o.placements !== undefined ? resolvePath(o.placements) : join(pymgrCacheDir(process.env), 'fleets', `${fleet.name}-${createHash('sha256').update(fleet.file).digest('hex').slice(0, 12)}.json`);
  const { buildEnvironments } = await import('../api/fleet.js');
  const { createFleetView, seconds } = await import('./fleet-view.js');
  const view = createFleetView(io, { json: !!o.json, verbose: !!o.verbose });
  const controller = new AbortController();
  const onSigint = () => {
    process.off('SIGINT', onSigint);
    view.note(`${paint(io, 'stderr', 'yellow', '!')} stopping: no new envs start, the running setups stop and keep their previous env; a running bake finishes (Ctrl-C again to quit now)`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await buildEnvironments({
      envs: fleet.envs,
      engines: fleet.engines,
      fleet: fleet.name,
      concurrency,
      ...(fleet.perEngine !== undefined ? { perEngine: fleet.perEngine } : {}),
      caches: fleet.caches,
      placementsFile,
      signal: controller.signal,
      onEvent: (e) => view.onEvent(e),
      version: typeof PYMGR_VERSION === 'string' ? PYMGR_VERSION : '0.0.0-dev',
    });
    view.close();
    if (o.json) {
      const { ok, ...rest } = result;
      printJson(io, { ok, ...rest, placementsFile });
    }
    else {
      const { ready, failed, cancelled } = result.counts;
      const line = `${ready} ready, ${failed} failed${cancelled ? `, ${cancelled} cancelled` : ''} of ${result.envs.length} in ${seconds(result.durationMs)}`;
      io.stdout(`${paint(io, 'stdout', result.ok ? 'green' : 'red', result.ok ? 'fleet ready:' : 'fleet incomplete:')} ${result.fleet}: ${line}\n`);
      for (const e of result.engines) io.stdout(`  ${e.name}${e.address && e.address !== e.name ? ` (${e.address})` : ''}: ${e.up ? 'up' : `down${e.error ? ` (${e.error})` : ''}`}, ${e.envs} env${e.envs === 1 ? '' : 's'}${e.volumes.length ? `, caches ${e.volumes.join(', ')}` : ''}\n`);
    }
    return result.ok ? 0 : 1;
  } finally {
    view.close();
    process.off('SIGINT', onSigint);
  }
}

/**
 * Run `work` with an AbortSignal that Ctrl-C (SIGINT), SIGHUP or SIGTERM aborts: the running step is
 * stopped where it runs (in a container too, where the terminal's signal never arrives), the
 * library puts the previous env back and releases its lock, and the command exits 128 + the
 * signal's number after printing what was stopped. A second signal exits at once. With
 * `enabled: false` the signals keep their usual effect.
 */
async function untilInterrupted<T>(io: CliIO, work: (signal: AbortSignal) => Promise<T>, options: { enabled?: boolean; json?: boolean } = {}): Promise<T | number> {
  if (options.enabled === false) return work(new AbortController().signal);
  const controller = new AbortController();
  let caught: Stoppers | undefined;
  const onSignal = (sig: Stoppers) => {
    if (caught) process.exit(128 + SIGNAL_NUMBERS[sig]);
    caught = sig;
    // After a hang-up the terminal may be gone: nothing is written until the step has stopped.
    if (sig !== 'SIGHUP') io.stderr(`pymgr: ${paint(io, 'stderr', 'yellow', sig === 'SIGINT' ? 'interrupted' : 'stopped')}: stopping the running step; the previous env is kept (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to quit now)\n`);
    controller.abort(new PymgrError('COMMAND_FAILED', `Stopped by ${sig}`, { hint: 'Run the command again when you want it to finish.', details: { signal: sig } }));
  };
  for (const sig of STOPPERS) process.on(sig, onSignal);
  try {
    return await work(controller.signal);
  } catch (err) {
    if (!caught) throw err;
    printError(io, toPymgrError(err), !!options.json);
    return 128 + SIGNAL_NUMBERS[caught];
  } finally {
    for (const sig of STOPPERS) process.off(sig, onSignal);
  }
}
/** The signals that stop a setup cleanly: Ctrl-C, a terminal or SSH session closed, a polite kill. */
const STOPPERS = ['SIGINT', 'SIGHUP', 'SIGTERM'] as const;
type Stoppers = (typeof STOPPERS)[number];
const SIGNAL_NUMBERS: Record<Stoppers, number> = { SIGINT: 2, SIGHUP: 1, SIGTERM: 15 };

/** A commander error in pymgr's words, with a hint that leads somewhere. */
function usageError(err: CommanderError, argv: string[], hasDashDash: boolean): PymgrError {
  const message = err.message.replace(/^error: /, '');
  const command = ['setup', 'run', 'env', 'detect', 'config', 'doctor', 'schema', 'bake', 'fleet'].includes(argv[0]) ? argv[0] : undefined;
  if (command === 'run' && !hasDashDash && (err.code === 'commander.unknownOption' || err.code === 'commander.excessArguments')) {
    // `pymgr run proj python -V`: the command belongs after `--`.
    const rest = argv.slice(1);
    const dir = rest[0] && !rest[0].startsWith('-') && rest.length > 1 ? rest[0] : undefined;
    const cmd = dir ? rest.slice(1) : rest;
    return new PymgrError('USAGE', 'pymgr run takes the command after `--`', {
      hint: `pymgr run ${dir ? `${dir} ` : ''}-- ${cmd.join(' ')}`,
    });
  }
  return new PymgrError('USAGE', message, { hint: `Run \`pymgr ${command ? `${command} ` : ''}--help\` for usage.` });
}

declare const PYMGR_VERSION: string;
