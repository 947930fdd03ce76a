/**
 * Fault injection in a container (real engine, the built CLI, the host's uv copied in, local
 * wheels): kill -9 of pymgr at random moments of `pymgr setup --docker` — updates in place (a
 * requirement added) and rebuilds (one dropped). In a container the state file and the lock's
 * owner are written with the next exec (deferred writes, src/docker/docker-executor.ts), so a
 * kill between a write and its carrier must leave the env as if the write had not been asked
 * for. After every kill, once the programs the killed setup started in the container have ended:
 * `env` says ready or outdated, never a false ready (every package of a ready env imports from
 * it), and the following setup ends verified.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { copyHostTools } from '../../src/docker/host-tools.js';
import { cliJson, killGroup, makeWheelhouse, requirementsProject, startCli } from '../helpers/aside.js';
import { createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp } from '../helpers/project.js';
import { findUv, repoRoot, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());

const PROJECT = '/work/project';

describe.skipIf(!hasDocker || !hasUv)('fault injection in a container (real engine, built CLI)', () => {
  let box: TestContainer;
  let ex: DockerExecutor;
  let dir: string;
  let wheels: string;

  beforeAll(async () => {
    await ensureBaseImage(engine!);
    wheels = makeWheelhouse();
    dir = requirementsProject();
    box = await createTestContainer(engine!, { binds: [`${dir}:${PROJECT}`, `${wheels}:/wheels:ro`] });
    ex = await DockerExecutor.connect(box.id, { engine: engine! });
    const tools = await copyHostTools(ex, { mise: false });
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ ...tools.config, provider: 'uv', index: { offline: true, findLinks: ['/wheels'] } }));
  });
  afterAll(async () => {
    await box?.remove();
    cleanupTemp();
  });

  /** Wait until no program the killed setup started is left in the container (an exec outlives its client). */
  async function settled(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const ps = await ex.exec('ps', ['-eo', 'args'], { readOnly: true });
      if (!/bin\/uv |\.venv\/bin\/python|pymgr-write-failed|n=\$1; shift/.test(ps.stdout)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('programs of the killed setup still run in the container after 10 s');
  }

  /** A hash of every path, type, mode, link target and file content under the venv, in the container. */
  async function venvHash(): Promise<string> {
    const sh = `cd ${PROJECT}/.venv && { find . -printf '%y %m %p %l\\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum`;
    const r = await ex.exec('/bin/sh', ['-c', sh], { readOnly: true });
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  /** The venv, its kept-aside sibling and its lock as they are now (for a failure's message). */
  async function scene(): Promise<string> {
    const v = `${PROJECT}/.venv`;
    const sh = [
      `for d in ${v} ${v}.pymgr-prev ${v}.pymgr-lock ${v}.pymgr-lock.takeover; do echo "== $d"; ls -la --time-style=+%T.%N "$d" 2>&1 | head -n 20; done`,
      `for f in ${v}.pymgr-lock/owner.json ${v}.pymgr-prev/.pymgr-aside.json ${v}/.pymgr/state.json ${v}.pymgr-prev/.pymgr/state.json; do echo "== $f"; head -c 600 "$f" 2>&1; echo; done`,
      'date +%T.%N',
    ].join('\n');
    const r = await ex.exec('/bin/sh', ['-c', sh], { readOnly: true });
    return `${r.stdout}${r.stderr}host: ${new Date().toISOString()}`;
  }

  it('20+ kill -9 trials at random moments: never a false ready, the next setup ends verified', async () => {
    const seed = Number(process.env.PYMGR_FAULT_SEED ?? Date.now() % 100000);
    let x = seed;
    const random = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const setupArgs = ['setup', PROJECT, '--docker', box.name];
    const first = await cliJson(setupArgs);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    let reqs = ['alpha==1.0', 'beta==1.0'];
    let landed = 0;
    let span = 1200;
    const log: string[] = [];
    for (let i = 0; landed < 20 && i < 48; i++) {
      const next = reqs.includes('gamma==1.0') ? ['alpha==1.0', 'beta==1.0'] : [...reqs, 'gamma==1.0'];
      writeFileSync(join(dir, 'requirements.txt'), next.join('\n') + '\n');
      const delay = Math.floor(random() * 0.95 * span);
      const cli = startCli(setupArgs);
      await new Promise((r) => setTimeout(r, delay));
      killGroup(cli.child);
      const code = await cli.done;
      if (code === null) landed++;
      const where = `trial ${i} (seed ${seed}, kill at ${delay} of ${span} ms, ${reqs.join(' ')} → ${next.join(' ')}, exit ${code})`;
      log.push(where);
      await settled();

      const onDisk = await scene(); // before env changes anything: what the kill left
      const env = await cliJson(['env', PROJECT, '--docker', box.name]);
      expect(['ready', 'outdated'], `${where}: ${env.stdout}${env.stderr}\nwhat the kill left:\n${onDisk}\nafter env:\n${await scene()}`).toContain(env.json?.state);
      // Ready: every package it was asked for imports from the venv. Outdated: the previous env still works.
      const wanted = (env.json.state === 'ready' ? next : reqs).map((r) => r.split('==')[0]);
      const imp = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', `import sys, ${wanted.join(', ')}; assert all(m.__file__.startswith(sys.prefix) for m in (${wanted.join(', ')},))`]);
      expect(imp.exitCode, `${where}: ${env.json.state} but ${imp.stderr}`).toBe(0);

      const t0 = Date.now();
      const again = await cliJson(setupArgs);
      expect(again.code, `${where}: ${again.stdout}${again.stderr}`).toBe(0);
      expect(again.json.isolation.verified).toBe(true);
      if (again.json.venv.action !== 'reused') span = Math.max(400, Date.now() - t0);
      reqs = next;
    }
    process.stderr.write(`fault injection in a container: ${log.length} trials (seed ${seed}), ${landed} killed mid-setup\n`);
    expect(landed, log.join('\n')).toBeGreaterThanOrEqual(20);
  }, 400_000);

  it('kill -9 at every exec of an update and of a rebuild, once its start is sent and before: the previous env stays, the next setup ends verified', async () => {
    const hook = join(repoRoot, 'test', 'helpers', 'kill-at-exec.mjs');
    const setupArgs = ['setup', PROJECT, '--docker', box.name];
    const ab = ['alpha==1.0', 'beta==1.0'];
    const abg = [...ab, 'gamma==1.0'];
    writeFileSync(join(dir, 'requirements.txt'), ab.join('\n') + '\n');
    expect((await cliJson(setupArgs)).code).toBe(0);
    let reqs = ab;
    const finished = new Set<string>();
    const log: string[] = [];
    for (let n = 1; finished.size < 4 && n < 60; n++) {
      for (const when of ['after', 'before'] as const) {
        // An update (gamma added), then a rebuild (gamma dropped): each trial's next setup leaves the other's start.
        for (const next of [abg, ab]) {
          const kind = `${next === abg ? 'update' : 'rebuild'} ${when}`;
          if (finished.has(kind)) {
            if (reqs !== next) { writeFileSync(join(dir, 'requirements.txt'), next.join('\n') + '\n'); expect((await cliJson(setupArgs)).code).toBe(0); reqs = next; }
            continue;
          }
          writeFileSync(join(dir, 'requirements.txt'), next.join('\n') + '\n');
          const cli = startCli(setupArgs, { NODE_OPTIONS: `--import ${hook}`, TEST_KILL_AT_EXEC: String(n), TEST_KILL_WHEN: when });
          const code = await cli.done;
          const where = `${kind}, killed at exec ${n} (exit ${code})`;
          log.push(where);
          if (code === 0) finished.add(kind); // fewer execs than n: nothing was killed
          else expect(code, `${where}: ${cli.stderr()}`).toBeNull();
          await settled();
          const onDisk = await scene();
          const env = await cliJson(['env', PROJECT, '--docker', box.name]);
          expect(['ready', 'outdated'], `${where}: ${env.stdout}${env.stderr}\nwhat the kill left:\n${onDisk}\nafter env:\n${await scene()}`).toContain(env.json?.state);
          const wanted = (env.json.state === 'ready' ? next : reqs).map((r) => r.split('==')[0]);
          const imp = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', `import sys, ${wanted.join(', ')}; assert all(m.__file__.startswith(sys.prefix) for m in (${wanted.join(', ')},))`]);
          expect(imp.exitCode, `${where}: ${env.json.state} but ${imp.stderr}`).toBe(0);
          const again = await cliJson(setupArgs);
          expect(again.code, `${where}: ${again.stdout}${again.stderr}`).toBe(0);
          expect(again.json.isolation.verified).toBe(true);
          reqs = next;
        }
      }
    }
    process.stderr.write(`kill -9 at every exec in a container: ${log.length} trials\n`);
    expect(finished.size, log.join('\n')).toBe(4);
  }, 600_000);

  it('an exec whose start reaches the engine after its pymgr died (a slow link) runs nothing once env has taken the lock over and put the previous env back', async () => {
    const hook = join(repoRoot, 'test', 'helpers', 'kill-at-exec.mjs');
    const { spawn } = await import('node:child_process');
    // Between the killed setup and the engine: exec starts held back 2 s, and forwarded after the client is gone.
    const proxy = spawn(process.execPath, ['-e', LATE_START_PROXY, '0', engineSocket(), '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((r) => proxy.stdout!.once('data', (c) => r(String(c).trim())));
    try {
      const setupArgs = ['setup', PROJECT, '--docker', box.name];
      const ab = ['alpha==1.0', 'beta==1.0'];
      for (const [kind, from, next] of [['update', ab, [...ab, 'gamma==1.0']], ['rebuild', [...ab, 'gamma==1.0'], ['alpha==1.0', 'delta==1.0']]] as const) {
        writeFileSync(join(dir, 'requirements.txt'), from.join('\n') + '\n');
        expect((await cliJson(setupArgs)).code).toBe(0);
        const before = await venvHash();
        writeFileSync(join(dir, 'requirements.txt'), next.join('\n') + '\n');
        // Killed once the start of its install is sent: the install reaches the engine 2 s later.
        const cli = startCli(setupArgs, { NODE_OPTIONS: `--import ${hook}`, TEST_KILL_AT_EXEC: '/"pip","install"/', TEST_KILL_WHEN: 'after', DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: undefined, DOCKER_CERT_PATH: undefined });
        expect(await cli.done, `${kind}: ${cli.stderr()}`).toBeNull();
        const env = await cliJson(['env', PROJECT, '--docker', box.name]);
        expect(env.json?.state, `${kind}: ${env.stdout}${env.stderr}`).toBe('outdated');
        await new Promise((r) => setTimeout(r, 3500)); // the late start has arrived
        expect(await venvHash(), `${kind}: the previous env changed after env put it back:\n${await scene()}`).toBe(before);
        const ps = await ex.exec('ps', ['-eo', 'args'], { readOnly: true });
        expect(ps.stdout, kind).not.toMatch(/bin\/uv /);
        const again = await cliJson(setupArgs);
        expect(again.code, `${kind}: ${again.stdout}${again.stderr}`).toBe(0);
        expect(again.json.isolation.verified).toBe(true);
      }
    } finally {
      proxy.kill();
    }
  }, 180_000);

  it('Ctrl-C of pymgr setup --docker stops the build in the container, keeps the previous env and releases the lock; of pymgr run --docker (a hang-up), the command', async () => {
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');
    const ok = await cliJson(['setup', PROJECT, '--docker', box.name]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    // A package whose build takes a minute (an sdist with an in-tree backend: no index needed).
    slowSdist(wheels, 'slowpkg');
    await ex.exec('rm', ['-f', '/tmp/slow-started']);
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\nslowpkg==1.0\n');
    const cli = startCli(['setup', PROJECT, '--docker', box.name]);
    for (let i = 0; i < 300 && (await ex.exec('test', ['-e', '/tmp/slow-started'])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await ex.exec('test', ['-e', '/tmp/slow-started'])).exitCode, cli.stderr()).toBe(0);
    process.kill(cli.child.pid!, 'SIGINT'); // what a terminal's Ctrl-C sends pymgr (the container never sees it)
    const code = await cli.done;
    expect(code, cli.stderr()).toBe(130);
    expect(cli.stderr()).toMatch(/interrupted/);
    // The build is gone from the container (not left running against the venv), the lock released.
    const ps = await ex.exec('ps', ['-eo', 'args'], { readOnly: true });
    expect(ps.stdout).not.toMatch(/slowbackend|bin\/uv /);
    expect((await ex.exec('test', ['-e', `${PROJECT}/.venv.pymgr-lock`])).exitCode).toBe(1);
    // The previous env is there and works; env calls it outdated (slowpkg was asked for).
    const env = await cliJson(['env', PROJECT, '--docker', box.name]);
    expect(env.json.state).toBe('outdated');
    expect((await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import alpha, beta'])).exitCode).toBe(0);
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');

    // `pymgr run --docker`: Ctrl-C stops the command in the container too.
    const run = startCli(['run', PROJECT, '--docker', box.name, '--', 'sh', '-c', 'touch /tmp/run-started; exec sleep 61']);
    for (let i = 0; i < 300 && (await ex.exec('test', ['-e', '/tmp/run-started'])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    process.kill(run.child.pid!, 'SIGHUP'); // a terminal or SSH session closed
    expect(await run.done, run.stderr()).toBe(129);
    expect((await ex.exec('ps', ['-eo', 'args'], { readOnly: true })).stdout).not.toMatch(/sleep 61/);
  }, 120_000);

  it('kill -9 of pymgr mid-build: the next setup stops the build the dead one left running in the container before it takes the lock over', async () => {
    slowSdist(wheels, 'slowpkg');
    await ex.exec('rm', ['-f', '/tmp/slow-started']);
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\nslowpkg==1.0\n');
    const cli = startCli(['setup', PROJECT, '--docker', box.name]);
    for (let i = 0; i < 300 && (await ex.exec('test', ['-e', '/tmp/slow-started'])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    killGroup(cli.child);
    expect(await cli.done).toBeNull();
    expect((await ex.exec('ps', ['-eo', 'args'], { readOnly: true })).stdout).toMatch(/slowbackend|bin\/uv /); // still running there
    // The next setup (the build's package dropped again): the left-over build is stopped, then the env is set up.
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');
    const started = Date.now();
    const next = await cliJson(['setup', PROJECT, '--docker', box.name]);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.json.isolation.verified).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000); // it did not wait the build's minute out
    expect((await ex.exec('ps', ['-eo', 'args'], { readOnly: true })).stdout).not.toMatch(/slowbackend|bin\/uv /);
  }, 120_000);
});

/** An sdist `<name>-1.0.tar.gz` in `dir` whose build (an in-tree PEP 517 backend) marks /tmp/slow-started and sleeps a minute. */
function slowSdist(dir: string, name: string): void {
  const work = mkdtempSync(join(tmpdir(), 'pymgr-slow-'));
  const root = join(work, `${name}-1.0`);
  mkdirSync(root);
  writeFileSync(join(root, 'pyproject.toml'), `[build-system]\nrequires = []\nbuild-backend = "slowbackend"\nbackend-path = ["."]\n\n[project]\nname = "${name}"\nversion = "1.0"\n`);
  writeFileSync(join(root, 'slowbackend.py'), 'import time\ndef build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    open("/tmp/slow-started", "w").close()\n    time.sleep(60)\n    raise SystemExit("too slow")\n');
  writeFileSync(join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  execFileSync('tar', ['-czf', join(dir, `${name}-1.0.tar.gz`), '-C', work, `${name}-1.0`]);
  rmSync(work, { recursive: true, force: true });
}

/** The engine's Unix socket (the test engine's, as DOCKER_HOST names it, else the default). */
function engineSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/**
 * A TCP front for the engine's socket (argv: port or 0, socket, ms) that holds every exec start
 * for ms and goes on forwarding after its client has gone: what a slow link does to the last
 * request of a pymgr killed just after sending it. Prints its port.
 */
const LATE_START_PROXY = String.raw`
const net = require('net');
const [port, socket, ms] = process.argv.slice(1);
const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const engine = net.connect({ path: socket, allowHalfOpen: true });
  let queue = Promise.resolve();
  client.on('data', (chunk) => {
    const late = /^POST \S*\/exec\/[^/\s]+\/start/.test(chunk.toString('latin1', 0, 200));
    queue = queue.then(() => (late ? new Promise((r) => setTimeout(r, Number(ms))) : undefined)).then(() => { if (!engine.destroyed) engine.write(chunk); });
  });
  engine.on('data', (c) => { if (!client.destroyed) client.write(c); });
  client.on('error', () => {});
  // Its end of input (a program's stdin closed) in order; a client that died: the engine side a little later.
  client.on('end', () => { queue = queue.then(() => engine.end()); });
  client.on('close', () => { queue = queue.then(() => setTimeout(() => engine.end(), 5000)); });
  engine.on('error', () => client.destroy());
  engine.on('end', () => { if (!client.destroyed) client.end(); });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;
