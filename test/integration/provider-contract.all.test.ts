/**
 * The provider contract, run against every provider pymgr knows, on the real binaries
 * (uv from PyPI, mise from npm, the machine's pyenv). Adding a provider to providers/index.ts
 * adds it here; a provider without a harness below fails this suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InstallPlan, Provider, ProviderContext, ProviderName } from '../../src/contracts.js';
import { defaultConfig, type PymgrConfig } from '../../src/config/schema.js';
import { isPymgrError } from '../../src/errors.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { inspectVenv } from '../../src/core/verify.js';
import { createProvider, providerNames } from '../../providers/index.js';
import { makeIsolatedMise } from '../helpers/mise.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { findMise, findPyenvRoot, findUv, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

interface Harness {
  available: unknown;
  needsGit: boolean;
  context(): ProviderContext;
}

function baseContext(projectDir: string, config: PymgrConfig, executor = new HostExecutor()): ProviderContext {
  return { executor, config, projectDir, toolsDir: join(makeTemp('pymgr-tools-'), 'tools'), progress: () => undefined };
}

function config(patch: (c: PymgrConfig) => void): PymgrConfig {
  const c = defaultConfig();
  c.index.offline = true;
  patch(c);
  return c;
}

const HARNESSES: Record<ProviderName, Harness> = {
  uv: {
    available: findUv(),
    needsGit: false,
    context: () => baseContext(makeTemp(), config(() => undefined)),
  },
  mise: {
    available: findMise() && findPyenvRoot(),
    needsGit: false,
    context: () => {
      const iso = makeIsolatedMise(findMise()!, { pyenvRoot: findPyenvRoot() });
      return baseContext(makeTemp(), config((c) => Object.assign(c.providers.mise, iso.miseFlags)), iso.executor);
    },
  },
  pyenv: {
    available: findPyenvRoot(),
    needsGit: true,
    context: () => baseContext(makeTemp(), config((c) => (c.providers.pyenv.root = findPyenvRoot()))),
  },
};

describe('provider contract', () => {
  afterAll(cleanupTemp);

  it('every registered provider has a harness here', () => {
    expect(Object.keys(HARNESSES).sort()).toEqual([...providerNames].sort());
  });

  for (const name of providerNames) {
    const h = HARNESSES[name];
    const run = requireTool(name === 'mise' ? 'mise (and pyenv Pythons for it offline)' : name, h.available);
    describe.skipIf(!run)(`${name} (real binary)`, () => {
      let provider: Provider;
      let ctx: ProviderContext;

      it('is named and says whether it needs git', async () => {
        provider = await createProvider(name);
        ctx = h.context();
        expect(provider.name).toBe(name);
        expect(provider.needsGit).toBe(h.needsGit);
      });

      it('probe finds the manager with a version and changes nothing', async () => {
        const probe = await provider.probe(ctx);
        expect(probe).toMatchObject({ name, found: true });
        // A git-free manager never needs git; pyenv needs it only to install or update itself.
        if (!h.needsGit) expect(probe.needsGit).toBe(false);
        else expect(typeof probe.needsGit).toBe('boolean');
        expect(probe.version).toMatch(/^\d+\.\d+/);
        expect(probe.problems.filter((p) => p.severity === 'error')).toEqual([]);
        expect((await provider.ensureManager(ctx)).found).toBe(true);
      });

      it('ensurePython picks the newest matching version; "3.1" never matches 3.1x', async () => {
        // ensurePython first: a provider may make Pythons available on the way (mise adopts pyenv's).
        const got = await provider.ensurePython(ctx, { raw: '3.12', source: 'test' });
        const pythons = await provider.listPythons(ctx);
        const newest312 = pythons.filter((p) => p.version.startsWith('3.12.')).map((p) => p.version).sort().pop();
        expect(newest312).toBeDefined();
        expect(got.version).toBe(newest312);
        const err = await provider.ensurePython(ctx, { raw: '3.1', source: 'test' }).catch((e) => e);
        expect(isPymgrError(err, 'PYTHON_UNAVAILABLE')).toBe(true);
        expect(err.message).toContain('3.12');
      });

      it('lists Pythons that really are those versions', async () => {
        const pythons = await provider.listPythons(ctx);
        expect(pythons.length).toBeGreaterThan(0);
        for (const p of pythons.slice(0, 3)) {
          const v = execFileSync(p.executable, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim();
          expect(v).toBe(p.version);
        }
      });

      it('creates a venv and installs a plan into it, verified by the venv\'s own interpreter', async () => {
        const python = await provider.ensurePython(ctx, { raw: '3.12', source: 'test' });
        const wheels = join(makeTemp(), 'wheels');
        mkdirSync(wheels);
        buildWheel(wheels, 'pymgr-contract-dep', '2.0.0');
        writeFileSync(join(ctx.projectDir, 'requirements.txt'), 'pymgr-contract-dep==2.0.0\n');
        const venv = { path: join(ctx.projectDir, '.venv'), python: join(ctx.projectDir, '.venv', 'bin', 'python') };
        await provider.createVenv(ctx, python, venv);
        const plan: InstallPlan = {
          steps: [{ kind: 'requirements', files: [join(ctx.projectDir, 'requirements.txt')], constraints: [] }],
          expected: ['pymgr-contract-dep'],
          index: { extraUrls: [], findLinks: [wheels], offline: true, noIndex: true },
        };
        const report = await provider.installDependencies(ctx, venv, plan);
        expect(report.commands.length).toBeGreaterThan(0);
        const check = await inspectVenv(ctx.executor, venv.path, plan.expected, { versionOk: (v) => v === python.version });
        expect(check.checks.filter((c) => !c.ok)).toEqual([]);
        expect(check.verified).toBe(true);
      });
    });
  }
});
