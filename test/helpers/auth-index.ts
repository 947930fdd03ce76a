/**
 * A package index that needs a password: a Node http server serving a PEP 503 simple index of
 * the wheels in one directory, only to requests carrying the right Basic auth header (401 with a
 * `WWW-Authenticate` challenge otherwise). Listens on 0.0.0.0 so containers reach it through the
 * docker0 gateway. Records every request (path, whether it was authorised) for assertions.
 */
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AuthIndex {
  port: number;
  /** `http://<host>:<port>/simple/` without credentials. */
  url(host?: string): string;
  /** The same with `user:password@`. */
  urlWithCredentials(host?: string): string;
  /** Every request: its path, whether it carried the right credentials, and the host name it was sent to. */
  requests: Array<{ path: string; authorised: boolean; host: string }>;
  close(): Promise<void>;
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Serve `wheelsDir` as `/simple/<project>/` to `user:password` only. */
export async function startAuthIndex(wheelsDir: string, user: string, password: string, delayMs = 0): Promise<AuthIndex> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const requests: AuthIndex['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const authorised = req.headers.authorization === expected;
    requests.push({ path, authorised, host: (req.headers.host ?? '').replace(/:\d+$/, '') });
    if (!authorised) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="pymgr-test"', 'Content-Type': 'text/plain' });
      res.end('unauthorised\n');
      return;
    }
    const wheels = readdirSync(wheelsDir).filter((f) => f.endsWith('.whl'));
    const send = () => {
      const m = /^\/simple\/([^/]+)\/?$/.exec(path);
      if (m) {
        const files = wheels.filter((f) => normalise(f.split('-')[0]) === normalise(m[1]));
        if (!files.length) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<!DOCTYPE html><html><body>${files.map((f) => `<a href="/files/${f}">${f}</a>`).join('\n')}</body></html>\n`);
        return;
      }
      const f = /^\/files\/([^/]+\.whl)$/.exec(path);
      if (f && wheels.includes(f[1])) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(readFileSync(join(wheelsDir, f[1])));
        return;
      }
      if (path === '/simple/' || path === '/simple') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<!DOCTYPE html><html><body>${[...new Set(wheels.map((w) => normalise(w.split('-')[0])))].map((n) => `<a href="/simple/${n}/">${n}</a>`).join('\n')}</body></html>\n`);
        return;
      }
      res.writeHead(404).end();
    };
    if (delayMs) setTimeout(send, delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (host = '127.0.0.1') => `http://${host}:${port}/simple/`,
    urlWithCredentials: (host = '127.0.0.1') => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/simple/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The address a container reaches the host at: its default route's gateway, read from the
 * container's own `/proc/net/route` (pass its text: `cat` it in the container) (the docker0 address on the host side is not listed by Node
 * while no container is attached to the bridge).
 */
export function containerGateway(routes: string): string {
  for (const line of routes.split('\n').slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination === '00000000' && gateway && gateway !== '00000000') {
      const n = parseInt(gateway, 16);
      return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255].join('.');
    }
  }
  throw new Error('the container has no default route (no network?): it cannot reach the test index on the host');
}
