/**
 * The README's CLI section and the CLI's own --help texts say the same: every option a command's
 * --help lists is in the README's option table, and every example a --help gives is in the README.
 * Read from the built CLI, as a user sees it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/project.js';
import { repoRoot } from '../helpers/tools.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const cliSection = readme.slice(readme.indexOf('## CLI'), readme.indexOf('## Project detection'));
const COMMANDS = ['setup', 'run', 'env', 'detect', 'config', 'doctor', 'schema', 'bake', 'fleet'];

describe('README CLI section matches --help', () => {
  for (const cmd of COMMANDS) {
    it(cmd, async () => {
      const help = (await runCli([cmd, '--help'])).stdout;
      const options = [...help.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]).filter((o) => o !== '--help');
      expect(options.filter((o) => !new RegExp(`\`(?:-\\w/)?${o}[\\s\`]`).test(cliSection))).toEqual([]);
      const examples = help.slice(help.indexOf('Examples:')).split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
      expect(examples.length).toBeGreaterThan(0);
      expect(examples.filter((e) => !cliSection.includes(`\n${e}\n`))).toEqual([]);
    });
  }
});
