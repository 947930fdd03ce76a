/**
 * An env another user owns is left alone (real engine, built CLI, local wheels): a setup as uid
 * 1000 (`--user`) of a venv root built fails before anything changes, naming the owner, and the
 * env stays root's, byte for byte (the kept-aside copies made as 1000 used to be put back as 1000's).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureWheels, createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, makeTemp, runCli } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';
import { treeFingerprint } from '../helpers/aside.js';
import { execFileSync } from 'node:child_process';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());

describe.skipIf(!hasDocker || !hasUv)('an env another user owns (real engine)', () => {
  let box: TestContainer;
  let dir: string;
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    const wheels = buildFixtureWheels(makeTemp('pymgr-wheels-'));
    dir = makeTemp('pymgr-owned-');
    mkdirSync(join(dir, 'proj'));
    writeFileSync(join(dir, 'proj', 'requirements.txt'), 'six==1.16.0\n');
    chmodSync(join(dir, 'proj'), 0o777); // uid 1000 may take the lock beside the venv
    box = await createTestContainer(engine!, { binds: [`${join(dir, 'proj')}:/proj`, `${wheels}:/wheels:ro`] });
  });
  afterAll(async () => {
    await box?.remove();
    cleanupTemp();
  });

  it('a setup as uid 1000 of root\'s venv: PROJECT_INVALID naming the owner, the env unchanged and still root\'s', async () => {
    const flags = ['--docker', box.name, '--provider', 'uv', '--offline', '--find-links', '/wheels'];
    const made = await runCli(['setup', '/proj', ...flags, '--json']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    const venv = join(dir, 'proj', '.venv');
    const before = treeFingerprint(venv);
    const asUser = await runCli(['setup', '/proj', ...flags, '--user', '1000:1000', '--json']);
    expect(asUser.code).toBe(1);
    expect(JSON.parse(asUser.stdout).error).toMatchObject({ code: 'PROJECT_INVALID', message: expect.stringMatching(/^\/proj\/.venv belongs to uid 0; pymgr runs as uid 1000 here and cannot update it \(the previous env at \/proj\/.venv was kept as it was\)$/) });
    expect(treeFingerprint(venv)).toEqual(before);
    const owners = execFileSync('docker', ['exec', box.name, 'sh', '-c', 'find /proj/.venv ! -uid 0 | head -3'], { encoding: 'utf8' });
    expect(owners).toBe('');
    expect((await runCli(['env', '/proj', ...flags, '--json'])).code).toBe(0);
  });
});
