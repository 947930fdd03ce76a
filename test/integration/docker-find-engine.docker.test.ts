/**
 * Engine discovery. The first block needs no engine (unreachable addresses, injected env and
 * platform); the second needs the real engine at /var/run/docker.sock.
 */
import { describe, expect, it } from 'vitest';
import { statusCodeOf, type DockerClient, type EngineConnection } from '../../src/docker/docker-client.js';
import {
  dockerHostStrategy,
  findEngine,
  forgetEngines,
  parseEngineAddress,
  useEngine,
  type EngineAttempt,
} from '../../src/docker/find-engine.js';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findTestEngine } from '../helpers/docker.js';
import { repoRoot, requireTool } from '../helpers/tools.js';

const execFileP = promisify(execFile);

async function failure(promise: Promise<unknown>): Promise<PymgrError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPymgrError(err)) throw new Error(`expected a PymgrError, got ${String(err)}`);
  return err;
}

describe('findEngine without a working engine', () => {
  it('reports DOCKER_UNAVAILABLE for an unreachable DOCKER_HOST, naming what was tried', async () => {
    const err = await failure(
      findEngine({ env: { DOCKER_HOST: 'unix:///nonexistent.sock' }, strategies: [dockerHostStrategy], cache: false }),
    );
    expect(err.code).toBe('DOCKER_UNAVAILABLE');
    expect(err.message).toContain('DOCKER_HOST (unix:///nonexistent.sock)');
    expect(err.message).toMatch(/ENOENT/);
    expect(err.hint).toMatch(/dockerd/);
    expect(err.hint).toMatch(/DOCKER_HOST/);
  });

  it('lists every default strategy and why each failed', async () => {
    const err = await failure(
      findEngine({
        env: { XDG_RUNTIME_DIR: '/run/user/4242' },
        homeDir: '/home/nobody',
        platform: 'linux',
        pathExists: () => false,
        cache: false,
      }),
    );
    const attempts = err.details?.attempts as EngineAttempt[];
    expect(attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['explicit setting', 'skipped'],
      ['DOCKER_HOST', 'skipped'],
      ['Docker context', 'skipped'],
      ['/var/run/docker.sock', 'skipped'],
      ['$XDG_RUNTIME_DIR/docker.sock', 'skipped'],
      ['~/.docker/run/docker.sock', 'skipped'],
      ['npipe:////./pipe/docker_engine', 'skipped'],
    ]);
    expect(err.message).toContain('no socket at /var/run/docker.sock');
    expect(err.message).toContain('no socket at /run/user/4242/docker.sock');
    expect(err.message).toContain('no socket at /home/nobody/.docker/run/docker.sock');
    expect(err.message).toContain('explicit setting: skipped, not set');
  });

  it('uses only the engine DOCKER_HOST names: a dead one is an error, the usual sockets are not tried', async () => {
    const tried: string[] = [];
    const connect = async (c: EngineConnection): Promise<DockerClient> => {
      tried.push(c.kind === 'tcp' ? `${c.host}:${c.port}` : 'socketPath' in c ? c.socketPath : c.host);
      return { connection: c, ping: async () => Promise.reject(new Error('connect ENOENT')) } as unknown as DockerClient;
    };
    const err = await failure(
      findEngine({ env: { DOCKER_HOST: 'unix:///nonexistent.sock' }, platform: 'linux', pathExists: () => true, connect }),
    );
    expect(tried).toEqual(['/nonexistent.sock']);
    const attempts = err.details?.attempts as EngineAttempt[];
    expect(attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['explicit setting', 'skipped'],
      ['DOCKER_HOST', 'failed'],
      ['Docker context', 'skipped'],
      ['/var/run/docker.sock', 'skipped'],
      ['$XDG_RUNTIME_DIR/docker.sock', 'skipped'],
      ['~/.docker/run/docker.sock', 'skipped'],
      ['npipe:////./pipe/docker_engine', 'skipped'],
    ]);
    expect(err.message).toContain('/var/run/docker.sock: skipped, not tried: DOCKER_HOST names the engine to use');
    expect(err.hint).toMatch(/DOCKER_HOST names the engine/);
    expect(err.hint).toMatch(/unset it/);
  });

  it('tries an unreachable tcp:// engine and says why it failed', async () => {
    const err = await failure(
      findEngine({ env: { DOCKER_HOST: 'tcp://127.0.0.1:1' }, strategies: [dockerHostStrategy], cache: false }),
    );
    expect(err.message).toContain('tcp://127.0.0.1:1');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('records a malformed DOCKER_HOST as a failure and stops there', async () => {
    const tried: string[] = [];
    const connect = async (c: EngineConnection): Promise<DockerClient> => {
      tried.push(c.kind === 'tcp' ? `${c.host}:${c.port}` : 'socketPath' in c ? c.socketPath : c.host);
      return { connection: c, ping: async () => {} } as unknown as DockerClient;
    };
    const err = await failure(
      findEngine({
        env: { DOCKER_HOST: 'ftp://user@host' },
        platform: 'linux',
        pathExists: (p) => p === '/var/run/docker.sock',
        connect,
      }),
    );
    expect(tried).toEqual([]);
    expect(err.message).toContain('DOCKER_HOST: "ftp://user@host" uses an unsupported scheme');
  });

  it('tries without DOCKER_HOST the usual sockets in order', async () => {
    const tried: string[] = [];
    const connect = async (c: EngineConnection): Promise<DockerClient> => {
      tried.push(c.kind === 'tcp' ? `${c.host}:${c.port}` : 'socketPath' in c ? c.socketPath : c.host);
      return { connection: c, ping: async () => {} } as unknown as DockerClient;
    };
    const client = await findEngine({ env: {}, platform: 'linux', pathExists: (p) => p === '/var/run/docker.sock', connect });
    expect(client.connection).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(tried).toEqual(['/var/run/docker.sock']);
  });

  it('prefers the explicit setting and, when it fails, tries nothing else', async () => {
    const tried: string[] = [];
    const connect = async (c: EngineConnection): Promise<DockerClient> => {
      tried.push(c.kind);
      return { connection: c, ping: async () => Promise.reject(new Error('nobody home')) } as unknown as DockerClient;
    };
    const err = await failure(
      findEngine({ engine: 'tcp://docker.example:2375', env: { DOCKER_HOST: 'unix:///var/run/docker.sock' }, platform: 'win32', pathExists: () => true, connect }),
    );
    expect(tried).toEqual(['tcp']);
    expect(err.message).toContain('explicit setting (tcp://docker.example:2375): nobody home');
    expect(err.message).toContain('DOCKER_HOST: skipped, not tried: explicit setting names the engine to use');
  });

  it('on Windows skips unix sockets for the named pipe', async () => {
    const tried: string[] = [];
    const connect = async (c: EngineConnection): Promise<DockerClient> => {
      tried.push(c.kind);
      return { connection: c, ping: async () => Promise.reject(new Error('nobody home')) } as unknown as DockerClient;
    };
    const err = await failure(findEngine({ env: {}, platform: 'win32', pathExists: () => true, connect }));
    expect(tried).toEqual(['npipe']);
    expect(err.message).toContain('/var/run/docker.sock: skipped, not on Windows');
  });

  it('gives up on a ping that does not answer', async () => {
    const connect = async (c: EngineConnection): Promise<DockerClient> =>
      ({ connection: c, ping: () => new Promise(() => {}) }) as unknown as DockerClient;
    const err = await failure(
      findEngine({ env: { DOCKER_HOST: 'tcp://10.0.0.1' }, strategies: [dockerHostStrategy], connect, pingTimeoutMs: 50 }),
    );
    expect(err.message).toContain('no answer within 50 ms');
  });

  it('parses engine addresses', () => {
    expect(parseEngineAddress('unix:///run/docker.sock')).toEqual({ kind: 'unix', socketPath: '/run/docker.sock' });
    expect(parseEngineAddress('/run/docker.sock')).toEqual({ kind: 'unix', socketPath: '/run/docker.sock' });
    expect(parseEngineAddress('tcp://h')).toEqual({ kind: 'tcp', host: 'h', port: 2375, protocol: 'http' });
    expect(parseEngineAddress('tcp://h:1234', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' })).toEqual({
      kind: 'tcp',
      host: 'h',
      port: 1234,
      protocol: 'https',
      certPath: '/certs',
    });
    expect(parseEngineAddress('tcp://h', { DOCKER_TLS_VERIFY: '1', HOME: '/home/u' })).toMatchObject({
      port: 2376,
      certPath: '/home/u/.docker',
    });
    expect(() => parseEngineAddress('unix://relative.sock')).toThrow(/absolute/);
    expect(() => parseEngineAddress('ftp://u@h')).toThrow(/unsupported scheme/);
    expect(parseEngineAddress('ssh://u@h')).toEqual({ kind: 'ssh', host: 'h', port: 22, username: 'u' });
  });
});

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);

describe.skipIf(!hasDocker)('findEngine with the real engine', () => {
  it('finds the system socket when nothing else is set, and caches it', async () => {
    forgetEngines();
    const env = { HOME: '/nonexistent' };
    const first = await findEngine({ env });
    await first.ping();
    expect(first.connection).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(await findEngine({ env })).toBe(first);
  });

  it('does not fall back from a broken DOCKER_HOST to the working system socket', async () => {
    const err = await failure(findEngine({ env: { DOCKER_HOST: 'unix:///nonexistent.sock' }, cache: false }));
    expect(err.code).toBe('DOCKER_UNAVAILABLE');
    expect(err.message).toContain('DOCKER_HOST (unix:///nonexistent.sock)');
    expect(err.message).toMatch(/ENOENT/);
  });

  it('uses the engine DOCKER_HOST names when it answers', async () => {
    const client = await findEngine({ env: { DOCKER_HOST: 'unix:///var/run/docker.sock' }, cache: false });
    await client.ping();
    expect(client.connection).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('useEngine: the first request is the ping (one round trip); a dead engine is looked for and explained as findEngine does', async () => {
    forgetEngines();
    const env = { HOME: '/nonexistent' };
    const { client, value } = await useEngine({ env }, (c) => c.ping().then(() => 'answered'));
    expect(value).toBe('answered');
    expect(client.traffic.operations).toBe(1); // no ping of its own before the request
    expect(client.foundBy).toBeTruthy();
    expect((await useEngine({ env }, async (c) => c)).client).toBe(client); // found once, kept
    // An answer with a status is the engine's answer: it rejects as it is, nothing else is tried.
    const notFound = await useEngine({ env }, (c) => c.getContainer('pymgr-test-no-such-container').inspect()).catch((e) => e);
    expect(statusCodeOf(notFound)).toBe(404);
    // No answer at all: findEngine's search and its DOCKER_UNAVAILABLE, naming what was tried.
    const dead = await failure(useEngine({ env: { DOCKER_HOST: 'unix:///nonexistent.sock' } }, (c) => c.ping()));
    expect(dead.code).toBe('DOCKER_UNAVAILABLE');
    expect(dead.message).toContain('DOCKER_HOST (unix:///nonexistent.sock)');
  });

  it('talking to an engine loads neither gRPC (BuildKit sessions) nor ssh2 (docker-modem\'s SSH), either loads when used; its agent inspects briefly', async () => {
    // A process of its own: a clean module cache.
    const script = `
      import { createRequire } from 'node:module';
      import { dirname, join } from 'node:path';
      const require = createRequire(${JSON.stringify(join(repoRoot, 'package.json'))});
      const { connectDockerClient } = await import(${JSON.stringify(join(repoRoot, 'src', 'docker', 'docker-client.ts'))});
      const client = await connectDockerClient({ kind: 'unix', socketPath: '/var/run/docker.sock' });
      await client.ping();
      const loaded = (s) => Object.keys(require.cache).some((k) => k.includes(s));
      const before = { grpc: loaded('/@grpc/'), protobuf: loaded('/protobufjs/'), ssh2: loaded('/ssh2/'), dockerode: loaded('/dockerode/') };
      const modemLib = dirname(require.resolve('docker-modem', { paths: [dirname(require.resolve('dockerode'))] }));
      const agent = require(join(modemLib, 'ssh.js'))({ host: '127.0.0.1' });
      // docker-modem inspects each request's options (agent included) for its debug log, on or off: the agent is brief.
      const { inspect } = await import('node:util');
      const brief = inspect({ agent: client.docker.modem.agent }, { showHidden: true, depth: null }).length < 100;
      console.log(JSON.stringify({ before, after: { ssh2: loaded('/ssh2/'), agent: typeof agent.createConnection }, brief }));
    `;
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot });
    expect(JSON.parse(stdout)).toEqual({ before: { grpc: false, protobuf: false, ssh2: false, dockerode: true }, after: { ssh2: true, agent: 'function' }, brief: true });
  });

  it('uses an explicit unix:// setting', async () => {
    const client = await findEngine({ engine: 'unix:///var/run/docker.sock', env: {}, cache: false });
    await client.ping();
    expect(await client.hasImage('pymgr-test/no-such-image:0')).toBe(false);
  });
});
