/**
 * Persistent environments: one named container per project, kept between runs, with the project
 * bind-mounted and pymgr's caches (uv cache, pyenv root, mise data) on mounts that outlive it.
 *
 * The container carries a label with the hash of everything that decides it (image id, mounts,
 * environment, user, working directory, command, labels). The same spec reuses the container
 * (starting it when stopped); a changed spec replaces it (stop, remove, create). A container of
 * that name that pymgr did not create is never touched. The venv lives in the project directory,
 * so its pymgr state survives a recreated container and a second `setup()` is a no-op.
 *
 * Caches are exposed to the managers through the container's environment (`UV_CACHE_DIR`,
 * `PYENV_ROOT`, `MISE_DATA_DIR`), which the providers already honour: no provider knows where it runs.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { PymgrError } from '../errors.js';
import { describeConnection, statusCodeOf, type ContainerInfo, type DockerClient } from './docker-client.js';
import { DockerExecutor } from './docker-executor.js';
import { findEngine, type FindEngineOptions } from './find-engine.js';

/** Label naming the persistent env a container belongs to. */
export const ENV_LABEL = 'io.pymgr.env';
/** Label holding the hash of the spec the container was created from. */
export const SPEC_HASH_LABEL = 'io.pymgr.spec-hash';

/** Where a cache lives: a directory on the engine's host, or a named Docker volume. */
export type CacheSource = { type: 'bind'; source: string } | { type: 'volume'; name: string };

/** One cache mount; `target` defaults per cache (see {@link DEFAULT_CACHE_TARGETS}). */
export type CacheMount = CacheSource & { target?: string; readOnly?: boolean };

/** The caches pymgr knows, and the variable each is announced through. */
export type CacheName = 'uv' | 'pyenv' | 'mise';

export const DEFAULT_CACHE_TARGETS: Record<CacheName, string> = {
  uv: '/var/cache/pymgr/uv',
  pyenv: '/opt/pymgr/pyenv',
  mise: '/opt/pymgr/mise',
};

const CACHE_VARIABLES: Record<CacheName, string> = { uv: 'UV_CACHE_DIR', pyenv: 'PYENV_ROOT', mise: 'MISE_DATA_DIR' };

/** An extra mount (a wheel directory, a read-only Python...). */
export type ExtraMount = CacheSource & { target: string; readOnly?: boolean };

export interface PersistentEnvSpec {
  /** Container name (Docker's rules: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`). */
  name: string;
  /** Image tag or id. */
  image: string;
  /**
   * The project: a directory on the engine's host, mounted at `target` (default `/work/project`);
   * without `source` nothing is mounted there (the project is uploaded: docker/upload.ts).
   */
  project: { source?: string; target?: string; readOnly?: boolean };
  caches?: Partial<Record<CacheName, CacheMount>>;
  mounts?: ExtraMount[];
  /** Container environment (cache variables are added for the caches given). */
  env?: Record<string, string>;
  /** Container user (`uid[:gid]` or a name). Default: the image's. */
  user?: string;
  /** Default: the project target. */
  workingDir?: string;
  /** What the container runs (default: a shell that waits for SIGTERM, so `stop` is immediate). */
  command?: string[];
  labels?: Record<string, string>;
}

export interface PersistentEnvOptions {
  /** The engine: a connected client, or how to find one (default: {@link findEngine}). */
  engine?: DockerClient | FindEngineOptions;
  /** Options for the executor returned (user, env overlay...). */
  executor?: { env?: Record<string, string | undefined>; user?: string };
  /** Seconds `stop` waits before killing (default 10). */
  stopTimeoutSeconds?: number;
}

export type PersistentEnvAction = 'created' | 'reused' | 'recreated' | 'started';

export interface PersistentEnv {
  container: { id: string; name: string };
  action: PersistentEnvAction;
  /** The project directory inside the container. */
  projectDir: string;
  /** The spec hash on the container's label. */
  specHash: string;
  executor: DockerExecutor;
}

/** Waits for SIGTERM (a bare `sleep infinity` as pid 1 ignores it, so `docker stop` would wait 10 s). */
export const IDLE_COMMAND = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];
const DEFAULT_PROJECT_TARGET = '/work/project';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** What the spec amounts to on the engine: the container to create, before the hash label. */
export interface ResolvedEnvSpec {
  name: string;
  image: string;
  imageId: string;
  binds: string[];
  env: string[];
  user: string;
  workingDir: string;
  cmd: string[];
  labels: Record<string, string>;
  projectDir: string;
}

/**
 * Create the persistent env, or reuse it. Same spec: the running container (`reused`) or the stopped
 * one started (`started`; one the engine refuses to start, as a crash mid-start can leave it, is
 * replaced: `recreated`); changed spec: the old one stopped and removed, a new one created
 * (`recreated`); none: `created`. Throws DOCKER_UNAVAILABLE (no engine, no image), USAGE (a bad
 * spec, or a container of that name that pymgr did not create).
 */
export async function ensurePersistentEnv(spec: PersistentEnvSpec, options: PersistentEnvOptions = {}): Promise<PersistentEnv> {
  const client = await clientFor(options);
  const imageId = await client.findImageId(spec.image);
  if (!imageId) {
    throw new PymgrError('DOCKER_UNAVAILABLE', `Image ${spec.image} does not exist on the engine at ${describeConnection(client.connection)}`, {
      hint: `Build or pull it first (\`docker pull ${spec.image}\`).`,
    });
  }
  const resolved = resolveEnvSpec(spec, imageId);
  const specHash = hashEnvSpec(resolved);

  let action: PersistentEnvAction;
  const existing = await inspectByName(client, spec.name);
  if (!existing) {
    action = 'created';
    await createAndStart(client, resolved, specHash);
  } else {
    assertOurs(existing, spec.name);
    if (existing.labels[SPEC_HASH_LABEL] !== specHash) {
      const old = client.getContainer(existing.id);
      await old.stop(options.stopTimeoutSeconds ?? 10);
      await old.remove({ force: true });
      await createAndStart(client, resolved, specHash);
      action = 'recreated';
    } else if (existing.running) {
      action = 'reused';
    } else {
      try {
        await client.getContainer(existing.id).start();
        action = 'started';
      } catch (err) {
        // An engine that died while starting it can leave a container that no longer starts
        // ("task ... already exists"): ours, so it is replaced (the project and caches are mounts).
        if (statusCodeOf(err) !== 500) throw err;
        await client.getContainer(existing.id).remove({ force: true });
        await createAndStart(client, resolved, specHash);
        action = 'recreated';
      }
    }
  }
  const executor = await DockerExecutor.connect(spec.name, { engine: client, ...options.executor });
  if (spec.user) await giveCachesTo(executor, spec, spec.user);
  return {
    container: { id: executor.containerId, name: executor.containerName },
    action,
    projectDir: resolved.projectDir,
    specHash,
    executor,
  };
}

/** Start a persistent env's container (no change when running). Throws DOCKER_UNAVAILABLE when it does not exist. */
export async function startPersistentEnv(name: string, options: PersistentEnvOptions = {}): Promise<DockerExecutor> {
  const client = await clientFor(options);
  const info = await requireEnv(client, name);
  await client.getContainer(info.id).start();
  return DockerExecutor.connect(info.id, { engine: client, ...options.executor });
}

/** Stop a persistent env's container; resolves `false` when there is none. */
export async function stopPersistentEnv(name: string, options: PersistentEnvOptions = {}): Promise<boolean> {
  const client = await clientFor(options);
  const info = await inspectByName(client, name);
  if (!info) return false;
  assertOurs(info, name);
  await client.getContainer(info.id).stop(options.stopTimeoutSeconds ?? 10);
  return true;
}

/**
 * Remove a persistent env's container; resolves `false` when there was none. Its caches stay (they
 * are the point), except the named volumes listed in `volumes`, which are removed too.
 */
export async function removePersistentEnv(
  name: string,
  options: PersistentEnvOptions & { volumes?: string[] } = {},
): Promise<boolean> {
  const client = await clientFor(options);
  const info = await inspectByName(client, name);
  if (info) {
    assertOurs(info, name);
    await client.getContainer(info.id).remove({ force: true });
  }
  for (const volume of options.volumes ?? []) await client.removeVolume(volume);
  return info !== undefined;
}

/** The container a spec describes, with defaults filled in and mounts as engine bind strings. Throws USAGE for a bad spec. */
export function resolveEnvSpec(spec: PersistentEnvSpec, imageId: string): ResolvedEnvSpec {
  if (!NAME_RE.test(spec.name)) {
    throw usage(`"${spec.name}" is not a valid container name`, 'Use letters, digits, _, . and -, starting with a letter or digit.');
  }
  const projectDir = spec.project.target ?? DEFAULT_PROJECT_TARGET;
  const binds: string[] = spec.project.source === undefined ? [] : [bindString({ type: 'bind', source: spec.project.source }, projectDir, spec.project.readOnly)];
  const env: Record<string, string> = {};
  const targets = new Set<string>([projectDir]);
  for (const name of ['uv', 'pyenv', 'mise'] as const) {
    const cache = spec.caches?.[name];
    if (!cache) continue;
    const target = cache.target ?? DEFAULT_CACHE_TARGETS[name];
    if (targets.has(target)) throw usage(`Two mounts have the same target ${target}`, 'Give each mount its own target.');
    targets.add(target);
    binds.push(bindString(cache, target, cache.readOnly));
    env[CACHE_VARIABLES[name]] = target;
  }
  for (const mount of spec.mounts ?? []) {
    if (targets.has(mount.target)) throw usage(`Two mounts have the same target ${mount.target}`, 'Give each mount its own target.');
    targets.add(mount.target);
    binds.push(bindString(mount, mount.target, mount.readOnly));
  }
  Object.assign(env, spec.env ?? {});
  for (const key of Object.keys(env)) {
    if (!key || key.includes('=')) throw usage(`"${key}" is not a valid environment variable name`, 'Remove it from env.');
  }
  return {
    name: spec.name,
    image: spec.image,
    imageId,
    binds,
    env: Object.keys(env)
      .sort()
      .map((k) => `${k}=${env[k]}`),
    user: spec.user ?? '',
    workingDir: spec.workingDir ?? projectDir,
    cmd: spec.command ?? IDLE_COMMAND,
    labels: { ...(spec.labels ?? {}), [ENV_LABEL]: spec.name },
    projectDir,
  };
}

/** Hash of everything that decides the container (stable: keys sorted). */
export function hashEnvSpec(resolved: ResolvedEnvSpec): string {
  const { name: _name, projectDir: _projectDir, ...deciding } = resolved;
  return createHash('sha256').update(stableJson(deciding)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function bindString(source: CacheSource, target: string, readOnly?: boolean): string {
  if (!posix.isAbsolute(target) || target.includes(':')) {
    throw usage(`Mount target "${target}" must be an absolute path without ":"`, 'Use a plain absolute path inside the container.');
  }
  let from: string;
  if (source.type === 'bind') {
    if (!source.source.startsWith('/') || source.source.includes(':')) {
      throw usage(`Mount source "${source.source}" must be an absolute path without ":"`, 'Use a plain absolute path on the engine\'s host.');
    }
    from = posix.normalize(source.source);
  } else {
    if (!NAME_RE.test(source.name)) {
      throw usage(`"${source.name}" is not a valid volume name`, 'Use letters, digits, _, . and -, starting with a letter or digit.');
    }
    from = source.name;
  }
  return `${from}:${posix.normalize(target)}${readOnly ? ':ro' : ''}`;
}

async function clientFor(options: PersistentEnvOptions): Promise<DockerClient> {
  const engine = options.engine;
  if (engine && typeof (engine as DockerClient).getContainer === 'function') return engine as DockerClient;
  return findEngine((engine as FindEngineOptions | undefined) ?? {});
}

async function inspectByName(client: DockerClient, name: string): Promise<ContainerInfo | undefined> {
  try {
    return await client.getContainer(name).inspect();
  } catch (err) {
    if (statusCodeOf(err) === 404) return undefined;
    throw new PymgrError('DOCKER_UNAVAILABLE', `Could not inspect container "${name}" on ${describeConnection(client.connection)}: ${messageOf(err)}`, {
      hint: 'Check that the engine is running and that you may use it (`docker ps`).',
      cause: err,
    });
  }
}

async function requireEnv(client: DockerClient, name: string): Promise<ContainerInfo> {
  const info = await inspectByName(client, name);
  if (!info) {
    throw new PymgrError('DOCKER_UNAVAILABLE', `Persistent env "${name}" does not exist on the engine at ${describeConnection(client.connection)}`, {
      hint: 'Create it with ensurePersistentEnv first.',
    });
  }
  assertOurs(info, name);
  return info;
}

/** pymgr never stops, removes or replaces a container it did not create. */
function assertOurs(info: ContainerInfo, name: string): void {
  if (info.labels[ENV_LABEL] !== name) {
    throw usage(
      `A container named "${name}" (${info.id.slice(0, 12)}) exists and is not a pymgr persistent env; pymgr will not touch it`,
      'Choose another name for the env, or remove that container yourself (`docker rm -f ' + name + '`).',
    );
  }
}

async function createAndStart(client: DockerClient, resolved: ResolvedEnvSpec, specHash: string): Promise<void> {
  const spec = {
    image: resolved.imageId,
    name: resolved.name,
    cmd: resolved.cmd,
    env: resolved.env,
    user: resolved.user || undefined,
    workingDir: resolved.workingDir,
    labels: { ...resolved.labels, [SPEC_HASH_LABEL]: specHash },
    binds: resolved.binds,
  };
  let container;
  try {
    container = await client.createContainer(spec);
  } catch (err) {
    if (statusCodeOf(err) === 409) {
      // Another process created it meanwhile: use theirs when it has the same spec.
      const other = await inspectByName(client, resolved.name);
      if (other && other.labels[SPEC_HASH_LABEL] === specHash) {
        await client.getContainer(other.id).start();
        return;
      }
    }
    throw new PymgrError('DOCKER_UNAVAILABLE', `Could not create container "${resolved.name}" from ${resolved.image}: ${messageOf(err)}`, {
      hint: 'Check the mounts (bind sources must be directories on the engine\'s host) and the image.',
      cause: err,
      details: { binds: resolved.binds },
    });
  }
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new PymgrError('DOCKER_UNAVAILABLE', `Container "${resolved.name}" was created but did not start: ${messageOf(err)}`, {
      hint: 'Check the command and mounts of the env.',
      cause: err,
      details: { binds: resolved.binds, cmd: resolved.cmd },
    });
  }
}

/**
 * A non-root env's caches must be writable by its user: a cache mount that is still empty and
 * owned by root (a new named volume) is given to that user (`chown`, run as root). A cache that
 * already holds files is left as it is.
 */
async function giveCachesTo(executor: DockerExecutor, spec: PersistentEnvSpec, user: string): Promise<void> {
  for (const name of ['uv', 'pyenv', 'mise'] as const) {
    const cache = spec.caches?.[name];
    if (!cache || cache.readOnly) continue;
    const target = cache.target ?? DEFAULT_CACHE_TARGETS[name];
    const st = await executor.stat(target);
    if (!st?.isDirectory || st.uid !== 0 || ((await executor.readDir(target)) ?? []).length > 0) continue;
    const res = await executor.exec('chown', ['--', user, target], { user: '0' });
    if (res.exitCode !== 0) {
      throw new PymgrError('DOCKER_UNAVAILABLE', `Could not give the ${name} cache ${target} to ${user}: ${res.stderr.trim()}`, {
        hint: 'Use a numeric uid:gid for the env\'s user, or prepare the cache volume yourself.',
      });
    }
  }
}

function usage(message: string, hint: string): PymgrError {
  return new PymgrError('USAGE', message, { hint });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
