#!/usr/bin/env node
// Writes config.schema.json (the JSON Schema of pymgr config files) and fleet.schema.json (of fleet
// files) from the zod schemas in src/config/. Runs from a clean clone after `npm ci` (tsx is a dev
// dependency).
//   node scripts/gen-schema.mjs          write both
//   node scripts/gen-schema.mjs --check  exit 1 when a committed file is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const unregister = register();
const { generateJsonSchema } = await import('../src/config/json-schema.ts');
const { generateFleetJsonSchema } = await import('../src/config/fleet-file.ts');
await unregister();

let stale = false;
for (const [name, schema] of [['config.schema.json', generateJsonSchema()], ['fleet.schema.json', generateFleetJsonSchema()]]) {
  const target = join(root, name);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      process.stderr.write(`${name} is out of date: run \`node scripts/gen-schema.mjs\`\n`);
      stale = true;
    }
  } else {
    writeFileSync(target, text);
  }
}
if (stale) process.exit(1);
