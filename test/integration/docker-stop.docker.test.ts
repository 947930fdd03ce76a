/**
 * `docker stop` of the container in the middle of a setup (real engine, the host's uv copied in,
 * local wheels): the error is the step that was interrupted, never the lock's release failing
 * afterwards in a container that no longer runs (`Could not run rm`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/api/setup.js';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { copyHostTools } from '../../src/docker/host-tools.js';
import { isPymgrError } from '../../src/errors.js';
import { createTestContainer, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, makeTemp, writeTree } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());

describe.skipIf(!hasDocker || !hasUv)('docker stop mid-setup (real engine)', () => {
  const boxes: TestContainer[] = [];
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.remove()));
    cleanupTemp();
  });

  it('reports the interrupted install step, not the lock release', async () => {
    const wheels = makeTemp('pymgr-wheels-');
    const names = Array.from({ length: 12 }, (_, i) => `pkg${i}`);
    for (const n of names) buildWheel(wheels, n, '1.0', [], 'python3', { padBytes: 2_000_000 });
    const project = writeTree({ 'requirements.txt': names.map((n) => `${n}==1.0`).join('\n') + '\n' });
    mkdirSync(join(project, '.venv'));
    // Not auto-removed: the stopped container stays, as after a real `docker stop`.
    const box = await createTestContainer(engine!, { binds: [`${project}:/work/project`, `${wheels}:/wheels:ro`], stopped: true });
    boxes.push(box);
    await box.container.start();
    const ex = await DockerExecutor.connect(box.id, { engine: engine! });
    const tools = await copyHostTools(ex, { mise: false });
    expect(tools.uv.action).toBe('copied');

    let stopped: Promise<void> | undefined;
    let err: unknown;
    try {
      await setup({
        projectDir: '/work/project',
        executor: ex,
        copyHostTools: false,
        flags: { ...tools.config, provider: 'uv', index: { noIndex: true, findLinks: ['/wheels'] } },
        onProgress: (e) => {
          if (!stopped && e.step === 'install' && /requirement file/.test(e.message)) stopped = box.container.stop(0);
        },
      });
    } catch (e) {
      err = e;
    }
    await stopped;
    expect(stopped, 'the install step was reached').toBeDefined();
    expect(isPymgrError(err), String(err)).toBe(true);
    const message = (err as Error).message;
    // The step that was interrupted: the install (or the start of its program), not `rm` of the lock.
    expect(message).toMatch(/Could not (install 12 requirement file|run `[^`]*\/uv`)/);
    expect(message).not.toMatch(/`rm`|Could not run rm/);
  });
});
