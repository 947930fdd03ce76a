/**
 * The mise provider's decisions, on an in-memory executor: which interpreter it accepts, what it
 * installs, how it fails. The real mise runs in test/integration/mise-setup.mise.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ProviderContext, PythonRequest } from '../../src/contracts.js';
import { defaultConfig, type PymgrConfig } from '../../src/config/schema.js';
import { isPymgrError, type PymgrError } from '../../src/errors.js';
import { buildMiseEnv } from '../../providers/mise/mise-env.js';
import { MiseProvider, miseErrors } from '../../providers/mise/mise-provider.js';
import { chooseInstallVersion, parseMiseLs, parseMiseLsRemote } from '../../providers/mise/mise-pythons.js';
import { FakeExecutor } from '../helpers/mise.js';

/** Real output of `mise ls --installed --json python` (mise 2026.9.15) in a project with mise.toml. */
const LS_JSON = `[
  { "version": "2.7.18", "install_path": "/d/installs/python/2.7.18", "symlinked_to": "/d/installs/python/2.7.18", "installed": true, "active": false },
  { "version": "3.11.7", "install_path": "/d/installs/python/3.11.7", "symlinked_to": "/d/installs/python/3.11.7", "installed": true, "active": false },
  { "version": "3.12.1", "requested_version": "3.12", "install_path": "/d/installs/python/3.12.1",
    "source": { "type": "mise.toml", "path": "/p/mise.toml" }, "symlinked_to": "/d/installs/python/3.12.1", "installed": true, "active": true }
]`;

/** Real stderr of an offline `mise install python@3.9.99`. */
const OFFLINE_INSTALL_STDERR = `mise by @jdx – installing 1 tool
mise ✗ python@3.9.99  63ms · failed: offline mode is enabled
mise ERROR Failed to install core:python@3.9.99: offline mode is enabled
mise ERROR Version: 2026.9.15 linux-x64 (2026-09-27)
mise ERROR Run with --verbose or MISE_VERBOSE=1 for more information
`;

describe('parseMiseLs', () => {
  it('reads versions, install paths and the requesting config file', () => {
    const list = parseMiseLs(LS_JSON);
    expect(list.map((p) => p.version)).toEqual(['2.7.18', '3.11.7', '3.12.1']);
    expect(list[2]).toEqual({ version: '3.12.1', installPath: '/d/installs/python/3.12.1', requestedVersion: '3.12', sourcePath: '/p/mise.toml' });
  });

  it('reads an empty list and rejects text that is not a JSON array', () => {
    expect(parseMiseLs('[]\n')).toEqual([]);
    expect(() => parseMiseLs('mise WARN something')).toThrow();
    expect(() => parseMiseLs('{}')).toThrow(/array/);
  });

  it('skips entries that are not installed', () => {
    expect(parseMiseLs('[{"version":"3.13.1","install_path":"/x","installed":false}]')).toEqual([]);
  });
});

describe('chooseInstallVersion', () => {
  it('passes exact, minor and major requests to mise as versions, prefixes stripped', () => {
    expect(chooseInstallVersion('3.12.1')).toBe('3.12.1');
    expect(chooseInstallVersion('==3.11.2')).toBe('3.11.2');
    expect(chooseInstallVersion('3.12')).toBe('3.12');
    expect(chooseInstallVersion('python@3.1')).toBe('3.1');
    expect(chooseInstallVersion('3.12.*')).toBe('3.12');
    expect(chooseInstallVersion('3')).toBe('3');
  });

  it('turns a specifier into the newest remote version it allows (no prereleases)', () => {
    const remote = parseMiseLsRemote('3.10.14\n3.11.9\n3.12.7\n3.12.8\n3.13.0rc1\n3.13.1\nsomething else\n');
    expect(remote).toContain('3.13.0rc1');
    expect(chooseInstallVersion('>=3.10,<3.13', remote)).toBe('3.12.8');
    expect(chooseInstallVersion('>=3.13', remote)).toBe('3.13.1');
  });

  it('without a remote list, falls back to a whole minor series, or gives up when only part of one is allowed', () => {
    expect(chooseInstallVersion('>=3.10,<3.13')).toBe('3.12');
    expect(chooseInstallVersion('>=3.12.4,<3.13')).toBeUndefined();
  });
});

describe('buildMiseEnv', () => {
  const config = (mutate: (c: PymgrConfig) => void = () => undefined) => {
    const c = defaultConfig();
    mutate(c);
    return c;
  };

  it('trusts only the project for this run, precompiled Pythons only, no system fallback or auto-install', () => {
    const env = buildMiseEnv(config(), '/work/proj', {});
    expect(env).toMatchObject({
      MISE_TRUSTED_CONFIG_PATHS: '/work/proj',
      MISE_PYTHON_COMPILE: '0',
      MISE_NOT_FOUND_SYSTEM_FALLBACK: '0',
      MISE_AUTO_INSTALL: '0',
      MISE_EXEC_AUTO_INSTALL: '0',
      MISE_NOT_FOUND_AUTO_INSTALL: '0',
    });
    expect(env.MISE_OFFLINE).toBeUndefined();
    expect('MISE_DATA_DIR' in env).toBe(false);
  });

  it('keeps paths the user already trusts and does not repeat the project', () => {
    expect(buildMiseEnv(config(), '/p', { MISE_TRUSTED_CONFIG_PATHS: '/a:/b' }).MISE_TRUSTED_CONFIG_PATHS).toBe('/a:/b:/p');
    expect(buildMiseEnv(config(), '/p', { MISE_TRUSTED_CONFIG_PATHS: '/p' }).MISE_TRUSTED_CONFIG_PATHS).toBe('/p');
  });

  it('passes the configured directories and offline mode', () => {
    const env = buildMiseEnv(
      config((c) => {
        c.providers.mise.dataDir = '/m/data';
        c.providers.mise.cacheDir = '/m/cache';
        c.providers.mise.stateDir = '/m/state';
        c.index.offline = true;
      }),
      '/p',
    );
    expect(env).toMatchObject({ MISE_DATA_DIR: '/m/data', MISE_CACHE_DIR: '/m/cache', MISE_STATE_DIR: '/m/state', MISE_OFFLINE: '1' });
  });
});

describe('miseErrors', () => {
  it("keeps mise's reason and drops the boilerplate", () => {
    expect(miseErrors(OFFLINE_INSTALL_STDERR)).toBe('Failed to install core:python@3.9.99: offline mode is enabled');
  });
});

const MISE = '/opt/mise';

/** A fake machine with mise at /opt/mise and the given installs; each interpreter reports `reports[version]`. */
function fakeMachine(installs: Record<string, string>, options: { installable?: Record<string, string>; installError?: string } = {}) {
  const ex = new FakeExecutor({ PATH: '/usr/bin', HOME: '/home/u' });
  const listed = { ...installs };
  const addPython = (version: string, reports: string) => {
    const exe = `/d/installs/python/${version}/bin/python3`;
    ex.programs.set(exe, (args) => (args.includes('-c') ? { stdout: `${reports}\n` } : undefined));
  };
  for (const [v, r] of Object.entries(installs)) addPython(v, r);
  ex.programs.set(MISE, (args) => {
    if (args[0] === '--version') return { stdout: '2026.9.15 linux-x64 (2026-09-27)\n' };
    if (args[0] === 'ls') {
      return { stdout: JSON.stringify(Object.keys(listed).map((v) => ({ version: v, install_path: `/d/installs/python/${v}`, installed: true, active: false }))) };
    }
    if (args[0] === 'install') {
      const v = args[1].replace('python@', '');
      const full = options.installable?.[v];
      if (!full) return { exitCode: 1, stderr: options.installError ?? `mise ERROR no precompiled python found for ${v}\n` };
      listed[full] = full;
      addPython(full, full);
      return { stdout: '' };
    }
    return undefined;
  });
  return ex;
}

function contextFor(ex: FakeExecutor, mutate: (c: PymgrConfig) => void = () => undefined): ProviderContext {
  const config = defaultConfig();
  config.providers.mise.path = MISE;
  mutate(config);
  return { executor: ex, config, projectDir: '/p', toolsDir: '/tools', progress: () => undefined };
}

const request = (raw: string): PythonRequest => ({ raw, source: '.tool-versions', sourcePath: '/p/.tool-versions' });

async function rejection(p: Promise<unknown>): Promise<PymgrError> {
  try {
    await p;
  } catch (err) {
    if (isPymgrError(err)) return err;
    throw err;
  }
  throw new Error('expected a PymgrError');
}

describe('MiseProvider.ensurePython', () => {
  it("picks the newest installed match and checks that it reports mise's version", async () => {
    const ex = fakeMachine({ '3.11.7': '3.11.7', '3.12.1': '3.12.1' });
    const py = await new MiseProvider().ensurePython(contextFor(ex), request('3'));
    expect(py).toEqual({ version: '3.12.1', executable: '/d/installs/python/3.12.1/bin/python3', origin: 'mise' });
  });

  it('refuses an interpreter that is not the version mise lists (never another Python in its place)', async () => {
    const ex = fakeMachine({ '3.12.1': '3.11.2' });
    const err = await rejection(new MiseProvider().ensurePython(contextFor(ex), request('3.12')));
    expect(err.code).toBe('PYTHON_UNAVAILABLE');
    expect(err.hint).toContain('reports Python 3.11.2');
  });

  it('offline: PYTHON_UNAVAILABLE naming what is installed and where the request came from, no install attempted', async () => {
    const ex = fakeMachine({ '3.11.7': '3.11.7' }, { installable: { '3.9.99': '3.9.99' } });
    const err = await rejection(new MiseProvider().ensurePython(contextFor(ex, (c) => (c.index.offline = true)), request('3.9.99')));
    expect(err.code).toBe('PYTHON_UNAVAILABLE');
    expect(err.message).toContain('3.9.99');
    expect(err.message).toContain('/p/.tool-versions');
    expect(err.message).toContain('installed: 3.11.7');
    expect(err.hint).toMatch(/Offline/);
    expect(await ex.exists('/d/installs/python/3.9.99/bin/python3')).toBe(false);
  });

  it('with providers.mise.install off, says so instead of installing', async () => {
    const ex = fakeMachine({}, { installable: { '3.12': '3.12.8' } });
    const err = await rejection(new MiseProvider().ensurePython(contextFor(ex, (c) => (c.providers.mise.install = false)), request('3.12')));
    expect(err.code).toBe('PYTHON_UNAVAILABLE');
    expect(err.hint).toContain('mise install python@3.12');
    expect(await ex.exists('/d/installs/python/3.12.8/bin/python3')).toBe(false);
  });

  it('installs a missing version with mise and returns it as installed', async () => {
    const ex = fakeMachine({ '3.11.7': '3.11.7' }, { installable: { '3.12': '3.12.8' } });
    const py = await new MiseProvider().ensurePython(contextFor(ex), request('3.12'));
    expect(py).toEqual({ version: '3.12.8', executable: '/d/installs/python/3.12.8/bin/python3', origin: 'installed' });
  });

  it("a failed install is PYTHON_UNAVAILABLE carrying mise's reason", async () => {
    const ex = fakeMachine({}, { installError: 'mise ERROR Failed to install core:python@3.12: no precompiled build for this platform\nmise ERROR Version: x\n' });
    const err = await rejection(new MiseProvider().ensurePython(contextFor(ex), request('3.12')));
    expect(err.code).toBe('PYTHON_UNAVAILABLE');
    expect(err.hint).toContain('no precompiled build for this platform');
    expect(err.hint).not.toContain('Version: x');
  });
});

describe('MiseProvider.probe / ensureManager', () => {
  it('reports a broken providers.mise.path as not found with a problem, and ensureManager throws MANAGER_NOT_FOUND', async () => {
    const ex = fakeMachine({});
    const ctx = contextFor(ex, (c) => (c.providers.mise.path = '/nope/mise'));
    const probe = await new MiseProvider().probe(ctx);
    expect(probe.found).toBe(false);
    expect(probe.problems[0]?.code).toBe('MISE_PATH_INVALID');
    const err = await rejection(new MiseProvider().ensureManager(ctx));
    expect(err.code).toBe('MANAGER_NOT_FOUND');
  });

  it('finds mise on PATH and reads its version', async () => {
    const ex = new FakeExecutor({ PATH: '/opt/bin:/usr/bin', HOME: '/h' });
    ex.programs.set('/opt/bin/mise', () => ({ stdout: '2026.9.15 linux-x64 (2026-09-27)\n' }));
    const probe = await new MiseProvider().probe({ ...contextFor(ex), config: defaultConfig() });
    expect(probe).toMatchObject({ found: true, path: '/opt/bin/mise', source: 'PATH', version: '2026.9.15' });
  });

  it('not installed anywhere: MANAGER_NOT_FOUND saying pymgr does not install mise', async () => {
    const ex = new FakeExecutor({ PATH: '/usr/bin', HOME: '/h' });
    const err = await rejection(new MiseProvider().ensureManager({ ...contextFor(ex), config: defaultConfig() }));
    expect(err.code).toBe('MANAGER_NOT_FOUND');
    expect(err.hint).toContain('does not install mise');
  });
});
