import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTemp, rejection, writeTree } from '../helpers/project.js';
import type { PymgrError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load-config.js';
import { measureEditDistance, suggestName } from '../../src/config/suggest-name.js';

afterEach(cleanupTemp);

async function errorFor(name: string, content: string): Promise<{ err: PymgrError; file: string }> {
  const root = writeTree({ [name]: content }, 'pymgr-config-');
  return { err: await rejection(loadConfig({ projectDir: root, stopDir: root, env: {} })), file: join(root, name) };
}

describe('validation errors', () => {
  it('an unknown nested key names the file, the key path and suggests the right key', async () => {
    const { err, file } = await errorFor('.pymgrrc.json', '{ "index": { "ofline": true } }');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(file);
    expect(err.message).toContain('"index.ofline"');
    expect(err.message).toContain('did you mean "index.offline"?');
    expect(err.details).toMatchObject({ file, keyPath: 'index.ofline', suggestion: 'offline' });
    expect(err.details?.allowed).toEqual(['url', 'extraUrls', 'findLinks', 'offline', 'noIndex']);
  });

  it('snake_case spelling of a camelCase key is suggested', async () => {
    const { err } = await errorFor('.pymgrrc.yaml', 'index:\n  extra_urls: [x]\n');
    expect(err.message).toContain('did you mean "index.extraUrls"?');
  });

  it('an unknown key with nothing close lists the allowed keys without a guess', async () => {
    const { err } = await errorFor('.pymgrrc.yaml', 'zzzzzz: 1\n');
    expect(err.message).not.toContain('did you mean');
    expect(err.message).toContain('allowed keys: $schema, provider');
  });

  it('a bad enum deep in providers lists the allowed values', async () => {
    const { err, file } = await errorFor('pyproject.toml', '[tool.pymgr.providers.uv]\nlinkMode = "reflink"\n');
    expect(err.message).toContain(`${file} [tool.pymgr]`);
    expect(err.message).toContain('providers.uv.linkMode');
    expect(err.message).toContain('auto, copy, hardlink, symlink, clone');
    expect(err.details).toMatchObject({ file, keyPath: 'providers.uv.linkMode', allowed: ['auto', 'copy', 'hardlink', 'symlink', 'clone'] });
  });

  it('a wrong type names the expected type', async () => {
    const { err } = await errorFor('.pymgrrc.yaml', 'index:\n  offline: "maybe"\n');
    expect(err.message).toContain('index.offline');
    expect(err.message).toContain('a boolean');
    expect(err.details).toMatchObject({ keyPath: 'index.offline', allowed: 'a boolean (true or false)' });
  });

  it('an unquoted version number is rejected with a hint to quote it', async () => {
    const { err } = await errorFor('.pymgrrc.yaml', 'python: 3.10\n');
    expect(err.details).toMatchObject({ keyPath: 'python', allowed: 'a string' });
    expect(err.hint).toMatch(/Quote the value of python/);
  });

  it('a bad list item names its index', async () => {
    const { err } = await errorFor('.pymgrrc.yaml', 'preference: [uv, conda]\n');
    expect(err.details).toMatchObject({ keyPath: 'preference[1]', allowed: ['uv', 'mise', 'pyenv'] });
  });

  it('several problems are all listed', async () => {
    const { err } = await errorFor('.pymgrrc.yaml', 'provdier: uv\nvenv: 3\nverify:\n  timeoutMs: -5\n');
    expect(err.message).toMatch(/3 problems/);
    expect(err.message).toContain('provdier');
    expect(err.message).toContain('venv');
    expect(err.message).toContain('verify.timeoutMs');
    expect((err.details?.problems as unknown[]).length).toBe(3);
  });

  it('a document that is not a mapping is rejected', async () => {
    const { err } = await errorFor('.pymgrrc', '- uv\n- mise\n');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/must be an object/);
  });

  it('the $schema key is allowed', async () => {
    const root = writeTree({ '.pymgrrc.json': '{ "$schema": "./config.schema.json", "provider": "uv" }' }, 'pymgr-config-');
    const r = await loadConfig({ projectDir: root, stopDir: root, env: {} });
    expect(r.config.$schema).toBe('./config.schema.json');
  });
});

describe('suggestName', () => {
  it('counts a swap of two letters as one edit', () => {
    expect(measureEditDistance('provdier', 'provider')).toBe(1);
    expect(measureEditDistance('abc', 'abc')).toBe(0);
    expect(measureEditDistance('', 'abc')).toBe(3);
  });
  it('suggests only plausible typos', () => {
    const keys = ['provider', 'preference', 'python', 'venv'];
    expect(suggestName('provdier', keys)).toBe('provider');
    expect(suggestName('Python', keys)).toBe('python');
    expect(suggestName('venvv', keys)).toBe('venv');
    expect(suggestName('dependencies', keys)).toBeUndefined();
  });
});
