/**
 * Index credentials in containers, and a non-root setup. A password-protected index on the host
 * (test/helpers/auth-index.ts, reached from containers through the docker0 gateway) serves a wheel
 * only with the right Basic auth header. While setup() installs from it in a container, the test
 * samples every host process's command line, `docker top`, and the Engine API's inspect of the
 * container and of every exec instance it lists (`ExecIDs`): the password appears nowhere, the
 * install succeeds, and afterwards it is in no file of the venv, the tools directory, the uv cache,
 * the temporary directory or the container's inspect output.
 *
 * Then the same as uid 1000 in a persistent env of the root-owned base image, with a uv cache on a
 * named volume shared by two envs: the env is verified and everything in it is owned by 1000.
 *
 * Needs: the Docker engine and base image, uv on the host (copied into the containers).
 * And a baked image (pymgr bake) of a project installed from that index: its layers (`docker save`),
 * its history and its inspect output hold no password.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/api/setup.js';
import { bakeImage } from '../../src/api/bake.js';
import { execFileSync } from 'node:child_process';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { ensurePersistentEnv, removePersistentEnv } from '../../src/docker/persistent-env.js';
import { containerGateway, startAuthIndex, type AuthIndex } from '../helpers/auth-index.js';
import { createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, makeTemp, runCli } from '../helpers/project.js';
import { filesContaining, readAllCmdlines } from '../helpers/secret-scan.js';
import { buildWheel } from '../helpers/wheels.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());
const PASSWORD = 'Dk-s3cr3t-91b2e7';
const USER = 'alice';
const suffix = randomBytes(4).toString('hex');

/**
 * Everything the engine shows about the container while `work` runs: `docker top` and the raw
 * inspect of the container and of each exec instance in its `ExecIDs`, every 40 ms.
 */
async function watchContainer<T>(id: string, work: () => Promise<T>): Promise<{ result: T; seen: string[]; execs: Map<string, string>; cmdlines: Set<string> }> {
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const container = docker.getContainer(id);
  const seen: string[] = [];
  const execs = new Map<string, string>();
  const cmdlines = new Set<string>();
  let done = false;
  const sample = async () => {
    for (const line of readAllCmdlines()) cmdlines.add(line);
    const info = await container.inspect();
    seen.push(JSON.stringify(info));
    seen.push(JSON.stringify(await container.top({ ps_args: '-eo pid,user,args' }).catch(() => ({}))));
    for (const execId of info.ExecIDs ?? []) {
      const e = JSON.stringify(await docker.getExec(execId).inspect().catch(() => ({})));
      seen.push(e);
      if (e.length > 2) execs.set(execId, e);
    }
  };
  const loop = (async () => {
    while (!done) {
      await sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  try {
    const result = await work();
    return { result, seen, execs, cmdlines };
  } finally {
    done = true;
    await loop;
    await sample().catch(() => undefined);
  }
}

/** Files under `dirs` in the container holding the password (grep reads the password from stdin, not its arguments). */
async function grepInContainer(ex: DockerExecutor, dirs: string[]): Promise<string[]> {
  const res = await ex.exec('grep', ['-rlF', '-f', '-', '--', ...dirs], { stdin: `${PASSWORD}\n`, user: '0' });
  expect([0, 1, 2]).toContain(res.exitCode);
  return res.stdout.split('\n').filter(Boolean);
}

describe.skipIf(!hasDocker || !hasUv)('index credentials in containers, and non-root setups (real engine, real uv)', () => {
  let index: AuthIndex;
  let root: string;
  const boxes: TestContainer[] = [];
  const envs: string[] = [];
  const volume = `pymgr-test-secrets-uv-${suffix}`;

  beforeAll(async () => {
    await ensureBaseImage(engine!);
    root = makeTemp('pymgr-secrets-docker-');
    const wheels = join(root, 'wheels');
    mkdirSync(wheels);
    buildWheel(wheels, 'authdep', '1.0.0');
    index = await startAuthIndex(wheels, USER, PASSWORD, 150);
  });
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.remove()));
    for (const name of envs) await removePersistentEnv(name, { engine: engine! }).catch(() => undefined);
    await engine?.removeVolume(volume).catch(() => undefined);
    await index?.close();
    cleanupTemp();
  });

  function project(name: string, uid?: number): string {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'requirements.txt'), 'authdep==1.0.0\n');
    if (uid !== undefined) chownSync(dir, uid, uid);
    return dir;
  }

  it('as root: the password is on no command line, in no engine record and in no file; the install succeeds', async () => {
    const dir = project('root-proj');
    const box = await createTestContainer(engine!, { binds: [`${dir}:/work/project`] });
    boxes.push(box);
    const ex = await DockerExecutor.connect(box.id, { engine: engine! });
    const gateway = containerGateway((await ex.exec('cat', ['/proc/net/route'])).stdout);
    const before = index.requests.length;
    const events: string[] = [];
    const w = await watchContainer(box.id, () =>
      setup({
        projectDir: '/work/project',
        executor: ex,
        flags: { provider: 'uv', index: { url: index.urlWithCredentials(gateway) } },
        onProgress: (e) => events.push(JSON.stringify(e)),
      }),
    );
    expect(w.result.isolation.verified).toBe(true);
    expect(w.result.venv.action).toBe('created');
    // The sampling saw the install: an exec running `uv pip install`, with the URL but not the password.
    const installs = [...w.execs.values()].filter((e) => e.includes('"pip","install"'));
    expect(installs.length).toBeGreaterThan(0);
    expect(installs.join('\n')).toContain(index.url(gateway));
    expect(w.seen.length).toBeGreaterThan(10);
    expect(w.seen.filter((s) => s.includes(PASSWORD))).toEqual([]);
    expect([...w.cmdlines].filter((l) => l.includes(PASSWORD))).toEqual([]);
    expect(events.filter((e) => e.includes(PASSWORD))).toEqual([]);
    expect(JSON.stringify(w.result)).not.toContain(PASSWORD);
    // The container fetched the wheel with the credentials.
    expect(index.requests.slice(before).some((r) => r.authorised && r.path.startsWith('/files/authdep-1.0.0'))).toBe(true);
    const imported = await ex.exec('/work/project/.venv/bin/python', ['-c', 'import authdep; print(authdep.__file__)']);
    expect(imported.stdout.trim()).toBe('/work/project/.venv/lib/python3.11/site-packages/authdep/__init__.py');

    // Nowhere on disk: the venv (on the host), pymgr's tools directory, the uv cache and /tmp in the container.
    expect(filesContaining([dir], PASSWORD)).toEqual([]);
    expect((await ex.readDir('/root/.cache/pymgr/tools'))?.length).toBeGreaterThan(0);
    expect((await ex.readDir('/root/.cache/uv'))?.length).toBeGreaterThan(0);
    expect(await grepInContainer(ex, ['/work/project', '/root/.cache', '/tmp'])).toEqual([]);
    expect(((await ex.readDir('/tmp')) ?? []).filter((n) => n.startsWith('pymgr-netrc-'))).toEqual([]);
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    expect(JSON.stringify(await docker.getContainer(box.id).inspect())).not.toContain(PASSWORD);
  });

  it('the CLI: --docker with --user 1000:1000 and --index-url-file in a root container: verified, owned by 1000, no password in the engine records', async () => {
    const dir = project('cli-user', 1000);
    const box = await createTestContainer(engine!, { binds: [`${dir}:/work/project`] });
    boxes.push(box);
    const ex = await DockerExecutor.connect(box.id, { engine: engine! });
    const gateway = containerGateway((await ex.exec('cat', ['/proc/net/route'])).stdout);
    const urlFile = join(root, 'cli-url.txt');
    writeFileSync(urlFile, `${index.urlWithCredentials(gateway)}\n`, { mode: 0o600 });
    const w = await watchContainer(box.id, () =>
      runCli(['setup', '/work/project', '--docker', box.name, '--user', '1000:1000', '--provider', 'uv', '--index-url-file', urlFile, '--json']),
    );
    expect(w.result.code, w.result.stderr + w.result.stdout).toBe(0);
    const out = JSON.parse(w.result.stdout);
    expect(out.isolation.verified).toBe(true);
    expect(w.result.stdout + w.result.stderr).not.toContain(PASSWORD);
    expect(w.seen.filter((s) => s.includes(PASSWORD))).toEqual([]);
    expect([...w.cmdlines].filter((l) => l.includes(PASSWORD))).toEqual([]);
    expect((await ex.exec('find', ['/work/project/.venv', '!', '-uid', '1000'])).stdout).toBe('');
    expect((await ex.stat('/work/project/.venv'))?.uid).toBe(1000);
    expect(await grepInContainer(ex, ['/work/project', '/tmp', '/root'])).toEqual([]);
  });

  it("asUser: a uid the image does not know gets a private HOME, also when the image's HOME is one it cannot write", async () => {
    const box = await createTestContainer(engine!, { env: ['HOME=/root'] });
    boxes.push(box);
    const rootEx = await DockerExecutor.connect(box.id, { engine: engine! });
    expect((await rootEx.getEnv()).HOME).toBe('/root');
    const as1000 = await rootEx.asUser('1000:1000');
    expect((await as1000.getEnv()).HOME).toBe('/tmp/pymgr-home-1000');
    expect((await as1000.exec('id', ['-u'])).stdout.trim()).toBe('1000');
    expect(await as1000.stat('/tmp/pymgr-home-1000')).toMatchObject({ uid: 1000, mode: 0o700 });
    // Root keeps its own HOME; a second executor for 1000 reuses the private home.
    expect((await (await rootEx.asUser('0')).getEnv()).HOME).toBe('/root');
    expect((await (await rootEx.asUser('1000:1000')).getEnv()).HOME).toBe('/tmp/pymgr-home-1000');
  });

  it('as uid 1000 in the root-owned base image, with a shared uv cache volume: verified, owned by 1000, and still no password anywhere', async () => {
    const run = async (name: string) => {
      const dir = project(name, 1000);
      const env = await ensurePersistentEnv(
        { name: `pymgr-test-secrets-${name}-${suffix}`, image: await ensureBaseImage(engine!), project: { source: dir }, caches: { uv: { type: 'volume', name: volume } }, user: '1000:1000' },
        { engine: engine! },
      );
      envs.push(env.container.name);
      const gateway = containerGateway((await env.executor.exec('cat', ['/proc/net/route'])).stdout);
      const before = index.requests.length;
      const w = await watchContainer(env.container.id, () =>
        setup({
          projectDir: env.projectDir,
          executor: env.executor,
          flags: { provider: 'uv', index: { url: index.urlWithCredentials(gateway) }, docker: { user: '1000:1000' } },
        }),
      );
      return { dir, env, w, requests: index.requests.slice(before) };
    };

    const first = await run('uid1000-a');
    const ex = first.env.executor;
    expect(first.w.result.isolation.verified).toBe(true);
    expect((await ex.exec('id', ['-u'])).stdout.trim()).toBe('1000');
    // Every exec pymgr made for the setup ran as 1000 (the engine's own record of each).
    const users = [...first.w.execs.values()].map((e) => (JSON.parse(e) as { ProcessConfig: { user?: string } }).ProcessConfig.user ?? '');
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((u) => u !== '1000:1000' && u !== '0' && u !== '')).toEqual([]);
    expect(first.w.seen.filter((s) => s.includes(PASSWORD))).toEqual([]);
    expect([...first.w.cmdlines].filter((l) => l.includes(PASSWORD))).toEqual([]);
    // The venv and everything in it belong to 1000; so does what uv wrote to the shared cache.
    const venv = `${first.env.projectDir}/.venv`;
    expect((await ex.stat(venv))?.uid).toBe(1000);
    expect((await ex.exec('find', [venv, '!', '-uid', '1000'])).stdout).toBe('');
    const cache = '/var/cache/pymgr/uv';
    expect((await ex.stat(cache))?.uid).toBe(1000);
    expect((await ex.readDir(cache))?.length).toBeGreaterThan(0);
    expect((await ex.exec('find', [cache, '!', '-uid', '1000'])).stdout).toBe('');
    const imported = await ex.exec(`${venv}/bin/python`, ['-c', 'import authdep, sys; print(sys.prefix)']);
    expect(imported.stdout.trim()).toBe(venv);
    // A private HOME for a uid the image does not know, with pymgr's tools in it.
    const home = await ex.stat('/tmp/pymgr-home-1000');
    expect(home).toMatchObject({ uid: 1000, isDirectory: true });
    expect(home!.mode & 0o077).toBe(0);
    expect(await grepInContainer(ex, [first.env.projectDir, cache, '/tmp'])).toEqual([]);

    // A second env of the same user shares the cache volume: it sees what the first wrote, and writes as 1000 too.
    const cached = (await ex.exec('find', [cache, '-type', 'f'])).stdout.trim().split('\n');
    expect(cached.length).toBeGreaterThan(2);
    const second = await run('uid1000-b');
    expect(second.w.result.isolation.verified).toBe(true);
    const seenBySecond = (await second.env.executor.exec('find', [cache, '-type', 'f'])).stdout.trim().split('\n');
    expect(cached.filter((f) => !seenBySecond.includes(f))).toEqual([]);
    expect((await second.env.executor.exec('find', [cache, '!', '-uid', '1000'])).stdout).toBe('');
    expect((await second.env.executor.exec('find', [`${second.env.projectDir}/.venv`, '!', '-uid', '1000'])).stdout).toBe('');
  });

  it('a baked image of a project installed from the index: no password in its layers, history or inspect', async () => {
    const dir = project('bake-proj');
    // The host, as containers on the default bridge reach it.
    const probe = await createTestContainer(engine!, {});
    boxes.push(probe);
    const gateway = containerGateway((await (await DockerExecutor.connect(probe.id, { engine: engine! })).exec('cat', ['/proc/net/route'])).stdout);
    const tag = `pymgr-test-secrets-bake:${suffix}`;
    const baked = await bakeImage({ projectDir: dir, image: 'pymgr-test/bookworm:1', tag, flags: { provider: 'uv', index: { url: index.urlWithCredentials(gateway) } }, engine: engine! });
    try {
      expect(baked.action).toBe('created');
      expect(JSON.stringify(baked)).not.toContain(PASSWORD);
      expect(execFileSync('docker', ['run', '--rm', '--network', 'none', tag, '/work/project/.venv/bin/python', '-c', 'import authdep; print("ok")'], { encoding: 'utf8' }).trim()).toBe('ok');
      // Every byte of every layer (docker save: the layers as tar files), the history, the config.
      const saved = execFileSync('docker', ['save', tag], { maxBuffer: 1 << 30 });
      expect(saved.length).toBeGreaterThan(1_000_000);
      expect(saved.includes(Buffer.from(PASSWORD))).toBe(false);
      expect(saved.includes(Buffer.from(USER + ':'))).toBe(false);
      expect(execFileSync('docker', ['history', '--no-trunc', tag], { encoding: 'utf8' })).not.toContain(PASSWORD);
      expect(execFileSync('docker', ['image', 'inspect', tag], { encoding: 'utf8' })).not.toContain(PASSWORD);
    } finally {
      await engine!.removeImage(baked.image.id).catch(() => undefined);
    }
  }, 300_000);
});
