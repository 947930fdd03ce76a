/**
 * A container behind this machine's TLS-inspecting proxy (real engine, real PyPI, the built CLI):
 * the base image does not trust the proxy's CA, so an install from PyPI fails there — unless pymgr
 * carries the host's CA bundle in (config docker.inherit, default [ca, proxy, index]). The bundle is
 * copied into the container and named per exec; nothing is set on the container itself.
 * With `docker.inherit: []` the install fails with a hint that names the setting.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHostCaBundle } from '../../src/docker/inherit.js';
import { createTestContainer, ensureBaseImage, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { cleanupTemp, makeTemp, runCli } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());
const hostCa = findHostCaBundle(process.env);
// The scenario needs a host that names its CA bundle (SSL_CERT_FILE, PIP_CERT, pip.conf cert): this machine kind does.
const hasCa = requireTool("the host's CA bundle (SSL_CERT_FILE / REQUESTS_CA_BUNDLE / PIP_CERT / pip.conf cert)", hostCa);

const PROJECT = '/work/project';

describe.skipIf(!hasDocker || !hasUv || !hasCa)('the host\'s CA bundle carried into a container (real engine, real PyPI)', () => {
  const boxes: TestContainer[] = [];
  beforeAll(async () => {
    await ensureBaseImage(engine!);
  });
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.remove()));
    cleanupTemp();
  });

  async function project(config: Record<string, unknown>): Promise<{ box: TestContainer; dir: string }> {
    const dir = makeTemp('pymgr-inherit-');
    writeFileSync(join(dir, 'requirements.txt'), 'six==1.16.0\n');
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ provider: 'uv', ...config }));
    const box = await createTestContainer(engine!, { binds: [`${dir}:${PROJECT}`] });
    boxes.push(box);
    return { box, dir };
  }

  it('without a CA mounted by hand, installs six from PyPI through the inherited CA; nothing set on the container', async () => {
    const { box } = await project({});
    const res = await runCli(['setup', PROJECT, '--docker', box.name], { timeoutMs: 180_000 });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toMatch(/^ready: \/work\/project\/\.venv \(created\)/m);
    expect(res.stderr).toMatch(/from the host \(docker\.inherit\): CA bundle \S+ \(as \S+\/ca\/host-[0-9a-f]{16}\.pem\) from /);
    const six = execFileSync('docker', ['exec', box.name, `${PROJECT}/.venv/bin/python`, '-c', 'import six; print(six.__file__)'], { encoding: 'utf8' });
    expect(six.trim()).toMatch(/^\/work\/project\/\.venv\/lib\/python3\.\d+\/site-packages\/six\.py$/);
    // The variables went to the managers' execs only: the container's own environment is as it was.
    const env = JSON.parse(execFileSync('docker', ['inspect', '--format', '{{json .Config.Env}}', box.name], { encoding: 'utf8' })) as string[];
    expect(env.join('\n')).not.toMatch(/SSL_CERT_FILE|PIP_CERT|REQUESTS_CA_BUNDLE/);
    // The bundle in the container is the host's, byte for byte.
    const copied = execFileSync('docker', ['exec', box.name, 'sh', '-c', 'cat /root/.cache/pymgr/tools/ca/host-*.pem'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(copied).toBe(hostCa!.pem);
  }, 240_000);

  it('with docker.inherit: [] the install fails, and the hint names the setting', async () => {
    const { box } = await project({ docker: { inherit: [] } });
    const res = await runCli(['setup', PROJECT, '--docker', box.name, '--json'], { timeoutMs: 180_000 });
    expect(res.code).toBe(1);
    const err = JSON.parse(res.stdout).error;
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.message).toMatch(/UnknownIssuer|invalid peer certificate|certificate/i);
    expect(err.hint).toContain('docker.inherit');
    expect(res.stderr).not.toContain('docker.inherit):'); // nothing was carried in
  }, 240_000);
});
