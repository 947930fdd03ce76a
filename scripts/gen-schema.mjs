#!/usr/bin/env node
// Writes config.schema.json (the JSON Schema of pymgr config files) from the zod schema in
// src/config/schema.ts. Runs from a clean clone after `npm ci` (tsx is a dev dependency).
//   node scripts/gen-schema.mjs          write config.schema.json
//   node scripts/gen-schema.mjs --check  exit 1 when the committed file is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'config.schema.json');
const unregister = register();
const { generateJsonSchema } = await import('../src/config/json-schema.ts');
await unregister();
const text = `${JSON.stringify(generateJsonSchema(), null, 2)}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== text) {
    process.stderr.write('config.schema.json is out of date: run `node scripts/gen-schema.mjs`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
