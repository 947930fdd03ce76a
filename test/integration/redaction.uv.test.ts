/**
 * Credentials in index URLs never reach any output, in success and in failure, in both output modes.
 * Real uv; packages come from a local find-links directory of wheels the test builds itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redact } from '../../src/redact.js';
import { cleanupTemp, makeTemp, runCli } from '../helpers/project.js';
import { buildWheel } from '../helpers/wheels.js';
import { findUv, requireTool } from '../helpers/tools.js';

const run = requireTool('uv', findUv());
const SECRET = 'hunter2-s3cr3t';

describe.skipIf(!run)('credentials are redacted (real uv)', () => {
  afterAll(cleanupTemp);

  it('redact() hides passwords and bare tokens in URLs', () => {
    expect(redact(`https://me:${SECRET}@example.invalid/simple`)).toBe('https://me:***@example.invalid/simple');
    expect(redact(`https://${SECRET}@example.invalid/simple`)).toBe('https://***@example.invalid/simple');
    expect(redact('https://example.invalid/simple')).toBe('https://example.invalid/simple');
    // A login name in an ssh address is not a secret (a fleet file's engine, --engine); its password is.
    expect(redact('ssh://me@gpu-1')).toBe('ssh://me@gpu-1');
    expect(redact(`ssh://me:${SECRET}@gpu-1`)).toBe('ssh://me:***@gpu-1');
  });

  it('the text output of config, detect, env and doctor redacts them too', async () => {
    const { dir, wheels } = project();
    const made = await runCli(['setup', dir, '--provider', 'uv', '--offline', '--find-links', wheels]);
    expect(made.code, made.stderr).toBe(0);
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({
      index: { url: `https://user:${SECRET}@127.0.0.1:9/simple`, extraUrls: [`https://${SECRET}@127.0.0.1:9/extra`], findLinks: [wheels, `https://u:${SECRET}@127.0.0.1:9/links`] },
    }));
    for (const args of [['config'], ['config', '--all'], ['detect'], ['env'], ['doctor']]) {
      const res = await runCli([...args, dir], { env: { PYMGR_INDEX__EXTRA_URLS: undefined } });
      expect(res.stdout + res.stderr, args.join(' ')).not.toContain(SECRET);
    }
    const cfg = await runCli(['config', dir]);
    expect(cfg.stdout).toContain('user:***@127.0.0.1');
    const fromEnv = await runCli(['config', dir], { env: { PYMGR_INDEX__URL: `https://user:${SECRET}@127.0.0.1:9/simple` } });
    expect(fromEnv.stdout).toContain('(env: PYMGR_INDEX__URL)');
    expect(fromEnv.stdout).not.toContain(SECRET);
  });

  function project(): { dir: string; wheels: string } {
    const root = makeTemp();
    const wheels = join(root, 'wheels');
    mkdirSync(wheels);
    buildWheel(wheels, 'pymgr-local-dep', '1.0.0');
    const dir = join(root, 'proj');
    mkdirSync(dir);
    writeFileSync(join(dir, 'requirements.txt'), 'pymgr-local-dep==1.0.0\n');
    return { dir, wheels };
  }

  it('in a successful setup (index unused: --no-index with local wheels)', async () => {
    const { dir, wheels } = project();
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ index: { url: `https://user:${SECRET}@127.0.0.1:9/simple`, noIndex: true, findLinks: [wheels] } }));
    for (const mode of [['--json'], ['-v']]) {
      const res = await runCli(['setup', dir, '--provider', 'uv', ...mode]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(SECRET);
    }
    const cfg = await runCli(['config', dir, '--json']);
    expect(cfg.stdout).toContain('user:***@127.0.0.1');
    expect(cfg.stdout + cfg.stderr).not.toContain(SECRET);
  });

  it('in a failing setup (the index with credentials is unreachable)', async () => {
    const { dir } = project();
    for (const mode of [['--json'], [], ['-v']]) {
      const res = await runCli(['setup', dir, '--provider', 'uv', '--index-url', `http://user:${SECRET}@127.0.0.1:9/simple`, ...mode], { env: { UV_HTTP_RETRIES: '0' } });
      expect(res.code).toBe(1);
      expect(res.stdout + res.stderr).toMatch(/127\.0\.0\.1/);
      expect(res.stdout + res.stderr).not.toContain(SECRET);
    }
  });
});
