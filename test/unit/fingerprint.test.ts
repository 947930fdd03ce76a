/**
 * The fingerprint leaves out how packages are fetched (offline, no-index, find-links), and an env
 * recorded before that (whose fingerprint held them) still matches its unchanged inputs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeFingerprint, fingerprintMatches, type FingerprintInput } from '../../src/core/fingerprint.js';
import { defaultConfig } from '../../src/config/schema.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';

afterAll(cleanupTemp);

const dir = makeTemp('pymgr-fp-');
writeFileSync(join(dir, 'requirements.txt'), 'six==1.16.0\n');

function input(index: Partial<FingerprintInput['plan']['index']>): FingerprintInput {
  return {
    executor: new HostExecutor(),
    plan: { steps: [{ kind: 'requirements', files: ['/p/requirements.txt'], constraints: [] }], expected: ['six'], index: { extraUrls: [], findLinks: [], offline: false, noIndex: false, ...index } },
    provider: { name: 'uv', version: '0.13.9', found: true } as FingerprintInput['provider'],
    request: { raw: '3.12', source: 'default' } as FingerprintInput['request'],
    venvPath: '/p/.venv',
    config: defaultConfig(),
    inputs: [join(dir, 'requirements.txt')],
  };
}

describe('fingerprint', () => {
  it('how packages are fetched is not an input; where they come from (index.url) is', async () => {
    const plain = await computeFingerprint(input({}));
    expect(await computeFingerprint(input({ offline: true, noIndex: true, findLinks: ['/wheels'] }))).toBe(plain);
    expect(await computeFingerprint(input({ url: 'https://example.invalid/simple' }))).not.toBe(plain);
  });

  it('a fingerprint recorded with the fetch settings (before they left it) still matches', async () => {
    const offline = input({ offline: true, findLinks: ['/wheels'] });
    const recorded = await computeFingerprint(offline, { withTransport: true });
    expect(recorded).not.toBe(await computeFingerprint(offline));
    expect(await fingerprintMatches(offline, recorded)).toBe(true);
    expect(await fingerprintMatches(input({ offline: true, findLinks: ['/other'] }), recorded)).toBe(false);
    expect(await fingerprintMatches(offline, 'something else')).toBe(false);
  });
});
