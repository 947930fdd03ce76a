/**
 * pymgr's main job on the real uv: every project type ends in a verified venv where it was asked
 * for, packages import from the venv, the base interpreter is unchanged, and a second run is a no-op.
 * Needs: uv (CI installs it; locally the suite is skipped with a loud reason).
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup, type SetupResult } from '../../src/api/setup.js';
import { cleanupTemp, copyFixture, listDistributions, moduleFile } from '../helpers/project.js';
import { findPyenvRoot, findUv, requireTool } from '../helpers/tools.js';

const uv = findUv();
const run = requireTool('uv', uv);

/** Distributions of every base interpreter the provider may pick, before any test ran. */
const baseline = new Map<string, Record<string, string>>();

async function snapshotBases(): Promise<void> {
  const root = findPyenvRoot();
  const exes = ['/usr/bin/python3'];
  if (root) {
    for (const v of readdirSync(join(root, 'versions'))) {
      if (!/^3\.(8|9|1\d)\./.test(v)) continue;
      const minor = v.split('.').slice(0, 2).join('.');
      exes.push(join(root, 'versions', v, 'bin', `python${minor}`));
    }
  }
  for (const exe of exes) if (existsSync(exe)) baseline.set(exe, await listDistributions(exe));
}

async function expectBaseUnchanged(result: SetupResult): Promise<void> {
  const before = baseline.get(result.python.base);
  expect(before, `no baseline for ${result.python.base}`).toBeDefined();
  expect(await listDistributions(result.python.base)).toEqual(before);
}

async function expectImportsFromVenv(result: SetupResult, modules: string[]): Promise<void> {
  const venvReal = realpathSync(result.venv.path);
  for (const mod of modules) {
    const file = await moduleFile(result.python.executable, mod);
    expect(file.startsWith(`${venvReal}/`) || file.startsWith(`${realpathSync(join(result.venv.path, '..'))}/`), `${mod} imported from ${file}`).toBe(true);
  }
}

describe.skipIf(!run)('setup with uv (real uv)', () => {
  beforeAll(snapshotBases, 120_000);
  afterAll(cleanupTemp);

  const cases: Array<{ fixture: string; type: string; modules: string[]; flags?: Record<string, unknown>; venvModules?: string[] }> = [
    { fixture: 'requirements', type: 'requirements', modules: ['six', 'idna'] },
    { fixture: 'setuppy', type: 'setuptools', modules: ['six', 'pymgr_fixture_setuppy'] },
    { fixture: 'pyproject-setuptools', type: 'pyproject', modules: ['packaging', 'six', 'pymgr_fixture_pyproject_setuptools'], flags: { dependencies: { extras: ['six'] } } },
    { fixture: 'uv-project', type: 'uv', modules: ['six', 'pymgr_fixture_uv'] },
    { fixture: 'rye-project', type: 'rye', modules: ['attrs', 'pymgr_fixture_rye'] },
  ];

  for (const c of cases) {
    it(`${c.fixture}: verified venv where asked, imports from it, base unchanged, then reused`, async () => {
      const dir = copyFixture(c.fixture);
      const first = await setup({ projectDir: dir, flags: { provider: 'uv', ...c.flags } });
      expect(first.projectType).toBe(c.type);
      expect(first.provider.name).toBe('uv');
      expect(first.venv.path).toBe(join(dir, '.venv'));
      expect(first.venv.action).toBe('created');
      expect(first.isolation.verified).toBe(true);
      expect(existsSync(join(dir, '.venv', 'pyvenv.cfg'))).toBe(true);
      await expectImportsFromVenv(first, c.modules);
      await expectBaseUnchanged(first);

      const second = await setup({ projectDir: dir, flags: { provider: 'uv', ...c.flags } });
      expect(second.venv.action).toBe('reused');
      expect(second.isolation.verified).toBe(true);
    });
  }

  it('constraints in an included file pin the version (requirements.txt -c constraints.txt)', async () => {
    const dir = copyFixture('requirements');
    const result = await setup({ projectDir: dir, flags: { provider: 'uv' } });
    const version = await moduleFile(result.python.executable, 'idna').then(() =>
      import('node:child_process').then(({ execFileSync }) =>
        execFileSync(result.python.executable, ['-c', 'import importlib.metadata as m; print(m.version("idna"))'], { encoding: 'utf8' }).trim(),
      ),
    );
    expect(version).toBe('3.7');
  });

  it('a venv at a configured path outside the project', async () => {
    const dir = copyFixture('requirements');
    const venv = join(dir, '..', 'elsewhere', 'env');
    const result = await setup({ projectDir: dir, flags: { provider: 'uv', venv } });
    expect(result.venv.path).toBe(venv);
    expect(existsSync(join(venv, 'bin', 'python'))).toBe(true);
    expect(existsSync(join(dir, '.venv'))).toBe(false);
  });
});
