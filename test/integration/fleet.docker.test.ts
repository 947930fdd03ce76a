/**
 * Fleets on two real engines (the first, and the second one scripts/docker-engine2.sh starts:
 * its own data root, exec root, socket and bridge), packages from real PyPI through the inherited
 * CA, uv's cache on one shared volume per engine:
 *
 * - 14 projects of every type (requirements, setup.py, setup.cfg, pyproject with five build
 *   backends, uv, rye, mise, .tool-versions, .python-version, runtime.txt) and one baked env, with
 *   concurrency 3 over both engines; the second engine is killed (kill -9 of its dockerd) while
 *   one of its envs installs: only its envs fail, with DOCKER_UNAVAILABLE, the others end verified;
 * - the engine started again, the same fleet through the CLI: the failed envs go back to their
 *   engine and are completed, everything else is `reused`;
 * - Ctrl-C (SIGINT) of `pymgr fleet` starts nothing new and leaves no half-published env.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEnvironments, fleetContainerName, type FleetEnvResult, type FleetResult } from '../../src/api/fleet.js';
import { readFleetFile } from '../../src/config/fleet-file.js';
import { connectDockerClient, type DockerClient } from '../../src/docker/docker-client.js';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { describeEnv } from '../../src/api/env.js';
import { ensureBaseImage, findHostPyenvPython, findTestEngine, BASE_IMAGE } from '../helpers/docker.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findMise, findUv, repoRoot, requireTool } from '../helpers/tools.js';

const ENGINE2_DIR = process.env.PYMGR_DOCKER2_DIR ?? '/run/pymgr-docker2';
const ENGINE2 = `unix://${ENGINE2_DIR}/docker.sock`;

const engine1 = await findTestEngine();
const engine2 = await connectDockerClient({ kind: 'unix', socketPath: `${ENGINE2_DIR}/docker.sock` })
  .then(async (c) => (await c.ping(), c))
  .catch(() => undefined);
const hasDocker = requireTool('Docker engine', engine1);
const hasEngine2 = requireTool(`the second Docker engine (${ENGINE2}, scripts/docker-engine2.sh)`, engine2);
const hasUv = requireTool('uv', findUv());
const hasMise = requireTool('mise', findMise());
const py312 = findHostPyenvPython('3.12');

/** The projects of every type, and what the fleet says for those whose Python the base image (3.11) lacks. */
const PROJECTS: Array<{ fixture: string; name: string; module: string; extra?: Record<string, unknown> }> = [
  { fixture: 'requirements', name: 'reqs', module: 'idna' },
  { fixture: 'setuppy', name: 'setuppy', module: 'six' },
  { fixture: 'setupcfg', name: 'setupcfg', module: 'idna' },
  { fixture: 'pyproject-setuptools', name: 'pp-setuptools', module: 'packaging' },
  { fixture: 'pyproject-hatch', name: 'pp-hatch', module: 'attrs' },
  { fixture: 'pyproject-flit', name: 'pp-flit', module: 'idna' },
  { fixture: 'pyproject-pdm', name: 'pp-pdm', module: 'packaging' },
  { fixture: 'pyproject-poetry', name: 'pp-poetry', module: 'six' },
  { fixture: 'uv-project', name: 'uv-proj', module: 'six', extra: { python: '3.11' } },
  { fixture: 'rye-project', name: 'rye-proj', module: 'attrs', extra: { python: '3.11' } },
  { fixture: 'tool-versions', name: 'tool-versions', module: 'six', extra: { provider: 'uv', python: '3.11' } },
  { fixture: 'python-version-file', name: 'pyversion', module: 'idna' },
  { fixture: 'runtime-txt', name: 'runtime', module: 'six', extra: { python: '3.11' } },
  { fixture: 'mix-uv-requirements', name: 'mix-uv', module: 'idna', extra: { python: '3.11' } },
];

describe.skipIf(!hasDocker || !hasEngine2 || !hasUv || !hasMise)('fleets on two engines (real engines, real PyPI)', () => {
  const fleetName = `t${process.pid}`;
  let dir: string;
  let fleetFile: string;
  let placements: string;

  beforeAll(async () => {
    await ensureBaseImage(engine1!);
    expect(await engine2!.hasImage(BASE_IMAGE)).toBe(true);
    dir = makeTemp('pymgr-fleet-');
    const envs: Array<Record<string, unknown>> = PROJECTS.map((p) => ({ name: p.name, project: copyFixture(p.fixture), ...(p.extra ?? {}) }));
    // mise with the host's prebuilt 3.12 (at the path its RUNPATH names), adopted offline.
    if (py312) {
      envs.push({
        name: 'mise-proj',
        project: copyFixture('mise-project'),
        provider: 'mise',
        mounts: [`${py312.dir}:${py312.root}/versions/${py312.version}:ro`],
        config: { providers: { mise: { syncPyenv: true } } },
      });
    }
    envs.push({ name: 'baked', project: copyFixture('requirements'), provider: 'uv', bake: `pymgr-fleet-test:${process.pid}` });
    fleetFile = join(dir, 'fleet.json');
    writeFileSync(fleetFile, JSON.stringify({ name: fleetName, engines: ['default', ENGINE2], concurrency: 3, defaults: { image: BASE_IMAGE }, envs }, null, 2));
    placements = join(dir, 'placements.json');
  });

  afterAll(async () => {
    // The second engine answers again whatever happened, and the first kept its bridge.
    startEngine2();
    for (const client of [engine1!, engine2!]) {
      // This run's fleets: the main one and the one Ctrl-C stops.
      for (const fleet of [fleetName, `${fleetName}s`]) {
        for (const c of await client.listContainers({ label: [`io.pymgr.fleet=${fleet}`] }, { all: true }).catch(() => [])) {
          await client.getContainer(c.id).remove({ force: true }).catch(() => undefined);
        }
      }
      await client.removeImage(`pymgr-fleet-test:${process.pid}`).catch(() => undefined);
    }
    cleanupTemp();
  });

  /** A module each project's dependencies provide. */
  const moduleOf = (env: string) => PROJECTS.find((p) => p.name === env)?.module ?? 'packaging';
  const expectVerifiedInContainer = async (client: DockerClient, env: FleetEnvResult, module = moduleOf(env.name)) => {
    const ex = await DockerExecutor.connect(env.container!, { engine: client });
    const res = await ex.exec(`${env.venv}/bin/python`, ['-c', `import ${module}, sys; print(${module}.__file__); print(sys.prefix)`]);
    expect(res.exitCode, res.stderr).toBe(0);
    const [file, prefix] = res.stdout.trim().split('\n');
    expect(prefix).toBe(env.venv);
    expect(file.startsWith(`${env.venv}/`)).toBe(true);
  };

  let first: FleetResult;
  let killedAt: string | undefined;

  it('builds every env over both engines; killing the second engine fails only its envs, with DOCKER_UNAVAILABLE', async () => {
    const fleet = await readFleetFile(fleetFile);
    let doneOn2 = 0;
    first = await buildEnvironments({
      envs: fleet.envs,
      engines: fleet.engines,
      fleet: fleet.name,
      concurrency: fleet.concurrency,
      caches: fleet.caches,
      placementsFile: placements,
      // As the CLI says it (a baked env's key includes pymgr's version).
      version: JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version,
      onEvent: (e) => {
        if (e.type === 'done' && e.result.engine === ENGINE2 && e.result.status === 'ready') doneOn2++;
        // Once the second engine has finished two envs, kill it while the next one installs.
        if (!killedAt && doneOn2 >= 2 && e.type === 'progress' && e.engine === ENGINE2 && e.message.startsWith('install:')) {
          killedAt = e.env;
          execFileSync('kill', ['-9', execFileSync('cat', [`${ENGINE2_DIR}/docker.pid`], { encoding: 'utf8' }).trim()]);
        }
      },
    });
    expect(killedAt, 'the second engine was never busy installing after two envs').toBeDefined();
    const byEngine = (name: string) => first.envs.filter((e) => e.engine === name);
    const failed = first.envs.filter((e) => e.status === 'failed');
    expect(failed.map((e) => e.name)).toContain(killedAt);
    for (const e of failed) {
      expect(e.engine, JSON.stringify(e)).toBe(ENGINE2);
      expect(e.error?.code, JSON.stringify(e)).toBe('DOCKER_UNAVAILABLE');
      expect(e.error?.message).toContain(`The engine ${ENGINE2} stopped answering`);
    }
    // Everything on the first engine is verified; nothing was cancelled.
    expect(byEngine('default').length).toBeGreaterThan(0);
    for (const e of byEngine('default')) expect(e, JSON.stringify(e)).toMatchObject({ status: 'ready', verified: true });
    expect(first.counts.cancelled).toBe(0);
    expect(first.counts.ready + first.counts.failed).toBe(first.envs.length);
    expect(byEngine(ENGINE2).filter((e) => e.status === 'ready').length).toBeGreaterThanOrEqual(2);
    expect(first.engines.find((e) => e.name === ENGINE2)).toMatchObject({ up: false });
    expect(first.engines.find((e) => e.name === 'default')).toMatchObject({ up: true, volumes: ['pymgr-uv-cache'] });

    // Imports come from the venvs (a sample on the first engine), and every container shares the engine's uv cache volume.
    const ready1 = byEngine('default').filter((e) => e.container);
    for (const e of ready1) {
      await expectVerifiedInContainer(engine1!, e);
      const info = JSON.parse(execFileSync('docker', ['inspect', e.container!], { encoding: 'utf8' }))[0];
      expect(info.Mounts.filter((m: { Type: string; Name?: string }) => m.Type === 'volume').map((m: { Name: string }) => m.Name)).toEqual(['pymgr-uv-cache']);
    }
    // The first engine's bridge is untouched by the second.
    expect(execFileSync('ip', ['-br', 'link', 'show', 'docker0'], { encoding: 'utf8' })).toContain('docker0');
  }, 900_000);

  it('the re-run (engine started again, through the CLI) completes the failed envs on their engine and reuses the rest', async () => {
    expect(first).toBeDefined();
    startEngine2();
    const res = await runCli(['fleet', fleetFile, '--placements', placements, '--json'], { timeoutMs: 600_000 });
    expect(res.code, res.stderr + res.stdout.slice(0, 4000)).toBe(0);
    const again = JSON.parse(res.stdout);
    expect(again).toMatchObject({ ok: true, fleet: fleetName, counts: { ready: first.envs.length, failed: 0, cancelled: 0 }, placementsFile: placements });
    for (const before of first.envs) {
      const now = again.envs.find((e: FleetEnvResult) => e.name === before.name);
      expect(now.engine, before.name).toBe(before.engine); // sticky
      expect(now.verified).toBe(true);
      if (before.status === 'ready') expect(now.action, before.name).toBe('reused');
      else expect(['created', 'rebuilt', 'updated']).toContain(now.action);
    }
    const redone = again.envs.find((e: FleetEnvResult) => e.name === killedAt);
    await expectVerifiedInContainer(engine2!, redone);
    expect(again.envs.find((e: FleetEnvResult) => e.name === 'baked')).toMatchObject({ image: `pymgr-fleet-test:${process.pid}`, verified: true });
    expect(again.engines.map((e: { up: boolean }) => e.up)).toEqual([true, true]);
  }, 900_000);

  it('clients of an engine that was restarted go on working (no request on a connection to the engine that died)', async () => {
    const client = await connectDockerClient({ kind: 'unix', socketPath: `${ENGINE2_DIR}/docker.sock` });
    for (let i = 0; i < 3; i++) await client.listContainers({}, { all: true });
    await client.findImageId(BASE_IMAGE);
    execFileSync('kill', ['-9', execFileSync('cat', [`${ENGINE2_DIR}/docker.pid`], { encoding: 'utf8' }).trim()]);
    startEngine2();
    const again = await connectDockerClient({ kind: 'unix', socketPath: `${ENGINE2_DIR}/docker.sock` });
    for (const c of [client, again, client, again]) {
      expect(await c.findImageId(BASE_IMAGE)).toMatch(/^sha256:/);
      await c.listContainers({}, { all: true });
    }
  }, 120_000);

  it('Ctrl-C starts nothing new and leaves no half-published env', async () => {
    const file = join(dir, 'stop.json');
    const envs = ['s1', 's2', 's3', 's4'].map((name) => ({ name, project: copyFixture('setuppy') }));
    writeFileSync(file, JSON.stringify({ name: `${fleetName}s`, engines: ['default'], concurrency: 1, defaults: { image: BASE_IMAGE, provider: 'uv' }, envs }));
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), 'fleet', file, '--placements', join(dir, 'stop-placements.json'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // Interrupt once the first env's container exists (it is being set up).
    const name = fleetContainerName(`${fleetName}s`, 's1');
    const running = () => execFileSync('docker', ['ps', '-q', '--filter', `name=^${name}$`], { encoding: 'utf8' }).trim() !== '';
    for (let i = 0; i < 600 && !running(); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(1);
    const out = JSON.parse(stdout);
    expect(out.ok).toBe(false);
    expect(out.envs.slice(1).map((e: FleetEnvResult) => e.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // Nothing else was started: one container only.
    expect(execFileSync('docker', ['ps', '-aq', '--filter', `label=io.pymgr.fleet=${fleetName}s`], { encoding: 'utf8' }).trim().split('\n')).toHaveLength(1);
    // The one that was running is ready or absent, never published half-built.
    const ex = await DockerExecutor.connect(name, { engine: engine1! });
    const state = (await describeEnv({ projectDir: '/work/s1', executor: ex, flags: { provider: 'uv' } })).state;
    expect(['ready', 'missing'], `${out.envs[0].status}: ${state}`).toContain(state);
    expect(out.envs[0].status === 'ready').toBe(state === 'ready');
    expect(existsSync(file)).toBe(true);
  }, 600_000);
});

/** Start the second engine (again); when it does not come up, the script's own account (the log's tail) is the error. */
function startEngine2(): void {
  execFileSync('bash', [join(repoRoot, 'scripts', 'docker-engine2.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
}
