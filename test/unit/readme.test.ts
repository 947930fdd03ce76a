/** The README's references stay true: every config key and every CLI command is documented. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listConfigLeaves } from '../../src/config/list-config-leaves.js';
import { ERROR_CODES } from '../../src/errors.js';
import { repoRoot } from '../helpers/tools.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every config key', () => {
    const missing = listConfigLeaves()
      .map((l) => l.path)
      .filter((p) => p !== '$schema' && !readme.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it('documents every error code', () => {
    expect(ERROR_CODES.filter((c) => !readme.includes(`\`${c}\``))).toEqual([]);
  });

  it('documents every CLI command', () => {
    const commands = readFileSync(join(repoRoot, 'src', 'cli', 'commands.ts'), 'utf8').match(/\.command\('([a-z]+)'\)/g) ?? [];
    expect(commands.length).toBeGreaterThan(5);
    for (const c of commands) expect(readme).toContain(`pymgr ${c.slice(10, -2)}`);
  });

  it('documents every CLI option', () => {
    const options = readFileSync(join(repoRoot, 'src', 'cli', 'commands.ts'), 'utf8').match(/(?:\.option\(|new Option\()'(?:-\w, )?(--[a-z-]+)/g) ?? [];
    expect(options.length).toBeGreaterThan(10);
    const missing = options.map((o) => o.replace(/^.*(--[a-z-]+)$/, '$1')).filter((flag) => !new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(readme));
    expect(missing).toEqual([]);
  });

  it('gives the two set-up commands, and .ci/run calls the test one', () => {
    expect(readme).toContain('npm ci && npx pymgr setup fixtures/quickstart');
    expect(readme).toContain('npm run test:full');
    expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).toMatch(/^npm run test:full$/m);
  });
});
