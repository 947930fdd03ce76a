/**
 * Needs: the machine's pyenv (a git checkout in ~/.pyenv with built Pythons), git >= 2.35.2, root.
 * The classic failure: a pyenv root owned by another uid makes git refuse every command
 * ("dubious ownership"). pymgr must still give a verified venv from it, without writing git config.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/api/setup.js';
import { buildGitTrustEnv } from '../../providers/pyenv/git-trust.js';
import { assertGitConfigUnchanged, makeGitPyenvRoot, makeRequirementsWheelhouse, pickVersion, snapshotGitConfig } from '../helpers/pyenv.js';
import { cleanupTemp, copyFixture, makeTemp } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';

const machineRoot = findPyenvRoot();
const hasPyenv = requireTool('pyenv', machineRoot);
const isRoot = process.getuid?.() === 0;
if (hasPyenv && !isRoot) requireTool('root (to chown a pyenv root to uid 1000)', false);

describe.skipIf(!hasPyenv || !isRoot)('pyenv root owned by another uid (git checkout, uid 1000)', () => {
  let root: string;
  let version: string;
  let wheels: string;
  const gitConfig = snapshotGitConfig();

  beforeAll(() => {
    version = pickVersion(machineRoot!, '3.12') ?? pickVersion(machineRoot!, '3.11')!;
    expect(version, `the machine's pyenv has no 3.12.x or 3.11.x in ${machineRoot}/versions`).toBeTruthy();
    const tmp = makeTemp('pymgr-pyenv-foreign-');
    root = makeGitPyenvRoot(join(tmp, 'pyenv'), machineRoot!, { versions: [version], owner: 1000 });
    wheels = makeRequirementsWheelhouse(join(tmp, 'wheels'));
  });
  afterAll(() => {
    assertGitConfigUnchanged(gitConfig);
    cleanupTemp();
  });

  it('git really refuses the root without scoped trust (exit 128, dubious ownership), and accepts it with -c safe.directory', () => {
    const plain = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
    expect(plain.status).toBe(128);
    expect(plain.stderr).toContain('dubious ownership');
    const scoped = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: root },
    });
    expect(scoped.status, scoped.stderr).toBe(0);
    // pymgr's variables are appended after entries the caller already set, and git honours both.
    const caller = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'caller-set' };
    const appended = spawnSync('git', ['-C', root, 'config', 'user.name'], {
      encoding: 'utf8',
      env: { ...process.env, ...caller, ...buildGitTrustEnv(caller, [root]) },
    });
    expect(appended.status, appended.stderr).toBe(0);
    expect(appended.stdout.trim()).toBe('caller-set');
    assertGitConfigUnchanged(gitConfig);
  });

  it('setup ends in a verified venv built from the foreign root, and the root is left as it was', async () => {
    const gitConfigBefore = readFileSync(join(root, '.git', 'config'));
    const projectDir = copyFixture('requirements');
    const result = await setup({
      projectDir,
      env: {},
      toolsDir: makeTemp('pymgr-tools-'),
      flags: {
        provider: 'pyenv',
        python: version.split('.').slice(0, 2).join('.'),
        providers: { pyenv: { root } },
        index: { noIndex: true, findLinks: [wheels] },
      },
    });
    expect(result.provider.name).toBe('pyenv');
    expect(result.isolation.verified).toBe(true);
    expect(result.python.version).toBe(version);
    expect(result.python.base.startsWith(`${root}/versions/${version}/`)).toBe(true);
    expect(result.venv.path).toBe(join(projectDir, '.venv'));
    const venvCfg = readFileSync(join(projectDir, '.venv', 'pyvenv.cfg'), 'utf8');
    expect(venvCfg).toContain(`${root}/versions/${version}/bin`);
    for (const pkg of ['six', 'idna']) expect(result.isolation.checks.find((c) => c.name === `package:${pkg}`)?.ok).toBe(true);
    // Nothing re-initialised or re-owned.
    expect(readFileSync(join(root, '.git', 'config')).equals(gitConfigBefore)).toBe(true);
    expect(statSync(root).uid).toBe(1000);
    assertGitConfigUnchanged(gitConfig);
  });

  it('providers.pyenv.update pulls in the foreign root with scoped trust (git pull --ff-only succeeds)', async () => {
    const projectDir = copyFixture('requirements');
    const progress: string[] = [];
    const result = await setup({
      projectDir,
      env: {},
      toolsDir: makeTemp('pymgr-tools-'),
      onProgress: (e) => progress.push(e.message),
      flags: {
        provider: 'pyenv',
        python: version,
        providers: { pyenv: { root, update: true } },
        index: { noIndex: true, findLinks: [wheels] },
      },
    });
    expect(result.isolation.verified).toBe(true);
    expect(progress.some((m) => m.includes('git pull --ff-only'))).toBe(true);
    assertGitConfigUnchanged(gitConfig);
  });
});
