import { describe, expect, it } from 'vitest';
import { buildGitTrustEnv } from '../../providers/pyenv/git-trust.js';
import { isVersionAtLeast, parseGitVersion } from '../../providers/pyenv/git-version.js';
import { parseInstallList } from '../../providers/pyenv/pyenv-provider.js';

describe('buildGitTrustEnv', () => {
  it('trusts one root through command-scope config entries', () => {
    expect(buildGitTrustEnv({}, ['/r/pyenv'])).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'safe.directory',
      GIT_CONFIG_VALUE_0: '/r/pyenv',
    });
  });

  it('appends after entries already in the environment instead of clobbering them', () => {
    const base = { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'http.proxy', GIT_CONFIG_VALUE_0: 'http://p', GIT_CONFIG_KEY_1: 'core.askPass', GIT_CONFIG_VALUE_1: '' };
    const env = buildGitTrustEnv(base, ['/r/pyenv', '/real/pyenv']);
    expect(env).toEqual({
      GIT_CONFIG_COUNT: '4',
      GIT_CONFIG_KEY_2: 'safe.directory',
      GIT_CONFIG_VALUE_2: '/r/pyenv',
      GIT_CONFIG_KEY_3: 'safe.directory',
      GIT_CONFIG_VALUE_3: '/real/pyenv',
    });
    expect({ ...base, ...env }.GIT_CONFIG_VALUE_0).toBe('http://p');
  });

  it('lists a directory once and ignores a count git itself would reject', () => {
    expect(buildGitTrustEnv({ GIT_CONFIG_COUNT: 'x' }, ['/a', '/a'])).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'safe.directory',
      GIT_CONFIG_VALUE_0: '/a',
    });
  });
});

describe('git versions', () => {
  it('parses the forms git prints', () => {
    expect(parseGitVersion('git version 2.39.5\n')).toBe('2.39.5');
    expect(parseGitVersion('git version 2.37.1 (Apple Git-137.1)')).toBe('2.37.1');
    expect(parseGitVersion('git version 2.45.2.windows.1')).toBe('2.45.2');
    expect(parseGitVersion('bash: git: not found')).toBeUndefined();
  });

  it('compares numerically against the dubious-ownership release 2.35.2', () => {
    expect(isVersionAtLeast('2.35.2', '2.35.2')).toBe(true);
    expect(isVersionAtLeast('2.35.1', '2.35.2')).toBe(false);
    expect(isVersionAtLeast('2.4.0', '2.35.2')).toBe(false);
    expect(isVersionAtLeast('2.100', '2.35.2')).toBe(true);
    expect(isVersionAtLeast('3.0', '2.35.2')).toBe(true);
  });
});

describe('parseInstallList', () => {
  it('keeps CPython releases and prereleases, drops -dev, free-threaded and other implementations', () => {
    const out = 'Available versions:\n  3.1.5\n  3.11.2\n  3.11-dev\n  3.13.0t\n  3.14.0rc1\n  pypy3.10-7.3.12\n  miniconda3-latest\n';
    expect(parseInstallList(out)).toEqual(['3.1.5', '3.11.2', '3.14.0rc1']);
  });
});
