/**
 * Baked images (real engine, the built CLI, local wheels mounted for the build only): bake a
 * project, run the image with networking disabled and import from the venv; the uv cache is not
 * in the image; bake again → reused at once; a changed requirement → a new image.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureWheels, ensureBaseImage, findTestEngine, BASE_IMAGE } from '../helpers/docker.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findUv, requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);
const hasUv = requireTool('uv', findUv());

describe.skipIf(!hasDocker || !hasUv)('pymgr bake (real engine)', () => {
  const tag = `pymgr-bake-test:${process.pid}`;
  const made: string[] = [];
  let wheels: string;
  beforeAll(async () => {
    await ensureBaseImage(engine!);
    wheels = buildFixtureWheels(makeTemp('pymgr-wheels-'));
  });
  afterAll(async () => {
    for (const id of made) await engine!.removeImage(id).catch(() => undefined);
    cleanupTemp();
  });

  const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' });
  const bake = async (dir: string) => {
    const res = await runCli(['bake', dir, '--image', BASE_IMAGE, '--tag', tag, '--mount', `${wheels}:/wheels:ro`, '--provider', 'uv', '--offline', '--find-links', '/wheels', '--json'], { timeoutMs: 240_000 });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const out = JSON.parse(res.stdout);
    made.push(out.image.id);
    return out;
  };

  it('bakes a verified env, runs it without a network, reuses it, and bakes anew when a requirement changes', async () => {
    const dir = copyFixture('requirements');
    const first = await bake(dir);
    expect(first).toMatchObject({ action: 'created', image: { tag }, venv: '/work/project/.venv', labels: { 'io.pymgr.provider': 'uv' } });
    expect(first.labels['io.pymgr.fingerprint']).toMatch(/^[0-9a-f]{16,}$/);

    // The image alone, no network: the imports come from the venv.
    const imported = docker('run', '--rm', '--network', 'none', tag, '/work/project/.venv/bin/python', '-c', 'import six, idna, sys; print(sys.prefix); print(six.__file__)');
    expect(imported.trim().split('\n')).toEqual(['/work/project/.venv', expect.stringMatching(/^\/work\/project\/\.venv\/lib\/python3\.\d+\/site-packages\/six\/__init__\.py$/)]);
    // uv's cache was a volume: nothing of it in the image; the labels say what is inside.
    expect(docker('run', '--rm', '--network', 'none', tag, 'sh', '-c', 'ls -A /var/cache/pymgr/uv 2>/dev/null | wc -l').trim()).toBe('0');
    const labels = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config.Labels}}', tag));
    expect(labels).toMatchObject({ 'io.pymgr.python': first.labels['io.pymgr.python'], 'io.pymgr.bake-key': first.key });
    // The base image's command, not the build container's idle loop.
    expect(docker('image', 'inspect', '--format', '{{json .Config.Cmd}}', tag).trim()).toBe(docker('image', 'inspect', '--format', '{{json .Config.Cmd}}', BASE_IMAGE).trim());

    // Nothing changed: the same image, no container made, at once.
    const again = await bake(dir);
    expect(again).toMatchObject({ action: 'reused', image: { id: first.image.id } });
    expect(again.durationMs).toBeLessThan(1000);

    // A requirement changed: a new image.
    appendFileSync(`${dir}/requirements.txt`, 'packaging\n');
    const changed = await bake(dir);
    expect(changed.action).toBe('created');
    expect(changed.image.id).not.toBe(first.image.id);
    expect(docker('run', '--rm', '--network', 'none', tag, '/work/project/.venv/bin/python', '-c', 'import packaging; print("ok")').trim()).toBe('ok');
    // No build container left behind.
    expect(docker('ps', '-a', '--filter', `label=io.pymgr.bake=${first.key}`, '--format', '{{.ID}}').trim()).toBe('');
  }, 600_000);
});
