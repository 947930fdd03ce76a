import { describe, expect, it } from 'vitest';
import { isPymgrError } from '../../src/errors.js';
import {
  describePythonRequest,
  isValidPythonRequest,
  matchPythonVersion,
  parsePythonRequest,
  pickDefaultFromSpecifier,
} from '../../src/python-version.js';

const AVAILABLE = ['3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.11.9', '3.12.1', '3.12.4', '3.13.0', '3.1.5', '3.14.0rc1'];

describe('matchPythonVersion', () => {
  it('"3.1" never matches 3.11 (parsed versions, not prefixes)', () => {
    expect(matchPythonVersion('3.1', ['3.11.9', '3.12.1'])).toBeUndefined();
    expect(matchPythonVersion('3.1', AVAILABLE)).toBe('3.1.5');
  });

  it('a minor request picks the newest patch of that minor', () => {
    expect(matchPythonVersion('3.12', AVAILABLE)).toBe('3.12.4');
    expect(matchPythonVersion('3.11', ['3.11.9', '3.11.10', '3.11.2'])).toBe('3.11.10');
    expect(matchPythonVersion('3.12.*', AVAILABLE)).toBe('3.12.4');
  });

  it('"3" picks the newest final 3.x, never a prerelease', () => {
    expect(matchPythonVersion('3', AVAILABLE)).toBe('3.13.0');
  });

  it('an exact patch matches only itself', () => {
    expect(matchPythonVersion('3.12.1', AVAILABLE)).toBe('3.12.1');
    expect(matchPythonVersion('==3.12.1', AVAILABLE)).toBe('3.12.1');
    expect(matchPythonVersion('3.12.2', AVAILABLE)).toBeUndefined();
  });

  it('PEP 440 specifier sets pick the newest allowed', () => {
    expect(matchPythonVersion('>=3.10,<3.13', AVAILABLE)).toBe('3.12.4');
    expect(matchPythonVersion('>=3.10, <3.12', AVAILABLE)).toBe('3.11.9');
    expect(matchPythonVersion('~=3.11', AVAILABLE)).toBe('3.13.0');
    expect(matchPythonVersion('~=3.11.0', AVAILABLE)).toBe('3.11.9');
    expect(matchPythonVersion('!=3.13.*', ['3.12.4', '3.13.0'])).toBe('3.12.4');
    expect(matchPythonVersion('<3', AVAILABLE)).toBeUndefined();
  });

  it('prereleases only when the request names one', () => {
    expect(matchPythonVersion('3.14', AVAILABLE)).toBeUndefined();
    expect(matchPythonVersion('3.14.0rc1', AVAILABLE)).toBe('3.14.0rc1');
    expect(matchPythonVersion('>=3.14.0rc1', AVAILABLE)).toBe('3.14.0rc1');
  });

  it('tolerates prefixes users write', () => {
    for (const req of ['python3.12', 'python-3.12', 'cpython-3.12', 'cpython@3.12', 'python@3.12', ' 3.12 ']) {
      expect(matchPythonVersion(req, AVAILABLE), req).toBe('3.12.4');
    }
  });

  it('ignores entries that are not versions and returns the entry as given', () => {
    expect(matchPythonVersion('3.12', ['system', 'pypy3.10-7.3.12', '3.12.1', 'miniconda3-latest'])).toBe('3.12.1');
  });

  it('throws PROJECT_INVALID for an invalid request', () => {
    expect(() => matchPythonVersion('banana', AVAILABLE)).toThrowError(/banana/);
  });
});

describe('parsePythonRequest', () => {
  it('classifies the forms', () => {
    expect(parsePythonRequest('3')).toMatchObject({ kind: 'major', specifier: '==3.*' });
    expect(parsePythonRequest('3.12')).toMatchObject({ kind: 'minor', specifier: '==3.12.*' });
    expect(parsePythonRequest('3.12.1')).toMatchObject({ kind: 'exact', specifier: '==3.12.1' });
    expect(parsePythonRequest('==3.12.1')).toMatchObject({ kind: 'exact', specifier: '==3.12.1' });
    expect(parsePythonRequest('>=3.10,<3.13')).toMatchObject({ kind: 'specifier', specifier: '>=3.10,<3.13' });
    expect(parsePythonRequest('python-3.11.4')).toMatchObject({ kind: 'exact', normalized: '3.11.4' });
  });

  it.each(['banana', '3.x.y', '', '   ', 'pypy@3.10', '>=banana', '3.12t', 'system'])('rejects %j with PROJECT_INVALID', (raw) => {
    let err: unknown;
    try {
      parsePythonRequest(raw);
    } catch (e) {
      err = e;
    }
    expect(isPymgrError(err, 'PROJECT_INVALID')).toBe(true);
    expect((err as Error).message).toContain(`"${raw}"`);
    expect(isValidPythonRequest(raw)).toBe(false);
  });

  it('isValidPythonRequest accepts the documented forms', () => {
    for (const r of ['3', '3.12', '3.12.1', '==3.12.1', '>=3.10,<3.13', '~=3.11', '!=3.12.*', 'python3.12', 'cpython@3.12', '3.13.0rc1']) {
      expect(isValidPythonRequest(r), r).toBe(true);
    }
  });
});

describe('describePythonRequest', () => {
  it('says what the request means and where it came from', () => {
    expect(describePythonRequest('3.12')).toBe('Python 3.12 (newest 3.12.x)');
    expect(describePythonRequest('3.12.1')).toBe('Python 3.12.1');
    expect(describePythonRequest('>=3.10,<3.13')).toBe('Python >=3.10,<3.13');
    expect(describePythonRequest({ raw: '3.11', source: '.python-version', sourcePath: '/p/.python-version' })).toBe(
      'Python 3.11 (newest 3.11.x) from .python-version (/p/.python-version)',
    );
    expect(describePythonRequest('banana')).toContain('not a valid request');
  });
});

describe('pickDefaultFromSpecifier', () => {
  it('picks the newest allowed known CPython minor', () => {
    expect(pickDefaultFromSpecifier('>=3.10,<3.13')).toBe('3.12');
    expect(pickDefaultFromSpecifier('>=3.9')).toBe('3.14');
    expect(pickDefaultFromSpecifier('==3.11.*')).toBe('3.11');
    expect(pickDefaultFromSpecifier('>=3.8,!=3.14.*')).toBe('3.13');
    expect(pickDefaultFromSpecifier('>=3.10,<3.13', ['3.10', '3.11'])).toBe('3.11');
  });

  it('narrows to the series when only part of it is allowed', () => {
    const picked = pickDefaultFromSpecifier('>=3.12.4,<3.13');
    expect(picked).toBe('>=3.12.4,<3.13,==3.12.*');
    expect(matchPythonVersion(picked!, ['3.12.1', '3.12.3', '3.13.0'])).toBeUndefined();
    expect(matchPythonVersion(picked!, ['3.12.1', '3.12.5', '3.13.0'])).toBe('3.12.5');
    expect(pickDefaultFromSpecifier('==3.12.1')).toBe('==3.12.1,==3.12.*');
  });

  it('returns undefined when no known series is allowed', () => {
    expect(pickDefaultFromSpecifier('<2')).toBeUndefined();
    expect(pickDefaultFromSpecifier('>=4')).toBeUndefined();
  });

  it('throws PROJECT_INVALID for something that is not a specifier', () => {
    expect(() => pickDefaultFromSpecifier('3.10')).toThrowError(/Invalid PEP 440 specifier "3.10"/);
    expect(() => pickDefaultFromSpecifier('^3.10')).toThrowError(/PEP 440/);
  });
});
