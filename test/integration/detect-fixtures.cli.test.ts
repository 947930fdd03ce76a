/**
 * `pymgr detect <fixture> --json` through the built CLI gives the right answer for every fixture:
 * the project type and the Python request with its source, or the stated error code, exit status
 * and a message naming the file. Managers are only probed (nothing is installed); a project with
 * mise config gets mise (found on PATH as `npx` puts it there).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/project.js';
import { repoRoot } from '../helpers/tools.js';

type Expected =
  | { type: string; python: string; source: string; provider?: string }
  | { error: string; exit: number; names: string };

const EXPECTED: Record<string, Expected> = {
  'broken-toml': { error: 'PROJECT_INVALID', exit: 1, names: 'pyproject.toml at line 7' },
  'config-bad-key': { error: 'CONFIG_INVALID', exit: 2, names: '.pymgrrc: unknown key "provdier" (did you mean "provider"?)' },
  'config-broken-json': { error: 'CONFIG_INVALID', exit: 2, names: '.pymgrrc' },
  'config-unknown-provider': { error: 'CONFIG_INVALID', exit: 2, names: '"conda" is not allowed for provider' },
  'config-package-json': { type: 'requirements', python: '3.12', source: 'config', provider: 'mise' },
  'config-pyproject': { type: 'pyproject', python: '3.11', source: 'config', provider: 'pyenv' },
  'config-yaml': { type: 'requirements', python: '3.12', source: 'config', provider: 'uv' },
  'impossible-version': { error: 'PROJECT_INVALID', exit: 1, names: '.python-version: invalid Python version "banana"' },
  'mise-project': { type: 'requirements', python: '3.12', source: 'mise.toml', provider: 'mise' },
  'mix-pyproject-setuppy': { type: 'pyproject', python: '3', source: 'default', provider: 'uv' },
  'mix-setuppy-requirements': { type: 'setuptools', python: '3', source: 'default', provider: 'uv' },
  'mix-uv-requirements': { type: 'uv', python: '3.12', source: '.python-version', provider: 'uv' },
  'not-python': { error: 'PROJECT_UNRECOGNISED', exit: 1, names: 'not-python' },
  'pyproject-flit': { type: 'pyproject', python: '3', source: 'default' },
  'pyproject-hatch': { type: 'pyproject', python: '3', source: 'default' },
  'pyproject-pdm': { type: 'pyproject', python: '3', source: 'default' },
  'pyproject-poetry': { type: 'pyproject', python: '3', source: 'default' },
  'pyproject-setuptools': { type: 'pyproject', python: '3', source: 'default' },
  'python-version-file': { type: 'requirements', python: '3.11', source: '.python-version' },
  quickstart: { type: 'requirements', python: '3', source: 'default' },
  requirements: { type: 'requirements', python: '3', source: 'default' },
  'requires-python-range': { type: 'pyproject', python: '>=3.10,<3.13', source: 'requires-python' },
  'runtime-txt': { type: 'requirements', python: '3.11.7', source: 'runtime.txt' },
  'rye-project': { type: 'rye', python: '3.12', source: '.python-version', provider: 'uv' },
  setupcfg: { type: 'setuptools', python: '3', source: 'default' },
  setuppy: { type: 'setuptools', python: '3', source: 'default' },
  'tool-versions': { type: 'requirements', python: '3.12.1', source: '.tool-versions', provider: 'mise' },
  'uv-project': { type: 'uv', python: '3.12', source: '.python-version', provider: 'uv' },
};

describe('pymgr detect --json on every fixture (built CLI)', () => {
  const fixtures = readdirSync(join(repoRoot, 'fixtures'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

  it('every fixture has an expected answer here', () => {
    expect(fixtures.filter((f) => !(f in EXPECTED))).toEqual([]);
  });

  for (const name of Object.keys(EXPECTED)) {
    it(name, async () => {
      const dir = join(repoRoot, 'fixtures', name);
      // As `npx pymgr` runs it: node_modules/.bin (mise, a dev dependency) on PATH.
      const res = await runCli(['detect', dir, '--json'], { env: { PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}` } });
      const out = JSON.parse(res.stdout); // exactly one JSON document on stdout
      const want = EXPECTED[name];
      if ('error' in want) {
        expect(res.code).toBe(want.exit);
        expect(out.ok).toBe(false);
        expect(out.error.code).toBe(want.error);
        expect(out.error.message).toContain(want.names);
        expect(out.error.hint).toBeTruthy();
      } else {
        expect(res.code, res.stderr).toBe(0);
        expect(out.projectType).toBe(want.type);
        expect(out.python).toMatchObject({ request: want.python, source: want.source });
        if (want.provider) expect(out.provider.name).toBe(want.provider);
        expect(out.reasons.length).toBeGreaterThan(0);
        expect(res.stderr).toBe('');
      }
    });
  }
});
