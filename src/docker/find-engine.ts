/**
 * Finding a Docker engine: an ordered list of strategies (explicit setting, `DOCKER_HOST`, the usual
 * unix sockets, the rootless and Docker Desktop sockets). Each strategy answers `undefined` ("not me")
 * or a connection to try; the first connection that answers a ping wins and is cached. When none
 * does, DOCKER_UNAVAILABLE lists every strategy and why it failed.
 *
 * A *decisive* strategy (the explicit setting, `DOCKER_HOST`) ends the search when it applies, as
 * with the docker CLI: `DOCKER_HOST=unix:///x.sock` means "that engine", so a dead or malformed one
 * is an error, never a silent switch to `/var/run/docker.sock` (which may be another engine).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PymgrError } from '../errors.js';
import { connectDockerClient, describeConnection, type DockerClient, type EngineConnection } from './docker-client.js';

/** What a strategy may look at. Everything is injectable, so tests need no module mocking. */
export interface EngineContext {
  /** The explicit setting (option or config): a socket path, `unix://...`, `tcp://host:port` or `npipe://...`. */
  engine?: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  homeDir: string;
  /** Whether a path exists (a socket file). */
  pathExists: (path: string) => boolean;
}

export interface EngineStrategy {
  /** Short name for messages: `DOCKER_HOST`, `/var/run/docker.sock`. */
  readonly name: string;
  /**
   * A connection to try, or `undefined` when this strategy does not apply. Throws when it applies
   * but is unusable (e.g. a malformed `DOCKER_HOST`); the error is recorded and the next one tried.
   */
  find(ctx: EngineContext): EngineConnection | undefined;
  /** Why it did not apply, for the error message ("not set", "no socket at ..."). */
  whyNot?(ctx: EngineContext): string;
  /** Why it applied, for `doctor` (`Docker context "gpu" (DOCKER_CONTEXT)`); default: its name. */
  why?(ctx: EngineContext): string;
  /**
   * When it applies (gives a connection or throws), no later strategy is tried: the user named
   * this engine. The explicit setting and `DOCKER_HOST` are decisive.
   */
  readonly decisive?: boolean;
}

export interface FindEngineOptions {
  /** Explicit engine (option or config); tried first. */
  engine?: string;
  env?: Record<string, string | undefined>;
  platform?: NodeJS.Platform;
  homeDir?: string;
  pathExists?: (path: string) => boolean;
  /** The strategies, in order (default {@link DEFAULT_ENGINE_STRATEGIES}). */
  strategies?: readonly EngineStrategy[];
  /** How to connect and ping (default: dockerode via {@link connectDockerClient}). */
  connect?: (connection: EngineConnection, env: Record<string, string | undefined>) => Promise<DockerClient>;
  /** Give up on one ping after this long (default 5000 ms). */
  pingTimeoutMs?: number;
  /** Reuse a client found earlier for the same candidates (default true). */
  cache?: boolean;
}

/** Parse an engine address: `unix:///path`, `/path` (a socket), `tcp://host[:port]`, `npipe:////./pipe/x`. */
export function parseEngineAddress(address: string, env: Record<string, string | undefined> = {}): EngineConnection {
  const text = address.trim();
  if (text.startsWith('/')) return { kind: 'unix', socketPath: text };
  if (text.startsWith('unix://')) {
    const socketPath = text.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new Error(`"${address}" has no absolute socket path (expected unix:///path/to/docker.sock)`);
    return { kind: 'unix', socketPath };
  }
  if (text.startsWith('npipe://')) return { kind: 'npipe', socketPath: text.slice('npipe://'.length) };
  if (text.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`"${address}" is not a valid address (expected ssh://[user@]host[:port])`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!host) throw new Error(`"${address}" has no host (expected ssh://[user@]host[:port])`);
    if (url.password) throw new Error(`"${address}" holds a password: use a key (ssh-agent or ~/.ssh/id_*) instead`);
    if ((url.pathname && url.pathname !== '/') || url.search) throw new Error(`"${address}" has a path or query; expected ssh://[user@]host[:port]`);
    const port = url.port ? Number(url.port) : 22;
    const username = decodeURIComponent(url.username) || env.USER || env.LOGNAME || userInfo().username;
    return { kind: 'ssh', host, port, username };
  }
  if (text.startsWith('tcp://') || text.startsWith('http://') || text.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(text.replace(/^tcp:/, 'http:'));
    } catch {
      throw new Error(`"${address}" is not a valid address (expected tcp://host:port)`);
    }
    const tls = text.startsWith('https://') || isTruthy(env.DOCKER_TLS_VERIFY);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!host) throw new Error(`"${address}" has no host`);
    const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
    return {
      kind: 'tcp',
      host,
      port,
      protocol: tls ? 'https' : 'http',
      ...(tls ? { certPath: env.DOCKER_CERT_PATH || join(env.HOME ?? homedir(), '.docker') } : {}),
    };
  }
  throw new Error(`"${address}" uses an unsupported scheme (supported: unix://, tcp://, ssh://, npipe://)`);
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function socketStrategy(name: string, pathOf: (ctx: EngineContext) => string | undefined, unixOnly = true): EngineStrategy {
  return {
    name,
    find(ctx) {
      if (unixOnly && ctx.platform === 'win32') return undefined;
      const path = pathOf(ctx);
      if (!path || !ctx.pathExists(path)) return undefined;
      return { kind: 'unix', socketPath: path };
    },
    whyNot(ctx) {
      if (unixOnly && ctx.platform === 'win32') return 'not on Windows';
      const path = pathOf(ctx);
      return path ? `no socket at ${path}` : 'does not apply here';
    },
  };
}

/** `DOCKER_CONFIG`, else `~/.docker`: where the docker CLI keeps its config and its contexts. */
function dockerConfigDir(ctx: EngineContext): string {
  return ctx.env.DOCKER_CONFIG || join(ctx.homeDir, '.docker');
}

/**
 * The engine of a Docker context, from the docker CLI's context store: the endpoint in
 * `contexts/meta/<sha256 of the name>/meta.json`, its TLS files in `contexts/tls/<same>/docker/`.
 * `default` is the usual sockets (`undefined`). An unknown context is an error naming the store.
 */
export function resolveDockerContext(name: string, ctx: EngineContext): EngineConnection | undefined {
  if (name === 'default') return undefined;
  const id = createHash('sha256').update(name).digest('hex');
  const store = join(dockerConfigDir(ctx), 'contexts');
  let meta: { Name?: string; Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(join(store, 'meta', id, 'meta.json'), 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`no Docker context named "${name}" in ${store} (\`docker context ls\` lists them)`);
    throw new Error(`the Docker context "${name}" cannot be read (${join(store, 'meta', id, 'meta.json')}: ${(err as Error).message})`);
  }
  const host = meta.Endpoints?.docker?.Host;
  if (!host) throw new Error(`the Docker context "${name}" names no docker endpoint`);
  const tls = join(store, 'tls', id, 'docker');
  const hasTls = ['ca.pem', 'cert.pem', 'key.pem'].every((f) => ctx.pathExists(join(tls, f)));
  const connection = parseEngineAddress(host, {});
  if (connection.kind === 'tcp' && hasTls && !meta.Endpoints?.docker?.SkipTLSVerify) return { ...connection, protocol: 'https', certPath: tls, ...(connection.port === 2375 && !/:\d+$/.test(host) ? { port: 2376 } : {}) };
  return connection;
}

/** The context the docker CLI would use: `DOCKER_CONTEXT`, else `currentContext` of its config.json. */
function currentDockerContext(ctx: EngineContext): { name: string; from: string } | undefined {
  if (ctx.env.DOCKER_CONTEXT) return { name: ctx.env.DOCKER_CONTEXT, from: 'DOCKER_CONTEXT' };
  const file = join(dockerConfigDir(ctx), 'config.json');
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { currentContext?: string }).currentContext;
    return name ? { name, from: `currentContext in ${file}` } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The explicit setting (`--engine`, the `engine` option): a context name, or an address
 * (`unix://`, `tcp://`, `ssh://`, a socket path).
 */
export const explicitEngineStrategy: EngineStrategy = {
  name: 'explicit setting',
  decisive: true,
  find: (ctx) => {
    if (!ctx.engine) return undefined;
    if (ctx.engine.includes('://') || ctx.engine.startsWith('/')) return parseEngineAddress(ctx.engine, ctx.env);
    const found = resolveDockerContext(ctx.engine, ctx);
    if (!found) throw new Error('the default context is the usual sockets: leave --engine out');
    return found;
  },
  whyNot: () => 'not set',
  why: (ctx) => (ctx.engine && !ctx.engine.includes('://') && !ctx.engine.startsWith('/') ? `Docker context "${ctx.engine}" (--engine)` : '--engine'),
};

/** The Docker context `DOCKER_CONTEXT` or the docker CLI's config names (after DOCKER_HOST, as the docker CLI). */
export const dockerContextStrategy: EngineStrategy = {
  name: 'Docker context',
  decisive: true,
  find: (ctx) => {
    const current = currentDockerContext(ctx);
    if (!current || current.name === 'default') return undefined;
    try {
      return resolveDockerContext(current.name, ctx);
    } catch (err) {
      throw new Error(`${(err as Error).message} (named by ${current.from})`);
    }
  },
  whyNot: (ctx) => (currentDockerContext(ctx)?.name === 'default' ? 'the default context' : 'none set (DOCKER_CONTEXT, currentContext)'),
  why: (ctx) => {
    const current = currentDockerContext(ctx);
    return current ? `Docker context "${current.name}" (${current.from})` : 'Docker context';
  },
};

/** `DOCKER_HOST` (unix:// and tcp://; DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for TLS). */
export const dockerHostStrategy: EngineStrategy = {
  name: 'DOCKER_HOST',
  decisive: true,
  find: (ctx) => (ctx.env.DOCKER_HOST ? parseEngineAddress(ctx.env.DOCKER_HOST, ctx.env) : undefined),
  whyNot: () => 'not set',
};

/** The system socket `/var/run/docker.sock`. */
export const systemSocketStrategy = socketStrategy('/var/run/docker.sock', () => '/var/run/docker.sock');

/** Rootless Docker: `$XDG_RUNTIME_DIR/docker.sock`. */
export const rootlessSocketStrategy = socketStrategy('$XDG_RUNTIME_DIR/docker.sock', (ctx) =>
  ctx.env.XDG_RUNTIME_DIR ? join(ctx.env.XDG_RUNTIME_DIR, 'docker.sock') : undefined,
);

/** Docker Desktop (macOS, Linux): `~/.docker/run/docker.sock`. */
export const desktopSocketStrategy = socketStrategy('~/.docker/run/docker.sock', (ctx) =>
  join(ctx.homeDir, '.docker', 'run', 'docker.sock'),
);

/** Windows named pipe `//./pipe/docker_engine`. */
export const windowsPipeStrategy: EngineStrategy = {
  name: 'npipe:////./pipe/docker_engine',
  find: (ctx) => (ctx.platform === 'win32' ? { kind: 'npipe', socketPath: '//./pipe/docker_engine' } : undefined),
  whyNot: () => 'only on Windows',
};

export const DEFAULT_ENGINE_STRATEGIES: readonly EngineStrategy[] = [
  explicitEngineStrategy,
  dockerHostStrategy,
  dockerContextStrategy,
  systemSocketStrategy,
  rootlessSocketStrategy,
  desktopSocketStrategy,
  windowsPipeStrategy,
];

/** One line of the record of what was tried. */
export interface EngineAttempt {
  strategy: string;
  /** The address tried, when the strategy gave one. */
  address?: string;
  outcome: 'skipped' | 'failed' | 'connected';
  reason?: string;
}

const cache = new Map<string, Promise<DockerClient>>();

/** What the strategies look at: the options given, the process's own for the rest. */
function engineContext(options: Pick<FindEngineOptions, 'engine' | 'env' | 'homeDir' | 'pathExists' | 'platform'>): EngineContext {
  const env = options.env ?? process.env;
  return {
    engine: options.engine,
    env,
    platform: options.platform ?? process.platform,
    homeDir: options.homeDir ?? env.HOME ?? homedir(),
    pathExists: options.pathExists ?? existsSync,
  };
}

/**
 * The engine {@link findEngine} would try first, without connecting or pinging: for a caller that
 * lets its first real request serve as the ping (the warm fast path). `undefined` when no strategy
 * applies or the decisive one is malformed (then {@link findEngine} explains).
 */
export function firstEngineCandidate(options: Pick<FindEngineOptions, 'engine' | 'env' | 'homeDir' | 'pathExists' | 'platform'> = {}): EngineConnection | undefined {
  return firstStrategy(engineContext(options))?.connection;
}

/** The first default strategy that applies, and its connection; none when a strategy on the way is malformed. */
function firstStrategy(ctx: EngineContext): { connection: EngineConnection; strategy: EngineStrategy } | undefined {
  for (const strategy of DEFAULT_ENGINE_STRATEGIES) {
    try {
      const connection = strategy.find(ctx);
      if (connection) return { connection, strategy };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The engine for a caller whose first request can serve as the ping: the first strategy's
 * connection (or the engine found earlier) is used at once for `use`; only when that request
 * cannot reach it (no HTTP answer: refused, timed out) is the engine looked for as
 * {@link findEngine} does (pings, the next strategies, DOCKER_UNAVAILABLE listing them) and
 * `use` asked again there. An answer with an HTTP status (404: no such container) is the
 * engine's answer, and rejects as it is. One round trip fewer than a ping and then the request.
 */
export async function useEngine<T>(options: FindEngineOptions, use: (client: DockerClient) => Promise<T>): Promise<{ client: DockerClient; value: T }> {
  const ctx = engineContext(options);
  // (A malformed setting on the way: findEngine below explains.)
  const first = options.strategies || options.connect ? undefined : firstStrategy(ctx);
  if (first) {
    const key = JSON.stringify(first.connection);
    const client = await (cache.get(key) ?? connectDockerClient(first.connection, ctx.env));
    const pingTimeoutMs = options.pingTimeoutMs ?? 5000;
    try {
      const value = await withTimeout(use(client), pingTimeoutMs, `no answer within ${pingTimeoutMs} ms`);
      if (!cache.has(key)) {
        client.foundBy = first.strategy.why?.(ctx) ?? first.strategy.name;
        cache.set(key, Promise.resolve(client));
      }
      return { client, value };
    } catch (err) {
      if (typeof (err as { statusCode?: unknown })?.statusCode === 'number') throw err;
      cache.delete(key);
    }
  }
  const client = await findEngine(options);
  return { client, value: await use(client) };
}

/** Forget engines found earlier (tests; or after the engine restarted elsewhere). */
export function forgetEngines(): void {
  cache.clear();
}

/**
 * Find a Docker engine that answers. Tries the strategies in order; the first connection that
 * answers a ping wins and is cached (keyed by the connection, so a later call with the same
 * settings reuses it). Throws DOCKER_UNAVAILABLE listing every strategy and why it failed.
 */
export async function findEngine(options: FindEngineOptions = {}): Promise<DockerClient> {
  const ctx = engineContext(options);
  const strategies = options.strategies ?? DEFAULT_ENGINE_STRATEGIES;
  const connect = options.connect ?? connectDockerClient;
  const useCache = options.cache ?? options.connect === undefined;
  const pingTimeoutMs = options.pingTimeoutMs ?? 5000;
  const attempts: EngineAttempt[] = [];
  const seen = new Set<string>();

  let decidedBy: string | undefined;
  for (const strategy of strategies) {
    if (decidedBy) {
      attempts.push({ strategy: strategy.name, outcome: 'skipped', reason: `not tried: ${decidedBy} names the engine to use` });
      continue;
    }
    let connection: EngineConnection | undefined;
    try {
      connection = strategy.find(ctx);
    } catch (err) {
      attempts.push({ strategy: strategy.name, outcome: 'failed', reason: messageOf(err) });
      if (strategy.decisive) decidedBy = strategy.name;
      continue;
    }
    if (!connection) {
      attempts.push({ strategy: strategy.name, outcome: 'skipped', reason: strategy.whyNot?.(ctx) ?? 'does not apply' });
      continue;
    }
    if (strategy.decisive) decidedBy = strategy.name;
    const address = describeConnection(connection);
    if (seen.has(address)) {
      attempts.push({ strategy: strategy.name, address, outcome: 'skipped', reason: 'same address as above' });
      continue;
    }
    seen.add(address);
    const key = JSON.stringify(connection);
    const cached = useCache ? cache.get(key) : undefined;
    if (cached) return cached;
    try {
      const client = await connect(connection, ctx.env);
      await withTimeout(client.ping(), pingTimeoutMs, `no answer within ${pingTimeoutMs} ms`);
      client.foundBy = strategy.why?.(ctx) ?? strategy.name;
      const found = Promise.resolve(client);
      if (useCache) cache.set(key, found);
      return found;
    } catch (err) {
      attempts.push({ strategy: strategy.name, address, outcome: 'failed', reason: messageOf(err) });
    }
  }

  const lines = attempts.map(
    (a) => `  - ${a.strategy}${a.address ? ` (${a.address})` : ''}: ${a.outcome === 'skipped' ? 'skipped, ' : ''}${a.reason}`,
  );
  const hint = decidedBy
    ? `${decidedBy === 'DOCKER_HOST' ? 'DOCKER_HOST' : decidedBy === 'Docker context' ? 'The Docker context (DOCKER_CONTEXT, or currentContext in the docker config)' : 'The explicit engine setting'} names the engine to use, so no other was tried: ` +
      'start that engine (e.g. `dockerd`; in this repo `scripts/docker-engine.sh`), correct the address, ' +
      'or unset it to use the usual sockets (/var/run/docker.sock, ...).'
    : 'Start the Docker engine (e.g. `sudo dockerd &` or `systemctl start docker`; in this repo `scripts/docker-engine.sh`), ' +
      'or point DOCKER_HOST at a running one (unix:///path/to/docker.sock or tcp://host:2375).';
  throw new PymgrError('DOCKER_UNAVAILABLE', `No Docker engine answered. Tried:\n${lines.join('\n')}`, {
    hint,
    details: { attempts },
  });
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** `promise`, or a rejection with `message` once `ms` have passed (the timer never holds the process). */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
