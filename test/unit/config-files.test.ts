import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { repoRoot } from '../helpers/tools.js';
import { cleanupTemp, rejection, writeTree } from '../helpers/project.js';

afterEach(cleanupTemp);
const makeTree = (files: Record<string, string>) => writeTree(files, 'pymgr-config-');

describe('config file formats', () => {
  const cases: Array<[string, string]> = [
    ['.pymgrrc', 'provider: mise\n'],
    ['.pymgrrc', '{ "provider": "mise" }\n'],
    ['.pymgrrc.json', '{ "provider": "mise" }'],
    ['.pymgrrc.yaml', 'provider: mise\n'],
    ['.pymgrrc.yml', 'provider: mise\n'],
    ['.pymgrrc.js', 'module.exports = { provider: "mise" };\n'],
    ['.pymgrrc.cjs', 'module.exports = { provider: "mise" };\n'],
    ['.pymgrrc.mjs', 'export default { provider: "mise" };\n'],
    ['pymgr.config.js', 'module.exports = { provider: "mise" };\n'],
    ['pymgr.config.cjs', 'module.exports = { provider: "mise" };\n'],
    ['pymgr.config.mjs', 'export default { provider: "mise" };\n'],
    ['package.json', '{ "name": "x", "pymgr": { "provider": "mise" } }'],
    ['pyproject.toml', '[project]\nname = "x"\n\n[tool.pymgr]\nprovider = "mise"\n'],
  ];
  for (const [name, content] of cases) {
    it(`finds ${name}${name === '.pymgrrc' && content.startsWith('{') ? ' (JSON)' : ''}`, async () => {
      const root = makeTree({ [name]: content });
      const resolved = await loadConfig({ projectDir: root, env: {}, stopDir: root });
      expect(resolved.config.provider).toBe('mise');
      expect(resolved.file).toBe(join(root, name));
      expect(resolved.sources.provider).toEqual({ source: 'file', file: join(root, name) });
      expect(resolved.sources.python).toEqual({ source: 'default' });
    });
  }

  it('skips a package.json without "pymgr" and a pyproject.toml without [tool.pymgr]', async () => {
    const root = makeTree({
      '.pymgrrc.yaml': 'python: "3.10"\n',
      'proj/package.json': '{ "name": "x" }',
      'proj/pyproject.toml': '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n',
    });
    const resolved = await loadConfig({ projectDir: join(root, 'proj'), env: {}, stopDir: root });
    expect(resolved.file).toBe(join(root, '.pymgrrc.yaml'));
    expect(resolved.config.python).toBe('3.10');
  });

  it('prefers .pymgrrc over package.json and pyproject.toml in the same directory', async () => {
    const root = makeTree({
      '.pymgrrc': 'provider: uv\n',
      'package.json': '{ "pymgr": { "provider": "mise" } }',
      'pyproject.toml': '[tool.pymgr]\nprovider = "pyenv"\n',
    });
    const resolved = await loadConfig({ projectDir: root, env: {}, stopDir: root });
    expect(resolved.config.provider).toBe('uv');
  });

  it('returns defaults with no file', async () => {
    const root = makeTree({ 'requirements.txt': '' });
    const resolved = await loadConfig({ projectDir: root, env: {}, stopDir: root });
    expect(resolved.file).toBeUndefined();
    expect(resolved.config.provider).toBe('auto');
    expect(resolved.config.preference).toEqual(['uv', 'mise', 'pyenv']);
    expect(Object.values(resolved.sources).every((s) => s.source === 'default')).toBe(true);
  });
});

describe('searching up', () => {
  it('finds the nearest file from a subdirectory', async () => {
    const root = makeTree({
      '.pymgrrc.json': '{ "provider": "pyenv" }',
      'a/.pymgrrc.yaml': 'provider: uv\n',
      'a/b/c/requirements.txt': '',
    });
    const fromDeep = await loadConfig({ projectDir: join(root, 'a', 'b', 'c'), env: {}, stopDir: root });
    expect(fromDeep.file).toBe(join(root, 'a', '.pymgrrc.yaml'));
    expect(fromDeep.config.provider).toBe('uv');
    const fromTop = await loadConfig({ projectDir: root, env: {}, stopDir: root });
    expect(fromTop.config.provider).toBe('pyenv');
  });

  it('does not look above the stop directory', async () => {
    const root = makeTree({ '.pymgrrc': 'provider: uv\n', 'home/proj/requirements.txt': '' });
    const resolved = await loadConfig({ projectDir: join(root, 'home', 'proj'), env: {}, stopDir: join(root, 'home') });
    expect(resolved.file).toBeUndefined();
    // The stop directory itself is searched.
    writeFileSync(join(root, 'home', '.pymgrrc'), 'provider: mise\n');
    const again = await loadConfig({ projectDir: join(root, 'home', 'proj'), env: {}, stopDir: join(root, 'home') });
    expect(again.config.provider).toBe('mise');
  });

  it('a broken file in a parent directory is an error naming it', async () => {
    const root = makeTree({ 'pyproject.toml': '[tool.pymgr\nprovider = "uv"\n', 'sub/requirements.txt': '' });
    const err = await rejection(loadConfig({ projectDir: join(root, 'sub'), env: {}, stopDir: root }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(join(root, 'pyproject.toml'));
    expect(err.message).toMatch(/line 1/);
    expect(err.details?.file).toBe(join(root, 'pyproject.toml'));
  });
});

describe('explicit config file', () => {
  it('loads the named file instead of searching (relative to the project directory)', async () => {
    const root = makeTree({ '.pymgrrc': 'provider: uv\n', 'conf/pymgr.yaml': 'provider: mise\n' });
    const resolved = await loadConfig({ projectDir: root, env: {}, stopDir: root, configFile: 'conf/pymgr.yaml' });
    expect(resolved.file).toBe(join(root, 'conf', 'pymgr.yaml'));
    expect(resolved.config.provider).toBe('mise');
  });

  it('PYMGR_CONFIG names the file when no configFile is given', async () => {
    const root = makeTree({ '.pymgrrc': 'provider: uv\n', 'other.json': '{ "provider": "pyenv" }' });
    const resolved = await loadConfig({ projectDir: root, env: { PYMGR_CONFIG: join(root, 'other.json') }, stopDir: root });
    expect(resolved.config.provider).toBe('pyenv');
    expect(resolved.sources.provider).toEqual({ source: 'file', file: join(root, 'other.json') });
  });

  it('a missing named file is CONFIG_INVALID', async () => {
    const root = makeTree({ '.pymgrrc': 'provider: uv\n' });
    const err = await rejection(loadConfig({ projectDir: root, env: {}, stopDir: root, configFile: 'nope.json' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(join(root, 'nope.json'));
    expect(err.message).toMatch(/not found/);
  });

  it('a named pyproject.toml without [tool.pymgr] is CONFIG_INVALID', async () => {
    const root = makeTree({ 'pyproject.toml': '[project]\nname = "x"\n' });
    const err = await rejection(loadConfig({ projectDir: root, env: {}, stopDir: root, configFile: 'pyproject.toml' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/\[tool\.pymgr\]/);
  });

  it('a named file that fails to parse is CONFIG_INVALID with its location', async () => {
    const root = makeTree({ 'c.json': '{\n  "provider": "uv",\n  "python": \n}\n' });
    const err = await rejection(loadConfig({ projectDir: root, env: {}, stopDir: root, configFile: 'c.json' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(join(root, 'c.json'));
    expect(err.message).toMatch(/JSON/);
  });

  it('a JavaScript config that throws is CONFIG_INVALID naming the file', async () => {
    const root = makeTree({ 'pymgr.config.cjs': 'throw new Error("boom");\n' });
    const err = await rejection(loadConfig({ projectDir: root, env: {}, stopDir: root }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(join(root, 'pymgr.config.cjs'));
    expect(err.message).toContain('boom');
  });
});

describe('fixtures', () => {
  const fixture = (name: string) => join(repoRoot, 'fixtures', name);
  const load = (name: string) => loadConfig({ projectDir: fixture(name), env: {}, stopDir: fixture(name) });

  it('config-bad-key: unknown key with the file, key path and a suggestion', async () => {
    const err = await rejection(load('config-bad-key'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(join(fixture('config-bad-key'), '.pymgrrc'));
    expect(err.message).toContain('"provdier"');
    expect(err.message).toContain('did you mean "provider"?');
    expect(err.details).toMatchObject({ file: join(fixture('config-bad-key'), '.pymgrrc'), keyPath: 'provdier' });
    expect(err.details?.allowed).toContain('provider');
    expect(err.hint).toContain('"provider"');
  });

  it('config-unknown-provider: lists the allowed values', async () => {
    const err = await rejection(load('config-unknown-provider'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('.pymgrrc.json');
    expect(err.message).toContain('"conda"');
    expect(err.message).toContain('auto, uv, mise, pyenv');
    expect(err.details).toMatchObject({ keyPath: 'provider', allowed: ['auto', 'uv', 'mise', 'pyenv'] });
  });

  it('config-broken-json: names the file and the line', async () => {
    const err = await rejection(load('config-broken-json'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(join(fixture('config-broken-json'), '.pymgrrc'));
    expect(err.message).toMatch(/line 3/);
    expect(err.details).toMatchObject({ file: join(fixture('config-broken-json'), '.pymgrrc'), line: 3 });
  });

  it('config-yaml', async () => {
    const r = await load('config-yaml');
    expect(r.config).toMatchObject({ provider: 'uv', python: '3.12', venv: '.venv-yaml' });
    expect(r.config.index).toMatchObject({ offline: true, findLinks: ['./wheels'] });
    expect(r.config.dependencies.extras).toEqual(['dev']);
  });

  it('config-pyproject', async () => {
    const r = await load('config-pyproject');
    expect(r.file).toBe(join(fixture('config-pyproject'), 'pyproject.toml'));
    expect(r.config).toMatchObject({ provider: 'pyenv', python: '3.11' });
    expect(r.config.index.offline).toBe(true);
    expect(r.config.providers.pyenv.install).toBe(false);
    expect(r.sources['providers.pyenv.install'].source).toBe('file');
  });

  it('config-package-json', async () => {
    const r = await load('config-package-json');
    expect(r.config).toMatchObject({ provider: 'mise', python: '3.12' });
    expect(r.config.dependencies.dev).toBe(true);
  });
});
