/**
 * Build aside inside a container (real engine, the host's uv copied in, local wheels): the previous
 * env is moved aside and put back through the DockerExecutor (renames and `cp -al` run in the
 * container), so a failing update or rebuild leaves it byte for byte, and a good rebuild publishes at
 * the final path with nothing left beside it. The project is bind-mounted, so the host checks the bytes.
 */
import { existsSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from '../../src/api/setup.js';
import { describeEnv } from '../../src/api/env.js';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { copyHostTools } from '../../src/docker/host-tools.js';
import { createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, rejection } from '../helpers/project.js';
import { makeWheelhouse, requirementsProject, treeFingerprint } from '../helpers/aside.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const run = requireTool('Docker engine', engine) && requireTool('uv', findUv());
const PROJECT = '/work/project';

describe.skipIf(!run)('build aside in a container (real engine, uv copied in)', () => {
  let box: TestContainer;
  let ex: DockerExecutor;
  let dir: string;
  let flags: Record<string, unknown>;
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    const wheels = makeWheelhouse();
    dir = requirementsProject();
    box = await createTestContainer(engine!, { binds: [`${dir}:${PROJECT}`, `${realpathSync(wheels)}:/wheels:ro`] });
    ex = await DockerExecutor.connect(box.id, { engine: engine! });
    const tools = await copyHostTools(ex, { mise: false });
    flags = { ...tools.config, provider: 'uv', index: { noIndex: true, findLinks: ['/wheels'] } };
  });
  afterAll(async () => {
    await box?.remove();
    cleanupTemp();
  });

  it('a failing update and a failing rebuild leave the env byte for byte; a good rebuild publishes in place', async () => {
    const first = await setup({ projectDir: PROJECT, executor: ex, flags });
    expect(first.venv.action).toBe('created');
    const venv = join(dir, '.venv');
    const before = treeFingerprint(venv);
    const leftovers = () => readdirSync(dir).filter((n) => n.includes('pymgr-prev'));

    // An update in place (a hard-link snapshot in the container) that fails.
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\nno-such-package-pymgr==1.0\n');
    const err = await rejection(setup({ projectDir: PROJECT, executor: ex, flags }));
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.message).toMatch(/previous env at \/work\/project\/\.venv was kept as it was/);
    expect(treeFingerprint(venv)).toEqual(before);
    expect(leftovers()).toEqual([]);
    expect((await describeEnv({ projectDir: PROJECT, executor: ex, flags })).state).toBe('outdated');

    // A rebuild (beta dropped: the env is moved aside in the container) that fails.
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nno-such-package-pymgr==1.0\n');
    const err2 = await rejection(setup({ projectDir: PROJECT, executor: ex, flags }));
    expect(err2.message).toMatch(/was kept as it was/);
    expect(treeFingerprint(venv)).toEqual(before);
    expect(leftovers()).toEqual([]);
    const imp = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import alpha, beta']);
    expect(imp.exitCode, imp.stderr).toBe(0);

    // A good rebuild: published at the final path, the previous env gone.
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\ngamma==1.0\n');
    const good = await setup({ projectDir: PROJECT, executor: ex, flags });
    expect(good.venv).toEqual({ path: `${PROJECT}/.venv`, action: 'rebuilt', reason: 'no longer requested: beta' });
    expect(leftovers()).toEqual([]);
    expect(existsSync(join(venv, 'bin', 'activate'))).toBe(true);
    const after = await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import alpha, gamma, sys; print(sys.prefix)']);
    expect(after.stdout.trim()).toBe(`${PROJECT}/.venv`);
    expect((await ex.exec(`${PROJECT}/.venv/bin/python`, ['-c', 'import beta'])).exitCode).not.toBe(0);
    expect((await describeEnv({ projectDir: PROJECT, executor: ex, flags })).state).toBe('ready');
  });
});
