/**
 * Probes learnt once (src/core/probe-cache.ts), with real programs: a small script stands in for a
 * manager binary and counts how often it runs. The answer is reused while the binary is the same
 * file; another version at the same path, or none, is noticed on the next call, in this process
 * and in the next; concurrent processes sharing the cache never read a half-written entry.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { forgetProbes, probeBinary } from '../../src/core/probe-cache.js';
import { HostExecutor } from '../../src/executor/host-executor.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { repoRoot } from '../helpers/tools.js';

const execFileP = promisify(execFile);

/**
 * A fake manager: a native binary (compiled here with the machine's C compiler, as managers are
 * native) that prints its version and appends a line to `runs` each time it runs.
 */
function writeTool(path: string, version: string, runs: string): void {
  const src = `${path}.${version}.c`;
  writeFileSync(src, `#include <stdio.h>\nint main(void){FILE*f=fopen(${JSON.stringify(runs)},"a");if(f){fputs("run\\n",f);fclose(f);}puts("uv ${version}");return 0;}\n`);
  execFileSync('cc', ['-O0', '-o', `${path}.tmp`, src]);
  renameSync(`${path}.tmp`, path);
}

const runsOf = (runs: string) => {
  try {
    return readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('probe cache (real programs)', () => {
  let dir: string;
  let cache: string;
  let tool: string;
  let runs: string;
  let executor: HostExecutor;

  beforeEach(() => {
    dir = makeTemp('pymgr-probe-');
    cache = join(dir, 'cache');
    tool = join(dir, 'bin', 'uv');
    runs = join(dir, 'runs');
    mkdirSync(join(dir, 'bin'));
    writeTool(tool, '0.1.0', runs);
    executor = new HostExecutor({ env: { ...process.env, PYMGR_STATE_DIR: cache } });
    forgetProbes();
  });
  afterAll(() => cleanupTemp());

  it('runs the binary once for many calls, in this process and in the next', async () => {
    for (let i = 0; i < 5; i++) expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.1.0\n');
    expect(runsOf(runs)).toBe(1);
    // Another executor of the same place, and "another process" (what this one learnt forgotten): the file answers.
    forgetProbes();
    const other = new HostExecutor({ env: { ...process.env, PYMGR_STATE_DIR: cache } });
    expect((await probeBinary(other, tool, ['--version'])).stdout).toBe('uv 0.1.0\n');
    expect(runsOf(runs)).toBe(1);
    expect(other.cost().execs).toBe(0);
    // Other arguments are another probe.
    await probeBinary(executor, tool, ['version']);
    expect(runsOf(runs)).toBe(2);
  });

  it('notices another version put at the same path (rename over it, or rewritten in place), and a removed binary', async () => {
    expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.1.0\n');
    // Replaced by rename (a new file, as installers do).
    writeTool(`${tool}.new`, '0.2.0', runs);
    renameSync(`${tool}.new`, tool);
    expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.2.0\n');
    // Rewritten in place (the same inode): mtime and ctime tell.
    writeTool(`${tool}.v3`, '0.3.0', runs);
    writeFileSync(tool, readFileSync(`${tool}.v3`));
    expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.3.0\n');
    // And in a new process, from the file: the newest answer, not an older one.
    forgetProbes();
    expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.3.0\n');
    expect(runsOf(runs)).toBe(3);
    // Removed: the executor's own answer (not found), never the remembered version.
    rmSync(tool);
    const gone = await probeBinary(executor, tool, ['--version']);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stdout).toBe('');
  });

  it('asks a script (a shim) every time, keeps no failure, ignores an unreadable entry, writes entries no other user can change', async () => {
    writeFileSync(tool, '#!/bin/sh\necho run >> "' + runs + '"\nexit 3\n');
    expect((await probeBinary(executor, tool, ['--version'])).exitCode).toBe(3);
    expect((await probeBinary(executor, tool, ['--version'])).exitCode).toBe(3);
    expect(runsOf(runs)).toBe(2);
    writeFileSync(tool, '#!/bin/sh\necho run >> "' + runs + '"\necho "uv 9.9.9"\n');
    await probeBinary(executor, tool, ['--version']);
    await probeBinary(executor, tool, ['--version']);
    expect(runsOf(runs)).toBe(4); // a script: never learnt
    writeTool(tool, '0.4.0', runs);
    await probeBinary(executor, tool, ['--version']);
    const entries = readdirSync(join(cache, 'probes'));
    expect(entries).toHaveLength(1);
    // A half-written or foreign entry is never taken for an answer: it is asked again and rewritten.
    writeFileSync(join(cache, 'probes', entries[0]), '{"schema":1,"path":');
    forgetProbes();
    expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.4.0\n');
    expect(JSON.parse(readFileSync(join(cache, 'probes', entries[0]), 'utf8')).stdout).toBe('uv 0.4.0\n');
    const { statSync } = await import('node:fs');
    expect(statSync(join(cache, 'probes')).mode & 0o022).toBe(0);
    expect(statSync(join(cache, 'probes', entries[0])).mode & 0o022).toBe(0);
  });

  it('concurrent processes sharing the cache: every answer whole, entries always parse', async () => {
    const script = `
      import { probeBinary } from ${JSON.stringify(join(repoRoot, 'src/core/probe-cache.ts'))};
      import { HostExecutor } from ${JSON.stringify(join(repoRoot, 'src/executor/host-executor.ts'))};
      const ex = new HostExecutor();
      const out = [];
      for (let i = 0; i < 20; i++) out.push((await probeBinary(ex, process.argv[2], ['--version'])).stdout);
      console.log(JSON.stringify(out));
    `;
    const file = join(dir, 'probe.mts');
    writeFileSync(file, script);
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    // While they run, the binary is replaced twice: each answer is one version's, never a torn one.
    const procs = Array.from({ length: 6 }, () => execFileP(tsx, [file, tool], { env: { ...process.env, PYMGR_STATE_DIR: cache }, encoding: 'utf8' }));
    const swap = (async () => {
      for (const v of ['0.5.0', '0.6.0']) {
        await new Promise((r) => setTimeout(r, 150));
        writeTool(`${tool}.new`, v, runs);
        renameSync(`${tool}.new`, tool);
      }
    })();
    const results = await Promise.all(procs);
    await swap;
    for (const r of results) {
      for (const answer of JSON.parse(r.stdout) as string[]) expect(answer).toMatch(/^uv 0\.[156]\.0\n$/);
    }
    for (const f of readdirSync(join(cache, 'probes'))) {
      expect(f.endsWith('.json'), `no temporary file left: ${f}`).toBe(true);
      const entry = JSON.parse(readFileSync(join(cache, 'probes', f), 'utf8'));
      expect(entry.stdout).toMatch(/^uv 0\.[156]\.0\n$/);
    }
    // After the last swap settles, every process would see the newest version.
    forgetProbes();
    expect((await probeBinary(executor, tool, ['--version'])).stdout).toBe('uv 0.6.0\n');
  }, 60_000);
});
