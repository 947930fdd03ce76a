import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  discoverRequirementFiles,
  isDevRequirementFile,
  parseRequirementLines,
  readRequirementNames,
} from '../../src/detect/requirement-files.js';
import { normalizeName, parseRequirementName } from '../../src/detect/requirement-names.js';
import { cleanupTemp } from '../helpers/project.js';
import { executor, project } from './detect-helpers.js';

afterAll(cleanupTemp);

describe('requirement names', () => {
  it('normalises names (PEP 503)', () => {
    expect(normalizeName('Foo_Bar.baz--Qux')).toBe('foo-bar-baz-qux');
  });

  it('parses PEP 508 names, dropping extras, versions and URLs', () => {
    expect(parseRequirementName('attrs[tests]>=23; python_version>"3.8"')).toEqual({ name: 'attrs', conditional: true });
    expect(parseRequirementName('Zope.Interface (>=5)')).toEqual({ name: 'zope-interface', conditional: false });
    expect(parseRequirementName('pkg @ https://example.com/pkg-1.0.tar.gz')).toEqual({ name: 'pkg', conditional: false });
    expect(parseRequirementName('six')).toEqual({ name: 'six', conditional: false });
    expect(parseRequirementName('not a name')).toBeUndefined();
  });
});

describe('requirement files', () => {
  it('splits lines: comments, continuations, options', () => {
    const lines = parseRequirementLines('# c\n-r base.txt\n--requirement=more.txt\n-rtight.txt\n-c pins.txt\nsix \\\n  ==1.16.0  # pinned\n--index-url https://x/simple\n');
    expect(lines).toEqual([
      { kind: 'include', target: 'base.txt', line: 2 },
      { kind: 'include', target: 'more.txt', line: 3 },
      { kind: 'include', target: 'tight.txt', line: 4 },
      { kind: 'constraint', target: 'pins.txt', line: 5 },
      { kind: 'requirement', text: 'six ==1.16.0', line: 6 },
      { kind: 'option', text: '--index-url https://x/simple', line: 8 },
    ]);
  });

  it('reads names from every form pip accepts, following -r relative to the including file', async () => {
    const dir = project({
      'requirements.txt': [
        '-r sub/extra.txt',
        '-c constraints.txt',
        'Six==1.16.0 --hash=sha256:abc',
        'attrs[tests]>=23',
        'colorama; sys_platform == "win32"',
        'https://example.com/wheels/unnamed-1.0-py3-none-any.whl',
        'git+https://github.com/org/named.git@v1#egg=Named_Pkg',
        './local/dir',
        '-e .',
        '-e ./other',
        '-e git+https://github.com/org/edit.git#egg=edit-pkg',
        '--extra-index-url https://example.com/simple',
        'pkg-at @ https://example.com/pkg_at-1.0.tar.gz',
      ].join('\n'),
      'sub/extra.txt': '-r ../base.txt\nidna==3.7\n',
      'base.txt': 'packaging\n-r sub/extra.txt\n',
    });
    const names = await readRequirementNames(executor, join(dir, 'requirements.txt'), dir);
    expect(names.names).toEqual(['packaging', 'idna', 'six', 'attrs', 'named-pkg', 'edit-pkg', 'pkg-at']);
    expect(names.conditional).toEqual(['colorama']);
    expect(names.includesProject).toBe(true);
    expect(names.filesRead).toEqual([join(dir, 'requirements.txt'), join(dir, 'sub/extra.txt'), join(dir, 'base.txt')]);
  });

  it('recognises development files', () => {
    for (const f of ['/p/requirements-dev.txt', '/p/requirements_test.txt', '/p/requirements.docs.txt', '/p/requirements/dev.txt', '/p/requirements/test-unit.txt']) {
      expect(isDevRequirementFile(f), f).toBe(true);
    }
    for (const f of ['/p/requirements.txt', '/p/requirements-prod.txt', '/p/requirements/base.txt', '/p/requirements-devops.txt']) {
      expect(isDevRequirementFile(f), f).toBe(false);
    }
  });

  it('selection: includes only count from selected files; cycles end', async () => {
    const dir = project({
      'requirements.txt': 'six\n',
      'requirements-dev.txt': '-r requirements.txt\npytest\n',
      'requirements-a.txt': '-r requirements-b.txt\n',
      'requirements-b.txt': '-r requirements-a.txt\n',
      'constraints.txt': 'six==1.16.0\n',
    });
    const entries = (await executor.readDir(dir))!;
    const plain = await discoverRequirementFiles(executor, dir, entries, false);
    expect(plain.selected).toEqual([join(dir, 'requirements.txt'), join(dir, 'requirements-a.txt')]);
    expect(plain.constraints).toEqual([join(dir, 'constraints.txt')]);
    const dev = await discoverRequirementFiles(executor, dir, entries, true);
    expect(dev.selected).toEqual([join(dir, 'requirements-a.txt'), join(dir, 'requirements-dev.txt')]);
    expect(dev.excluded).toContainEqual({ file: join(dir, 'requirements.txt'), why: `included by ${join(dir, 'requirements-dev.txt')}` });
  });
});
