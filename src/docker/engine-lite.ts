/**
 * One exec in a container in two Engine API requests (create, start), over node:http alone: the
 * warm fast path's way in. Loading dockerode costs more than the whole warm no-op may (about
 * 225 ms here), and the fast path needs neither a ping (its first request answers for the engine)
 * nor a container inspect nor the exec's exit status: the program it runs reports its own outcome
 * on stdout, and any doubt sends the caller down the full path, which uses dockerode (DockerClient).
 *
 * Plain connections only (a unix socket, `tcp://` without TLS); for anything else this answers
 * `undefined` and the caller takes the full path.
 */
import { request } from 'node:http';
import type { EngineConnection } from './docker-client.js';
import { FrameDemuxer } from './demux-stream.js';

export interface LiteExecOptions {
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
  const created = await call(connection, `/containers/${encodeURIComponent(container)}/exec`, {
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Cmd: cmd,
    ...(options.env?.length ? { Env: options.env } : {}),
    ...(options.user ? { User: options.user } : {}),
  }, deadline);
  if (!created || created.status !== 201) return undefined;
  let id: string;
  try {
    id = (JSON.parse(created.body.toString('utf8')) as { Id: string }).Id;
  } catch {
    return undefined;
  }
  const started = await call(connection, `/exec/${encodeURIComponent(id)}/start`, { Detach: false, Tty: false }, deadline);
  if (!started || started.status !== 200) return undefined;
  const demux = new FrameDemuxer();
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const frame of demux.push(started.body)) out[frame.stream].push(frame.payload);
  if (demux.pendingBytes) return undefined;
  return { stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8'), requests: 2 };
}

/** POST a JSON body; the whole response body (an exec's output stream ends with the response). */
function call(connection: EngineConnection, path: string, body: unknown, deadline: number): Promise<{ status: number; body: Buffer } | undefined> {
  const data = Buffer.from(JSON.stringify(body));
  const where = connection.kind === 'tcp' ? { host: connection.host, port: connection.port } : { socketPath: connection.socketPath };
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
    req.setTimeout(Math.max(1, deadline - Date.now()), () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(data);
  });
}
