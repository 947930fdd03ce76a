/**
 * Fleets: many envs on many engines in one call.
 *
 * - **Engines** are connected once (a Docker context name, an address, or `default`); one that
 *   does not answer is reported and gets no envs.
 * - **Placement** is sticky: an env goes back to the engine that has it — its container there
 *   (found by the fleet's labels) or the placement recorded in `placementsFile` — and otherwise to
 *   the least busy engine that answers. An env whose engine is down moves (`moved`).
 * - **Concurrency** is bounded overall and per engine (p-limit).
 * - **Caches**: every engine gets one named volume per cache (`pymgr-uv-cache`...) that all its
 *   containers share; uv's own cache locking makes concurrent writers safe.
 * - **Each env** is a persistent container (`pymgr-<fleet>-<env>`, docker/persistent-env.ts) that
 *   gets the project uploaded (only what changed, docker/upload.ts) and then a normal `setup`
 *   (verified, built aside and published only when verified), or, with `bake`, an image
 *   (api/bake.ts).
 * - **Faults** stay with their envs: an env that fails does not stop the others; when its engine no
 *   longer answers the env fails with DOCKER_UNAVAILABLE and the engine gets no more envs. A re-run
 *   redoes only what is not ready (the rest is `reused`). Aborting (`signal`) starts nothing new and
 *   passes the signal to the running setups, which never publish a half-built env.
 *
 * Nothing here prints: progress and results arrive as {@link FleetEvent}s and the returned
 * {@link FleetResult}.
 */
import { statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import type { FleetEnvSpec } from '../config/fleet-file.js';
import { PymgrError, toPymgrError, type ErrorCode } from '../errors.js';
import type { VenvAction } from '../types.js';
import { describeConnection, type DockerClient } from '../docker/docker-client.js';
import { findEngine, withTimeout } from '../docker/find-engine.js';
import { ensurePersistentEnv, type CacheName, type ExtraMount } from '../docker/persistent-env.js';
import { uploadProject } from '../docker/upload.js';
import { setup } from './setup.js';
import { bakeImage } from './bake.js';

export type { FleetEnvSpec };

/** Label on every fleet container: the fleet's name. */
export const FLEET_LABEL = 'io.pymgr.fleet';
/** Label on every fleet container: the env's name in its fleet. */
export const FLEET_ENV_LABEL = 'io.pymgr.fleet-env';

/** The shared volume of each cache, one per engine. */
export const FLEET_CACHE_VOLUMES: Record<CacheName, string> = { uv: 'pymgr-uv-cache', mise: 'pymgr-mise-data', pyenv: 'pymgr-pyenv-root' };

export interface FleetOptions {
  envs: FleetEnvSpec[];
  /**
   * The engines: `default` (DOCKER_HOST, DOCKER_CONTEXT, the usual sockets), a Docker context
   * name or an address (unix://, tcp://, ssh://user@host); or a connected client with a name.
   */
  engines: Array<string | { name: string; client: DockerClient }>;
  /** The fleet's name, in container names and labels (default `fleet`). */
  fleet?: string;
  /** Envs set up at once over all engines (default 3). */
  concurrency?: number;
  /** Envs set up at once on one engine (default: `concurrency`). */
  perEngine?: number;
  /** Caches shared by an engine's containers, each a named volume (default `['uv']`). */
  caches?: CacheName[];
  /** Other names for the shared volumes (default {@link FLEET_CACHE_VOLUMES}). */
  cacheVolumes?: Partial<Record<CacheName, string>>;
  /** A JSON file remembering which engine has which env (read, then rewritten as envs are placed). */
  placementsFile?: string;
  /** Stop: nothing new starts, running setups get the signal. */
  signal?: AbortSignal;
  onEvent?: (event: FleetEvent) => void;
  /** The host's environment (engine discovery, docker.inherit). Default: process.env. */
  hostEnv?: Record<string, string | undefined>;
  /** pymgr's version (bake labels). */
  version?: string;
  /** How a named engine is connected (default: findEngine). */
  connect?: (engine: string, env: Record<string, string | undefined>) => Promise<DockerClient>;
}

export type FleetEvent =
  | { type: 'start'; fleet: string; envs: number; engines: Array<{ name: string; up: boolean; address?: string; error?: string }> }
  | { type: 'placed'; env: string; engine: string; why: 'sticky' | 'least busy' | 'moved'; from?: string }
  | { type: 'progress'; env: string; engine: string; message: string }
  | { type: 'done'; result: FleetEnvResult }
  | { type: 'engine-down'; engine: string; message: string }
  /** Something the run goes on without (the placements file could not be written). */
  | { type: 'warning'; message: string };

export interface FleetEnvResult {
  name: string;
  status: 'ready' | 'failed' | 'cancelled';
  /** The engine it was placed on (absent when none answered). */
  engine?: string;
  /** Its container (persistent envs). */
  container?: string;
  /** Its image (baked envs). */
  image?: string;
  /** What setup did to the venv, or for a baked env `created`/`reused`. */
  action?: VenvAction;
  python?: string;
  provider?: string;
  venv?: string;
  /** True only for an env verified by its own interpreter. */
  verified: boolean;
  /** Distributions this run added to the env. */
  installed?: number;
  durationMs: number;
  error?: { code: ErrorCode; message: string; hint?: string };
}

export interface FleetEngineReport {
  name: string;
  address?: string;
  /** Whether it answered at the end of the run. */
  up: boolean;
  /** Why it is down. */
  error?: string;
  /** Envs placed on it in this run. */
  envs: number;
  /** Its shared cache volumes. */
  volumes: string[];
}

export interface FleetResult {
  fleet: string;
  /** Every env ready. */
  ok: boolean;
  counts: { ready: number; failed: number; cancelled: number };
  envs: FleetEnvResult[];
  engines: FleetEngineReport[];
  durationMs: number;
}

interface EngineSlot {
  name: string;
  index: number;
  client?: DockerClient;
  up: boolean;
  error?: string;
  /** Envs placed and not finished. */
  busy: number;
  placed: number;
  limit: LimitFunction;
}

/** Build (or bring up to date) every env of the fleet; see the file comment. Never throws for one env's failure. */
export async function buildEnvironments(options: FleetOptions): Promise<FleetResult> {
  const started = Date.now();
  const fleet = options.fleet ?? 'fleet';
  const concurrency = options.concurrency ?? 3;
  const perEngine = options.perEngine ?? concurrency;
  for (const [what, n] of [['concurrency', concurrency], ['perEngine', perEngine]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new PymgrError('USAGE', `${what} must be a whole number of at least 1 (got ${n})`);
  }
  if (options.engines.length === 0) throw new PymgrError('USAGE', 'A fleet needs at least one engine', { hint: 'List engines: "default", a Docker context name or an address.' });
  const names = new Set<string>();
  for (const env of options.envs) {
    if (names.has(env.name)) throw new PymgrError('USAGE', `Env "${env.name}" is listed twice in the fleet`, { hint: 'Give every env its own name.' });
    names.add(env.name);
  }
  const hostEnv = options.hostEnv ?? process.env;
  const emit = options.onEvent ?? (() => undefined);
  const caches = options.caches ?? ['uv'];
  const volumeOf = (c: CacheName) => options.cacheVolumes?.[c] ?? FLEET_CACHE_VOLUMES[c];
  const volumes = caches.map(volumeOf);
  const connect = options.connect ?? ((engine, env) => findEngine(engine === 'default' ? { env } : { engine, env }));

  const engines: EngineSlot[] = await Promise.all(
    options.engines.map(async (e, index): Promise<EngineSlot> => {
      const base = { index, busy: 0, placed: 0, limit: pLimit(perEngine) };
      if (typeof e !== 'string') return { ...base, name: e.name, client: e.client, up: await answers(e.client) };
      try {
        return { ...base, name: e, client: await connect(e, hostEnv), up: true };
      } catch (err) {
        return { ...base, name: e, up: false, error: oneLine(asPymgrError(err).message) };
      }
    }),
  );
  emit({
    type: 'start',
    fleet,
    envs: options.envs.length,
    engines: engines.map((e) => ({ name: e.name, up: e.up, ...(e.client ? { address: describeConnection(e.client.connection) } : {}), ...(e.error ? { error: e.error } : {}) })),
  });

  const placements = new Placements(options.placementsFile, (message) => emit({ type: 'warning', message }));
  await placements.load();
  // What the engines themselves say: an env's container is where its env is. An env with a
  // container on several engines (it moved while one was down) stays with the engine recorded
  // for it when that one has its container, else the first listed that has one.
  const holders = new Map<string, string[]>();
  const listed = await Promise.all(
    engines.map((e) => (e.up && e.client ? e.client.listContainers({ label: [`${FLEET_LABEL}=${fleet}`] }, { all: true }).catch(() => []) : Promise.resolve([]))),
  );
  listed.forEach((found, i) => {
    for (const c of found) {
      const env = c.labels?.[FLEET_ENV_LABEL];
      if (env && names.has(env)) holders.set(env, [...(holders.get(env) ?? []), engines[i].name]);
    }
  });
  for (const [env, on] of holders) {
    const recorded = placements.get(env);
    placements.set(env, recorded !== undefined && on.includes(recorded) ? recorded : on[0]);
  }

  const overall = pLimit(concurrency);
  const envs = await Promise.all(
    options.envs.map((spec) =>
      overall(async (): Promise<FleetEnvResult> => {
        const result = await buildOne(spec);
        emit({ type: 'done', result });
        return result;
      }),
    ),
  );
  await placements.flush();

  async function buildOne(spec: FleetEnvSpec): Promise<FleetEnvResult> {
    const t0 = Date.now();
    if (options.signal?.aborted) return { name: spec.name, status: 'cancelled', verified: false, durationMs: 0 };
    // Bad input changes nothing: no engine, no container for a project that is not there.
    if (!isDirectory(spec.project)) {
      return failed(spec.name, undefined, t0, new PymgrError('USAGE', `The project of env ${spec.name}, ${spec.project}, is not a directory`, { hint: 'Fix its `project` in the fleet file (paths are relative to the file).' }));
    }
    for (;;) {
      const where = place(spec.name, engines, placements.get(spec.name));
      if (!where) {
        const why = engines.map((e) => `${e.name}: ${e.error ?? 'down'}`).join('; ');
        return failed(spec.name, undefined, t0, new PymgrError('DOCKER_UNAVAILABLE', `No engine answers for env ${spec.name} (${why})`, { hint: 'Start an engine of the fleet, then run it again.' }));
      }
      const outcome = await buildPlaced(spec, where, t0);
      // Its engine stopped answering while the env waited for a turn there: placed again.
      if (outcome !== 'engine down') return outcome;
    }
  }

  async function buildPlaced(spec: FleetEnvSpec, where: NonNullable<ReturnType<typeof place<EngineSlot>>>, t0: number): Promise<FleetEnvResult | 'engine down'> {
    const engine = where.engine;
    engine.busy++;
    engine.placed++;
    placements.set(spec.name, engine.name);
    emit({ type: 'placed', env: spec.name, engine: engine.name, why: where.why, ...(where.from ? { from: where.from } : {}) });
    let started = false;
    try {
      return await engine.limit(async () => {
        if (options.signal?.aborted) return { name: spec.name, status: 'cancelled' as const, engine: engine.name, verified: false, durationMs: 0 };
        if (!engine.up) return 'engine down' as const;
        started = true;
        return await buildOn(spec, engine, t0);
      });
    } catch (err) {
      let error = asPymgrError(err);
      if (options.signal?.aborted) return { ...failed(spec.name, engine.name, t0, error), status: 'cancelled' };
      if (engine.up && !(await answers(engine.client))) {
        engine.up = false;
        engine.error = `stopped answering during the run`;
        emit({ type: 'engine-down', engine: engine.name, message: error.message });
      }
      if (!engine.up) {
        error = new PymgrError('DOCKER_UNAVAILABLE', `The engine ${engine.name} stopped answering while env ${spec.name} was being set up (${error.message})`, {
          hint: 'The other engines\' envs are not affected. Start the engine again and re-run the fleet: only the envs that are not ready are redone.',
          cause: error,
        });
      }
      return failed(spec.name, engine.name, t0, error);
    } finally {
      engine.busy--;
      if (!started) engine.placed--;
    }
  }

  async function buildOn(spec: FleetEnvSpec, engine: EngineSlot, t0: number): Promise<FleetEnvResult> {
    const client = engine.client!;
    const onProgress = (e: { step: string; message: string; output?: string }) => {
      if (e.output === undefined && e.message) emit({ type: 'progress', env: spec.name, engine: engine.name, message: `${e.step}: ${e.message}` });
    };
    if (spec.bake) {
      const baked = await bakeImage({
        projectDir: spec.project,
        image: spec.image,
        tag: spec.bake,
        ...(spec.target ? { target: spec.target } : {}),
        ...(spec.flags ? { flags: spec.flags } : {}),
        ...(spec.mounts ? { mounts: spec.mounts } : {}),
        ...(caches.includes('uv') ? { cacheVolume: volumeOf('uv') } : {}),
        engine: client,
        onProgress,
        hostEnv,
        ...(options.version ? { version: options.version } : {}),
      });
      return {
        name: spec.name,
        status: 'ready',
        engine: engine.name,
        image: baked.image.tag,
        action: baked.action,
        python: baked.labels['io.pymgr.python'],
        provider: baked.labels['io.pymgr.provider'],
        venv: baked.venv,
        verified: true,
        durationMs: Date.now() - t0,
      };
    }
    const target = spec.target ?? `/work/${spec.name}`;
    const container = fleetContainerName(fleet, spec.name);
    const env = await ensurePersistentEnv(
      {
        name: container,
        image: spec.image,
        project: { target },
        caches: Object.fromEntries(caches.map((c) => [c, { type: 'volume', name: volumeOf(c) }])),
        mounts: (spec.mounts ?? []).map(parseMount),
        labels: { [FLEET_LABEL]: fleet, [FLEET_ENV_LABEL]: spec.name },
      },
      { engine: client },
    );
    onProgress({ step: 'container', message: `${container} ${env.action}` });
    const upload = await uploadProject(env.executor, spec.project, target, { venv: spec.flags?.venv });
    if (upload.sent + upload.removed > 0) onProgress({ step: 'upload', message: `${upload.sent} sent (${upload.bytes} bytes), ${upload.removed} removed` });
    const result = await setup({ projectDir: target, executor: env.executor, ...(spec.flags ? { flags: spec.flags } : {}), onProgress, env: hostEnv, ...(options.signal ? { signal: options.signal } : {}) });
    return {
      name: spec.name,
      status: 'ready',
      engine: engine.name,
      container,
      action: result.venv.action,
      python: result.python.version,
      provider: result.provider.name,
      venv: result.venv.path,
      verified: result.isolation.verified,
      installed: result.changes?.added.length ?? 0,
      durationMs: Date.now() - t0,
    };
  }

  const counts = { ready: 0, failed: 0, cancelled: 0 };
  for (const e of envs) counts[e.status]++;
  return {
    fleet,
    ok: counts.ready === envs.length,
    counts,
    envs,
    engines: engines.map((e) => ({
      name: e.name,
      ...(e.client ? { address: describeConnection(e.client.connection) } : {}),
      up: e.up,
      ...(e.error ? { error: e.error } : {}),
      envs: e.placed,
      volumes: e.up || e.placed > 0 ? volumes : [],
    })),
    durationMs: Date.now() - started,
  };
}

/**
 * Where an env goes: the engine recorded for it when that engine answers (`sticky`); otherwise the
 * answering engine with the fewest envs in progress, then the fewest placed, then the first listed
 * (`least busy`, or `moved` when its recorded engine is down). `undefined` when none answers.
 */
export function place<E extends { name: string; up: boolean; busy: number; placed: number; index: number }>(
  env: string,
  engines: readonly E[],
  recorded: string | undefined,
): { engine: E; why: 'sticky' | 'least busy' | 'moved'; from?: string } | undefined {
  void env;
  const sticky = recorded === undefined ? undefined : engines.find((e) => e.name === recorded);
  if (sticky?.up) return { engine: sticky, why: 'sticky' };
  const up = engines.filter((e) => e.up);
  if (up.length === 0) return undefined;
  const best = up.reduce((a, b) => (b.busy < a.busy || (b.busy === a.busy && (b.placed < a.placed || (b.placed === a.placed && b.index < a.index))) ? b : a));
  return sticky ? { engine: best, why: 'moved', from: sticky.name } : { engine: best, why: 'least busy' };
}

/** The container of an env: `pymgr-<fleet>-<env>`. */
export function fleetContainerName(fleet: string, env: string): string {
  return `pymgr-${fleet}-${env}`;
}

function failed(name: string, engine: string | undefined, t0: number, error: PymgrError): FleetEnvResult {
  return {
    name,
    status: 'failed',
    ...(engine ? { engine } : {}),
    verified: false,
    durationMs: Date.now() - t0,
    error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
  };
}

/** Any failure as a PymgrError (one the library did not classify keeps its message). */
function asPymgrError(err: unknown): PymgrError {
  const e = toPymgrError(err);
  return e instanceof PymgrError ? e : new PymgrError('COMMAND_FAILED', e instanceof Error ? e.message : String(e), { cause: e });
}

/** A multi-line message (engine discovery lists every strategy) without the lines that say nothing. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .filter((l) => !/skipped, not tried/.test(l))
    .map((l) => l.trim().replace(/^- /, ''))
    .join(' ');
}

/** Whether the engine answers a ping within 10 s (a busy engine is slow, not down). */
async function answers(client: DockerClient | undefined): Promise<boolean> {
  if (!client) return false;
  return withTimeout(client.ping(), 10_000, 'no answer').then(
    () => true,
    () => false,
  );
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `host:container[:ro|:rw]` → a bind mount. */
function parseMount(text: string): ExtraMount {
  const m = /^([^:]+):([^:]+)(?::(ro|rw))?$/.exec(text);
  if (!m) throw new PymgrError('USAGE', `"${text}" is not a bind mount`, { hint: 'Write it as /host/dir:/container/dir or /host/dir:/container/dir:ro.' });
  return { type: 'bind', source: m[1], target: m[2], readOnly: m[3] === 'ro' };
}

/** env → engine, remembered in a JSON file (written whole, atomically, one write at a time). */
class Placements {
  private readonly map = new Map<string, string>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private warned = false;

  constructor(
    private readonly file: string | undefined,
    private readonly warn: (message: string) => void,
  ) {}

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { placements?: Record<string, unknown> };
      for (const [env, engine] of Object.entries(data.placements ?? {})) if (typeof engine === 'string') this.map.set(env, engine);
    } catch {
      // none yet, or unreadable: placement starts afresh (the engines' labels still say where envs are)
    }
  }

  get(env: string): string | undefined {
    return this.map.get(env);
  }

  set(env: string, engine: string): void {
    if (this.map.get(env) === engine) return;
    this.map.set(env, engine);
    if (!this.file) return;
    this.dirty = true;
    const file = this.file;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const tmp = `${file}.${process.pid}.tmp`;
      await mkdir(dirname(file), { recursive: true });
      await writeFile(tmp, `${JSON.stringify({ placements: Object.fromEntries([...this.map].sort()) }, null, 2)}\n`);
      await rename(tmp, file);
    }).catch((err: unknown) => {
      // The run goes on (the engines' labels still say where envs are); once said is enough.
      if (!this.warned) this.warn(`Could not write the placements file ${file}: ${(err as Error).message}`);
      this.warned = true;
    });
  }

  flush(): Promise<void> {
    return this.writing;
  }
}
