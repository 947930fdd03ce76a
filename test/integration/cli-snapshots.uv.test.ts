/**
 * What the built CLI prints for `detect`, `config`, `setup` and `env` on the fixtures, as
 * snapshots (test/integration/__snapshots__/). They were taken before the layering redesign and
 * must pass unchanged after it: a refactor that changes what a user sees fails here.
 *
 * Only what differs between runs is normalised: temporary directories, durations, timestamps and
 * the uv binary's path. Everything else (wording, order of fields, versions) is compared as is.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, copyFixture, runCli, type CliRun } from '../helpers/project.js';
import { repoRoot, requireTool } from '../helpers/tools.js';

const uvPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
const hasUv = requireTool('uv', uvPath);

// As `npx pymgr` runs it: node_modules/.bin (mise, a dev dependency) on PATH.
const env = { PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}` };

function normalise(text: string, tmp?: string): string {
  let out = text;
  if (tmp) out = out.split(tmp).join('<TMP>');
  out = out.split(repoRoot).join('<REPO>');
  return out
    .replace(/\/[^\s"']*\/bin\/uv\b/g, '<UV>')
    .replace(/"durationMs": \d+/g, '"durationMs": 0')
    // How many programs ran depends on what was learnt before (src/core/probe-cache.ts).
    .replace(/"execs": \d+/g, '"execs": N')
    .replace(/in \d+ ms/g, 'in N ms')
    .replace(/"updatedAt": "[^"]+"/g, '"updatedAt": "<TIME>"');
}

function shown(res: CliRun, tmp?: string): string {
  return `exit ${res.code}\n--- stdout\n${normalise(res.stdout, tmp)}--- stderr\n${normalise(res.stderr, tmp)}`;
}

const fixtures = readdirSync(join(repoRoot, 'fixtures'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe.skipIf(!hasUv)('CLI output snapshots (built CLI, real uv)', () => {
  afterAll(cleanupTemp);

  describe('detect and config on every fixture', () => {
    for (const name of fixtures) {
      it(name, async () => {
        const dir = join(repoRoot, 'fixtures', name);
        const outputs: string[] = [];
        for (const args of [['detect', dir], ['detect', dir, '--json'], ['config', dir], ['config', dir, '--json']]) {
          outputs.push(`$ pymgr ${normalise(args.join(' '))}\n${shown(await runCli(args, { env }))}`);
        }
        expect(outputs.join('\n')).toMatchSnapshot();
      });
    }
  });

  describe('setup and env', () => {
    for (const name of ['quickstart', 'requirements', 'uv-project']) {
      it(name, async () => {
        const dir = copyFixture(name);
        const tmp = join(dir, '..');
        const outputs: string[] = [];
        for (const args of [
          ['env', dir],
          ['setup', dir],
          ['env', dir],
          ['env', dir, '--json'],
          ['setup', dir],
          ['setup', dir, '--json'],
          ['setup', dir, '--python', '3', '--json'],
        ]) {
          outputs.push(`$ pymgr ${normalise(args.join(' '), tmp)}\n${shown(await runCli(args, { env }), tmp)}`);
        }
        expect(outputs.join('\n')).toMatchSnapshot();
      });
    }
  });
});
