/** The host executor's removal of a whole env (`remove` with `large`: `rm -rf`), on a real tree. */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostExecutor } from '../../src/executor/host-executor.js';

describe('removing a whole env on the host (remove with `large`)', () => {
  it('removes a tree of thousands of entries, hard links and a symbolic link pointing out of it included, and nothing outside', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pymgr-large-'));
    try {
      const outside = join(root, 'outside.txt');
      writeFileSync(outside, 'keep\n');
      const tree = join(root, 'env');
      for (let d = 0; d < 50; d++) {
        mkdirSync(join(tree, 'lib', `pkg${d}`), { recursive: true });
        for (let f = 0; f < 40; f++) writeFileSync(join(tree, 'lib', `pkg${d}`, `m${f}.py`), 'x = 1\n');
      }
      linkSync(outside, join(tree, 'hardlink.txt'));
      symlinkSync(outside, join(tree, 'symlink.txt'));
      const ex = new HostExecutor();
      await ex.remove(tree, { recursive: true, large: true });
      expect(existsSync(tree)).toBe(false);
      expect(readFileSync(outside, 'utf8')).toBe('keep\n');
      await ex.remove(tree, { recursive: true, large: true }); // gone already: no error
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
