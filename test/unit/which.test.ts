import { describe, expect, it } from 'vitest';
import type { Executor, FileStat } from '../../src/contracts.js';
import { findOnPath, isExecutableFile, resolvePyenvShim } from '../../src/executor/which.js';

/** An executor over an in-memory map of paths; `deny` paths throw EACCES like an unreadable directory. */
function fakeFs(files: Record<string, Partial<FileStat> | 'EACCES'>, text: Record<string, string> = {}): Executor {
  const stat = async (p: string): Promise<FileStat | undefined> => {
    const f = files[p];
    if (f === 'EACCES') throw Object.assign(new Error(`EACCES: ${p}`), { code: 'EACCES' });
    if (!f) return undefined;
    return { isFile: true, isDirectory: false, isSymbolicLink: false, uid: 0, gid: 0, mode: 0o755, size: 1, mtimeMs: 0, ...f };
  };
  return {
    kind: 'host',
    description: 'fake',
    stat,
    realpath: async (p: string) => p,
    readDir: async (d: string) => {
      const names = Object.keys(files).filter((p) => p.startsWith(`${d}/`)).map((p) => p.slice(d.length + 1).split('/')[0]);
      return names.length ? [...new Set(names)].sort() : undefined;
    },
    readFile: async (p: string) => {
      if (p in text) return text[p];
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
    getEnv: async () => ({ PATH: '/denied/bin:/usr/bin' }),
  } as unknown as Executor;
}

describe('findOnPath', () => {
  it('skips a PATH entry it may not look into, like which(1)', async () => {
    const ex = fakeFs({ '/denied/bin/uv': 'EACCES', '/usr/bin/uv': {} });
    expect(await findOnPath(ex, 'uv')).toBe('/usr/bin/uv');
    expect(await isExecutableFile(ex, '/denied/bin/uv')).toBe(false);
  });

  it('ignores files without an execute bit and directories', async () => {
    const ex = fakeFs({ '/denied/bin/uv': { mode: 0o644 }, '/usr/bin/uv': { isFile: false, isDirectory: true } });
    expect(await findOnPath(ex, 'uv')).toBeUndefined();
  });
});

describe('resolvePyenvShim', () => {
  it('prefers the global version\'s executable, then any version that has it', async () => {
    const files = { '/p/versions/3.11.7/bin/uv': {}, '/p/versions/3.12.1/bin/uv': {}, '/p/shims/uv': {} };
    expect(await resolvePyenvShim(fakeFs(files, { '/p/version': '3.11.7\n' }), '/p/shims/uv')).toBe('/p/versions/3.11.7/bin/uv');
    expect(await resolvePyenvShim(fakeFs(files), '/p/shims/uv')).toBe('/p/versions/3.12.1/bin/uv');
    expect(await resolvePyenvShim(fakeFs({ '/p/versions/3.12.1/bin/python': {} }), '/p/shims/uv')).toBeUndefined();
    expect(await resolvePyenvShim(fakeFs(files), '/usr/bin/uv')).toBe('/usr/bin/uv');
  });
});
