/**
 * A uv.lock out of date with pyproject.toml, as far as names tell without uv (what pip-based
 * managers check before installing a uv project under the default lock policy `locked`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requirementsMissingFromUvLock } from '../../providers/common/install.js';
import { repoRoot } from '../helpers/tools.js';

const lock = readFileSync(join(repoRoot, 'fixtures', 'uv-project', 'uv.lock'), 'utf8');
const pyproject = readFileSync(join(repoRoot, 'fixtures', 'uv-project', 'pyproject.toml'), 'utf8');

describe('requirementsMissingFromUvLock', () => {
  it('a lock made for the project misses nothing (optional dependencies included)', () => {
    expect(requirementsMissingFromUvLock(lock, pyproject)).toEqual([]);
  });

  it('a dependency or an optional dependency added since: named (normalised names compared)', () => {
    const added = pyproject.replace('dependencies = ["six==1.16.0"]', 'dependencies = ["Six>=1.16", "packaging ; python_version >= \'3.8\'"]');
    expect(requirementsMissingFromUvLock(lock, added)).toEqual(['packaging']);
    const extra = pyproject.replace('idna = ["idna==3.7"]', 'idna = ["idna==3.7", "attrs[tests]>=23"]');
    expect(requirementsMissingFromUvLock(lock, extra)).toEqual(['attrs']);
  });

  it('what cannot be told says nothing: no record of the project in the lock, a pyproject that does not parse', () => {
    expect(requirementsMissingFromUvLock(lock.replace(/\[package\.metadata\][\s\S]*?provides-extras = \["idna"\]\n/, ''), pyproject.replace('["six==1.16.0"]', '["six", "packaging"]'))).toEqual([]);
    expect(requirementsMissingFromUvLock(lock, '[project\nbroken')).toEqual([]);
  });
});
