/**
 * The CLI as a user meets it, through the built CLI and the real uv: lock policies on a real
 * stale uv.lock, the selection flags, the project root found by searching up, sources named as the
 * user gave them, install errors that lead with the installer's words and a fitting hint, one
 * usage-error style (also as the one JSON document), `ok` in every JSON result, and the quieter
 * `config` and `doctor` output.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/api/setup.js';
import type { ProgressEvent } from '../../src/contracts.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const uvPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
const hasUv = requireTool('uv', uvPath);

const json = (text: string) => JSON.parse(text);
const inVenv = async (dir: string, code: string, cwd?: string) => runCli(['run', ...(cwd ? [] : [dir]), '--', 'python', '-c', code], { cwd });

describe.skipIf(!hasUv)('the CLI as users meet it (built CLI, real uv)', () => {
  afterAll(cleanupTemp);

  describe('lock policy on a uv.lock made stale by a version bump', () => {
    it('refuses by default with a hint naming --frozen; --frozen installs the lock as it is; --relock re-locks', async () => {
      const dir = copyFixture('uv-project');
      const pyproject = join(dir, 'pyproject.toml');
      writeFileSync(pyproject, readFileSync(pyproject, 'utf8').replace('version = "0.1.0"', 'version = "0.2.0"'));
      const lockBefore = readFileSync(join(dir, 'uv.lock'), 'utf8');

      const refused = await runCli(['setup', dir, '--json']);
      expect(refused.code).toBe(1);
      const err = json(refused.stdout).error;
      expect(err.code).toBe('PROJECT_INVALID');
      expect(err.hint).toContain('--frozen');
      expect(err.hint).toContain('--relock');

      const frozen = await runCli(['setup', dir, '--frozen', '--json']);
      expect(frozen.code, frozen.stdout + frozen.stderr).toBe(0);
      expect(json(frozen.stdout).install.notes.join(' ')).toContain('--frozen');
      expect(readFileSync(join(dir, 'uv.lock'), 'utf8')).toBe(lockBefore); // frozen: the lock is not touched
      const lockedSix = /name = "six"\nversion = "([^"]+)"/.exec(lockBefore)![1];
      const six = await inVenv(dir, 'import importlib.metadata as m; print(m.version("six"))');
      expect(six.stdout.trim()).toBe(lockedSix);

      const relocked = await runCli(['setup', dir, '--relock', '--json']);
      expect(relocked.code, relocked.stdout + relocked.stderr).toBe(0);
      expect(readFileSync(join(dir, 'uv.lock'), 'utf8')).toMatch(/name = "pymgr-fixture-uv"\nversion = "0\.2\.0"/);
    });

    it('--frozen on a lock that lacks a new dependency: the lock is out of date (PROJECT_INVALID), the env kept', async () => {
      const dir = copyFixture('uv-project');
      expect((await runCli(['setup', dir])).code).toBe(0);
      const pyproject = join(dir, 'pyproject.toml');
      writeFileSync(pyproject, readFileSync(pyproject, 'utf8').replace('dependencies = ["six==1.16.0"]', 'dependencies = ["six==1.16.0", "idna"]'));
      const frozen = await runCli(['setup', dir, '--frozen', '--json']);
      expect(frozen.code).toBe(1);
      const err = json(frozen.stdout).error;
      expect(err).toMatchObject({ code: 'PROJECT_INVALID', details: { missing: ['idna'], previousEnv: expect.stringContaining('kept') } });
      expect(err.message).toContain('uv.lock (installed as it is: --frozen) does not have idna');
      expect(err.hint).toContain('--relock');
      expect((await inVenv(dir, 'import six')).code).toBe(0);
    });

    it('rye lock files: --relock resolves the project from pyproject.toml instead of the lock', async () => {
      const dir = copyFixture('rye-project');
      const locked = json((await runCli(['detect', dir, '--json'])).stdout);
      expect(locked.plan.steps.map((s: { kind: string }) => s.kind)).toContain('rye-lock');
      const relock = json((await runCli(['detect', dir, '--relock', '--json'])).stdout);
      expect(relock.plan.steps.map((s: { kind: string }) => s.kind)).not.toContain('rye-lock');
      expect(relock.reasons.map((r: { rule: string }) => r.rule)).toContain('plan-rye-relock');
    });

    it('--locked and config dependencies.lock: the config chooses frozen, the flag overrides it, detect says which', async () => {
      const dir = copyFixture('uv-project');
      const pyproject = join(dir, 'pyproject.toml');
      writeFileSync(pyproject, readFileSync(pyproject, 'utf8').replace('version = "0.1.0"', 'version = "0.3.0"'));
      writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ dependencies: { lock: 'frozen' } }));
      const d = await runCli(['detect', dir]);
      expect(d.stdout).toContain('lock: frozen');
      // The flag wins over the file: refused, with the hint naming the way in.
      const locked = await runCli(['setup', dir, '--locked', '--json']);
      expect(locked.code).toBe(1);
      expect(json(locked.stdout).error).toMatchObject({ code: 'PROJECT_INVALID', hint: expect.stringContaining('--frozen') });
      expect((await runCli(['detect', dir, '--locked'])).stdout).not.toContain('lock: frozen');
      // The file alone: the lock installed as written, the lock file untouched.
      const before = readFileSync(join(dir, 'uv.lock'), 'utf8');
      const frozen = await runCli(['setup', dir, '--json']);
      expect(frozen.code, frozen.stdout + frozen.stderr).toBe(0);
      expect(json(frozen.stdout).install.notes.join(' ')).toContain('--frozen');
      expect(readFileSync(join(dir, 'uv.lock'), 'utf8')).toBe(before);
    });

    it('--frozen and --relock together are a usage error', async () => {
      const res = await runCli(['setup', copyFixture('uv-project'), '--frozen', '--relock']);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/^pymgr: error\[USAGE\]: option '--frozen' cannot be used with option '--relock'/m);
    });
  });

  it('--extra, --group, --dev select what is installed, and detect and the progress say so', async () => {
    const dir = copyFixture('uv-project');
    const d = await runCli(['detect', dir, '--extra', 'idna', '--dev']);
    expect(d.stdout).toContain('type:     uv; extras idna; dev dependencies');
    const s = await runCli(['setup', dir, '--extra', 'idna', '--dev']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/detect: uv project in .*; extras idna; dev dependencies/);
    expect((await inVenv(dir, 'import idna, attrs, six; print("ok")')).stdout.trim()).toBe('ok');

    const hatch = await runCli(['detect', copyFixture('pyproject-hatch'), '--all-extras', '--json']);
    expect(json(hatch.stdout).reasons.map((r: { rule: string }) => r.rule)).toContain('plan-all-extras');
  });

  it('--group installs a dependency group (and only what is asked), and detect and the progress name it', async () => {
    const dir = copyFixture('uv-project');
    expect((await runCli(['detect', dir, '--group', 'dev'])).stdout).toContain('groups dev');
    const s = await runCli(['setup', dir, '--group', 'dev']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/detect: uv project in .*; groups dev/);
    expect((await inVenv(dir, 'import attrs, six; print("ok")')).stdout.trim()).toBe('ok');
    // The extra was not asked for: not installed.
    expect((await inVenv(dir, 'import idna')).code).not.toBe(0);
  });

  it('the search up stops at the home directory: a project above it is not taken', async () => {
    const top = makeTemp('pymgr-home-');
    writeFileSync(join(top, 'requirements.txt'), 'six\n'); // a project above HOME
    const home = join(top, 'home');
    const sub = join(home, 'work', 'sub');
    mkdirSync(sub, { recursive: true });
    const r = await runCli(['detect', '--json'], { cwd: sub, env: { HOME: home } });
    expect(r.code).toBe(1);
    const err = json(r.stdout).error;
    expect(err.code).toBe('PROJECT_UNRECOGNISED');
    expect(err.message).toContain(`(up to ${home})`);
    // Outside HOME the search goes on to the root, and finds it.
    const outside = await runCli(['detect', '--json'], { cwd: sub, env: { HOME: '/nonexistent-home' } });
    expect(outside.code, outside.stdout).toBe(0);
    expect(json(outside.stdout).projectDir).toBe(top);
  });

  it('FORCE_COLOR colours output that is not a terminal; NO_COLOR and a pipe leave it plain', async () => {
    const notAProject = makeTemp('pymgr-plain-');
    const forced = await runCli(['detect', notAProject], { env: { FORCE_COLOR: '1', NO_COLOR: undefined } });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('pymgr: \x1b[31merror[PROJECT_UNRECOGNISED]\x1b[0m');
    const plain = await runCli(['detect', notAProject], { env: { FORCE_COLOR: undefined, NO_COLOR: undefined } });
    expect(plain.stderr).toMatch(/^pymgr: error\[PROJECT_UNRECOGNISED\]/m);
    expect(plain.stderr).not.toMatch(/\x1b\[/);
    const off = await runCli(['detect', notAProject], { env: { FORCE_COLOR: '0', NO_COLOR: '1' } });
    expect(off.stderr).not.toMatch(/\x1b\[/);
  });

  it('without a directory, the nearest Python project above the current directory is used, and named', async () => {
    const dir = copyFixture('quickstart');
    const sub = join(dir, 'pkg', 'sub');
    mkdirSync(sub, { recursive: true });
    const s = await runCli(['setup'], { cwd: sub });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(`ready: ${dir}/.venv`);
    expect(s.stderr).toContain(`the nearest Python project above ${sub}`);
    const prefix = await runCli(['run', '--', 'python', '-c', 'import sys, six; print(sys.prefix)'], { cwd: sub });
    expect(prefix.code, prefix.stderr).toBe(0);
    expect(prefix.stdout.trim()).toBe(join(dir, '.venv'));
    const d = await runCli(['detect'], { cwd: sub });
    expect(d.stdout).toContain(`project root ${dir}: the nearest Python project above ${sub}`);
    // A directory named explicitly is the project: no search — also when the same directory,
    // unnamed, was answered by search-up just before (the fast paths keep the two apart).
    expect((await runCli(['detect'], { cwd: sub })).code).toBe(0);
    const named = await runCli(['detect', sub, '--json']);
    expect(named.code).toBe(1);
    expect(json(named.stdout).error.code).toBe('PROJECT_UNRECOGNISED');
    expect((await runCli(['setup'], { cwd: sub })).stdout).toContain(`ready: ${dir}/.venv (reused)`);
    const namedSetup = await runCli(['setup', sub, '--json']);
    expect(namedSetup.code).toBe(1);
    expect(json(namedSetup.stdout).error.code).toBe('PROJECT_UNRECOGNISED');
  });

  it('names the true source of a value: the flag, the variable or the file', async () => {
    const dir = copyFixture('quickstart');
    const flags = await runCli(['detect', dir, '--python', '3.12', '--provider', 'pyenv']);
    expect(flags.stdout).toContain('python:   3.12 (from --python)');
    expect(flags.stdout).toContain('provider: pyenv (provider "pyenv" is set by --provider)');
    expect(flags.stdout).not.toContain('(from config)');
    const env = await runCli(['detect', dir], { env: { PYMGR_PYTHON: '3.11', PYMGR_PROVIDER: 'uv' } });
    expect(env.stdout).toContain('python:   3.11 (from PYMGR_PYTHON)');
    expect(env.stdout).toContain('set by PYMGR_PROVIDER');
    writeFileSync(join(dir, '.pymgrrc'), JSON.stringify({ python: '3.12' }));
    expect((await runCli(['detect', dir])).stdout).toContain(`python:   3.12 (from ${join(dir, '.pymgrrc')})`);
    // The provider's reason is said once.
    expect(flags.stdout.split('set by --provider').length - 1).toBe(1);
  });

  describe('install errors lead with the installer\'s words and a hint that fits', () => {
    const project = (requirements: string) => {
      const dir = join(makeTemp(), 'p');
      mkdirSync(dir);
      writeFileSync(join(dir, 'requirements.txt'), requirements);
      return dir;
    };

    it('no such version: uv\'s error first, no command line, a hint about the name, the pin and the index', async () => {
      const res = await runCli(['setup', project('six==99.0\n')]);
      expect(res.code).toBe(1);
      const error = res.stderr.slice(res.stderr.indexOf('pymgr: error'));
      expect(error).toMatch(/^pymgr: error\[COMMAND_FAILED\]: Could not install 1 requirement file\(s\): No solution found/);
      expect(error).toContain('there is no version of six==99.0');
      expect(error).toMatch(/hint: `six` \(or that version of it\) is not on the index/);
      expect(error).not.toContain('uv pip install');
      const verbose = await runCli(['setup', project('six==99.0\n'), '-v']);
      expect(verbose.stderr).toMatch(/command: \S*uv pip install/);
      const asJson = json((await runCli(['setup', project('six==99.0\n'), '--json'])).stdout);
      expect(asJson.error.details.command.join(' ')).toContain('pip install');
      expect(asJson.error.details.cause).toBe('not-found');
    });

    it('offline with a package that is not cached: the offline hint names the package', async () => {
      const res = await runCli(['setup', project('pymgr-never-cached-pkg==1.0\n'), '--offline', '--json']);
      const error = json(res.stdout).error;
      expect(error.details.cause).toBe('offline');
      expect(error.hint).toContain('offline');
      expect(error.hint).toContain('pymgr-never-cached-pkg');
    });

    it('a source build that fails: the build hint says how to ask for another Python', async () => {
      const dir = project('./bad\n');
      mkdirSync(join(dir, 'bad'));
      writeFileSync(join(dir, 'bad', 'setup.py'), 'raise SystemExit("boom: this package cannot build")\n');
      const error = json((await runCli(['setup', dir, '--json'])).stdout).error;
      expect(error.details.cause).toBe('build-failed');
      expect(error.message).toContain('boom: this package cannot build');
      expect(error.hint).toContain('--python 3.11');
      expect(error.hint).toMatch(/the build failed on Python 3\.\d+\.\d+ \(picked for the request 3 from default\)/);
    });

    it('a requirement that does not parse: the syntax hint', async () => {
      const error = json((await runCli(['setup', project('six===\n'), '--json'])).stdout).error;
      expect(error.details.cause).toBe('syntax');
      expect(error.hint).toContain('does not parse');
    });
  });

  describe('one usage-error style', () => {
    it('run without `--` says where the command goes', async () => {
      const dir = copyFixture('quickstart');
      const res = await runCli(['run', dir, 'python', '-V']);
      expect(res.code).toBe(2);
      expect(res.stderr).toBe(`pymgr: error[USAGE]: pymgr run takes the command after \`--\`\n  hint: pymgr run ${dir} -- python -V\n`);
    });

    it('bake: an image name the engine would refuse, or --docker, is a usage error before any engine is asked', async () => {
      const dir = copyFixture('quickstart');
      const bad = await runCli(['bake', dir, '--image', 'base:1', '--tag', 'Explore_Bad', '--engine', 'unix:///nonexistent/docker.sock']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^pymgr: error\[USAGE\]: --tag Explore_Bad is not a valid image name\n  hint: Use repo\[:tag\]/);
      const docker = await runCli(['bake', dir, '--image', 'base:1', '--tag', 'app-env:1', '--docker', 'c1']);
      expect(docker.code).toBe(2);
      expect(docker.stderr).toContain('error[USAGE]: bake makes its own container from --image: --docker does not apply');
    });

    it('run --help does not offer --json; every --help has examples', async () => {
      const help = await runCli(['run', '--help']);
      expect(help.stdout).not.toContain('--json');
      for (const cmd of ['setup', 'run', 'env', 'detect', 'config', 'doctor', 'schema']) {
        const h = await runCli([cmd, '--help']);
        expect(h.code).toBe(0);
        expect(h.stdout).toMatch(new RegExp(`Examples:\\n  pymgr ${cmd}`));
      }
    });

    it('with --json a usage error is the one JSON document and nothing else', async () => {
      for (const args of [['setup', '--bogus', '--json'], ['detect', '--provider', 'conda', '--json'], ['env', 'a', 'b', '--json']]) {
        const res = await runCli(args);
        expect(res.code, args.join(' ')).toBe(2);
        expect(res.stderr, args.join(' ')).toBe('');
        const doc = json(res.stdout);
        expect(doc.ok).toBe(false);
        expect(doc.error.code).toBe('USAGE');
        expect(doc.error.hint).toContain('--help');
      }
      const text = await runCli(['setup', '--bogus']);
      expect(text.stderr).toBe("pymgr: error[USAGE]: unknown option '--bogus'\n  hint: Run `pymgr setup --help` for usage.\n");
    });

    it('env, detect and config JSON carry ok', async () => {
      const dir = copyFixture('quickstart');
      expect(json((await runCli(['detect', dir, '--json'])).stdout).ok).toBe(true);
      expect(json((await runCli(['config', dir, '--json'])).stdout).ok).toBe(true);
      const missing = await runCli(['env', dir, '--json']);
      expect(missing.code).toBe(1);
      expect(json(missing.stdout)).toMatchObject({ ok: false, state: 'missing' });
    });
  });

  it('a relative --find-links is the user\'s directory, not the project\'s', async () => {
    const here = realpathSync(makeTemp('pymgr-links-')); // the CLI's current directory is a real path
    mkdirSync(join(here, 'wheels'));
    buildWheel(join(here, 'wheels'), 'pymgr-linked', '1.0');
    mkdirSync(join(here, 'app'));
    writeFileSync(join(here, 'app', 'requirements.txt'), 'pymgr-linked==1.0\n');
    const res = await runCli(['setup', 'app', '--provider', 'uv', '--offline', '--find-links', 'wheels', '--json'], { cwd: here });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(json(res.stdout).install.commands.flat()).toContain(join(here, 'wheels'));
    expect((await inVenv(join(here, 'app'), 'import pymgr_linked')).code).toBe(0);
  });

  it('the last line says what changed: packages, Python, manager', async () => {
    const dir = copyFixture('quickstart');
    const first = await runCli(['setup', dir, '--provider', 'uv']);
    expect(first.stdout).toMatch(/changed: \+2 packages \(idna==[\d.]+, six==[\d.]+\)\n/);
    writeFileSync(join(dir, 'requirements.txt'), readFileSync(join(dir, 'requirements.txt'), 'utf8') + 'attrs==23.2.0\n');
    const added = await runCli(['setup', dir, '--provider', 'uv', '--json']);
    expect(json(added.stdout).changes).toMatchObject({ added: ['attrs==23.2.0'], removed: [], changed: [] });
    expect(json(added.stdout).venv).toMatchObject({ action: 'updated', reason: 'requirements.txt changed' });
    // A requirement dropped (a rebuild): what went is named as what came is.
    writeFileSync(join(dir, 'requirements.txt'), readFileSync(join(dir, 'requirements.txt'), 'utf8').replace('attrs==23.2.0\n', ''));
    const dropped = await runCli(['setup', dir, '--provider', 'uv']);
    expect(dropped.stdout).toContain('changed: -1 package (attrs==23.2.0)\n');
    const other = await runCli(['setup', dir, '--provider', 'uv', '--python', '3.11']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/changed: Python 3\.\d+\.\d+ → 3\.11\.\d+\n/);
    const swapped = await runCli(['setup', dir, '--provider', 'pyenv', '--python', '3.11']);
    expect(swapped.code, swapped.stderr).toBe(0);
    expect(swapped.stdout).toContain('manager uv → pyenv');
    const reused = await runCli(['setup', dir, '--provider', 'pyenv', '--python', '3.11']);
    expect(reused.stdout).not.toContain('changed:');
  });

  it('config shows what is set and where; --all lists every key', async () => {
    const dir = copyFixture('quickstart');
    writeFileSync(join(dir, '.pymgrrc'), JSON.stringify({ python: '3.12' }));
    const shown = await runCli(['config', dir, '--offline']);
    const lines = shown.stdout.trim().split('\n');
    expect(lines).toEqual([
      `config file: ${join(dir, '.pymgrrc')}`,
      `python = "3.12"  (file: ${join(dir, '.pymgrrc')})`,
      'index.offline = true  (flag)',
      '(every other key has its default: pymgr config --all lists them)',
    ]);
    const all = await runCli(['config', dir, '--all']);
    expect(all.stdout).toContain('verify.timeoutMs = 60000  (default)');
  });

  it('doctor says OK with warnings, not a bare OK', async () => {
    const dir = copyFixture('quickstart');
    expect((await runCli(['setup', dir])).code).toBe(0);
    const lock = `${dir}/.venv.pymgr-lock`;
    mkdirSync(lock);
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(lock, old, old);
    const res = await runCli(['doctor', dir]);
    expect(res.stdout).toContain('[warning] LOCK_STALE');
    expect(res.stdout.trim().split('\n').pop()).toBe('OK, with 1 warning (see above)');
  });

  it('library progress: one event per line of installer output, and each phase opened and closed with its duration', async () => {
    const dir = copyFixture('quickstart');
    const events: ProgressEvent[] = [];
    await setup({ projectDir: dir, flags: { provider: 'uv' }, onProgress: (e) => events.push(e) });
    const output = events.filter((e) => e.output !== undefined);
    expect(output.length).toBeGreaterThan(0);
    for (const e of output) expect(e.output).toMatch(/^[^\n]*\n$/);
    const starts = events.filter((e) => e.phase?.state === 'start').map((e) => e.step);
    expect(starts).toEqual(expect.arrayContaining(['detect', 'manager', 'python', 'venv', 'install', 'verify']));
    const ends = events.filter((e) => e.phase?.state === 'end');
    expect(ends.map((e) => e.step)).toEqual(expect.arrayContaining(['detect', 'manager', 'python', 'venv', 'install']));
    for (const e of ends) expect(e.phase).toMatchObject({ durationMs: expect.any(Number) });
  });
});
