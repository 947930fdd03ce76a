/**
 * Build aside, killed at every step: an executor that "dies" (every call throws from then on) after
 * its k-th file operation runs a rebuild (move) and an update (copy) on a real venv-shaped tree, for
 * every k; then recovery with a live executor must leave exactly the previous tree, or exactly the
 * new one when the new env had been recorded ready. Real files and the real `cp`, no managers.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectAside, recoverAside, saveAside, type AsideMode } from '../../src/core/build-aside.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { treeFingerprint } from '../helpers/aside.js';

class Killed extends Error {}

/** A host executor that dies after `budget` operations that change something. */
class DyingExecutor extends HostExecutor {
  used = 0;
  constructor(private readonly budget: number) {
    super();
  }
  private tick(): void {
    if (++this.used > this.budget) throw new Killed('killed');
  }
  override async exec(...a: Parameters<HostExecutor['exec']>) { this.tick(); return super.exec(...a); }
  override async writeFile(...a: Parameters<HostExecutor['writeFile']>) { this.tick(); return super.writeFile(...a); }
  override async mkdir(...a: Parameters<HostExecutor['mkdir']>) { this.tick(); return super.mkdir(...a); }
  override async remove(...a: Parameters<HostExecutor['remove']>) { this.tick(); return super.remove(...a); }
  override async rename(...a: Parameters<HostExecutor['rename']>) { this.tick(); return super.rename(...a); }
}

function state(build: string, status = 'ready'): string {
  return JSON.stringify({ schema: 1, status, fingerprint: build, provider: { name: 'uv' }, python: { version: '3.12.1', executable: '/x', request: '3' }, projectType: 'requirements', projectDir: '/p', build, updatedAt: 'now' });
}

/** A venv-shaped tree: scripts, a site-packages with a .pth, a symlink, pymgr's state. */
function makeVenv(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'lib', 'python3.12', 'site-packages', 'alpha'), { recursive: true });
  mkdirSync(join(dir, '.pymgr'));
  writeFileSync(join(dir, 'pyvenv.cfg'), 'home = /usr/bin\n');
  writeFileSync(join(dir, 'bin', 'tool'), '#!/venv/bin/python\n');
  symlinkSync('/usr/bin/python3', join(dir, 'bin', 'python'));
  writeFileSync(join(dir, 'lib', 'python3.12', 'site-packages', 'alpha', '__init__.py'), 'A = 1\n');
  writeFileSync(join(dir, 'lib', 'python3.12', 'site-packages', 'easy-install.pth'), '/old\n');
  writeFileSync(join(dir, '.pymgr', 'state.json'), state('old'));
}

/** One setup's work on `dir` through `ex`: keep aside, build (as a rebuild or an update), record, drop the old. */
async function build(ex: HostExecutor, dir: string, mode: AsideMode): Promise<void> {
  const aside = await saveAside(ex, dir, mode, 'new');
  const site = join(dir, 'lib', 'python3.12', 'site-packages');
  await ex.mkdir(join(dir, '.pymgr'), { recursive: true });
  await ex.writeFile(join(dir, '.pymgr', 'state.json'), state('new', 'in-progress'));
  if (mode === 'move') {
    // A fresh venv in the emptied directory.
    await ex.mkdir(join(dir, 'bin'));
    await ex.mkdir(join(site, 'beta'), { recursive: true });
    await ex.writeFile(join(dir, 'pyvenv.cfg'), 'home = /other\n');
  } else {
    // As installers do: unlink and create (never write into a package file), append to a .pth in place.
    await ex.remove(join(site, 'alpha', '__init__.py'));
    await ex.writeFile(join(site, 'alpha', '__init__.py'), 'A = 2\n');
    await ex.mkdir(join(site, 'beta'));
    await ex.writeFile(join(site, 'beta', '__init__.py'), 'B = 1\n');
    writeFileSync(join(site, 'easy-install.pth'), '/old\n/new\n'); // in place, same inode
  }
  await ex.writeFile(join(dir, 'bin', 'tool'), '#!/venv/bin/python # new\n');
  await ex.writeFile(join(dir, '.pymgr', 'state.json.tmp'), state('new'));
  await ex.rename(join(dir, '.pymgr', 'state.json.tmp'), join(dir, '.pymgr', 'state.json'));
  await aside.discard();
}

describe('build aside survives a kill at every step', () => {
  afterAll(cleanupTemp);

  for (const mode of ['move', 'copy'] as const) {
    it(`${mode === 'move' ? 'a rebuild (previous env moved aside)' : 'an update in place (hard-link snapshot)'}: previous or new env, never a mix`, async () => {
      const root = makeTemp('pymgr-aside-unit-');
      // The fingerprints of the previous and of the finished new env, from a run nobody kills.
      const ref = join(root, 'ref', '.venv');
      makeVenv(ref);
      const old = treeFingerprint(ref);
      await build(new HostExecutor(), ref, mode);
      const done = treeFingerprint(ref);
      expect(done).not.toEqual(old);
      expect(await inspectAside(new HostExecutor(), ref)).toBeUndefined();

      let completed = false;
      let restored = 0;
      for (let k = 0; !completed; k++) {
        expect(k, 'the work should finish within 200 operations').toBeLessThan(200);
        const dir = join(root, `k${k}`, '.venv');
        makeVenv(dir);
        const before = treeFingerprint(dir);
        const ex = new DyingExecutor(k);
        try {
          await build(ex, dir, mode);
          completed = true;
        } catch (err) {
          if (!(err instanceof Killed)) throw err;
        }
        const live = new HostExecutor();
        const status = await inspectAside(live, dir);
        const did = await recoverAside(live, dir);
        expect(did?.action).toBe(status?.action);
        if (did?.action === 'restore') restored++;
        const after = treeFingerprint(dir);
        const got = JSON.stringify(after);
        expect([JSON.stringify(old), JSON.stringify(done)], `killed after ${k} operations`).toContain(got);
        expect(before).toEqual(old);
        // The new env only once it was recorded ready; a finished run leaves nothing aside.
        const isNew = got === JSON.stringify(done);
        expect(isNew, `killed after ${k}: new env without its ready state`).toBe(JSON.parse(readFileSync(join(dir, '.pymgr', 'state.json'), 'utf8')).build === 'new');
        expect(await inspectAside(live, dir)).toBeUndefined();
        rmSync(join(root, `k${k}`), { recursive: true, force: true });
      }
      expect(restored).toBeGreaterThan(3);
    });
  }
});
