/**
 * scripts/fetch-cpython-tarball.sh takes its Debian mirror from the stanza that serves bookworm
 * itself (Types include deb, Suites include bookworm; not deb-src, not another release, not
 * bookworm-security), and PYMGR_DEBIAN_MIRROR overrides it. Runs the script with fake apt sources
 * (PYMGR_APT_DIR), a fake python-build definition and a `curl` that only logs the URL it was given.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { repoRoot } from '../helpers/tools.js';

const SOURCES = `Types: deb-src
URIs: http://source-only.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment line inside a stanza
URIs: http://trixie.example/debian
Suites: trixie trixie-updates
Components: main

Types: deb deb-src
URIs: http://right.example/debian/
Suites: bookworm bookworm-updates
Components: main
`;

function runFetch(env: Record<string, string>): { status: number | null; stderr: string; curlUrls: string[] } {
  const tmp = makeTemp('pymgr-fetch-cpython-');
  const apt = join(tmp, 'apt');
  mkdirSync(join(apt, 'sources.list.d'), { recursive: true });
  writeFileSync(join(apt, 'sources.list.d', 'debian.sources'), SOURCES);
  const root = join(tmp, 'pyenv');
  const defs = join(root, 'plugins', 'python-build', 'share', 'python-build');
  mkdirSync(defs, { recursive: true });
  writeFileSync(join(defs, '3.11.2'), `install_package "Python-3.11.2" "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz#${'a'.repeat(64)}"\n`);
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  const log = join(tmp, 'curl.log');
  writeFileSync(join(bin, 'curl'), `#!/bin/sh\nfor a in "$@"; do case "$a" in http*) echo "$a" >> '${log}';; esac; done\nexit 22\n`, { mode: 0o755 });
  const run = spawnSync('bash', [join(repoRoot, 'scripts', 'fetch-cpython-tarball.sh'), '3.11.2', join(tmp, 'cache'), root], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp, PYMGR_TEST_CPYTHON_CACHE: join(tmp, 'stable'), PYMGR_APT_DIR: apt, ...env },
    encoding: 'utf8',
  });
  return { status: run.status, stderr: run.stderr, curlUrls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [] };
}

describe('scripts/fetch-cpython-tarball.sh: which mirror', () => {
  afterAll(() => cleanupTemp());

  it('the deb stanza whose Suites include bookworm', () => {
    const r = runFetch({});
    expect(r.status, r.stderr).not.toBe(0); // the fake curl fails
    expect(r.curlUrls).toEqual(['http://right.example/debian/pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz']);
  });

  it('PYMGR_DEBIAN_MIRROR overrides the sources', () => {
    const r = runFetch({ PYMGR_DEBIAN_MIRROR: 'http://override.example/debian/' });
    expect(r.curlUrls).toEqual(['http://override.example/debian/pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz']);
  });
});
