/**
 * Persistent envs against the real engine: the same spec reuses the container (and setup() in it is
 * a no-op), a stopped one is started, a changed spec recreates it, caches on a named volume and a host
 * directory outlive the container, and a container pymgr did not create is never touched.
 *
 * Needs: the Docker engine and base image, uv on the host (copied into the container).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusCodeOf } from '../../src/docker/docker-client.js';
import { copyHostTools } from '../../src/docker/host-tools.js';
import {
  DEFAULT_CACHE_TARGETS,
  ENV_LABEL,
  ensurePersistentEnv,
  removePersistentEnv,
  startPersistentEnv,
  stopPersistentEnv,
  type PersistentEnv,
  type PersistentEnvSpec,
} from '../../src/docker/persistent-env.js';
import { isPymgrError } from '../../src/errors.js';
import { setup } from '../../src/api/setup.js';
import { buildFixtureWheels, createTestContainer, ensureBaseImage, findTestEngine, TEST_LABEL } from '../helpers/docker.js';
import { cleanupTemp, copyFixture, makeTemp } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());

/** Label on this file's containers, for cleanup. */
const RUN_LABEL = `pymgr-test-run=${process.pid}-${randomBytes(3).toString('hex')}`;
const suffix = randomBytes(4).toString('hex');
const volume = `pymgr-test-uv-cache-${suffix}`;

describe.skipIf(!hasDocker || !hasUv)('persistent envs (real engine)', () => {
  let image: string;
  let base: PersistentEnvSpec;
  let pyenvCache: string;

  beforeAll(async () => {
    image = await ensureBaseImage(engine!);
    const tmp = makeTemp('pymgr-docker-persistent-');
    const wheels = buildFixtureWheels(join(tmp, 'wheels'));
    pyenvCache = join(tmp, 'pyenv-cache');
    mkdirSync(pyenvCache);
    base = {
      name: `pymgr-test-env-${suffix}`,
      image,
      project: { source: copyFixture('requirements') },
      caches: { uv: { type: 'volume', name: volume }, pyenv: { type: 'bind', source: pyenvCache } },
      mounts: [{ type: 'bind', source: wheels, target: '/wheels', readOnly: true }],
      labels: { [TEST_LABEL]: '1', [RUN_LABEL.split('=')[0]]: RUN_LABEL.split('=')[1] },
    };
  });

  afterAll(async () => {
    const list = await engine!.listContainers({ label: [RUN_LABEL] }, { all: true });
    await Promise.all(list.map((c) => engine!.getContainer(c.id).remove({ force: true })));
    await engine!.removeVolume(volume);
    cleanupTemp();
  });

  async function setupIn(env: PersistentEnv) {
    const tools = await copyHostTools(env.executor, { mise: false });
    return setup({
      projectDir: env.projectDir,
      executor: env.executor,
      flags: { ...tools.config, provider: 'uv', index: { noIndex: true, findLinks: ['/wheels'] } },
    });
  }

  async function gone(id: string): Promise<boolean> {
    return engine!.getContainer(id).inspect().then(
      () => false,
      (err: unknown) => statusCodeOf(err) === 404,
    );
  }

  it('creates, then reuses the same container for the same spec; setup() there is a no-op the second time', async () => {
    const first = await ensurePersistentEnv(base, { engine: engine! });
    expect(first.action).toBe('created');
    expect(first.container.name).toBe(base.name);
    expect(first.projectDir).toBe('/work/project');
    const info = await engine!.getContainer(first.container.id).inspect();
    expect(info.labels[ENV_LABEL]).toBe(base.name);
    // The caches are announced to the managers through the container's environment.
    expect(info.env).toEqual(
      expect.arrayContaining([`UV_CACHE_DIR=${DEFAULT_CACHE_TARGETS.uv}`, `PYENV_ROOT=${DEFAULT_CACHE_TARGETS.pyenv}`]),
    );
    const one = await setupIn(first);
    expect(one.venv.action).toBe('created');
    expect(one.isolation.verified).toBe(true);
    // uv used the cache volume (UV_CACHE_DIR from the container's environment).
    const cached = await first.executor.readDir(DEFAULT_CACHE_TARGETS.uv);
    expect(cached?.length).toBeGreaterThan(0);

    const second = await ensurePersistentEnv(base, { engine: engine! });
    expect(second.action).toBe('reused');
    expect(second.container.id).toBe(first.container.id);
    expect(second.specHash).toBe(first.specHash);
    const two = await setupIn(second);
    expect(two.venv.action).toBe('reused');
    expect(two.install.commands).toEqual([]);
  });

  it('starts a stopped env (same container), and stop/start work by name', async () => {
    const before = await ensurePersistentEnv(base, { engine: engine! });
    const stopStarted = Date.now();
    expect(await stopPersistentEnv(base.name, { engine: engine! })).toBe(true);
    expect(Date.now() - stopStarted).toBeLessThan(5000); // the idle command exits on SIGTERM
    expect((await engine!.getContainer(before.container.id).inspect()).running).toBe(false);

    const again = await ensurePersistentEnv(base, { engine: engine! });
    expect(again.action).toBe('started');
    expect(again.container.id).toBe(before.container.id);

    await stopPersistentEnv(base.name, { engine: engine! });
    const ex = await startPersistentEnv(base.name, { engine: engine! });
    expect(ex.containerId).toBe(before.container.id);
    expect((await ex.exec('true', [])).exitCode).toBe(0);
  });

  it('recreates the container when the spec changes; the old one is gone, caches and the env survive', async () => {
    const old = await ensurePersistentEnv(base, { engine: engine! });
    await old.executor.writeFile(`${DEFAULT_CACHE_TARGETS.pyenv}/marker`, 'kept');
    const changed = { ...base, env: { PYMGR_TEST_CHANGE: '1' } };
    const next = await ensurePersistentEnv(changed, { engine: engine! });
    expect(next.action).toBe('recreated');
    expect(next.container.id).not.toBe(old.container.id);
    expect(next.specHash).not.toBe(old.specHash);
    expect(await gone(old.container.id)).toBe(true);
    expect((await next.executor.exec('printenv', ['PYMGR_TEST_CHANGE'])).stdout).toBe('1\n');

    // The host-directory cache and the named volume outlived the old container.
    expect(await next.executor.readFile(`${DEFAULT_CACHE_TARGETS.pyenv}/marker`)).toBe('kept');
    expect((await next.executor.readDir(DEFAULT_CACHE_TARGETS.uv))?.length).toBeGreaterThan(0);
    // The venv and its state live in the project: a new container with the same tools reuses it.
    const result = await setupIn(next);
    expect(result.venv.action).toBe('reused');

    // Same changed spec again: reused.
    expect((await ensurePersistentEnv(changed, { engine: engine! })).action).toBe('reused');
    // Back to the first spec: recreated again.
    expect((await ensurePersistentEnv(base, { engine: engine! })).action).toBe('recreated');
  });

  it('never touches a container of that name that pymgr did not create', async () => {
    const foreign = await createTestContainer(engine!);
    try {
      const err = await ensurePersistentEnv({ ...base, name: foreign.name }, { engine: engine! }).catch((e: unknown) => e);
      expect(isPymgrError(err, 'USAGE')).toBe(true);
      expect((err as Error).message).toContain('is not a pymgr persistent env');
      const err2 = await removePersistentEnv(foreign.name, { engine: engine! }).catch((e: unknown) => e);
      expect(isPymgrError(err2, 'USAGE')).toBe(true);
      expect((await foreign.container.inspect()).running).toBe(true);
    } finally {
      await foreign.remove();
    }
  });

  it('rejects a bad spec before touching the engine, and DOCKER_UNAVAILABLE for a missing image', async () => {
    for (const bad of [
      { ...base, name: '-bad name' },
      { ...base, mounts: [{ type: 'bind' as const, source: 'relative/dir', target: '/x' }] },
      { ...base, mounts: [{ type: 'volume' as const, name: 'v', target: '/work/project' }] },
    ]) {
      const err = await ensurePersistentEnv(bad, { engine: engine! }).catch((e: unknown) => e);
      expect(isPymgrError(err, 'USAGE'), String(err)).toBe(true);
    }
    const err = await ensurePersistentEnv({ ...base, image: 'pymgr-test/no-such-image:0' }, { engine: engine! }).catch((e: unknown) => e);
    expect(isPymgrError(err, 'DOCKER_UNAVAILABLE')).toBe(true);
  });

  it('removes the env (and the named volume when asked)', async () => {
    const env = await ensurePersistentEnv(base, { engine: engine! });
    expect(await removePersistentEnv(base.name, { engine: engine!, volumes: [volume] })).toBe(true);
    expect(await gone(env.container.id)).toBe(true);
    expect(await removePersistentEnv(base.name, { engine: engine! })).toBe(false);
  });
});
