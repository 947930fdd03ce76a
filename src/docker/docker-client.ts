/**
 * The only place that knows dockerode. The rest of pymgr talks to the small {@link DockerClient}
 * interface below (like testcontainers-node's container runtime client), so dockerode can be
 * swapped or faked, and so only Docker code paths pay for importing it: it is loaded lazily by
 * {@link connectDockerClient}.
 *
 * The interface has only what pymgr needs; grow it here (one method on the interface, one on the
 * implementation) rather than reaching for dockerode elsewhere.
 */
import { inspect } from 'node:util';
import type { Duplex, Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How to reach one engine. */
export type EngineConnection =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'npipe'; socketPath: string }
  | {
      kind: 'tcp';
      host: string;
      port: number;
      /** `https` when TLS is on (DOCKER_TLS_VERIFY); then `certPath` holds ca.pem, cert.pem, key.pem. */
      protocol: 'http' | 'https';
      certPath?: string;
    }
  /** `ssh://user@host:port`: `docker system dial-stdio` over SSH (docker/ssh-transport.ts). */
  | { kind: 'ssh'; host: string; port: number; username: string };

/** The URL-like text of a connection, for messages: `unix:///var/run/docker.sock`, `tcp://h:2376`. */
export function describeConnection(connection: EngineConnection): string {
  switch (connection.kind) {
    case 'unix':
      return `unix://${connection.socketPath}`;
    case 'npipe':
      return `npipe://${connection.socketPath}`;
    case 'tcp':
      return `${connection.protocol === 'https' ? 'tcp+tls' : 'tcp'}://${connection.host}:${connection.port}`;
    case 'ssh':
      return `ssh://${connection.username}@${connection.host}:${connection.port}`;
  }
}

/** What pymgr needs to know about a container. */
export interface ContainerInfo {
  /** Full id. */
  id: string;
  /** Name without the leading slash. */
  name: string;
  /** Image as configured (tag or id). */
  image: string;
  /** Image id (`sha256:...`). */
  imageId: string;
  running: boolean;
  /** `Config.Env`, as `KEY=value` strings. */
  env: string[];
  /** `Config.User` (may be empty: root). */
  user: string;
  /** `Config.WorkingDir` (may be empty). */
  workingDir: string;
  labels: Record<string, string>;
}

/** A line of `docker ps`. */
export interface ContainerSummary {
  id: string;
  names: string[];
  image: string;
  state: string;
  labels: Record<string, string>;
}

/** A container to create. Fields mirror the Engine API where they mean the same. */
export interface ContainerSpec {
  image: string;
  name?: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  labels?: Record<string, string>;
  /** Bind mounts, `host:container[:ro]`. */
  binds?: string[];
  /** Remove the container when it stops. */
  autoRemove?: boolean;
  /** No network at all (`NetworkMode: none`). */
  networkDisabled?: boolean;
}

/** An image the engine has. */
export interface ImageSummary {
  id: string;
  tags: string[];
  labels: Record<string, string>;
}

/** One exec to create: an argument array, never a shell string. */
export interface ExecSpec {
  cmd: string[];
  /** `KEY=value` laid over the container's environment. */
  env?: string[];
  workingDir?: string;
  user?: string;
  /** Attach standard input (the stream returned by `start` is then writable). */
  stdin: boolean;
}

export interface ExecState {
  running: boolean;
  /** `null` while running. */
  exitCode: number | null;
  /** Process id *on the engine's host* (not in the container). */
  pid: number;
}

export interface ExecSession {
  readonly id: string;
  /**
   * Start the exec and get its raw attached stream: multiplexed frames (8-byte header + payload,
   * see `demux-stream.ts`), since execs are created without a TTY. Writable when `stdin` was set.
   */
  start(): Promise<Duplex>;
  inspect(): Promise<ExecState>;
}

export interface DockerContainer {
  /** As given: an id, a short id or a name. */
  readonly ref: string;
  inspect(): Promise<ContainerInfo>;
  start(): Promise<void>;
  /** Stop (SIGTERM, then SIGKILL after `timeoutSeconds`). No error when already stopped. */
  stop(timeoutSeconds?: number): Promise<void>;
  /** Remove; `force` kills it first. No error when it is already gone. */
  remove(options?: { force?: boolean }): Promise<void>;
  exec(spec: ExecSpec): Promise<ExecSession>;
  /** A tar stream of `path` (a file or a tree). Rejects with a `statusCode` 404 error when missing. */
  getArchive(path: string): Promise<Readable>;
  /** Extract `tar` into the existing directory `dir`. */
  putArchive(dir: string, tar: Buffer): Promise<void>;
}

/** What a client has asked of its engine so far (cumulative). */
export interface EngineTraffic {
  /** Operations, each one a wait on the engine: an exec (create, start, exit status), an archive read or write, an inspect, a ping. */
  operations: number;
  /** The HTTP requests they took. */
  requests: number;
}

/** A connection to one engine. */
export interface DockerClient {
  readonly connection: EngineConnection;
  /** Counted by the implementation; an exec counts as one operation (callers count it: see DockerExecutor). */
  readonly traffic: EngineTraffic;
  /** Which discovery strategy found it (`DOCKER_HOST`, `Docker context "gpu" (DOCKER_CONTEXT)`...), set by findEngine. */
  foundBy?: string;
  /** Resolves when the engine answers; rejects otherwise. */
  ping(): Promise<void>;
  /** A handle; nothing is checked until it is used. */
  getContainer(idOrName: string): DockerContainer;
  /** Create (not start) a container. */
  createContainer(spec: ContainerSpec): Promise<DockerContainer>;
  /** Containers matching Engine API filters, e.g. `{ label: ['pymgr=1'] }`; `all` includes stopped ones. */
  listContainers(filters?: Record<string, string[]>, options?: { all?: boolean }): Promise<ContainerSummary[]>;
  /** Whether an image with this tag or id exists on the engine. */
  hasImage(ref: string): Promise<boolean>;
  /** The id (`sha256:...`) of the image with this tag or id, or `undefined` when there is none. */
  findImageId(ref: string): Promise<string | undefined>;
  /** Remove a named volume. No error when it does not exist. */
  removeVolume(name: string): Promise<void>;
  /** Images carrying the label `key=value`. */
  findImagesByLabel(key: string, value: string): Promise<ImageSummary[]>;
  /** `Cmd`, `Entrypoint` and `Labels` of an image's config. */
  imageConfig(ref: string): Promise<{ cmd?: string[]; entrypoint?: string[]; labels: Record<string, string> }>;
  /**
   * Commit a container as image `repo:tag` (untagged with an empty `repo`), its config overridden with `cmd` (`null`: none) and `labels`;
   * returns the image id. Volumes and bind mounts are not part of it.
   */
  commitContainer(id: string, options: { repo: string; tag: string; cmd?: string[] | null; labels: Record<string, string> }): Promise<string>;
  /** Point `repo:tag` at an image. */
  tagImage(id: string, repo: string, tag: string): Promise<void>;
  /** Remove an image (force). No error when it is gone. */
  removeImage(ref: string): Promise<void>;
}

type Dockerode = import('dockerode');

/**
 * dockerode, with two of the modules it loads up front deferred until they are used: BuildKit
 * sessions (`dockerode/lib/session.js`: gRPC and protobuf) and docker-modem's own SSH
 * (`docker-modem/lib/ssh.js`: ssh2). pymgr uses neither (its SSH engines go through
 * ssh-transport.ts), and loading them costs every command that talks to an engine about 40 ms.
 * Each is replaced in the module cache by a function that loads the real module on its first
 * call and hands the call on; anything else dockerode does is unchanged.
 */
async function loadDockerode(): Promise<typeof import('dockerode')> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { dirname, join } = await import('node:path');
  const lib = dirname(require.resolve('dockerode')); // dockerode/lib/docker.js
  const modem = dirname(require.resolve('docker-modem', { paths: [lib] })); // docker-modem/lib/modem.js, as dockerode finds it
  deferModule(require, join(lib, 'session.js'));
  deferModule(require, join(modem, 'ssh.js'));
  return (await import('dockerode')).default;
}

/** Put a stand-in for the CommonJS module at `path` (a function) that loads it on its first call. */
function deferModule(require: NodeJS.Require, path: string): void {
  if (require.cache[path]) return;
  const real = () => {
    if (require.cache[path] === stub) delete require.cache[path];
    return require(path) as (...args: unknown[]) => unknown;
  };
  const stub = { id: path, filename: path, loaded: true, children: [], paths: [], exports: function deferred(this: unknown, ...args: unknown[]) {
    return real().apply(this, args);
  } } as unknown as NodeJS.Module;
  require.cache[path] = stub;
}

/** Connect a {@link DockerClient} to `connection` (loads dockerode on first use). Does not ping. */
export async function connectDockerClient(connection: EngineConnection, env: Record<string, string | undefined> = process.env): Promise<DockerClient> {
  const Docker = await loadDockerode();
  let options: import('dockerode').DockerOptions;
  if (connection.kind === 'ssh') {
    const { createSshAgent } = await import('./ssh-transport.js');
    const agent = await createSshAgent(connection, { env });
    // Plain HTTP on channels of one SSH connection: the agent makes every connection.
    options = { protocol: 'http', host: 'docker', port: 80, agent } as import('dockerode').DockerOptions;
  } else if (connection.kind === 'tcp') {
    options = { host: connection.host, port: connection.port, protocol: connection.protocol };
    if (connection.protocol === 'https' && connection.certPath) {
      const dir = connection.certPath;
      // All three read, and every one missing named (in a fixed order, whichever read fails first).
      const files = ['ca.pem', 'cert.pem', 'key.pem'];
      const read = await Promise.all(files.map((f) => readFile(join(dir, f)).then((data) => ({ data }), (err: NodeJS.ErrnoException) => ({ err }))));
      const missing = files.filter((_, i) => 'err' in read[i]);
      if (missing.length) {
        const first = read.find((r): r is { err: NodeJS.ErrnoException } => 'err' in r)!.err;
        throw new Error(`${dir} has no ${missing.join(', ')} (${first.code ?? first.message}): DOCKER_CERT_PATH (or the context's TLS files) must hold ca.pem, cert.pem and key.pem`);
      }
      const [ca, cert, key] = read.map((r) => (r as { data: Buffer }).data);
      options = { ...options, ca, cert, key };
    }
  } else {
    // A connection per request (no keep-alive pool): a local socket costs nothing to open, and an
    // engine that was restarted never gets a request on a connection of the engine that died.
    const { Agent } = await import('node:http');
    options = { socketPath: connection.socketPath, agent: new Agent({ keepAlive: false }) } as import('dockerode').DockerOptions;
  }
  const agent = (options as { agent?: object }).agent;
  if (agent) briefWhenInspected(agent);
  return new DockerodeClient(connection, new Docker(options));
}

/**
 * docker-modem formats every request's options with `util.inspect(…, { showHidden: true, depth:
 * null })` for its debug log, whether or not that log is on; with an agent in them that walks the
 * agent's sockets and their internals on every request (about 1.3 ms each, 40 ms of a setup in a
 * container). The agent says its name instead.
 */
function briefWhenInspected(agent: object): void {
  Object.defineProperty(agent, inspect.custom, { value: () => `[${agent.constructor.name}]`, enumerable: false });
}

/** Count requests (and the operations they make up) on a client's traffic, shared by its containers. */
function countTraffic(traffic: EngineTraffic, requests: number, operations: number): void {
  traffic.requests += requests;
  traffic.operations += operations;
}

class DockerodeClient implements DockerClient {
  readonly traffic: EngineTraffic = { operations: 0, requests: 0 };
  foundBy?: string;

  constructor(
    readonly connection: EngineConnection,
    private readonly docker: Dockerode,
  ) {}

  /** One operation of one request (an exec's own requests are counted by its session). */
  private count(requests = 1, operations = 1): void {
    countTraffic(this.traffic, requests, operations);
  }

  async ping(): Promise<void> {
    this.count();
    await this.docker.ping();
  }

  getContainer(idOrName: string): DockerContainer {
    return new DockerodeContainer(idOrName, this.docker.getContainer(idOrName), this.traffic);
  }

  async createContainer(spec: ContainerSpec): Promise<DockerContainer> {
    this.count();
    const created = await this.docker.createContainer({
      Image: spec.image,
      name: spec.name,
      Cmd: spec.cmd,
      Entrypoint: spec.entrypoint,
      Env: spec.env,
      User: spec.user,
      WorkingDir: spec.workingDir,
      Labels: spec.labels,
      HostConfig: { AutoRemove: spec.autoRemove ?? false, Binds: spec.binds, ...(spec.networkDisabled ? { NetworkMode: 'none' } : {}) },
      ...(spec.networkDisabled ? { NetworkDisabled: true } : {}),
    });
    return new DockerodeContainer(created.id, created, this.traffic);
  }

  async listContainers(filters: Record<string, string[]> = {}, options: { all?: boolean } = {}): Promise<ContainerSummary[]> {
    this.count();
    const list = await this.docker.listContainers({ all: options.all ?? false, filters: JSON.stringify(filters) });
    return list.map((c) => ({
      id: c.Id,
      names: (c.Names ?? []).map((n) => n.replace(/^\//, '')),
      image: c.Image,
      state: c.State,
      labels: c.Labels ?? {},
    }));
  }

  async hasImage(ref: string): Promise<boolean> {
    return (await this.findImageId(ref)) !== undefined;
  }

  async findImageId(ref: string): Promise<string | undefined> {
    this.count();
    try {
      return (await this.docker.getImage(ref).inspect()).Id;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  }

  async findImagesByLabel(key: string, value: string): Promise<ImageSummary[]> {
    this.count();
    const list = await this.docker.listImages({ filters: JSON.stringify({ label: [`${key}=${value}`] }) });
    return list.map((i) => ({ id: i.Id, tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), labels: i.Labels ?? {} }));
  }

  async imageConfig(ref: string): Promise<{ cmd?: string[]; entrypoint?: string[]; labels: Record<string, string> }> {
    this.count();
    const info = await this.docker.getImage(ref).inspect();
    const c = info.Config as { Cmd?: string[] | null; Entrypoint?: string[] | string | null; Labels?: Record<string, string> | null };
    return {
      ...(c.Cmd ? { cmd: c.Cmd } : {}),
      ...(Array.isArray(c.Entrypoint) ? { entrypoint: c.Entrypoint } : {}),
      labels: c.Labels ?? {},
    };
  }

  async commitContainer(id: string, options: { repo: string; tag: string; cmd?: string[] | null; labels: Record<string, string> }): Promise<string> {
    this.count();
    const res = (await this.docker.getContainer(id).commit({
      _query: { container: id, ...(options.repo ? { repo: options.repo, tag: options.tag } : {}) },
      _body: { Labels: options.labels, ...(options.cmd !== undefined ? { Cmd: options.cmd } : {}) },
    } as never)) as unknown as { Id: string };
    return res.Id;
  }

  async tagImage(id: string, repo: string, tag: string): Promise<void> {
    this.count();
    await this.docker.getImage(id).tag({ repo, tag });
  }

  async removeImage(ref: string): Promise<void> {
    this.count();
    try {
      await this.docker.getImage(ref).remove({ force: true });
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw err;
    }
  }

  async removeVolume(name: string): Promise<void> {
    this.count();
    try {
      await this.docker.getVolume(name).remove();
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw err;
    }
  }
}

class DockerodeContainer implements DockerContainer {
  constructor(
    readonly ref: string,
    private readonly container: import('dockerode').Container,
    private readonly traffic: EngineTraffic,
  ) {}

  private count(requests = 1, operations = 1): void {
    countTraffic(this.traffic, requests, operations);
  }

  async inspect(): Promise<ContainerInfo> {
    this.count();
    const info = await this.container.inspect();
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Config.Image,
      imageId: info.Image,
      running: info.State.Running,
      env: info.Config.Env ?? [],
      user: info.Config.User ?? '',
      workingDir: info.Config.WorkingDir ?? '',
      labels: info.Config.Labels ?? {},
    };
  }

  async start(): Promise<void> {
    this.count();
    try {
      await this.container.start();
    } catch (err) {
      if (statusCodeOf(err) !== 304) throw err; // 304: already started
    }
  }

  async stop(timeoutSeconds?: number): Promise<void> {
    this.count();
    try {
      await this.container.stop(timeoutSeconds === undefined ? {} : { t: timeoutSeconds });
    } catch (err) {
      const status = statusCodeOf(err);
      if (status !== 304 && status !== 404) throw err; // 304: already stopped
    }
  }

  async remove(options: { force?: boolean } = {}): Promise<void> {
    this.count();
    try {
      await this.container.remove({ force: options.force ?? false });
    } catch (err) {
      const status = statusCodeOf(err);
      // 404: gone; 409 "removal already in progress" (auto-remove racing us).
      if (status !== 404 && !(status === 409 && /already in progress/i.test(String(err)))) throw err;
    }
  }

  async exec(spec: ExecSpec): Promise<ExecSession> {
    // The exec is one operation: its create, start and every status poll are requests of it.
    this.count();
    const exec = await this.container.exec({
      Cmd: spec.cmd,
      Env: spec.env,
      WorkingDir: spec.workingDir,
      User: spec.user,
      AttachStdin: spec.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    return {
      id: exec.id,
      start: async () => {
        this.count(1, 0);
        return (await exec.start({ hijack: true, stdin: spec.stdin, Tty: false })) as Duplex;
      },
      inspect: async () => {
        this.count(1, 0);
        const info = await exec.inspect();
        return { running: info.Running, exitCode: info.ExitCode, pid: info.Pid };
      },
    };
  }

  async getArchive(path: string): Promise<Readable> {
    this.count();
    return (await this.container.getArchive({ path })) as Readable;
  }

  async putArchive(dir: string, tar: Buffer): Promise<void> {
    this.count();
    const res: unknown = await this.container.putArchive(tar, { path: dir });
    // Should dockerode hand back the response stream, drain it so the socket is released.
    if (res && typeof (res as { resume?: unknown }).resume === 'function') (res as Readable).resume();
  }
}

/** The HTTP status of a dockerode error (`err.statusCode`), if any. */
export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}
