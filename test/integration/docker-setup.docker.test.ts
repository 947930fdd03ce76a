/**
 * setup() inside containers with the providers unchanged: the classic pyenv-in-Docker failure (a
 * cached pyenv root owned by another uid, bind-mounted at /root/.pyenv of a root container), pyenv
 * installed into an empty mount point, uv and mise copied in from the host, and the CLI's --docker.
 *
 * Needs: the Docker engine and base image (scripts/docker-engine.sh, scripts/docker-base-image.sh),
 * the host's pyenv with a 3.10 and a 3.12 (built for bookworm), uv and mise on the host.
 * Packages come from local wheels (/wheels): containers here cannot verify PyPI's TLS chain.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PymgrConfigInput } from '../../src/config/schema.js';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { copyHostTools } from '../../src/docker/host-tools.js';
import { isPymgrError } from '../../src/errors.js';
import { setup } from '../../src/api/setup.js';
import {
  buildFixtureWheels,
  copyPythonVersion,
  createTestContainer,
  ensureBaseImage,
  findHostPyenvPython,
  findTestEngine,
  type TestContainer,
} from '../helpers/docker.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findMise, findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const py310 = findHostPyenvPython('3.10');
const py312 = findHostPyenvPython('3.12');
const hasPyenv = requireTool("the host's pyenv with a 3.10 Python (~/.pyenv/versions/3.10.x)", py310);
const hasUv = requireTool('uv', findUv());
const hasMise = requireTool('mise', findMise());
const hasPy312 = requireTool("the host's pyenv with a 3.12 Python (~/.pyenv/versions/3.12.x)", py312);

const PROJECT = '/work/project';
const WHEELS = '/wheels';
/** Packages from the local wheels only. */
const LOCAL_INDEX = { noIndex: true, findLinks: [WHEELS] };

const boxes: TestContainer[] = [];
let wheels: string;
/** One copy of the 3.10 Python, moved (not copied again) between the pyenv roots of the tests. */
let stash: string;

async function container(binds: string[]): Promise<{ box: TestContainer; ex: DockerExecutor }> {
  const box = await createTestContainer(engine!, { binds });
  boxes.push(box);
  return { box, ex: await DockerExecutor.connect(box.id, { engine: engine! }) };
}

/** `/root/.gitconfig`, `/etc/gitconfig` and `~/.config/git/config` as they are (undefined: missing). */
async function gitConfigs(ex: DockerExecutor): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const f of ['/root/.gitconfig', '/etc/gitconfig', '/root/.config/git/config']) out[f] = await ex.readFile(f).catch(() => undefined);
  return out;
}

function hostGitClone(from: string, to: string): void {
  execFileSync('git', ['clone', '--quiet', `file://${from}`, to], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function moveStashInto(versionsDir: string): string {
  mkdirSync(versionsDir, { recursive: true });
  const to = join(versionsDir, py310!.version);
  renameSync(stash, to);
  stash = to;
  return to;
}

describe.skipIf(!hasDocker)('setup() in containers (real engine)', () => {
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    const tmp = makeTemp('pymgr-docker-setup-');
    wheels = buildFixtureWheels(join(tmp, 'wheels'));
    if (py310) {
      stash = join(tmp, 'stash', py310.version);
      mkdirSync(join(tmp, 'stash'));
      copyPythonVersion(py310.dir, stash);
    }
  });

  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.remove()));
    cleanupTemp();
  });

  describe.skipIf(!hasPyenv)('pyenv', () => {
    it('the classic failure: a pyenv cache owned by uid 1000 at /root/.pyenv of a root container ends verified, without touching git config', async () => {
      const project = copyFixture('requirements');
      const cache = makeTemp('pymgr-pyenv-cache-');
      const root = join(cache, 'pyenv');
      hostGitClone(py310!.root, root);
      moveStashInto(join(root, 'versions'));
      execFileSync('chown', ['-R', '1000:1000', root]);
      const target = py310!.root; // the Python's RUNPATH names this path
      const { ex } = await container([`${project}:${PROJECT}`, `${root}:${target}`, `${wheels}:${WHEELS}:ro`]);
      expect((await ex.exec('id', ['-u'])).stdout.trim()).toBe('0');

      // git refuses the cache: this is what broke the old script.
      const before = await ex.exec('git', ['-C', target, 'rev-parse', 'HEAD']);
      expect(before.exitCode).toBe(128);
      expect(before.stderr).toContain('dubious ownership');
      const configsBefore = await gitConfigs(ex);

      const result = await setup({
        projectDir: PROJECT,
        executor: ex,
        flags: { provider: 'pyenv', python: '3.10', index: LOCAL_INDEX },
      });
      expect(result.provider.name).toBe('pyenv');
      expect(result.isolation.verified).toBe(true);
      expect(result.python.version).toBe(py310!.version);
      expect(result.python.base).toBe(`${target}/versions/${py310!.version}/bin/python3.10`);
      expect(result.venv).toEqual({ path: `${PROJECT}/.venv`, action: 'created' });

      const venvPython = `${PROJECT}/.venv/bin/python`;
      const prefix = await ex.exec(venvPython, ['-c', 'import sys; print(sys.prefix); print(sys.base_prefix)']);
      expect(prefix.stdout.split('\n').slice(0, 2)).toEqual([`${PROJECT}/.venv`, `${target}/versions/${py310!.version}`]);
      const six = await ex.exec(venvPython, ['-c', 'import six; print(six.__file__)']);
      expect(six.exitCode).toBe(0);
      expect(six.stdout.trim()).toBe(`${PROJECT}/.venv/lib/python3.10/site-packages/six/__init__.py`);
      // The image's own python3 did not get the package (no silent fallback to the system Python).
      expect((await ex.exec('python3', ['-c', 'import six'])).exitCode).not.toBe(0);

      // Nothing trusted globally: git config byte-for-byte the same, and git still refuses the root.
      expect(await gitConfigs(ex)).toEqual(configsBefore);
      expect((await ex.exec('git', ['-C', target, 'rev-parse', 'HEAD'])).exitCode).toBe(128);
      // The cache still belongs to uid 1000, nothing chowned or re-initialised.
      expect(statSync(root).uid).toBe(1000);
      expect(statSync(join(root, '.git')).uid).toBe(1000);

      // A second setup in the same container changes nothing.
      const again = await setup({ projectDir: PROJECT, executor: ex, flags: { provider: 'pyenv', python: '3.10', index: LOCAL_INDEX } });
      expect(again.venv.action).toBe('reused');
      expect(await gitConfigs(ex)).toEqual(configsBefore);
    });

    it('pyenv cloned into an empty mount point, PYTHON_UNAVAILABLE without a Python source, verified once one is there', async () => {
      const project = copyFixture('requirements');
      const tmp = makeTemp('pymgr-pyenv-empty-');
      const root = join(tmp, 'root');
      mkdirSync(root);
      const repo = join(tmp, 'pyenv-repo');
      hostGitClone(py310!.root, repo);
      const target = py310!.root;
      const rootIno = statSync(root).ino;
      const { ex } = await container([`${project}:${PROJECT}`, `${root}:${target}`, `${repo}:/src/pyenv:ro`, `${wheels}:${WHEELS}:ro`]);
      const configsBefore = await gitConfigs(ex);
      const flags = (python: string): PymgrConfigInput => ({
        provider: 'pyenv',
        python,
        index: { ...LOCAL_INDEX, offline: true },
        providers: { pyenv: { repository: 'file:///src/pyenv' } },
      });

      const err = await setup({ projectDir: PROJECT, executor: ex, flags: flags('3.10') }).catch((e: unknown) => e);
      expect(isPymgrError(err, 'PYTHON_UNAVAILABLE'), String(err)).toBe(true);
      expect((err as Error).message).toContain('installed: none');
      expect((err as { hint?: string }).hint).toMatch(/buildCache/);
      // pyenv went into the mount point itself: same directory, now a pyenv checkout.
      expect(statSync(root).ino).toBe(rootIno);
      expect(existsSync(join(root, 'bin', 'pyenv'))).toBe(true);
      expect(existsSync(join(root, '.git'))).toBe(true);
      expect(existsSync(join(project, '.venv', 'bin', 'python'))).toBe(false);

      // A prebuilt Python dropped into <root>/versions (instead of a ~3 minute offline source build).
      moveStashInto(join(root, 'versions'));
      const wrong = await setup({ projectDir: PROJECT, executor: ex, flags: flags('3.12') }).catch((e: unknown) => e);
      expect(isPymgrError(wrong, 'PYTHON_UNAVAILABLE'), String(wrong)).toBe(true);
      expect((wrong as Error).message).toContain(`installed: ${py310!.version}`);

      const result = await setup({ projectDir: PROJECT, executor: ex, flags: flags('3.10') });
      expect(result.isolation.verified).toBe(true);
      expect(result.python.version).toBe(py310!.version);
      expect(result.provider.name).toBe('pyenv');
      const six = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import six, sys; print(six.__file__); print(sys.prefix)']);
      expect(six.stdout.trim().split('\n')).toEqual([`${PROJECT}/.venv/lib/python3.10/site-packages/six/__init__.py`, `${PROJECT}/.venv`]);
      expect(statSync(root).ino).toBe(rootIno);
      expect(await gitConfigs(ex)).toEqual(configsBefore);
    });
  });

  describe.skipIf(!hasUv)('uv', () => {
    it('sets up and verifies a project with the host uv copied into the tools directory', async () => {
      const project = copyFixture('requirements');
      const { ex } = await container([`${project}:${PROJECT}`, `${wheels}:${WHEELS}:ro`]);
      expect((await ex.exec('sh', ['-c', 'command -v uv'])).exitCode).not.toBe(0); // not in the image
      const tools = await copyHostTools(ex, { mise: false });
      expect(tools.uv).toMatchObject({ action: 'copied', path: `${tools.toolsDir}/uv-${tools.uv.version}/bin/uv` });
      expect(tools.mise.action).toBe('skipped');

      const result = await setup({ projectDir: PROJECT, executor: ex, flags: { ...tools.config, provider: 'uv', index: LOCAL_INDEX } });
      expect(result.provider).toMatchObject({ name: 'uv', path: tools.uv.path, foundBy: 'tools-dir', version: tools.uv.version });
      expect(result.isolation.verified).toBe(true);
      const six = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import six, sys; print(six.__file__); print(sys.prefix)']);
      expect(six.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${PROJECT}/\\.venv/lib/python3\\.\\d+/site-packages/six/__init__\\.py$`)), `${PROJECT}/.venv`]);

      // Copying again is a no-op.
      expect((await copyHostTools(ex, { mise: false })).uv.action).toBe('present');
    });

    it('copies nothing when the platforms differ, and says why', async () => {
      const { ex } = await container([]);
      const tools = await copyHostTools(ex, { hostArch: 'arm64' });
      expect(tools.uv).toMatchObject({ action: 'skipped', reason: expect.stringContaining('the host is aarch64') });
      expect(tools.mise.action).toBe('skipped');
      expect(tools.config).toEqual({});
      expect(await ex.exists(tools.toolsDir)).toBe(false);
    });
  });

  describe.skipIf(!hasMise || !hasPy312)('mise', () => {
    it("sets up a mise project with the host mise copied in and pyenv's Python adopted offline (syncPyenv)", async () => {
      const project = copyFixture('mise-project');
      const target = `${py312!.root}/versions/${py312!.version}`;
      // The host's prebuilt 3.12, read-only at the path its RUNPATH names; mise adopts it with `mise sync python --pyenv`.
      const { ex } = await container([`${project}:${PROJECT}`, `${py312!.dir}:${target}:ro`, `${wheels}:${WHEELS}:ro`]);
      const tools = await copyHostTools(ex, { uv: false });
      expect(tools.mise.action).toBe('copied');

      const result = await setup({
        projectDir: PROJECT,
        executor: ex,
        flags: { ...tools.config, provider: 'mise', index: { ...LOCAL_INDEX, offline: true }, providers: { ...tools.config.providers, mise: { path: tools.mise.path!, syncPyenv: true } } },
      });
      expect(result.provider).toMatchObject({ name: 'mise', path: tools.mise.path });
      expect(result.python.version).toBe(py312!.version);
      expect(result.python.request).toBe('3.12');
      expect(result.isolation.verified).toBe(true);
      const pkg = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import packaging, sys; print(packaging.__file__); print(sys.prefix)']);
      expect(pkg.stdout.trim().split('\n')).toEqual([`${PROJECT}/.venv/lib/python3.12/site-packages/packaging/__init__.py`, `${PROJECT}/.venv`]);
    });
  });

  describe.skipIf(!hasUv)('the CLI with --docker', () => {
    let box: TestContainer;
    let project: string;

    beforeAll(async () => {
      project = copyFixture('requirements');
      const made = await container([`${project}:${PROJECT}`, `${wheels}:${WHEELS}:ro`]);
      box = made.box;
      const tools = await copyHostTools(made.ex, { mise: false });
      expect(tools.uv.action).toBe('copied');
      // The uv provider looks for <toolsDir>/uv-<providers.uv.version>: say which version was copied,
      // in a config file the CLI finds in the project directory (inside the container).
      writeFileSync(join(project, '.pymgrrc.json'), JSON.stringify(tools.config));
    });

    const docker = () => ['--docker', box.name];

    it('setup, env, run and detect run inside the container', async () => {
      const s = await runCli(['setup', PROJECT, ...docker(), '--provider', 'uv', '--offline', '--find-links', WHEELS, '--json']);
      expect(s.code, s.stderr).toBe(0);
      const setupOut = JSON.parse(s.stdout);
      expect(setupOut).toMatchObject({
        ok: true,
        projectDir: PROJECT,
        venv: { path: `${PROJECT}/.venv`, action: 'created' },
        provider: { name: 'uv', foundBy: 'tools-dir' },
        isolation: { verified: true },
      });
      expect(existsSync(join(project, '.venv', 'pyvenv.cfg'))).toBe(true); // the bind mount shows the container's venv

      // The same settings as the setup (index options are part of what decides the env).
      const e = await runCli(['env', PROJECT, ...docker(), '--offline', '--find-links', WHEELS, '--json']);
      expect(e.code, e.stderr).toBe(0);
      expect(JSON.parse(e.stdout)).toMatchObject({ path: `${PROJECT}/.venv`, state: 'ready', provider: { name: 'uv' } });

      const r = await runCli(['run', PROJECT, ...docker(), '--', 'python', '-c', 'import six, sys; print(sys.prefix); print(six.__file__)']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([`${PROJECT}/.venv`, expect.stringMatching(/^\/work\/project\/\.venv\/lib\/python3\.\d+\/site-packages\/six\/__init__\.py$/)]);
      const failing = await runCli(['run', PROJECT, ...docker(), '--', 'python', '-c', 'import sys; sys.exit(7)']);
      expect(failing.code).toBe(7);

      const d = await runCli(['detect', PROJECT, ...docker(), '--json']);
      expect(d.code, d.stderr).toBe(0);
      expect(JSON.parse(d.stdout)).toMatchObject({ projectDir: PROJECT, projectType: 'requirements' });
    });

    it('setup --docker copies the host\'s uv into a container that has none, by itself', async () => {
      const fresh = copyFixture('requirements');
      const made = await container([`${fresh}:${PROJECT}`, `${wheels}:${WHEELS}:ro`]);
      expect((await made.ex.exec('sh', ['-c', 'command -v uv'])).exitCode).not.toBe(0);
      const s = await runCli(['setup', PROJECT, '--docker', made.box.name, '--provider', 'uv', '--offline', '--find-links', WHEELS, '--json']);
      expect(s.code, s.stderr + s.stdout).toBe(0);
      expect(JSON.parse(s.stdout)).toMatchObject({
        provider: { name: 'uv', foundBy: 'tools-dir', path: expect.stringMatching(/\/pymgr\/tools\/uv-[\d.]+\/bin\/uv$/) },
        venv: { action: 'created' },
        isolation: { verified: true },
      });
      const again = await runCli(['setup', PROJECT, '--docker', made.box.name, '--provider', 'uv', '--offline', '--find-links', WHEELS, '--json']);
      expect(JSON.parse(again.stdout).venv.action).toBe('reused');
    });

    it('DOCKER_UNAVAILABLE (exit 1) when DOCKER_HOST names a dead engine, and nothing changes on the host', async () => {
      const hostProject = copyFixture('requirements');
      const listing = readdirSync(hostProject).sort();
      const r = await runCli(['setup', PROJECT, '--docker', box.name, '--json'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' }, cwd: hostProject });
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ ok: false, error: { code: 'DOCKER_UNAVAILABLE' } });
      expect(out.error.message).toContain('unix:///nonexistent.sock');
      expect(out.error.message).toContain('/var/run/docker.sock: skipped, not tried: DOCKER_HOST names the engine to use');
      expect(readdirSync(hostProject).sort()).toEqual(listing);
      expect(existsSync(join(hostProject, '.venv'))).toBe(false);
    });
  });
});
