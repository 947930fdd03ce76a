/** How index credentials are handed to one installer command (src/core/index-access.ts), on real files. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IndexOptions } from '../../src/contracts.js';
import { prepareIndexAccess, splitCredentials, withoutCredentials } from '../../src/core/index-access.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';

const index = (o: Partial<IndexOptions>): IndexOptions => ({ extraUrls: [], findLinks: [], offline: false, noIndex: false, ...o });

describe('index credentials', () => {
  afterAll(cleanupTemp);

  it('splits user and password off a URL (percent-decoded), and leaves other URLs alone', () => {
    expect(splitCredentials('https://bob:p%40ss@pkgs.example.com:8443/simple/')).toEqual({
      url: 'https://pkgs.example.com:8443/simple/', host: 'pkgs.example.com', login: 'bob', password: 'p@ss',
    });
    expect(splitCredentials('https://pkgs.example.com/simple/')).toBeUndefined();
    expect(splitCredentials('/srv/wheels')).toBeUndefined();
    expect(withoutCredentials('https://__token__:abc@x.example/simple')).toBe('https://x.example/simple');
  });

  it('without credentials: plain flags, nothing written', async () => {
    const a = await prepareIndexAccess(new HostExecutor(), index({ url: 'https://x.example/simple', findLinks: ['/w'], offline: true }), 'pip');
    expect(a).toMatchObject({ route: 'flags', env: {}, args: ['--index-url', 'https://x.example/simple', '--find-links', '/w', '--no-index'] });
  });

  it("with credentials: URLs without them as flags, a 0600 netrc in a 0700 directory after the user's own netrc, removed by cleanup", async () => {
    const tmp = makeTemp();
    const home = makeTemp();
    writeFileSync(join(home, '.netrc'), 'machine other.example login me password mine');
    const ex = new HostExecutor({ env: { ...process.env, TMPDIR: tmp, HOME: home, NETRC: undefined } });
    const a = await prepareIndexAccess(ex, index({ url: 'https://bob:pw1@a.example/simple', extraUrls: ['https://eve:pw2@b.example/simple'] }), 'uv');
    expect(a.route).toBe('netrc');
    expect(a.args).toEqual(['--index-url', 'https://a.example/simple', '--extra-index-url', 'https://b.example/simple']);
    expect(a.args.join(' ')).not.toMatch(/pw1|pw2/);
    const file = a.env.NETRC;
    expect(file.startsWith(`${tmp}/pymgr-netrc-`)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, 'utf8');
    expect(text.indexOf('machine other.example')).toBe(0); // the user's entries first: the last entry for a host wins
    expect(text).toContain('machine a.example\nlogin bob\npassword pw1\n');
    expect(text).toContain('machine b.example\nlogin eve\npassword pw2\n');
    await a.cleanup();
    expect(existsSync(dirname(file))).toBe(false);
  });

  it('credentials netrc cannot carry go through the command environment instead', async () => {
    const ex = new HostExecutor({ env: { ...process.env, TMPDIR: makeTemp() } });
    const spaced = await prepareIndexAccess(ex, index({ url: 'https://bob:two%20words@a.example/simple', findLinks: ['/w'] }), 'uv');
    expect(spaced).toMatchObject({ route: 'env', env: { UV_INDEX_URL: 'https://bob:two%20words@a.example/simple' }, args: ['--find-links', '/w'] });
    const token = await prepareIndexAccess(ex, index({ url: 'https://tok@a.example/simple' }), 'pip');
    expect(token).toMatchObject({ route: 'env', env: { PIP_INDEX_URL: 'https://tok@a.example/simple' }, args: [] });
    const twoUsers = await prepareIndexAccess(ex, index({ url: 'https://a:1@h.example/x', extraUrls: ['https://b:2@h.example/y'] }), 'pip');
    expect(twoUsers).toMatchObject({ route: 'env', env: { PIP_INDEX_URL: 'https://a:1@h.example/x', PIP_EXTRA_INDEX_URL: 'https://b:2@h.example/y' } });
  });
});

describe('secrets stay out of what pymgr records', () => {
  it('the fingerprint and the fast-path key are the same with or without the password (it decides nothing, and cannot be guessed from them)', async () => {
    const { computeFingerprint } = await import('../../src/core/fingerprint.js');
    const { quickKey } = await import('../../src/cli/fast-path.js');
    const { defaultConfig } = await import('../../src/config/schema.js');
    const fp = (url: string) =>
      computeFingerprint({
        executor: new HostExecutor(),
        plan: { steps: [], expected: [], index: index({ url, extraUrls: [url] }) },
        provider: { name: 'uv' },
        request: { raw: '3', source: 'default' },
        venvPath: '/nonexistent/.venv',
        config: defaultConfig(),
      });
    const a = await fp('https://bob:first-pw@a.example/simple');
    expect(await fp('https://bob:other-pw@a.example/simple')).toBe(a);
    expect(await fp('https://a.example/simple')).toBe(a);
    expect(await fp('https://bob:first-pw@b.example/simple')).not.toBe(a); // the index itself still counts
    const key = (url: string) => quickKey({ projectDir: '/p', flags: { index: { url } }, env: { PYMGR_INDEX__URL: url } });
    expect(key('https://bob:first-pw@a.example/simple')).toBe(key('https://bob:other-pw@a.example/simple'));
  });
});
