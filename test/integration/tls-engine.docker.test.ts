/**
 * An engine over TLS (the machine's dockerd also listening on 127.0.0.1:2376 with --tlsverify and
 * certificates made by openssl at set-up; the built CLI): good certificates reach it, a wrong CA or
 * missing certificate files are DOCKER_UNAVAILABLE saying which, nothing changed.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findTlsEngine } from '../helpers/tls.js';
import { requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const tls = await findTlsEngine();
const hasTls = requireTool("the engine's TLS listener on 127.0.0.1:2376 (scripts/docker-engine.sh with scripts/docker-tls.sh)", tls);

const PROJECT = '/work/project';

describe.skipIf(!hasDocker || !hasTls)('an engine over TLS (real dockerd --tlsverify)', () => {
  let box: TestContainer;
  let project: string;
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    project = copyFixture('requirements');
    box = await createTestContainer(engine!, { binds: [`${project}:${PROJECT}`] });
  });
  afterAll(async () => {
    await box?.remove();
    cleanupTemp();
  });

  const detect = (certPath: string, extra: Record<string, string | undefined> = {}) =>
    runCli(['detect', PROJECT, '--docker', box.name, '--json'], { env: { DOCKER_HOST: tls!.url, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath, DOCKER_CONTEXT: undefined, ...extra } });

  it('good certificates: detection in the container through tcp+tls', async () => {
    const res = await detect(tls!.client);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ projectDir: PROJECT, projectType: 'requirements' });
  });

  it('a wrong CA: DOCKER_UNAVAILABLE naming the certificate problem; nothing changed', async () => {
    const res = await detect(tls!.wrongCa);
    expect(res.code).toBe(1);
    const err = JSON.parse(res.stdout).error;
    expect(err.code).toBe('DOCKER_UNAVAILABLE');
    expect(err.message).toMatch(/DOCKER_HOST \(tcp\+tls:\/\/127\.0\.0\.1:2376\): .*(self[- ]signed|unable to verify|certificate)/i);
    expect(existsSync(join(project, '.venv'))).toBe(false);
  });

  it('certificate files missing: says which file in which directory', async () => {
    const empty = makeTemp('pymgr-certs-');
    mkdirSync(join(empty, 'sub'));
    const res = await detect(empty);
    expect(res.code).toBe(1);
    const err = JSON.parse(res.stdout).error;
    expect(err.code).toBe('DOCKER_UNAVAILABLE');
    // Every missing file named, in a fixed order (they are read at once: never whichever failed first).
    expect(err.message).toContain(`${empty} has no ca.pem, cert.pem, key.pem`);
    writeFileSync(join(empty, 'ca.pem'), 'x');
    writeFileSync(join(empty, 'key.pem'), 'x');
    const one = JSON.parse((await detect(empty)).stdout).error;
    expect(one.message).toContain(`${empty} has no cert.pem (ENOENT)`);
  });
});
