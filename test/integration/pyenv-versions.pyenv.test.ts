/**
 * Needs: the machine's pyenv (~/.pyenv with built Pythons).
 * Version requests are matched as versions, not string prefixes: "3.1" never picks 3.11, "3.12"
 * picks the newest 3.12.x, an exact patch picks exactly that one. Nothing is built here.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderContext } from '../../src/contracts.js';
import { defaultConfig, type PymgrConfig } from '../../src/config/schema.js';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { setup } from '../../src/api/setup.js';
import { PyenvProvider } from '../../providers/pyenv/pyenv-provider.js';
import {
  addFakeVersion,
  assertGitConfigUnchanged,
  makePlainPyenvRoot,
  makeRequirementsWheelhouse,
  pickVersion,
  snapshotGitConfig,
} from '../helpers/pyenv.js';
import { cleanupTemp, copyFixture, makeTemp } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';

const machineRoot = findPyenvRoot();
const hasPyenv = requireTool('pyenv', machineRoot);

describe.skipIf(!hasPyenv)('pyenv version matching', () => {
  const gitConfig = snapshotGitConfig();
  let root: string;
  let v311: string;
  let v312: string;
  let tmp: string;

  beforeAll(() => {
    v311 = pickVersion(machineRoot!, '3.11')!;
    v312 = pickVersion(machineRoot!, '3.12')!;
    expect(v311 && v312, 'the machine pyenv needs a 3.11.x and a 3.12.x').toBeTruthy();
    tmp = makeTemp('pymgr-pyenv-versions-');
    root = makePlainPyenvRoot(join(tmp, 'pyenv'), machineRoot!, { linkVersions: [v311, v312] });
    // An older 3.12 patch next to the real one (never run: only the newest may be chosen).
    addFakeVersion(root, '3.12.0');
  });
  afterAll(() => {
    assertGitConfigUnchanged(gitConfig);
    cleanupTemp();
  });

  function context(pyenv: Partial<PymgrConfig['providers']['pyenv']>, offline = true): ProviderContext {
    const base = defaultConfig();
    return {
      executor: new HostExecutor(),
      config: { ...base, index: { ...base.index, offline }, providers: { ...base.providers, pyenv: { ...base.providers.pyenv, root, ...pyenv } } },
      projectDir: tmp,
      toolsDir: join(tmp, 'tools'),
      progress: () => undefined,
    };
  }

  it('"3.12" picks the newest installed 3.12.x', async () => {
    const python = await new PyenvProvider().ensurePython(context({ install: false }), { raw: '3.12', source: 'config' });
    expect(python.version).toBe(v312);
    expect(python.executable).toBe(`${root}/versions/${v312}/bin/python3.12`);
  });

  it('an exact patch version picks exactly that one', async () => {
    const python = await new PyenvProvider().ensurePython(context({ install: false }), { raw: v311, source: 'config' });
    expect(python.version).toBe(v311);
    const old = await new PyenvProvider().ensurePython(context({ install: false }), { raw: '3.12.0', source: 'config' });
    expect(old.version).toBe('3.12.0');
  });

  it('"3.1" never matches 3.11 or 3.12: PYTHON_UNAVAILABLE listing the installed versions', async () => {
    const err = await new PyenvProvider().ensurePython(context({ install: false }), { raw: '3.1', source: 'config' }).catch((e: unknown) => e);
    expect(isPymgrError(err, 'PYTHON_UNAVAILABLE'), String(err)).toBe(true);
    expect((err as PymgrError).details?.installed).toEqual(expect.arrayContaining([v311, v312, '3.12.0']));
    expect((err as PymgrError).hint).toContain('providers.pyenv.install is false');
  });

  it('"3.1" with installs allowed resolves to the newest 3.1.x python-build knows (not 3.11), and offline without a cache stops before building', async () => {
    const err = await new PyenvProvider().ensurePython(context({ install: true }), { raw: '3.1', source: 'config' }).catch((e: unknown) => e);
    expect(isPymgrError(err, 'PYTHON_UNAVAILABLE'), String(err)).toBe(true);
    expect((err as PymgrError).hint).toMatch(/CPython 3\.1\.\d+:/);
    expect((err as PymgrError).hint).not.toMatch(/CPython 3\.1[1-9]/);
  });

  it('an exact request through setup ends in a verified venv with that version', async () => {
    const wheels = makeRequirementsWheelhouse(join(tmp, 'wheels'));
    const result = await setup({
      projectDir: copyFixture('requirements'),
      env: {},
      toolsDir: join(tmp, 'tools'),
      flags: { provider: 'pyenv', python: v311, providers: { pyenv: { root } }, index: { noIndex: true, findLinks: [wheels] } },
    });
    expect(result.isolation.verified).toBe(true);
    expect(result.python.version).toBe(v311);
    assertGitConfigUnchanged(gitConfig);
  });
});
