/** writeAtomic on an executor without writeFileAtomic (the host): temporary file + rename, cleaned up on failure. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { writeAtomic } from '../../src/executor/write-atomic.js';

describe('writeAtomic (steps)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pymgr-atomic-'));
  const ex = new HostExecutor();

  it('makes the parents with `parents`, writes with the mode, replaces the old file, leaves nothing else', async () => {
    const file = join(dir, 'a', 'b', 'state.json');
    await writeAtomic(ex, file, 'one', { parents: true, mode: 0o600 });
    await writeAtomic(ex, file, 'two', { mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['state.json']);
  });

  it('a missing directory without `parents` is ENOENT; a failed rename removes its temporary file', async () => {
    await expect(writeAtomic(ex, join(dir, 'missing', 'x'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    mkdirSync(join(dir, 'c', 'target'), { recursive: true });
    await expect(writeAtomic(ex, join(dir, 'c', 'target'), 'x')).rejects.toBeTruthy();
    expect(readdirSync(join(dir, 'c'))).toEqual(['target']);
  });
});
