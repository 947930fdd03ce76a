/**
 * Probes learnt once, in a container (src/core/probe-cache.ts): a manager's `--version` asked in
 * one process is answered in the next from the host's disk, under the container's id, while the
 * binary there has the same stat; another version at the same path, or none, is noticed on the
 * next call; a small file (a script) is asked every time; `uname` is a fact of the container.
 * A fake manager stands in: a shell script padded past the size under which files are taken for
 * scripts, that appends a line to a file each time it runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeFact, probeBinary } from '../../src/core/probe-cache.js';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { createTestContainer, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);

describe.skipIf(!hasDocker)('probe cache in a container (real engine)', () => {
  let box: TestContainer;
  let stateDir: string;
  const before = process.env.PYMGR_STATE_DIR;
  /** A new executor: what another pymgr process would have (nothing learnt in memory). */
  const fresh = () => DockerExecutor.connect(box.id, { engine: engine! });

  beforeAll(async () => {
    box = await createTestContainer(engine!);
    stateDir = mkdtempSync(join(tmpdir(), 'pymgr-probes-'));
    process.env.PYMGR_STATE_DIR = stateDir;
  });

  afterAll(async () => {
    if (before === undefined) delete process.env.PYMGR_STATE_DIR;
    else process.env.PYMGR_STATE_DIR = before;
    rmSync(stateDir, { recursive: true, force: true });
    await box?.remove();
  });

  /** Write the fake manager at `path` printing `version`, `pad` bytes long (a comment pads it). */
  async function writeTool(ex: DockerExecutor, path: string, version: string, pad: number): Promise<void> {
    const body = `#!/bin/sh\necho run >> /tmp/runs\necho "tool ${version}"\nexit 0\n`;
    await ex.writeFileAtomic(path, body + `#${'x'.repeat(Math.max(0, pad - body.length - 2))}\n`, { mode: 0o755, parents: true });
  }
  const runs = async (ex: DockerExecutor) => (await ex.exec('sh', ['-c', 'cat /tmp/runs 2>/dev/null | wc -l'])).stdout.trim();

  it('a big binary is asked once across processes; another version or none is noticed', async () => {
    const setup = await fresh();
    await writeTool(setup, '/opt/tool/bin/tool', '1.0', 300 * 1024);
    await setup.exec('rm', ['-f', '/tmp/runs']);

    const first = await fresh();
    expect((await probeBinary(first, '/opt/tool/bin/tool', ['--version'])).stdout).toBe('tool 1.0\n');
    expect(await runs(first)).toBe('1');

    // Another process: the stat matches, the answer comes from the host's disk, the tool does not run.
    const second = await fresh();
    await second.prefetch([{ op: 'stat', path: '/opt/tool/bin/tool' }]);
    const execs = second.cost().execs;
    expect((await probeBinary(second, '/opt/tool/bin/tool', ['--version'])).stdout).toBe('tool 1.0\n');
    expect(second.cost().execs - execs).toBe(0);
    expect(await runs(second)).toBe('1');

    // Another version at the same path, the same size: its mtime differs, so it is asked.
    await writeTool(setup, '/opt/tool/bin/tool', '2.0', 300 * 1024);
    const third = await fresh();
    expect((await probeBinary(third, '/opt/tool/bin/tool', ['--version'])).stdout).toBe('tool 2.0\n');
    expect(await runs(third)).toBe('2');

    // Gone: the probe runs (and fails), it is not answered from the disk.
    await setup.exec('rm', ['-f', '/opt/tool/bin/tool']);
    const fourth = await fresh();
    expect((await probeBinary(fourth, '/opt/tool/bin/tool', ['--version'])).exitCode).toBe(127);
  });

  it('a small file (a script, a shim) is asked every time', async () => {
    const setup = await fresh();
    await writeTool(setup, '/opt/shim/bin/tool', '1.0', 0);
    await setup.exec('rm', ['-f', '/tmp/runs']);
    await probeBinary(await fresh(), '/opt/shim/bin/tool', ['--version']);
    await probeBinary(await fresh(), '/opt/shim/bin/tool', ['--version']);
    expect(await runs(setup)).toBe('2');
  });

  it('a fact of the container is learnt once, under its id', async () => {
    let asked = 0;
    const ask = (ex: DockerExecutor) => placeFact(ex, 'uname -s -m', () => {
      asked++;
      return ex.exec('uname', ['-s', '-m']);
    });
    const a = await ask(await fresh());
    const b = await ask(await fresh());
    expect(asked).toBe(1);
    expect(b.stdout).toBe(a.stdout);
    expect(a.stdout).toMatch(/^Linux \S+\n$/);
    // Another container is another place.
    const other = await createTestContainer(engine!);
    try {
      await ask(await DockerExecutor.connect(other.id, { engine: engine! }));
      expect(asked).toBe(2);
    } finally {
      await other.remove();
    }
  });
});
