/**
 * Offline (index.offline), pyenv is never cloned from the network: with an empty root and an
 * https repository, ensureManager is MANAGER_NOT_FOUND before any git command runs, the root is
 * left exactly as it was, and the probe does not ask for git. A fake `git` first on PATH logs
 * every call. A local repository (path or file://) is still allowed offline.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderContext } from '../../src/contracts.js';
import { defaultConfig } from '../../src/config/schema.js';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { isLocalRepository, PyenvProvider } from '../../providers/pyenv/pyenv-provider.js';
import { listTree, makeFakeGit } from '../helpers/pyenv.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';

function makeContext(tmp: string, root: string, repository: string, offline: boolean): { ctx: ProviderContext; gitCalls: () => string[] } {
  const fakeGit = makeFakeGit(tmp, { version: '2.39.5' });
  const base = defaultConfig();
  const config = {
    ...base,
    index: { ...base.index, offline },
    providers: { ...base.providers, pyenv: { ...base.providers.pyenv, root, repository } },
  };
  const ctx: ProviderContext = {
    executor: new HostExecutor({ env: { ...process.env, PATH: `${fakeGit.bin}:/usr/bin:/bin`, PYENV_ROOT: undefined } }),
    config,
    projectDir: tmp,
    toolsDir: join(tmp, 'tools'),
    progress: () => undefined,
  };
  return { ctx, gitCalls: fakeGit.calls };
}

describe('pyenv offline', () => {
  afterAll(() => cleanupTemp());

  it('an empty root and an https repository: MANAGER_NOT_FOUND, no git run, the root untouched', async () => {
    const tmp = makeTemp('pymgr-pyenv-offline-');
    const root = join(tmp, 'pyenv');
    mkdirSync(root);
    const before = listTree(tmp).filter((l) => l.startsWith('pyenv'));
    const { ctx, gitCalls } = makeContext(tmp, root, 'https://github.com/pyenv/pyenv.git', true);

    const err = await new PyenvProvider().ensureManager(ctx).catch((e: unknown) => e);
    expect(isPymgrError(err, 'MANAGER_NOT_FOUND'), String(err)).toBe(true);
    const e = err as PymgrError;
    expect(e.message).toContain(root);
    expect(e.message).toMatch(/offline/i);
    expect(e.hint).toContain('providers.pyenv.repository');
    expect(gitCalls()).toEqual([]);
    expect(listTree(tmp).filter((l) => l.startsWith('pyenv'))).toEqual(before);

    const probe = await new PyenvProvider().probe(ctx);
    expect(probe).toMatchObject({ found: false, needsGit: false });
    expect(probe.problems.map((p) => p.code)).toEqual(['PYENV_OFFLINE_NO_CLONE']);
    expect(probe.problems[0].fix).toContain('providers.pyenv.repository');
    expect(gitCalls()).toEqual([]);
  });

  it('a missing root offline: the same, and the root is not created', async () => {
    const tmp = makeTemp('pymgr-pyenv-offline-');
    const root = join(tmp, 'not-yet', 'pyenv');
    const { ctx, gitCalls } = makeContext(tmp, root, 'git@github.com:pyenv/pyenv.git', true);
    const err = await new PyenvProvider().ensureManager(ctx).catch((e: unknown) => e);
    expect(isPymgrError(err, 'MANAGER_NOT_FOUND'), String(err)).toBe(true);
    expect(gitCalls()).toEqual([]);
    expect(listTree(tmp).some((l) => l.startsWith('not-yet'))).toBe(false);
  });

  it('a local repository offline still clones (here the fake git fails, so COMMAND_FAILED after git clone ran)', async () => {
    const tmp = makeTemp('pymgr-pyenv-offline-');
    const root = join(tmp, 'pyenv');
    const { ctx, gitCalls } = makeContext(tmp, root, join(tmp, 'pyenv-clone'), true);
    await new PyenvProvider().ensureManager(ctx).catch((e: unknown) => e);
    expect(gitCalls().some((c) => c.startsWith('git clone'))).toBe(true);
  });

  it('tells local repositories from remote ones', () => {
    for (const r of ['/srv/pyenv', './pyenv', '../pyenv', 'pyenv', 'file:///srv/pyenv', 'FILE:///srv/pyenv']) expect(isLocalRepository(r), r).toBe(true);
    for (const r of ['https://github.com/pyenv/pyenv.git', 'ssh://git@host/pyenv', 'git://host/pyenv', 'git@github.com:pyenv/pyenv.git', 'host:pyenv']) {
      expect(isLocalRepository(r), r).toBe(false);
    }
  });
});
