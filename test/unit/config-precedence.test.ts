import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTemp, rejection, thrown, writeTree } from '../helpers/project.js';
import { loadConfig } from '../../src/config/load-config.js';
import { describeSources } from '../../src/config/describe-sources.js';
import { readEnvConfig, RESERVED_ENV_VARIABLES } from '../../src/config/read-env-config.js';

afterEach(cleanupTemp);

function projectWith(rc: string): string {
  return writeTree({ '.pymgrrc.yaml': rc }, 'pymgr-config-');
}

describe('precedence: flag > env > file > default', () => {
  it('each layer wins over the ones below, key by key, and records its source', async () => {
    const root = projectWith(
      ['provider: pyenv', 'python: "3.10"', 'venv: .venv-file', 'index:', '  offline: false', '  extraUrls: [https://file.example/simple]'].join('\n'),
    );
    const rc = join(root, '.pymgrrc.yaml');
    const resolved = await loadConfig({
      projectDir: root,
      stopDir: root,
      env: { PYMGR_PROVIDER: 'mise', PYMGR_PYTHON: '3.11', PYMGR_INDEX__OFFLINE: 'true', HOME: '/nowhere', PATH: '/bin' },
      flags: { provider: 'uv', index: { url: undefined } },
    });
    expect(resolved.config.provider).toBe('uv');
    expect(resolved.sources.provider).toEqual({ source: 'flag' });
    expect(resolved.config.python).toBe('3.11');
    expect(resolved.sources.python).toEqual({ source: 'env', variable: 'PYMGR_PYTHON' });
    expect(resolved.config.index.offline).toBe(true);
    expect(resolved.sources['index.offline']).toEqual({ source: 'env', variable: 'PYMGR_INDEX__OFFLINE' });
    // Siblings of an overridden key keep the file's values (deep merge).
    expect(resolved.config.index.extraUrls).toEqual(['https://file.example/simple']);
    expect(resolved.sources['index.extraUrls']).toEqual({ source: 'file', file: rc });
    expect(resolved.config.venv).toBe('.venv-file');
    expect(resolved.sources.venv).toEqual({ source: 'file', file: rc });
    // A flag explicitly undefined is not set.
    expect(resolved.config.index.url).toBeUndefined();
    expect(resolved.sources['index.url']).toEqual({ source: 'default' });
    expect(resolved.config.verify.timeoutMs).toBe(60000);
    expect(resolved.sources['verify.timeoutMs']).toEqual({ source: 'default' });
  });

  it('lists replace, never concatenate', async () => {
    const root = projectWith('preference: [pyenv, uv]\n');
    const fromEnv = await loadConfig({ projectDir: root, stopDir: root, env: { PYMGR_PREFERENCE: 'mise' } });
    expect(fromEnv.config.preference).toEqual(['mise']);
    const fromFlag = await loadConfig({ projectDir: root, stopDir: root, env: { PYMGR_PREFERENCE: 'mise' }, flags: { preference: ['uv'] } });
    expect(fromFlag.config.preference).toEqual(['uv']);
    expect(fromFlag.sources.preference.source).toBe('flag');
  });

  it('describeSources lists every leaf with its value and origin', async () => {
    const root = projectWith('python: "3.12"\n');
    const resolved = await loadConfig({ projectDir: root, stopDir: root, env: { PYMGR_VENV: 'env-venv' }, flags: { verify: { packages: false } } });
    const rows = describeSources(resolved);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey.python).toEqual({ key: 'python', value: '3.12', source: 'file', where: join(root, '.pymgrrc.yaml') });
    expect(byKey.venv).toEqual({ key: 'venv', value: 'env-venv', source: 'env', where: 'PYMGR_VENV' });
    expect(byKey['verify.packages']).toEqual({ key: 'verify.packages', value: false, source: 'flag' });
    expect(byKey.provider).toEqual({ key: 'provider', value: 'auto', source: 'default' });
    expect(byKey['providers.uv.version'].value).toBe('0.13.9');
    expect(rows.map((r) => r.key)).toContain('dependencies.extras');
  });

  it('a bad flag value is CONFIG_INVALID naming the key', async () => {
    const root = projectWith('');
    const err = await rejection(
      loadConfig({ projectDir: root, stopDir: root, env: {}, flags: { provider: 'conda' as never } }),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details).toMatchObject({ source: 'flag', keyPath: 'provider' });
  });
});

describe('PYMGR_* environment variables', () => {
  it('maps nested keys, lists, booleans and numbers from the schema', () => {
    const { input, variables } = readEnvConfig({
      PYMGR_INDEX__EXTRA_URLS: 'https://a.example/simple, https://b.example/simple,',
      PYMGR_INDEX__NO_INDEX: '1',
      PYMGR_INDEX__OFFLINE: 'FALSE',
      PYMGR_PROVIDERS__UV__PATH: '/opt/uv',
      PYMGR_PROVIDERS__MISE__SYNC_PYENV: '0',
      PYMGR_DEPENDENCIES__EXTRAS: 'dev,test',
      PYMGR_VERIFY__TIMEOUT_MS: '1500',
      PYMGR_PYTHON: '',
      PATH: '/usr/bin',
    });
    expect(input).toEqual({
      index: { extraUrls: ['https://a.example/simple', 'https://b.example/simple'], noIndex: true, offline: false },
      providers: { uv: { path: '/opt/uv' }, mise: { syncPyenv: false } },
      dependencies: { extras: ['dev', 'test'] },
      verify: { timeoutMs: 1500 },
    });
    expect(variables['index.extraUrls']).toBe('PYMGR_INDEX__EXTRA_URLS');
    expect(variables.python).toBeUndefined();
  });

  it('a bad boolean names the variable and the accepted values', () => {
    const err = thrown(() => readEnvConfig({ PYMGR_INDEX__OFFLINE: 'yes' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('PYMGR_INDEX__OFFLINE');
    expect(err.message).toContain('"yes"');
    expect(err.message).toMatch(/true, false, 1 or 0/);
    expect(err.details).toMatchObject({ variable: 'PYMGR_INDEX__OFFLINE', keyPath: 'index.offline' });
  });

  it('a bad number names the variable', () => {
    const err = thrown(() => readEnvConfig({ PYMGR_VERIFY__TIMEOUT_MS: '10s' }));
    expect(err.message).toContain('PYMGR_VERIFY__TIMEOUT_MS');
    expect(err.details?.allowed).toBe('an integer');
  });

  it('an enum value the schema rejects names the variable and the allowed values', async () => {
    const root = projectWith('');
    const err = await rejection(loadConfig({ projectDir: root, stopDir: root, env: { PYMGR_PROVIDER: 'conda' } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('PYMGR_PROVIDER');
    expect(err.message).toContain('auto, uv, mise, pyenv');
    expect(err.details).toMatchObject({ source: 'env', variable: 'PYMGR_PROVIDER', keyPath: 'provider' });
    const list = await rejection(loadConfig({ projectDir: root, stopDir: root, env: { PYMGR_PREFERENCE: 'uv,pip' } }));
    expect(list.message).toContain('PYMGR_PREFERENCE');
    expect(list.message).toContain('"pip"');
  });

  it('an unknown PYMGR_* variable is CONFIG_INVALID with "did you mean"', () => {
    const err = thrown(() => readEnvConfig({ PYMGR_INDEX_OFFLINE: '1' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('PYMGR_INDEX_OFFLINE');
    expect(err.message).toContain('did you mean PYMGR_INDEX__OFFLINE?');
    const typo = thrown(() => readEnvConfig({ PYMGR_PROVDIER: 'uv' }));
    expect(typo.message).toContain('did you mean PYMGR_PROVIDER?');
    const far = thrown(() => readEnvConfig({ PYMGR_COMPLETELY_DIFFERENT: 'x' }));
    expect(far.message).not.toContain('did you mean');
  });

  it('reserved variables are not config and not errors', () => {
    expect(RESERVED_ENV_VARIABLES).toEqual(expect.arrayContaining(['PYMGR_TOOLS_DIR', 'PYMGR_STATE_DIR', 'PYMGR_DEBUG', 'PYMGR_CONFIG']));
    const { input } = readEnvConfig({
      PYMGR_TOOLS_DIR: '/t',
      PYMGR_STATE_DIR: '/s',
      PYMGR_DEBUG: '1',
      PYMGR_CONFIG: '/c.json',
      PYMGR_TEST_UV: '/usr/bin/uv',
      pymgr_provider: 'not-ours',
    });
    expect(input).toEqual({});
  });
});
