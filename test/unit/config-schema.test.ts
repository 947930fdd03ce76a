import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateJsonSchema } from '../../src/config/json-schema.js';
import { repoRoot } from '../helpers/tools.js';

describe('config.schema.json', () => {
  it('matches the zod schema (regenerate with `node scripts/gen-schema.mjs`)', () => {
    const committed = JSON.parse(readFileSync(join(repoRoot, 'config.schema.json'), 'utf8'));
    expect(committed).toEqual(generateJsonSchema());
  });

  it('describes the input form: defaults, enums, descriptions, no unknown keys', () => {
    const schema = generateJsonSchema() as any;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties.provider).toMatchObject({ default: 'auto', enum: ['auto', 'uv', 'mise', 'pyenv'] });
    expect(typeof schema.properties.provider.description).toBe('string');
    expect(schema.properties.index.additionalProperties).toBe(false);
    expect(schema.properties.index.properties.offline).toMatchObject({ type: 'boolean', default: false });
    expect(schema.properties.providers.properties.uv.additionalProperties).toBe(false);
    expect(schema.properties.$schema.type).toBe('string');
  });

  it('the generator script agrees with the committed file', () => {
    // Exits non-zero (and the call throws) when the file is out of date.
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'gen-schema.mjs'), '--check'], { cwd: repoRoot, stdio: 'pipe' });
  });
});
