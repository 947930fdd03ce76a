import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cleanupTemp } from '../helpers/project.js';
import { PEP621, detect, detectError, fixture, project } from './detect-helpers.js';

afterAll(cleanupTemp);

const ALL_SOURCES: Record<string, string> = {
  'requirements.txt': 'six\n',
  '.python-version': '# pinned\n\n3.11\n3.10\n',
  'mise.toml': '[tools]\npython = "3.10"\n',
  '.tool-versions': 'nodejs 20.11.0\npython 3.9.18 3.8.18\n',
  'pyproject.toml': PEP621('versions', [], 'requires-python = ">=3.10,<3.13"\n'),
  'runtime.txt': 'python-3.8.10\n',
};

describe('python version sources (first found wins)', () => {
  it('config beats every file', async () => {
    const d = await detect(project(ALL_SOURCES), { python: '3.13' });
    expect(d.python).toEqual({ raw: '3.13', request: '3.13', source: 'config' });
    expect(d.reasons.find((r) => r.rule === 'python-config')).toBeDefined();
  });

  it('.python-version: first non-comment line', async () => {
    const dir = project(ALL_SOURCES);
    const d = await detect(dir);
    expect(d.python).toEqual({ raw: '3.11', request: '3.11', source: '.python-version', sourcePath: join(dir, '.python-version') });
    expect(d.files.pythonVersionFile).toBe(join(dir, '.python-version'));
  });

  it('mise.toml next: string, list and { version } forms, .mise.toml and .config/mise.toml', async () => {
    const { '.python-version': _, ...rest } = ALL_SOURCES;
    const dir = project(rest);
    expect((await detect(dir)).python).toMatchObject({ raw: '3.10', source: 'mise.toml', sourcePath: join(dir, 'mise.toml') });

    const list = project({ 'requirements.txt': 'six\n', '.mise.toml': '[tools]\npython = ["3.12", "3.11"]\n' });
    expect((await detect(list)).python).toMatchObject({ raw: '3.12', source: 'mise.toml', sourcePath: join(list, '.mise.toml') });

    const table = project({ 'requirements.txt': 'six\n', '.config/mise.toml': '[tools]\npython = { version = "3.11.7" }\n' });
    const t = await detect(table);
    expect(t.python).toMatchObject({ raw: '3.11.7', sourcePath: join(table, '.config', 'mise.toml') });
    expect(t.hasMiseConfig).toBe(true);
    expect(t.files.miseToml).toBe(join(table, '.config', 'mise.toml'));
  });

  it('a mise.toml without python does not answer, but still counts as mise config', async () => {
    const dir = project({ 'requirements.txt': 'six\n', 'mise.toml': '[tools]\nnode = "20"\n', 'runtime.txt': 'python-3.10.4\n' });
    const d = await detect(dir);
    expect(d.python).toMatchObject({ raw: '3.10.4', source: 'runtime.txt' });
    expect(d.hasMiseConfig).toBe(true);
  });

  it('.tool-versions: the first version on the python line', async () => {
    const { '.python-version': _a, 'mise.toml': _b, ...rest } = ALL_SOURCES;
    const dir = project(rest);
    const d = await detect(dir);
    expect(d.python).toMatchObject({ raw: '3.9.18', source: '.tool-versions', sourcePath: join(dir, '.tool-versions') });
    expect(d.hasMiseConfig).toBe(true);
  });

  it('requires-python: the specifier itself (providers pick the newest installed match)', async () => {
    const { '.python-version': _a, 'mise.toml': _b, '.tool-versions': _c, ...rest } = ALL_SOURCES;
    const dir = project(rest);
    const d = await detect(dir);
    expect(d.python).toMatchObject({ raw: '>=3.10,<3.13', source: 'requires-python', sourcePath: join(dir, 'pyproject.toml') });
    expect(d.hasMiseConfig).toBe(false);
    expect(d.reasons.find((r) => r.rule === 'python-requires-python')?.message).toContain('>=3.10,<3.13');
  });

  it('runtime.txt: python-X.Y.Z, prefix removed', async () => {
    const dir = project({ 'requirements.txt': 'six\n', 'runtime.txt': 'python-3.8.10\n' });
    expect((await detect(dir)).python).toMatchObject({ raw: '3.8.10', source: 'runtime.txt', sourcePath: join(dir, 'runtime.txt') });
  });

  it('default: 3, or options.defaultPython', async () => {
    const dir = project({ 'requirements.txt': 'six\n' });
    expect((await detect(dir)).python).toEqual({ raw: '3', request: '3', source: 'default' });
    expect((await detect(dir, {}, { defaultPython: '3.11' })).python).toMatchObject({ raw: '3.11', source: 'default' });
  });

  it('fixtures: each version source', async () => {
    expect((await detect(fixture('python-version-file'))).python).toMatchObject({ raw: '3.11', source: '.python-version' });
    expect((await detect(fixture('mise-project'))).python).toMatchObject({ raw: '3.12', source: 'mise.toml' });
    expect((await detect(fixture('tool-versions'))).python).toMatchObject({ raw: '3.12.1', source: '.tool-versions' });
    expect((await detect(fixture('runtime-txt'))).python).toMatchObject({ raw: '3.11.7', source: 'runtime.txt' });
    expect((await detect(fixture('requires-python-range'))).python).toMatchObject({ raw: expect.stringMatching(/^>=3\.\d+,\s*<3\.\d+$/), source: 'requires-python' });
    expect((await detect(fixture('mise-project'))).hasMiseConfig).toBe(true);
    expect((await detect(fixture('python-version-file'))).hasMiseConfig).toBe(false);
  });

  it('only the project directory is searched, not its parents', async () => {
    const parent = project({ '.python-version': '3.9\n', 'child/requirements.txt': 'six\n' });
    expect((await detect(join(parent, 'child'))).python.source).toBe('default');
  });
});

describe('impossible or invalid versions name their source', () => {
  it('.python-version with banana', async () => {
    const file = join(fixture('impossible-version'), '.python-version');
    const err = await detectError(detect(fixture('impossible-version')));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(file);
    expect(err.message).toContain('"banana"');
    expect(err.details).toMatchObject({ file, source: '.python-version' });
  });

  it('requires-python that allows no known CPython', async () => {
    const dir = project({ 'pyproject.toml': PEP621('old', [], 'requires-python = "<2"\n') });
    const err = await detectError(detect(dir));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(join(dir, 'pyproject.toml'));
    expect(err.message).toContain('project.requires-python "<2"');
  });

  it('requires-python that is not a specifier', async () => {
    const dir = project({ 'pyproject.toml': PEP621('bad', [], 'requires-python = "^3.10"\n') });
    const err = await detectError(detect(dir));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.details).toMatchObject({ key: 'project.requires-python', file: join(dir, 'pyproject.toml') });
  });

  it('an invalid python in the configuration is CONFIG_INVALID', async () => {
    const err = await detectError(detect(project({ 'requirements.txt': 'six\n' }), { python: '3.x.y' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('"python"');
    expect(err.message).toContain('"3.x.y"');
  });

  it('.tool-versions: a bad version names the file and line', async () => {
    const dir = project({ 'requirements.txt': 'six\n', '.tool-versions': 'nodejs 20\npython latest-ish\n' });
    const err = await detectError(detect(dir));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(`${join(dir, '.tool-versions')}:2`);
  });

  it('mise.toml: broken TOML names the file and line; a wrong type names the key', async () => {
    const broken = project({ 'requirements.txt': 'six\n', 'mise.toml': '[tools]\npython = \n' });
    const err = await detectError(detect(broken));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(`${join(broken, 'mise.toml')}:2:`);
    const wrong = project({ 'requirements.txt': 'six\n', 'mise.toml': '[tools]\npython = { ref = "main" }\n' });
    const err2 = await detectError(detect(wrong));
    expect(err2.message).toContain('tools.python');
  });
});
