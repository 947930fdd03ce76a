/**
 * A remote engine over SSH (real sshd on 127.0.0.1 from scripts/ssh-engine.sh, the agent holding
 * the client key, the machine's Docker engine behind it, the built CLI): setup, run and env through
 * `DOCKER_HOST=ssh://…`, the warm no-op in one exec, and every way the connection can be refused
 * answered with DOCKER_UNAVAILABLE naming the cause and the fix, nothing changed.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/api/setup.js';
import { ensurePersistentEnv, removePersistentEnv } from '../../src/docker/persistent-env.js';
import { findEngine } from '../../src/docker/find-engine.js';
import { buildFixtureWheels, copyPythonVersion, createTestContainer, ensureBaseImage, findHostPyenvPython, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findSshEngine } from '../helpers/ssh.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const ssh = findSshEngine();
const hasSsh = requireTool('the SSH engine (scripts/ssh-engine.sh: sshd on 127.0.0.1 and its agent)', ssh);
const hasUv = requireTool('uv', findUv());

const PROJECT = '/work/project';

describe.skipIf(!hasDocker || !hasSsh || !hasUv)('an engine over SSH (real sshd, real engine)', () => {
  let box: TestContainer;
  let project: string;
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    const wheels = buildFixtureWheels(makeTemp('pymgr-wheels-'));
    project = copyFixture('requirements');
    box = await createTestContainer(engine!, { binds: [`${project}:${PROJECT}`, `${wheels}:/wheels:ro`] });
  });
  afterAll(async () => {
    await box?.remove();
    cleanupTemp();
  });

  const over = (extra: Record<string, string | undefined> = {}) => ({ env: { DOCKER_HOST: ssh!.url, ...ssh!.env, ...extra } });
  const offline = ['--offline', '--find-links', '/wheels'];

  it('setup, run and env through DOCKER_HOST=ssh://; the warm no-op is one exec', async () => {
    const s = await runCli(['setup', PROJECT, '--docker', box.name, '--provider', 'uv', ...offline, '--json'], over());
    expect(s.code, s.stderr + s.stdout).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ venv: { action: 'created', path: `${PROJECT}/.venv` }, isolation: { verified: true } });
    const r = await runCli(['run', PROJECT, '--docker', box.name, '--', 'python', '-c', 'import six, sys; print(sys.prefix)'], over());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${PROJECT}/.venv`);
    const e = await runCli(['env', PROJECT, '--docker', box.name, ...offline, '--json'], over());
    expect(JSON.parse(e.stdout)).toMatchObject({ state: 'ready' });
    // The same command again: the fast path, over the same SSH engine, in one exec.
    const again = await runCli(['setup', PROJECT, '--docker', box.name, '--provider', 'uv', ...offline, '--json'], over());
    const warm = JSON.parse(again.stdout);
    expect(warm, again.stdout).toMatchObject({ venv: { action: 'reused' }, isolation: { verified: true } });
    expect(warm.roundTrips).toBeLessThanOrEqual(2);
  });

  it('through a Docker context that names it: DOCKER_CONTEXT, the docker config\'s currentContext, --engine <name>', async () => {
    // A context store of the test's own (DOCKER_CONFIG), made by the docker CLI itself.
    const config = makeTemp('pymgr-docker-config-');
    const docker = (...args: string[]) => execFileSync('docker', args, { env: { ...process.env, DOCKER_CONFIG: config, DOCKER_HOST: '' }, encoding: 'utf8' });
    docker('context', 'create', 'gpu-box', '--docker', `host=${ssh!.url}`);
    const base = { DOCKER_CONFIG: config, DOCKER_HOST: undefined, ...ssh!.env };
    const detect = (env: Record<string, string | undefined>, ...extra: string[]) => runCli(['detect', PROJECT, '--docker', box.name, ...extra, '--json'], { env: { ...base, ...env } });
    const viaEnv = await detect({ DOCKER_CONTEXT: 'gpu-box' });
    expect(viaEnv.code, viaEnv.stderr + viaEnv.stdout).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ projectDir: PROJECT, projectType: 'requirements' });
    // setup, run and env through the context alone.
    const ctxEnv = { env: { ...base, DOCKER_CONTEXT: 'gpu-box' } };
    const s = await runCli(['setup', PROJECT, '--docker', box.name, '--provider', 'uv', ...offline, '--json'], ctxEnv);
    expect(s.code, s.stderr + s.stdout).toBe(0);
    expect(JSON.parse(s.stdout).isolation.verified).toBe(true);
    const r = await runCli(['run', PROJECT, '--docker', box.name, '--', 'python', '-c', 'import six; print("ok")'], ctxEnv);
    expect(r.stdout.trim(), r.stderr).toBe('ok');
    expect(JSON.parse((await runCli(['env', PROJECT, '--docker', box.name, ...offline, '--json'], ctxEnv)).stdout).state).toBe('ready');
    docker('context', 'use', 'gpu-box');
    expect((await detect({})).code).toBe(0);
    // doctor says which engine and why.
    const doc = await runCli(['doctor', PROJECT, '--docker', box.name, '--json'], { env: { ...base } });
    expect(JSON.parse(doc.stdout).engine).toMatchObject({
      address: expect.stringMatching(/^ssh:\/\/\S+@127\.0\.0\.1:\d+$/),
      chosenBy: `Docker context "gpu-box" (currentContext in ${join(config, 'config.json')})`,
      container: expect.stringContaining(box.name),
    });
    const docText = await runCli(['doctor', PROJECT, '--docker', box.name], { env: { ...base, DOCKER_CONTEXT: 'gpu-box' } });
    expect(docText.stdout).toMatch(/engine: ssh:\/\/\S+ \(chosen by Docker context "gpu-box" \(DOCKER_CONTEXT\)\)/);
    // Through the context only: the local socket is not what answered (a context naming a dead SSH port fails).
    docker('context', 'create', 'dead-box', '--docker', 'host=ssh://root@127.0.0.1:1');
    const dead = await detect({ DOCKER_CONTEXT: 'dead-box' });
    expect(dead.code).toBe(1);
    // (A user name in an address is shown as *** like any credential in a URL.)
    expect(JSON.parse(dead.stdout).error.message).toMatch(/Docker context \(ssh:\/\/\S+@127\.0\.0\.1:1\): ssh to root@127\.0\.0\.1:1: host unreachable/);
    // --engine names a context (or an address), over whatever the environment says.
    expect((await detect({ DOCKER_CONTEXT: 'dead-box' }, '--engine', 'gpu-box')).code).toBe(0);
    const unknown = await detect({}, '--engine', 'no-such-box');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout).error).toMatchObject({ code: 'DOCKER_UNAVAILABLE', message: expect.stringContaining('no Docker context named "no-such-box"') });
    const bad = await detect({ DOCKER_CONTEXT: 'no-such-box' });
    expect(JSON.parse(bad.stdout).error.message).toContain('(named by DOCKER_CONTEXT)');
  });

  it('the seed\'s scenario, remote: a persistent env over SSH with a pyenv cache owned by uid 1000 ends verified, no git config written', async () => {
    const py310 = findHostPyenvPython('3.10');
    expect(py310, "the host's pyenv with a 3.10 Python").toBeDefined();
    // The cache: a clone of pyenv with the 3.10 Python, owned by another uid (git calls it dubious).
    const root = join(makeTemp('pymgr-remote-pyenv-'), 'pyenv');
    execFileSync('git', ['clone', '--quiet', `file://${py310!.root}`, root], { stdio: ['ignore', 'ignore', 'inherit'] });
    copyPythonVersion(py310!.dir, join(root, 'versions', py310!.version));
    execFileSync('chown', ['-R', '1000:1000', root]);
    const wheels = buildFixtureWheels(makeTemp('pymgr-wheels-'));
    const client = await findEngine({ engine: ssh!.url, env: { ...process.env, ...ssh!.env }, cache: false });
    expect(client.connection.kind).toBe('ssh');
    const name = `pymgr-remote-seed-${process.pid}`;
    try {
      const env = await ensurePersistentEnv(
        {
          name,
          image: 'pymgr-test/bookworm:1',
          project: { source: copyFixture('requirements') },
          // The Python's RUNPATH names the host root's path: the cache is mounted there.
          caches: { pyenv: { type: 'bind', source: root, target: py310!.root } },
          mounts: [{ type: 'bind', source: wheels, target: '/wheels', readOnly: true }],
        },
        { engine: client },
      );
      const gitConfig = async () => (await env.executor.exec('sh', ['-c', 'cat /root/.gitconfig /etc/gitconfig 2>/dev/null; echo end'])).stdout;
      const before = await gitConfig();
      const result = await setup({ projectDir: env.projectDir, executor: env.executor, flags: { provider: 'pyenv', python: '3.10', index: { noIndex: true, findLinks: ['/wheels'] } } });
      expect(result).toMatchObject({ provider: { name: 'pyenv' }, python: { version: py310!.version }, isolation: { verified: true } });
      expect(await gitConfig()).toBe(before);
      expect((await env.executor.exec('git', ['-C', py310!.root, 'rev-parse', 'HEAD'])).exitCode).toBe(128); // still refused: nothing trusted globally
      expect((await env.executor.exec(`${env.projectDir}/.venv/bin/python`, ['-c', 'import six'])).exitCode).toBe(0);
    } finally {
      await removePersistentEnv(name, { engine: client }).catch(() => undefined);
    }
  }, 180_000);

  describe('refused connections: DOCKER_UNAVAILABLE with the cause and the fix, nothing changed', () => {
    const refused = async (url: string, extra: Record<string, string | undefined> = {}) => {
      const fresh = copyFixture('requirements');
      const res = await runCli(['setup', PROJECT, '--docker', box.name, '--json'], { env: { DOCKER_HOST: url, ...ssh!.env, ...extra }, cwd: fresh });
      expect(res.code, res.stdout + res.stderr).toBe(1);
      const err = JSON.parse(res.stdout).error;
      expect(err.code).toBe('DOCKER_UNAVAILABLE');
      expect(existsSync(join(fresh, '.venv'))).toBe(false);
      return err.message as string;
    };
    /** A home with an .ssh of its own: known_hosts copied from root's (or not), an id_ed25519 (or not). */
    const home = (opts: { knownHosts: boolean; key: boolean }) => {
      const h = makeTemp('pymgr-home-');
      mkdirSync(join(h, '.ssh'), { mode: 0o700 });
      if (opts.knownHosts) copyFileSync(join(homedir(), '.ssh', 'known_hosts'), join(h, '.ssh', 'known_hosts'));
      if (opts.key) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(h, '.ssh', 'id_ed25519')]);
      return h;
    };

    it('a host nobody listens on: unreachable', async () => {
      expect(await refused('ssh://root@127.0.0.1:1')).toMatch(/ssh to root@127\.0\.0\.1:1: host unreachable \(ECONNREFUSED\)/);
    });
    it('a key the host does not accept: refused, with where to put the key', async () => {
      const msg = await refused(ssh!.url, { SSH_AUTH_SOCK: undefined, HOME: home({ knownHosts: true, key: true }) });
      expect(msg).toMatch(/the key was refused \(add your public key to ~root\/\.ssh\/authorized_keys/);
    });
    it('no key at all: says to start the agent', async () => {
      expect(await refused(ssh!.url, { SSH_AUTH_SOCK: undefined, HOME: home({ knownHosts: true, key: false }) })).toMatch(/no SSH key to offer/);
    });
    it('a host key that is not in known_hosts: refused before any key is offered, with ssh-keyscan', async () => {
      const msg = await refused(ssh!.url, { HOME: home({ knownHosts: false, key: false }) });
      expect(msg).toMatch(/its host key is unknown \(\[127\.0\.0\.1\]:\d+ is not in/);
      expect(msg).toContain(`ssh-keyscan -p ${ssh!.port} 127.0.0.1 >> ~/.ssh/known_hosts`);
    });
    it('malformed ssh:// addresses', async () => {
      expect(await refused('ssh://')).toMatch(/has no host|not a valid address/);
      expect(await refused('ssh://root:pw@127.0.0.1:2222')).toMatch(/holds a password: use a key/);
    });
  });
});
