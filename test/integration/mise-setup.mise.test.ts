/**
 * pymgr's pipeline on the real mise (npm @jdxcode/mise), offline for Pythons: mise adopts pyenv's
 * Pythons (`mise sync python --pyenv`) into throw-away data/cache/state directories, under a throw-away
 * HOME, so the user's own mise state is never touched. Packages come from PyPI.
 * Needs: mise (npm dev dependency) and pyenv with Python 3.11 and 3.12 (CI provides both; locally the
 * suite is skipped with a loud reason).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { setup, type SetupOptions } from '../../src/api/setup.js';
import { statePath } from '../../src/core/state.js';
import { makeIsolatedMise, realMiseDirs, snapshotTree, type IsolatedMise } from '../helpers/mise.js';
import { cleanupTemp, copyFixture, makeTemp, moduleFile } from '../helpers/project.js';
import { findMise, findPyenvRoot, requireTool } from '../helpers/tools.js';

const mise = findMise();
const pyenvRoot = findPyenvRoot();
const pyenvHas = (prefix: string) => !!pyenvRoot && existsSync(join(pyenvRoot, 'versions')) && readdirSync(join(pyenvRoot, 'versions')).some((v) => v.startsWith(prefix));
const run = requireTool('mise', mise) && requireTool("pyenv's Python 3.11.x and 3.12.1 (for mise sync python --pyenv)", pyenvHas('3.11.') && pyenvHas('3.12.1'));

function options(iso: IsolatedMise, projectDir: string, extra: Record<string, unknown> = {}): SetupOptions {
  const { index, mise: miseExtra, ...rest } = extra as { index?: Record<string, unknown>; mise?: Record<string, unknown> };
  return {
    projectDir,
    executor: iso.executor,
    env: iso.env,
    toolsDir: join(iso.home, 'pymgr-tools'),
    flags: { provider: 'mise', providers: { mise: { ...iso.miseFlags, ...miseExtra } }, ...(index ? { index } : {}), ...rest },
  };
}

async function expectImportsFromVenv(venvPython: string, venvPath: string, modules: string[]): Promise<void> {
  for (const mod of modules) {
    const file = await moduleFile(venvPython, mod);
    expect(file.startsWith(`${venvPath}/`) || file.startsWith(`${join(venvPath, '..')}/`), `${mod} imported from ${file}`).toBe(true);
  }
}

/** mise wrote nothing to HOME, no trust entries, and nothing under the user's real mise directories. */
function expectUserMiseUntouched(iso: IsolatedMise, realBefore: Record<string, string>): void {
  expect(Object.keys(snapshotTree(iso.home)).map((p) => p.slice(iso.home.length)).filter((p) => p.split('/').includes('mise')), 'mise files under the isolated HOME').toEqual([]);
  expect(existsSync(join(iso.stateDir, 'trusted-configs')) ? readdirSync(join(iso.stateDir, 'trusted-configs')) : []).toEqual([]);
  const realAfter = Object.assign({}, ...realMiseDirs().map(snapshotTree));
  expect(realAfter).toEqual(realBefore);
}

describe.skipIf(!run)('setup with mise (real mise, pyenv Pythons synced offline)', () => {
  let realBefore: Record<string, string> = {};
  beforeAll(() => {
    realBefore = Object.assign({}, ...realMiseDirs().map(snapshotTree));
  });
  afterAll(cleanupTemp);

  it('requirements project with .tool-versions (python 3.12.1): venv where asked, packages from it, then reused', async () => {
    const iso = makeIsolatedMise(mise!, { pyenvRoot });
    const dir = copyFixture('tool-versions');
    const first = await setup(options(iso, dir));
    expect(first.provider.name).toBe('mise');
    expect(first.projectType).toBe('requirements');
    expect(first.python).toMatchObject({ version: '3.12.1', request: '3.12.1', source: '.tool-versions' });
    expect(first.python.base.startsWith(`${iso.dataDir}/installs/python/3.12.1/`), first.python.base).toBe(true);
    expect(first.venv).toEqual({ path: join(dir, '.venv'), action: 'created' });
    expect(first.isolation.verified).toBe(true);
    expect(existsSync(join(dir, '.venv', 'pyvenv.cfg'))).toBe(true);
    await expectImportsFromVenv(join(dir, '.venv', 'bin', 'python'), join(dir, '.venv'), ['six']);
    // mise's own data: pyenv's Pythons linked into the configured data directory, not into HOME.
    expect(existsSync(join(iso.dataDir, 'installs', 'python', '3.12.1'))).toBe(true);

    const second = await setup(options(iso, dir));
    expect(second.venv.action).toBe('reused');
    expect(second.isolation.verified).toBe(true);
    expectUserMiseUntouched(iso, realBefore);
  });

  it('pyproject project with a mise.toml that needs trust (python = "3.11"): trusted for the run only, project installed editable, then reused', async () => {
    const iso = makeIsolatedMise(mise!, { pyenvRoot });
    const dir = join(makeTemp(), 'mise-pyproject');
    mkdirSync(join(dir, 'pymgr_mise_pyproject'), { recursive: true });
    // An [env] table makes mise refuse the file unless it is trusted: pymgr trusts it for this run only.
    writeFileSync(join(dir, 'mise.toml'), '[env]\nPYMGR_MISE_FIXTURE = "1"\n\n[tools]\npython = "3.11"\n');
    writeFileSync(
      join(dir, 'pyproject.toml'),
      [
        '[build-system]',
        'requires = ["setuptools>=61"]',
        'build-backend = "setuptools.build_meta"',
        '',
        '[project]',
        'name = "pymgr-mise-pyproject"',
        'version = "0.1.0"',
        'dependencies = ["six==1.16.0"]',
        '',
        '[tool.setuptools]',
        'packages = ["pymgr_mise_pyproject"]',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'pymgr_mise_pyproject', '__init__.py'), 'VALUE = 1\n');
    const first = await setup(options(iso, dir));
    expect(first.projectType).toBe('pyproject');
    expect(first.python.source).toBe('mise.toml');
    expect(first.python.version).toMatch(/^3\.11\.\d+$/);
    expect(first.venv).toEqual({ path: join(dir, '.venv'), action: 'created' });
    await expectImportsFromVenv(join(dir, '.venv', 'bin', 'python'), join(dir, '.venv'), ['six']);
    // Editable: the project's package is imported from the project directory itself.
    expect(await moduleFile(join(dir, '.venv', 'bin', 'python'), 'pymgr_mise_pyproject')).toBe(join(dir, 'pymgr_mise_pyproject', '__init__.py'));

    const second = await setup(options(iso, dir));
    expect(second.venv.action).toBe('reused');
    expectUserMiseUntouched(iso, realBefore);
  });

  it('mise-project fixture (mise.toml python = "3.12") with a configured venv path, through pip when uv is not on PATH', async () => {
    // PATH without pyenv's shims (where uv lives here): the provider creates the venv with `python -m venv` and installs with pip.
    const path = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('.pyenv') && !existsSync(join(p, 'uv'))).join(':');
    const iso = makeIsolatedMise(mise!, { pyenvRoot, path });
    const dir = copyFixture('mise-project');
    const venvPath = join(makeTemp(), 'elsewhere', 'env');
    const first = await setup(options(iso, dir, { venv: venvPath }));
    expect(first.python.version).toBe('3.12.1');
    expect(first.venv).toEqual({ path: venvPath, action: 'created' });
    expect(existsSync(join(dir, '.venv'))).toBe(false);
    expect(first.install.commands[0]?.[0]).toBe(join(venvPath, 'bin', 'python'));
    await expectImportsFromVenv(join(venvPath, 'bin', 'python'), venvPath, ['packaging']);

    const second = await setup(options(iso, dir, { venv: venvPath }));
    expect(second.venv.action).toBe('reused');
    expectUserMiseUntouched(iso, realBefore);
  });

  it('offline, a version nobody has (3.9.99): PYTHON_UNAVAILABLE listing what is installed, no system fallback, no ready venv', async () => {
    const iso = makeIsolatedMise(mise!, { pyenvRoot });
    const dir = copyFixture('tool-versions');
    writeFileSync(join(dir, '.tool-versions'), 'python 3.9.99\n');
    let error: PymgrError | undefined;
    try {
      await setup(options(iso, dir, { index: { offline: true } }));
    } catch (err) {
      if (!isPymgrError(err)) throw err;
      error = err;
    }
    expect(error?.code).toBe('PYTHON_UNAVAILABLE');
    expect(error?.message).toContain('3.9.99');
    expect(error?.message).toContain(join(dir, '.tool-versions'));
    expect(error?.message).toMatch(/installed: .*3\.12\.1/);
    expect(error?.hint).toMatch(/Offline/);
    expect(existsSync(join(dir, '.venv', 'bin', 'python'))).toBe(false);
    const state = existsSync(statePath(join(dir, '.venv'))) ? JSON.parse(readFileSync(statePath(join(dir, '.venv')), 'utf8')) : undefined;
    expect(state?.status).not.toBe('ready');
    expectUserMiseUntouched(iso, realBefore);
  });

  it('online but providers.mise.install off: PYTHON_UNAVAILABLE naming the mise command to run', async () => {
    const iso = makeIsolatedMise(mise!, { pyenvRoot });
    const dir = copyFixture('tool-versions');
    writeFileSync(join(dir, '.tool-versions'), 'python 3.9.99\n');
    await expect(setup(options(iso, dir, { mise: { install: false } }))).rejects.toMatchObject({
      code: 'PYTHON_UNAVAILABLE',
      hint: expect.stringContaining('mise install python@3.9.99'),
    });
    expect(existsSync(join(dir, '.venv', 'bin', 'python'))).toBe(false);
  });
});
