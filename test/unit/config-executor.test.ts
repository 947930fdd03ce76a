import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTemp, rejection, writeTree } from '../helpers/project.js';
import type { Executor } from '../../src/contracts.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { loadConfig } from '../../src/config/load-config.js';

/**
 * A "container" whose file system is a temp directory on the host: container path `/x` is
 * `<root>/x`. Only the file operations the config loader may use are provided; the paths it asks
 * for do not exist on the host, so a loader that read the host instead would find nothing.
 */
function makeContainer(root: string, env: Record<string, string> = { HOME: '/root' }): Executor & { reads: string[] } {
  const host = new HostExecutor();
  const map = (p: string) => join(root, p);
  const reads: string[] = [];
  const unsupported = async (): Promise<never> => {
    throw new Error('not available in this fake');
  };
  return {
    kind: 'docker',
    description: 'container fake (test)',
    reads,
    exec: unsupported,
    writeFile: unsupported,
    mkdir: unsupported,
    remove: unsupported,
    rename: unsupported,
    realpath: unsupported,
    readFile: (p) => {
      reads.push(p);
      return host.readFile(map(p));
    },
    exists: (p) => host.exists(map(p)),
    stat: (p) => host.stat(map(p)),
    readDir: (p) => host.readDir(map(p)),
    getEnv: async () => ({ ...env }),
  };
}

afterEach(cleanupTemp);
const makeFs = (files: Record<string, string>) => writeTree(files, 'pymgr-container-');

describe('config through a non-host executor', () => {
  it('finds static formats by searching up inside the container', async () => {
    const cases: Array<[string, string]> = [
      ['.pymgrrc', 'provider: mise\n'],
      ['.pymgrrc.json', '{ "provider": "mise" }'],
      ['.pymgrrc.yaml', 'provider: mise\n'],
      ['.pymgrrc.yml', 'provider: mise\n'],
      ['package.json', '{ "pymgr": { "provider": "mise" } }'],
      ['pyproject.toml', '[tool.pymgr]\nprovider = "mise"\n'],
    ];
    for (const [name, content] of cases) {
      const root = makeFs({ [`srv/${name}`]: content, 'srv/app/src/requirements.txt': '' });
      const executor = makeContainer(root);
      const r = await loadConfig({ projectDir: '/srv/app/src', env: {}, executor });
      expect(r.config.provider, name).toBe('mise');
      expect(r.file).toBe(`/srv/${name}`);
      expect(r.sources.provider).toEqual({ source: 'file', file: `/srv/${name}` });
      expect(executor.reads).toContain(`/srv/${name}`);
    }
  });

  it('skips package.json without pymgr and pyproject.toml without [tool.pymgr]', async () => {
    const root = makeFs({
      'srv/.pymgrrc.json': '{ "python": "3.9" }',
      'srv/app/package.json': '{ "name": "app" }',
      'srv/app/pyproject.toml': '[project]\nname = "app"\n',
    });
    const r = await loadConfig({ projectDir: '/srv/app', env: {}, executor: makeContainer(root) });
    expect(r.file).toBe('/srv/.pymgrrc.json');
    expect(r.config.python).toBe('3.9');
  });

  it('stops at the container HOME (or stopDir)', async () => {
    const root = makeFs({ '.pymgrrc': 'provider: uv\n', 'home/me/proj/requirements.txt': '' });
    const r = await loadConfig({ projectDir: '/home/me/proj', env: {}, executor: makeContainer(root, { HOME: '/home/me' }) });
    expect(r.file).toBeUndefined();
    const r2 = await loadConfig({ projectDir: '/home/me/proj', env: {}, executor: makeContainer(root, {}) });
    expect(r2.file).toBe('/.pymgrrc');
    const r3 = await loadConfig({ projectDir: '/home/me/proj', env: {}, stopDir: '/home', executor: makeContainer(root, {}) });
    expect(r3.file).toBeUndefined();
  });

  it('a JavaScript config in the container is CONFIG_INVALID', async () => {
    const root = makeFs({ 'app/pymgr.config.mjs': 'export default { provider: "uv" };\n' });
    const err = await rejection(loadConfig({ projectDir: '/app', env: {}, executor: makeContainer(root) }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('/app/pymgr.config.mjs');
    expect(err.message).toContain('container fake (test)');
  });

  it('a broken file is CONFIG_INVALID with the file and the line', async () => {
    const root = makeFs({ 'app/.pymgrrc.json': '{\n  "provider": "uv",\n  "python": \n}' });
    const err = await rejection(loadConfig({ projectDir: '/app', env: {}, executor: makeContainer(root) }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('/app/.pymgrrc.json');
    expect(err.details?.file).toBe('/app/.pymgrrc.json');
  });

  it('validation errors name the container path', async () => {
    const root = makeFs({ 'app/.pymgrrc.yaml': 'provdier: uv\n' });
    const err = await rejection(loadConfig({ projectDir: '/app', env: {}, executor: makeContainer(root) }));
    expect(err.message).toContain('/app/.pymgrrc.yaml');
    expect(err.message).toContain('did you mean "provider"?');
  });

  it('an explicit config file is read through the executor; a missing one is an error', async () => {
    const root = makeFs({ 'etc/pymgr.yaml': 'provider: pyenv\n', 'app/requirements.txt': '' });
    const executor = makeContainer(root);
    const r = await loadConfig({ projectDir: '/app', env: {}, executor, configFile: '/etc/pymgr.yaml' });
    expect(r.config.provider).toBe('pyenv');
    const err = await rejection(loadConfig({ projectDir: '/app', env: {}, executor, configFile: '../etc/missing.yaml' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('/etc/missing.yaml');
  });
});
