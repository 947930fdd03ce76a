/**
 * Fault injection through the built CLI: kill -9 (the whole process group) at random moments of
 * setups that update in place, rebuild for another Python and swap managers (uv ↔ pyenv). After every
 * kill the env is never lost (`env` says ready or outdated, never a false ready: every package of a
 * ready env imports), and the following setup ends verified. Then 8 concurrent setups with different
 * managers on one project: each exits 0 or LOCK_TIMEOUT and one sound env results.
 * Offline: local wheels and pyenv's Pythons (uv's and mise's use them too).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemp, runCli } from '../helpers/project.js';
import { cliJson, killGroup, makeWheelhouse, requirementsProject, slowSdist, startCli, treeFingerprint } from '../helpers/aside.js';
import { makeIsolatedMise } from '../helpers/mise.js';
import { findMise, findPyenvRoot, findUv, repoRoot, requireTool } from '../helpers/tools.js';

const pyenvRoot = findPyenvRoot();
const versions = pyenvRoot && existsSync(join(pyenvRoot, 'versions')) ? readdirSync(join(pyenvRoot, 'versions')) : [];
const run =
  requireTool('uv', findUv()) &&
  requireTool('mise', findMise()) &&
  requireTool('pyenv with Python 3.11 and 3.12', versions.some((v) => v.startsWith('3.11.')) && versions.some((v) => v.startsWith('3.12.')));

/** A small deterministic PRNG (mulberry32), so a failing trial can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Target {
  provider: 'uv' | 'pyenv';
  python: '3.11' | '3.12';
  reqs: string[];
}

describe.skipIf(!run)('fault injection and concurrency (built CLI, real managers)', () => {
  let wheels: string;
  beforeAll(() => {
    wheels = makeWheelhouse();
  });
  afterAll(cleanupTemp);

  const args = (t: Target) => ['--provider', t.provider, '--python', t.python, '--offline', '--find-links', wheels];
  const modules = (t: Target) => t.reqs.map((r) => r.split('==')[0]);
  const importAll = (dir: string, t: Target) => runCli(['run', dir, ...args(t), '--', 'python', '-c', `import ${modules(t).join(', ')}`]);

  it('22+ kill -9 trials at random moments of updates, rebuilds and manager swaps', async () => {
    const seed = Number(process.env.PYMGR_FAULT_SEED ?? Date.now() % 100000);
    const random = prng(seed);
    const dir = requirementsProject();
    const venv = join(dir, '.venv');
    let current: Target = { provider: 'uv', python: '3.12', reqs: ['alpha==1.0', 'beta==1.0'] };
    const first = await cliJson(['setup', dir, ...args(current)]);
    expect(first.code, first.stderr).toBe(0);
    const log: string[] = [];
    let landed = 0;
    const took = new Map<string, number>();
    let whileAside = 0;
    // Until 22 kills have landed inside a setup (a setup that finished before its kill does not count).
    // (Up to 64 trials: a uv setup here can finish within 300 ms, before many kills land.)
    for (let i = 0; landed < 22 && i < 64; i++) {
      // Alternate what the killed setup was doing: an update in place (a requirement added or, as a
      // rebuild, dropped), a rebuild for another Python, a swap of manager.
      const next: Target = { ...current, reqs: [...current.reqs] };
      // A cycle of four: requirement toggled, Python toggled, uv → pyenv, pyenv → uv.
      const kind = i % 4;
      if (kind === 0) next.reqs = current.reqs.includes('gamma==1.0') ? ['alpha==1.0', 'beta==1.0'] : [...current.reqs, 'gamma==1.0'];
      else if (kind === 1) next.python = current.python === '3.12' ? '3.11' : '3.12';
      else next.provider = current.provider === 'uv' ? 'pyenv' : 'uv';
      writeFileSync(join(dir, 'requirements.txt'), next.reqs.join('\n') + '\n');
      // A random moment within the time this kind of setup takes (measured on the setups that follow).
      const key = `${kind}:${current.provider}→${next.provider}:${next.reqs.length}`;
      const span = took.get(key) ?? (next.provider === 'pyenv' ? 2500 : 300);
      const delay = Math.floor(random() * 0.95 * span);
      const cli = startCli(['setup', dir, ...args(next)]);
      await new Promise((r) => setTimeout(r, delay));
      const aside = existsSync(`${venv}.pymgr-prev`);
      killGroup(cli.child);
      const code = await cli.done;
      if (code === null) landed++; // killed before it finished
      if (aside) whileAside++;
      const where = `trial ${i} (seed ${seed}, kill at ${delay} of ${span} ms${aside ? ', env aside' : ''}, ${JSON.stringify(current)} → ${JSON.stringify(next)}, exit ${code})`;
      log.push(where);

      // Never lost, never a false ready: the env is the previous one or the new one, and usable.
      const env = await cliJson(['env', dir, ...args(next)]);
      expect(['ready', 'outdated'], `${where}: ${env.stdout}`).toContain(env.json.state);
      if (env.json.state === 'ready') {
        const imp = await importAll(dir, next);
        expect(imp.code, `${where}: ready but ${imp.stderr}`).toBe(0);
      } else {
        const state = JSON.parse(readFileSync(join(venv, '.pymgr', 'state.json'), 'utf8'));
        expect(state.status, where).toBe('ready');
        const imp = await runCli(['run', dir, '--', 'python', '-c', `import ${(state.expected as string[]).join(', ')}`]);
        expect(imp.code, `${where}: the previous env does not work: ${imp.stderr}`).toBe(0);
      }
      expect(existsSync(`${venv}.pymgr-prev`), `${where}: a leftover after env`).toBe(false);

      // The following setup ends verified.
      const t0 = Date.now();
      const again = await cliJson(['setup', dir, ...args(next)]);
      if (again.json?.venv?.action !== 'reused') took.set(key, Date.now() - t0);
      expect(again.code, `${where}: ${again.stdout}${again.stderr}`).toBe(0);
      expect(again.json.isolation.verified).toBe(true);
      current = next;
    }
    expect((await cliJson(['env', dir, ...args(current)])).json.state).toBe('ready');
    expect((await importAll(dir, current)).code).toBe(0);
    process.stderr.write(`fault injection: ${log.length} trials (seed ${seed}), ${landed} killed mid-setup, ${whileAside} while the previous env was aside\n`);
    // The kills must land inside setups, most of them while the previous env is kept aside.
    expect(landed, log.join('\n')).toBeGreaterThanOrEqual(22);
    expect(whileAside, log.join('\n')).toBeGreaterThanOrEqual(6);
  }, 400_000);

  it('kill -9 of pymgr alone right after each program it starts (a 2 s build goes on without it): the next command stops what it left, the previous env comes back exactly as it was', async () => {
    const hook = join(repoRoot, 'test', 'helpers', 'kill-at-spawn.mjs');
    const slowWheels = makeWheelhouse();
    slowSdist(slowWheels, 'slowpkg', 2);
    const dir = requirementsProject();
    const venv = join(dir, '.venv');
    const ab = ['alpha==1.0', 'beta==1.0'];
    const from: Target = { provider: 'uv', python: '3.12', reqs: ab };
    const opts = (t: Target) => ['--provider', t.provider, '--python', t.python, '--offline', '--find-links', slowWheels];
    const noCache = { UV_NO_CACHE: '1', PIP_NO_CACHE_DIR: '1' }; // the build runs every time
    const setupTo = async (t: Target) => {
      writeFileSync(join(dir, 'requirements.txt'), t.reqs.join('\n') + '\n');
      const r = await cliJson(['setup', dir, ...opts(t)], noCache);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json.isolation.verified).toBe(true);
      return r;
    };
    await setupTo(from);
    // The installs that take 2 s (slowpkg is built, uv's cache is off): an update in place, a rebuild for another Python, a swap to pyenv (pip builds it).
    const kinds: Array<[string, Target]> = [
      ['update', { ...from, reqs: [...ab, 'slowpkg==1.0'] }],
      ['rebuild', { ...from, python: '3.11', reqs: [...ab, 'slowpkg==1.0'] }],
      ['swap uv → pyenv', { ...from, provider: 'pyenv', reqs: [...ab, 'slowpkg==1.0'] }],
    ];
    const log: string[] = [];
    let outdated = 0;
    for (const [kind, next] of kinds) {
      for (let n = 1; n < 30; n++) {
        const before = treeFingerprint(venv);
        writeFileSync(join(dir, 'requirements.txt'), next.reqs.join('\n') + '\n');
        const cli = startCli(['setup', dir, ...opts(next)], { NODE_OPTIONS: `--import ${hook}`, TEST_KILL_AT_SPAWN: String(n), ...noCache });
        const code = await cli.done;
        const where = `${kind}, pymgr killed after starting program ${n} (exit ${code})`;
        log.push(where);
        if (code === 0) break; // it started fewer programs: nothing was killed, every moment was tried
        expect(code, `${where}: ${cli.stderr()}`).toBeNull();
        // At once, while what it started may still run: env puts the previous env back (or says the new one is ready).
        const env = await cliJson(['env', dir, ...opts(next)]);
        expect(['ready', 'outdated'], `${where}: ${env.stdout}${env.stderr}`).toContain(env.json?.state);
        if (env.json.state === 'outdated') {
          outdated++;
          await new Promise((r) => setTimeout(r, 2500)); // a build left running would have installed by now
          expect(treeFingerprint(venv), `${where}: the previous env is not as it was`).toEqual(before);
        } else {
          expect((await runCli(['run', dir, '--', 'python', '-c', 'import slowpkg, alpha'])).code, where).toBe(0);
        }
        await setupTo(from); // the next setup ends verified
      }
    }
    process.stderr.write(`kill -9 of pymgr alone after each program it starts: ${log.length} trials, ${outdated} left the previous env\n`);
    expect(log.filter((l) => l.endsWith('(exit 0)')).length, log.join('\n')).toBe(kinds.length);
    expect(outdated, log.join('\n')).toBeGreaterThanOrEqual(4);
  }, 600_000);

  it('8 concurrent setups with different managers: each exits 0 or LOCK_TIMEOUT, one sound env results', async () => {
    const iso = makeIsolatedMise(findMise()!, { pyenvRoot });
    const env: Record<string, string | undefined> = {
      ...iso.env,
      PYMGR_PROVIDERS__MISE__PATH: iso.miseFlags.path,
      PYMGR_PROVIDERS__MISE__DATA_DIR: iso.dataDir,
      PYMGR_PROVIDERS__MISE__CACHE_DIR: iso.cacheDir,
      PYMGR_PROVIDERS__MISE__STATE_DIR: iso.stateDir,
      PYMGR_PROVIDERS__MISE__SYNC_PYENV: 'true',
      PYMGR_PROVIDERS__PYENV__ROOT: pyenvRoot,
      PYMGR_TOOLS_DIR: join(iso.home, 'pymgr-tools'),
    };
    const dir = requirementsProject();
    const providers = ['uv', 'pyenv', 'mise', 'uv', 'mise', 'pyenv', 'uv', 'mise'];
    const common = ['--python', '3.12', '--offline', '--find-links', wheels];
    const results = await Promise.all(providers.map((p) => cliJson(['setup', dir, '--provider', p, ...common], env)));
    for (const [i, r] of results.entries()) {
      const ok = r.code === 0 || r.json?.error?.code === 'LOCK_TIMEOUT';
      expect(ok, `${providers[i]}: exit ${r.code} ${r.stdout}${r.stderr}`).toBe(true);
      if (r.code === 0) expect(r.json.provider.name).toBe(providers[i]);
    }
    const state = JSON.parse(readFileSync(join(dir, '.venv', '.pymgr', 'state.json'), 'utf8'));
    expect(state.status).toBe('ready');
    const report = await cliJson(['env', dir, '--provider', state.provider.name, ...common], env);
    expect(report.json.state, report.stdout).toBe('ready');
    const imp = await runCli(['run', dir, '--', 'python', '-c', 'import alpha, beta, sys; print(sys.prefix)'], { env });
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout.trim()).toBe(join(dir, '.venv'));
    expect(existsSync(join(dir, '.venv.pymgr-prev'))).toBe(false);
    expect(existsSync(join(dir, '.venv.pymgr-lock'))).toBe(false);
  });
});
