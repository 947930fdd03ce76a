/**
 * Needs: the machine's pyenv (~/.pyenv with built Pythons).
 * A working pyenv that is not a git checkout must be used without running git at all; a non-empty
 * directory that is not pyenv must be refused and left exactly as it was.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { isPymgrError } from '../../src/errors.js';
import { setup } from '../../src/api/setup.js';
import { PyenvProvider } from '../../providers/pyenv/pyenv-provider.js';
import { defaultConfig } from '../../src/config/schema.js';
import {
  assertGitConfigUnchanged,
  listTree,
  makeFakeGit,
  makePlainPyenvRoot,
  makeRequirementsWheelhouse,
  pickVersion,
  snapshotGitConfig,
} from '../helpers/pyenv.js';
import { cleanupTemp, copyFixture, makeTemp } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';

const machineRoot = findPyenvRoot();
const hasPyenv = requireTool('pyenv', machineRoot);

describe.skipIf(!hasPyenv)('pyenv root states', () => {
  let wheels: string;
  let version: string;
  const gitConfig = snapshotGitConfig();

  beforeAll(() => {
    version = pickVersion(machineRoot!, '3.12') ?? pickVersion(machineRoot!, '3.11')!;
    expect(version, `the machine's pyenv has no 3.12.x or 3.11.x`).toBeTruthy();
    wheels = makeRequirementsWheelhouse(join(makeTemp('pymgr-wheels-'), 'wheels'));
  });
  afterAll(() => {
    assertGitConfigUnchanged(gitConfig);
    cleanupTemp();
  });

  it('a working pyenv that is not a git checkout: setup is verified and no git command runs at all', async () => {
    const tmp = makeTemp('pymgr-pyenv-nogit-');
    const root = makePlainPyenvRoot(join(tmp, 'pyenv'), machineRoot!, { linkVersions: [version] });
    const fakeGit = makeFakeGit(tmp);
    const executor = new HostExecutor({ env: { ...process.env, PATH: `${fakeGit.bin}:${process.env.PATH}` } });
    // The fake is what a bare `git` resolves to for every program pymgr starts.
    expect((await executor.exec('git', ['--version'])).exitCode).toBe(1);
    expect(fakeGit.calls()).toEqual(['git --version']);
    rmSync(fakeGit.log);

    const projectDir = copyFixture('requirements');
    const result = await setup({
      projectDir,
      executor,
      env: {},
      toolsDir: makeTemp('pymgr-tools-'),
      flags: {
        provider: 'pyenv',
        python: version,
        providers: { pyenv: { root } },
        index: { noIndex: true, findLinks: [wheels] },
      },
    });
    expect(result.isolation.verified).toBe(true);
    expect(result.python.version).toBe(version);
    expect(result.provider.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(fakeGit.calls()).toEqual([]);

    const probe = await new PyenvProvider().probe({
      executor,
      config: { ...defaultConfig(), providers: { ...defaultConfig().providers, pyenv: { ...defaultConfig().providers.pyenv, root } } },
      projectDir,
      toolsDir: tmp,
      progress: () => undefined,
    });
    expect(probe).toMatchObject({ found: true, path: root, needsGit: false, problems: [] });
    expect(fakeGit.calls()).toEqual([]);
    assertGitConfigUnchanged(gitConfig);
  });

  it('a non-empty directory that is not pyenv: MANAGER_BROKEN naming it, nothing deleted, moved or git-initialised', async () => {
    const tmp = makeTemp('pymgr-pyenv-other-');
    const root = join(tmp, 'not-pyenv');
    mkdirSync(join(root, 'cache', 'sub'), { recursive: true });
    writeFileSync(join(root, 'README'), 'somebody else\'s files\n');
    writeFileSync(join(root, 'cache', 'sub', 'data.bin'), 'x'.repeat(1000));
    const before = listTree(root);
    const fakeGit = makeFakeGit(tmp);
    const executor = new HostExecutor({ env: { ...process.env, PATH: `${fakeGit.bin}:${process.env.PATH}` } });

    const err = await setup({
      projectDir: copyFixture('requirements'),
      executor,
      env: {},
      toolsDir: makeTemp('pymgr-tools-'),
      flags: { provider: 'pyenv', python: version, providers: { pyenv: { root } }, index: { noIndex: true, findLinks: [wheels] } },
    }).catch((e: unknown) => e);
    expect(isPymgrError(err, 'MANAGER_BROKEN'), String(err)).toBe(true);
    const e = err as import('../../src/errors.js').PymgrError;
    expect(e.message).toContain(root);
    expect(e.message).toMatch(/not empty and holds no pyenv/);
    expect(e.hint).toMatch(/will not delete, move or re-initialise/);
    expect(listTree(root)).toEqual(before);
    expect(fakeGit.calls()).toEqual([]);
    assertGitConfigUnchanged(gitConfig);
  });

  it('install: false and an empty root: MANAGER_NOT_FOUND, the directory stays empty', async () => {
    const root = join(makeTemp('pymgr-pyenv-noinstall-'), 'empty');
    mkdirSync(root);
    const err = await setup({
      projectDir: copyFixture('requirements'),
      env: {},
      toolsDir: makeTemp('pymgr-tools-'),
      flags: { provider: 'pyenv', python: version, providers: { pyenv: { root, install: false } }, index: { noIndex: true, findLinks: [wheels] } },
    }).catch((e: unknown) => e);
    expect(isPymgrError(err, 'MANAGER_NOT_FOUND'), String(err)).toBe(true);
    expect(listTree(root)).toEqual([]);
    assertGitConfigUnchanged(gitConfig);
  });
});
