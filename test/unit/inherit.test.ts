/**
 * What a container inherits from the host (src/docker/inherit.ts), as pure logic over real files:
 * which CA bundle is taken (and where it was named), which variables are carried per kind, and that
 * a URL's password never shows in what is reported.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findHostCaBundle, inheritHostSettings } from '../../src/docker/inherit.js';
import type { DockerExecutor } from '../../src/docker/docker-executor.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('inherit from the host', () => {
  afterAll(cleanupTemp);

  it('takes the first CA bundle named and readable: SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT, then pip.conf cert', () => {
    const dir = makeTemp('pymgr-ca-');
    const a = join(dir, 'a.pem');
    const b = join(dir, 'b.pem');
    writeFileSync(a, PEM);
    writeFileSync(b, PEM.replace('MIIB', 'MIIC'));
    const home = join(dir, 'home');
    expect(findHostCaBundle({ SSL_CERT_FILE: a, PIP_CERT: b }, home)).toMatchObject({ path: a, from: 'SSL_CERT_FILE' });
    // Named but missing, or not a PEM bundle: the next one.
    expect(findHostCaBundle({ SSL_CERT_FILE: join(dir, 'missing.pem'), REQUESTS_CA_BUNDLE: join(dir, 'home'), PIP_CERT: b }, home)).toMatchObject({ path: b, from: 'PIP_CERT' });
    const conf = join(dir, 'pip.conf');
    writeFileSync(conf, '[global]\ntimeout = 60\ncert = ' + a + '\n');
    expect(findHostCaBundle({ PIP_CONFIG_FILE: conf }, home)).toMatchObject({ path: a, from: `cert in ${conf}` });
    writeFileSync(conf, '[freeze]\ncert = ' + a + '\n');
    expect(findHostCaBundle({ PIP_CONFIG_FILE: conf }, home)?.from ?? 'none').not.toBe(`cert in ${conf}`);
  });

  it('carries proxy and index variables per kind, either case, passwords redacted in the report', async () => {
    const hostEnv = {
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      PIP_INDEX_URL: 'https://bob:s3cr3t@pypi.example/simple',
      UV_DEFAULT_INDEX: 'https://pypi.example/simple',
      PIP_FIND_LINKS: '/opt/wheels', // a host path: never carried
      PATH: '/usr/bin',
    };
    const none = {} as DockerExecutor; // no CA asked for: the container is not touched
    const both = await inheritHostSettings(none, ['proxy', 'index'], { toolsDir: '/t', hostEnv });
    expect(both.env).toEqual({
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      PIP_INDEX_URL: 'https://bob:s3cr3t@pypi.example/simple',
      UV_DEFAULT_INDEX: 'https://pypi.example/simple',
    });
    expect(JSON.stringify(both.settings)).not.toContain('s3cr3t');
    expect(both.settings.map((s) => s.from)).toEqual(['HTTPS_PROXY', 'no_proxy', 'PIP_INDEX_URL', 'UV_DEFAULT_INDEX']);
    expect((await inheritHostSettings(none, ['proxy'], { toolsDir: '/t', hostEnv })).env).toEqual({ HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'localhost' });
    expect(await inheritHostSettings(none, [], { toolsDir: '/t', hostEnv })).toEqual({ env: {}, settings: [] });
    // A proxy on the host's loopback is the container itself in there: not carried, and said so.
    const local = await inheritHostSettings(none, ['proxy'], { toolsDir: '/t', hostEnv: { HTTP_PROXY: 'http://127.0.0.1:3128', https_proxy: 'localhost:3128', NO_PROXY: 'localhost' } });
    expect(local.env).toEqual({ NO_PROXY: 'localhost' });
    expect(local.settings.map((x) => x.what).join('\n')).toMatch(/HTTP_PROXY not carried: .*loopback/);
  });
});
