/**
 * One exec in a container in two Engine API requests (create, start), over node:http alone: the
 * warm fast path's way in. Loading dockerode costs more than the whole warm no-op may (about
 * 225 ms here), and the fast path needs neither a ping (its first request answers for the engine)
 * nor a container inspect nor the exec's exit status: the program it runs reports its own outcome
 * on stdout, and any doubt sends the caller down the full path, which uses dockerode (DockerClient).
 *
 * A unix socket, `tcp://` without TLS, or `ssh://` (the same two requests on channels of one SSH
 * connection); for TLS or a pipe this answers `undefined` and the caller takes the full path.
 */
import { request, type Agent } from 'node:http';
import type { EngineConnection } from './docker-client.js';
import { FrameDemuxer } from './demux-stream.js';

export interface LiteExecOptions {
  /** For an ssh:// engine: the environment its SSH agent and keys are found in (default process.env). */
  hostEnv?: Record<string, string | undefined>;
  /** `KEY=value` laid over the container's environment. */
  env?: string[];
  user?: string;
  timeoutMs?: number;
}

export interface LiteExecResult {
  stdout: string;
  stderr: string;
  /** HTTP requests made (2 when both went through). */
  requests: number;
}

/** Run `cmd` in `container` and collect its output; `undefined` when anything went wrong. */
export async function liteExec(connection: EngineConnection, container: string, cmd: string[], options: LiteExecOptions = {}): Promise<LiteExecResult | undefined> {
  if (connection.kind === 'npipe' || (connection.kind === 'tcp' && connection.protocol !== 'http')) return undefined;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  // Over SSH: the same two requests on channels of one SSH connection (docker/ssh-transport.ts).
  let agent: (Agent & { close(): void }) | undefined;
  if (connection.kind === 'ssh') {
    const { createSshAgent } = await import('./ssh-transport.js');
    agent = await createSshAgent(connection, { env: options.hostEnv });
  }
  try {
    return await execBoth(connection, container, cmd, options, deadline, agent);
  } finally {
    agent?.close();
  }
}

async function execBoth(
  connection: EngineConnection,
  container: string,
  cmd: string[],
  options: LiteExecOptions,
  deadline: number,
  agent: Agent | undefined,
): Promise<LiteExecResult | undefined> {
  const call = (path: string, body: unknown) => post(connection, path, body, deadline, agent);
  const created = await call(`/containers/${encodeURIComponent(container)}/exec`, {
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Cmd: cmd,
    ...(options.env?.length ? { Env: options.env } : {}),
    ...(options.user ? { User: options.user } : {}),
  });
  if (!created || created.status !== 201) return undefined;
  let id: string;
  try {
    id = (JSON.parse(created.body.toString('utf8')) as { Id: string }).Id;
  } catch {
    return undefined;
  }
  const started = await call(`/exec/${encodeURIComponent(id)}/start`, { Detach: false, Tty: false });
  if (!started || started.status !== 200) return undefined;
  const demux = new FrameDemuxer();
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const frame of demux.push(started.body)) out[frame.stream].push(frame.payload);
  if (demux.pendingBytes) return undefined;
  return { stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8'), requests: 2 };
}

/** POST a JSON body; the whole response body (an exec's output stream ends with the response). */
function post(connection: EngineConnection, path: string, body: unknown, deadline: number, agent: Agent | undefined): Promise<{ status: number; body: Buffer } | undefined> {
  const data = Buffer.from(JSON.stringify(body));
  const where = agent
    ? { agent, host: 'docker' }
    : connection.kind === 'tcp'
      ? { host: connection.host, port: connection.port }
      : connection.kind === 'ssh'
        ? undefined
        : { socketPath: connection.socketPath };
  if (!where) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const req = request(
      { ...where, path, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': data.length, Host: 'docker' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', () => resolve(undefined));
      },
    );
    // A wall clock, not the socket's idle timer (an SSH channel has none).
    const timer = setTimeout(() => req.destroy(), Math.max(1, deadline - Date.now()));
    req.on('close', () => clearTimeout(timer));
    req.on('error', () => resolve(undefined));
    req.end(data);
  });
}
