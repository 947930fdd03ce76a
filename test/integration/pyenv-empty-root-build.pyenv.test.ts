/**
 * Needs: the machine's pyenv (~/.pyenv, a git checkout: cloned from file://), git, a C toolchain and
 * CPython's build dependencies (build-essential libssl-dev zlib1g-dev libbz2-dev libreadline-dev
 * libsqlite3-dev libffi-dev liblzma-dev), and the apt mirror once (the source tarball is cached in
 * ~/.cache/pymgr-test/cpython afterwards). This is the ONLY test that compiles CPython (~3 minutes).
 *
 * An empty directory (as a mount point would be) gets pyenv cloned straight into it, without being
 * removed or replaced, then `pyenv install 3.11.2` builds offline from a local tarball cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { setup } from '../../src/api/setup.js';
import { PYTHON_BUILD_DEPENDENCIES } from '../../providers/pyenv/pyenv-provider.js';
import { assertGitConfigUnchanged, makeRequirementsWheelhouse, snapshotGitConfig } from '../helpers/pyenv.js';
import { cleanupTemp, copyFixture, makeTemp } from '../helpers/project.js';
import { findPyenvRoot, repoRoot, requireTool } from '../helpers/tools.js';

const VERSION = '3.11.2';
const machineRoot = findPyenvRoot();
const hasPyenv = requireTool('pyenv', machineRoot);
const hasGitCheckout = hasPyenv && requireTool('a git checkout of pyenv in ~/.pyenv (to clone from)', existsSync(join(machineRoot!, '.git')));

function missingBuildDeps(): string[] {
  return PYTHON_BUILD_DEPENDENCIES.filter((pkg) => {
    const res = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return res.status !== 0 || !res.stdout.includes('install ok installed');
  });
}
const missing = hasGitCheckout ? missingBuildDeps() : [];
const canBuild = hasGitCheckout && requireTool(`CPython build dependencies (missing: ${missing.join(' ')})`, missing.length === 0);

describe.skipIf(!hasGitCheckout)('pyenv root that is an empty directory (a mount point)', () => {
  const gitConfig = snapshotGitConfig();
  let wheels: string;

  beforeAll(() => {
    wheels = makeRequirementsWheelhouse(join(makeTemp('pymgr-wheels-'), 'wheels'));
  });
  afterAll(() => {
    assertGitConfigUnchanged(gitConfig);
    cleanupTemp();
  });

  it.skipIf(!canBuild)(
    `pyenv is cloned into the directory in place, then pyenv install ${VERSION} builds offline from a tarball cache; the venv is verified`,
    async () => {
      const tmp = makeTemp('pymgr-pyenv-build-');
      const cache = join(tmp, 'cache');
      execFileSync('bash', [join(repoRoot, 'scripts', 'fetch-cpython-tarball.sh'), VERSION, cache, machineRoot!], { stdio: ['ignore', 'inherit', 'inherit'] });
      expect(existsSync(join(cache, `Python-${VERSION}.tar.gz`))).toBe(true);

      const root = join(tmp, 'mnt', 'pyenv');
      mkdirSync(root, { recursive: true });
      const inode = statSync(root).ino;
      const progress: Array<{ step: string; message: string; output?: string }> = [];
      const result = await setup({
        projectDir: copyFixture('requirements'),
        env: {},
        toolsDir: makeTemp('pymgr-tools-'),
        onProgress: (e) => progress.push(e),
        flags: {
          provider: 'pyenv',
          python: VERSION,
          providers: { pyenv: { root, repository: `file://${machineRoot}`, buildCache: cache } },
          index: { offline: true, findLinks: [wheels] },
        },
      });
      expect(statSync(root).ino).toBe(inode);
      expect(existsSync(join(root, 'bin', 'pyenv'))).toBe(true);
      expect(existsSync(join(root, '.git'))).toBe(true);
      expect(result.provider.foundBy).toBe('installed');
      expect(result.isolation.verified).toBe(true);
      expect(result.python.version).toBe(VERSION);
      expect(result.python.base).toBe(join(root, 'versions', VERSION, 'bin', 'python3.11'));
      // The build streamed its output (a long build shows progress).
      expect(progress.filter((e) => e.step === 'python' && e.output).length).toBeGreaterThan(10);
      // The modules a usable CPython needs were built.
      const mods = spawnSync(join(root, 'versions', VERSION, 'bin', 'python3.11'), ['-c', 'import ssl, sqlite3, lzma, bz2, zlib, ctypes, readline; print("ok")'], { encoding: 'utf8' });
      expect(mods.stdout.trim(), mods.stderr).toBe('ok');
      assertGitConfigUnchanged(gitConfig);
    },
    20 * 60_000,
  );

  it('without a build cache, offline: PYTHON_UNAVAILABLE naming what is installed and how to provide one; pyenv was still cloned in place', async () => {
    const root = join(makeTemp('pymgr-pyenv-nocache-'), 'pyenv');
    mkdirSync(root);
    const inode = statSync(root).ino;
    const err = await setup({
      projectDir: copyFixture('requirements'),
      env: {},
      toolsDir: makeTemp('pymgr-tools-'),
      flags: {
        provider: 'pyenv',
        python: VERSION,
        providers: { pyenv: { root, repository: `file://${machineRoot}` } },
        index: { offline: true, findLinks: [wheels] },
      },
    }).catch((e: unknown) => e);
    expect(isPymgrError(err, 'PYTHON_UNAVAILABLE'), String(err)).toBe(true);
    const e = err as PymgrError;
    expect(e.message).toContain(`"${VERSION}"`);
    expect(e.message).toContain('installed: none');
    expect(e.details?.installed).toEqual([]);
    expect(e.hint).toContain('providers.pyenv.buildCache');
    expect(e.hint).toContain(`Python-${VERSION}.tar.gz`);
    expect(statSync(root).ino).toBe(inode);
    expect(existsSync(join(root, 'bin', 'pyenv'))).toBe(true);
    expect(existsSync(join(root, 'versions', VERSION))).toBe(false);
    assertGitConfigUnchanged(gitConfig);
  });
});
