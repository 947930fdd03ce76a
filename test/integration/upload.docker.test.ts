/**
 * Uploading a project the engine cannot see (real engine, the built CLI, local wheels): the
 * container has no bind mount of the project; `setup --upload` sends it through the archive API,
 * honouring .gitignore/.dockerignore, never a venv or .git, keeping modes, links and non-ASCII
 * names; the next run sends nothing when nothing changed, one file when one file changed.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureWheels, createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, makeTemp, runCli } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());

const TARGET = '/work/app';

describe.skipIf(!hasDocker || !hasUv)('setup --upload: a project the engine cannot see (real engine)', () => {
  let box: TestContainer;
  let wheels: string;
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    wheels = buildFixtureWheels(makeTemp('pymgr-wheels-'));
    box = await createTestContainer(engine!, { binds: [`${wheels}:/wheels:ro`] }); // no bind of the project
  });
  afterAll(async () => {
    await box?.remove();
    cleanupTemp();
  });

  const inBox = (script: string) => execFileSync('docker', ['exec', box.name, 'sh', '-c', script], { encoding: 'utf8' });
  const setup = async (dir: string) => {
    const res = await runCli(['setup', dir, '--docker', box.name, '--upload', TARGET, '--provider', 'uv', '--offline', '--find-links', '/wheels', '--json']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    return JSON.parse(res.stdout);
  };

  it('uploads what the project is, verifies there, then sends nothing, one file, a removal', async () => {
    const dir = makeTemp('pymgr-upload-');
    writeFileSync(join(dir, 'requirements.txt'), 'six==1.16.0\n');
    writeFileSync(join(dir, '.gitignore'), 'build/\n*.log\n');
    writeFileSync(join(dir, '.dockerignore'), 'secrets.txt\n');
    writeFileSync(join(dir, 'secrets.txt'), 'not for the container\n');
    writeFileSync(join(dir, 'debug.log'), 'x\n');
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', 'out.bin'), 'x');
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(dir, 'old-venv', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'old-venv', 'pyvenv.cfg'), 'home = /usr/bin\n');
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho run\n');
    chmodSync(join(dir, 'run.sh'), 0o755);
    symlinkSync('requirements.txt', join(dir, 'reqs-link'));
    mkdirSync(join(dir, 'données'));
    writeFileSync(join(dir, 'données', 'é.txt'), 'unicode\n');
    mkdirSync(join(dir, 'pkg'));
    writeFileSync(join(dir, 'pkg', '.gitignore'), 'local.cfg\n');
    writeFileSync(join(dir, 'pkg', 'local.cfg'), 'ignored below pkg/\n');
    writeFileSync(join(dir, 'pkg', 'mod.py'), 'X = 1\n');

    const first = await setup(dir);
    expect(first).toMatchObject({ projectDir: TARGET, venv: { action: 'created', path: `${TARGET}/.venv` }, isolation: { verified: true } });
    expect(first.upload.sent).toBeGreaterThan(0);
    expect(first.upload.bytes).toBeGreaterThan(0);
    const listing = inBox(`cd ${TARGET} && find . -path ./.venv -prune -o -print | sort`).trim().split('\n');
    expect(listing).toEqual(expect.arrayContaining(['./run.sh', './reqs-link', './données/é.txt', './pkg/mod.py', './requirements.txt', './.gitignore']));
    for (const absent of ['./secrets.txt', './debug.log', './build', './.git', './old-venv', './pkg/local.cfg']) expect(listing, absent).not.toContain(absent);
    expect(inBox(`stat -c '%a %F' ${TARGET}/run.sh ${TARGET}/reqs-link`).trim().split('\n')).toEqual(['755 regular file', '777 symbolic link']);
    expect(inBox(`readlink ${TARGET}/reqs-link`).trim()).toBe('requirements.txt');
    expect(inBox(`cat ${TARGET}/données/é.txt`)).toBe('unicode\n');

    // Nothing changed: nothing sent, the env reused.
    const again = await setup(dir);
    expect(again.upload).toMatchObject({ sent: 0, bytes: 0, removed: 0 });
    expect(again.venv.action).toBe('reused');

    // One file changed: that file only.
    appendFileSync(join(dir, 'pkg', 'mod.py'), 'Y = 2\n');
    const one = await setup(dir);
    expect(one.upload).toMatchObject({ sent: 1, bytes: 12, removed: 0 });
    expect(inBox(`cat ${TARGET}/pkg/mod.py`)).toBe('X = 1\nY = 2\n');

    // A file changed in the container (not here): sent again, the container's change undone.
    inBox(`echo 'Z = 3' >> ${TARGET}/pkg/mod.py`);
    const repaired = await setup(dir);
    expect(repaired.upload).toMatchObject({ sent: 1, removed: 0 });
    expect(inBox(`cat ${TARGET}/pkg/mod.py`)).toBe('X = 1\nY = 2\n');

    // One file removed on the host: removed in the container.
    rmSync(join(dir, 'run.sh'));
    const removed = await setup(dir);
    expect(removed.upload).toMatchObject({ sent: 0, removed: 1 });
    expect(inBox(`test -e ${TARGET}/run.sh && echo there || echo gone`).trim()).toBe('gone');

    // A directory that leaves the project (removed, or newly ignored) goes with what was sent in it,
    // never with what was made there in the container: that stays, and the directory with it.
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'seed.txt'), 'seed\n');
    mkdirSync(join(dir, 'empty-later'));
    writeFileSync(join(dir, 'empty-later', 'x.txt'), 'x\n');
    await setup(dir);
    inBox(`echo results > ${TARGET}/data/results.db`);
    writeFileSync(join(dir, '.gitignore'), 'build/\n*.log\ndata/\n');
    rmSync(join(dir, 'empty-later'), { recursive: true });
    const left = await setup(dir);
    expect(left.upload.removed).toBe(4);
    expect(inBox(`cat ${TARGET}/data/results.db`)).toBe('results\n');
    expect(inBox(`ls -A ${TARGET}/data; test -e ${TARGET}/empty-later && echo there || echo gone`).trim().split('\n')).toEqual(['results.db', 'gone']);
  });

  it('a host directory that does not exist: PROJECT_UNRECOGNISED, nothing uploaded', async () => {
    const res = await runCli(['setup', join(makeTemp(), 'nope'), '--docker', box.name, '--upload', '/work/other', '--json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).error.code).toBe('PROJECT_UNRECOGNISED');
    expect(inBox('test -e /work/other && echo there || echo absent').trim()).toBe('absent');
  });
});
