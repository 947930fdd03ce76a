/**
 * The host-key check of the SSH engine (src/docker/ssh-transport.ts) and the ssh:// address
 * parsing, with keys and hashed names made by the real ssh-keygen.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEngineAddress } from '../../src/docker/find-engine.js';
import { checkKnownHost, knownHostsName, knownKeyTypes } from '../../src/docker/ssh-transport.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';

function keyPair(dir: string, name: string): { line: string; blob: Buffer } {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)]);
  const [type, b64] = readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ');
  return { line: `${type} ${b64}`, blob: Buffer.from(b64, 'base64') };
}

describe('SSH engine: known hosts and addresses', () => {
  afterAll(cleanupTemp);

  it('trusts the recorded key (plain or hashed name, [host]:port), tells a changed key and a revoked one', () => {
    const dir = makeTemp('pymgr-kh-');
    const a = keyPair(dir, 'a');
    const b = keyPair(dir, 'b');
    const name = knownHostsName('127.0.0.1', 2222);
    expect(name).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('gpu-1', 22)).toBe('gpu-1');
    expect(checkKnownHost(`${name} ${a.line}\n`, name, a.blob)).toBe('trusted');
    expect(checkKnownHost(`${name} ${a.line}\n`, name, b.blob)).toBe('other-key');
    expect(checkKnownHost(`127.0.0.1 ${a.line}\n`, name, a.blob)).toBe('unknown'); // port 22's entry is another name
    expect(checkKnownHost(`# comment\nother,${name} ${a.line}\n`, name, a.blob)).toBe('trusted');
    expect(checkKnownHost(`${name} ${a.line}\n@revoked ${name} ${a.line}\n`, name, a.blob)).toBe('revoked');
    // A hashed entry, as `ssh-keygen -H` writes it.
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `${name} ${a.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    const hashed = readFileSync(file, 'utf8');
    expect(hashed).toMatch(/^\|1\|/);
    expect(checkKnownHost(hashed, name, a.blob)).toBe('trusted');
    expect(checkKnownHost(hashed, '[127.0.0.1]:2223', a.blob)).toBe('unknown');
    // The key types recorded for a host (what the connection asks the server for), revoked ones left out.
    expect(knownKeyTypes(`${name} ${a.line}\nother ecdsa-sha2-nistp256 AAAA\n${name} ssh-rsa AAAA\n@revoked ${name} ssh-dss AAAA\n`, name)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(knownKeyTypes(hashed, name)).toEqual(['ssh-ed25519']);
  });

  it('parses ssh:// addresses, and refuses a password, a path or no host', () => {
    expect(parseEngineAddress('ssh://deploy@gpu-1:2200')).toEqual({ kind: 'ssh', host: 'gpu-1', port: 2200, username: 'deploy' });
    expect(parseEngineAddress('ssh://gpu-1', { USER: 'alice' })).toEqual({ kind: 'ssh', host: 'gpu-1', port: 22, username: 'alice' });
    expect(() => parseEngineAddress('ssh://u:secret@gpu-1')).toThrow(/holds a password/);
    expect(() => parseEngineAddress('ssh://gpu-1/var/run/docker.sock')).toThrow(/path or query/);
    expect(() => parseEngineAddress('ssh://')).toThrow();
  });
});
