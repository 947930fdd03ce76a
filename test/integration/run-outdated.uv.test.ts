/**
 * `run` on a changed project (real uv, built CLI, local wheels): when the inputs changed since the
 * last setup, `run` still runs the command in the env as it is and warns on stderr naming what
 * changed (a file, a setting); `run --sync` and config `run.sync: true` run setup first, as
 * `uv run` does.
 *
 * And signals, as `uv run` does them: a SIGINT, SIGTERM or SIGHUP sent to pymgr alone reaches the
 * command, pymgr waits for it and exits with its exit code (a command killed by a signal is 128 +
 * its number); a Ctrl-C during the setup that `run --sync` runs first stops it cleanly, as for
 * `pymgr setup`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { slowSdist } from '../helpers/aside.js';
import { holderEntry, processesWith } from '../../src/executor/holder.js';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findUv, repoRoot, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const run = requireTool('uv', findUv());

function project(rc: Record<string, unknown> = {}): { dir: string; env: Record<string, string>; rc: Record<string, unknown> } {
  const wheels = makeTemp('pymgr-wheels-');
  buildWheel(wheels, 'alpha', '1.0');
  buildWheel(wheels, 'beta', '1.0');
  const config = { provider: 'uv', index: { findLinks: [wheels], noIndex: true }, ...rc };
  const dir = writeTree({ 'requirements.txt': 'alpha==1.0\n', '.pymgrrc': JSON.stringify(config) });
  return { dir, env: { PYMGR_STATE_DIR: makeTemp('pymgr-state-') }, rc: config };
}

const importBeta = ['--', 'python', '-c', 'import beta; print("beta imported")'];

describe.skipIf(!run)('run on a changed project (real uv, CLI)', () => {
  afterAll(cleanupTemp);

  it('an edited requirement file: run warns naming it and still runs; run --sync sets up first', async () => {
    const { dir, env } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');

    const stale = await runCli(['run', dir, '--', 'python', '-c', 'import alpha; print("still runs")'], { env });
    expect(stale.code).toBe(0);
    expect(stale.stdout).toContain('still runs');
    expect(stale.stderr).toMatch(/warning: the env is outdated: requirements\.txt changed since the last setup/);
    expect(stale.stderr).toContain('pymgr run --sync');
    expect((await runCli(['run', dir, ...importBeta], { env })).code).not.toBe(0); // not installed: run did not sync

    const synced = await runCli(['run', dir, '--sync', ...importBeta], { env });
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stdout).toContain('beta imported');
    expect(synced.stderr).not.toMatch(/outdated/);
    const after = await runCli(['run', dir, ...importBeta], { env });
    expect(after.code).toBe(0);
    expect(after.stderr).toBe('');
  });

  it('how packages were fetched is not an input: offline and find-links given to setup only, run and env see no change', async () => {
    const { dir, env, rc } = project();
    const wheels = (rc.index as { findLinks: string[] }).findLinks[0];
    writeFileSync(join(dir, '.pymgrrc'), JSON.stringify({ provider: 'uv' }));
    const made = await runCli(['setup', dir, '--offline', '--find-links', wheels], { env });
    expect(made.code, made.stderr).toBe(0);
    const ran = await runCli(['run', dir, '--', 'python', '-c', 'import alpha'], { env });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toBe('');
    expect(JSON.parse((await runCli(['env', dir, '--json'], { env })).stdout).state).toBe('ready');
  });

  it('a changed setting is named as a setting', async () => {
    const { dir, env, rc } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    writeFileSync(join(dir, '.pymgrrc'), JSON.stringify({ ...rc, providers: { uv: { linkMode: 'copy' } } }));
    const res = await runCli(['run', dir, '--', 'python', '-c', 'pass'], { env });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/the env is outdated: setting providers\.uv\.linkMode changed/);
    const python = await runCli(['run', dir, '--python', '3.11', '--', 'python', '-c', 'pass'], { env });
    expect(python.stderr).toMatch(/the env is outdated: setting providers\.uv\.linkMode, the Python request changed/);
  });

  it('config run.sync: true makes every run set up first', async () => {
    const { dir, env } = project({ run: { sync: true } });
    // No setup yet: run creates the env, then runs in it.
    const first = await runCli(['run', dir, '--', 'python', '-c', 'import alpha; print("ok")'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('ok');
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nbeta==1.0\n');
    const second = await runCli(['run', dir, ...importBeta], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/outdated/);
    expect(JSON.parse(readFileSync(join(dir, '.venv', '.pymgr', 'state.json'), 'utf8')).status).toBe('ready');
  });
});

/**
 * The built CLI in a session of its own (no terminal: whatever is sent to it reaches pymgr alone,
 * never its command), with `exited` resolving at pymgr's own exit, before the command's output
 * pipes close; `onExit` runs synchronously at that moment.
 */
function startRun(args: string[], env: Record<string, string>, onExit: () => void = () => {}) {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), ...args], {
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      onExit();
      resolve({ code, signal });
    }),
  );
  return { pid: child.pid!, exited, output: () => `${stdout}${stderr}` };
}

async function until(what: string, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ready()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!run)('run and signals (real uv, CLI)', () => {
  afterAll(cleanupTemp);

  it('SIGINT sent to pymgr alone reaches the command: its handler runs before pymgr exits, with its exit code', async () => {
    const { dir, env } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    const started = join(dir, 'started');
    const cleaned = join(dir, 'cleaned');
    let cleanedAtExit = false;
    const cli = startRun(
      ['run', dir, '--', 'sh', '-c', `trap 'kill $! 2>/dev/null; sleep 1; echo done > "${cleaned}"; exit 3' INT; sleep 30 & echo up > "${started}"; wait`],
      env,
      () => (cleanedAtExit = existsSync(cleaned)),
    );
    await until('the command to start', () => existsSync(started));
    process.kill(cli.pid, 'SIGINT');
    const exit = await cli.exited;
    expect(exit, cli.output()).toEqual({ code: 3, signal: null });
    expect(cleanedAtExit, 'the handler had not finished when pymgr exited').toBe(true);
  });

  it('SIGTERM and SIGHUP sent to pymgr alone reach the command: pymgr exits after it, nothing is left running', async () => {
    const { dir, env } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      const pidFile = join(dir, `pid-${sig}`);
      let leftRunning: boolean | undefined;
      const cli = startRun(
        ['run', dir, '--', 'python', '-c', `import os, time; open(${JSON.stringify(pidFile)}, "w").write(str(os.getpid())); time.sleep(30)`],
        env,
        () => (leftRunning = existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')))),
      );
      await until('the command to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      process.kill(cli.pid, sig);
      const exit = await cli.exited;
      if (alive(pid)) process.kill(pid, 'SIGKILL'); // no orphan left behind by a failing test
      expect(leftRunning, `${sig}: the command still ran when pymgr exited`).toBe(false);
      expect(exit, `${sig}: ${cli.output()}`).toEqual({ code, signal: null });
    }
  });

  it('a command killed by a signal: 128 + its number (abort 134, SIGSEGV 139)', async () => {
    const { dir, env } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    expect((await runCli(['run', dir, '--', 'python', '-c', 'import os; os.abort()'], { env })).code).toBe(134);
    expect((await runCli(['run', dir, '--', 'sh', '-c', 'kill -SEGV $$'], { env })).code).toBe(139);
  });

  it('SIGINT during the setup that run --sync runs first: stopped cleanly, previous env kept, no lock or aside left, exit 130', async () => {
    const { dir, env } = project();
    expect((await runCli(['setup', dir], { env })).code).toBe(0);
    const wheels = JSON.parse(readFileSync(join(dir, '.pymgrrc'), 'utf8')).index.findLinks[0];
    slowSdist(wheels, 'slowpkg', 10);
    writeFileSync(join(dir, 'requirements.txt'), 'alpha==1.0\nslowpkg==1.0\n');
    const venv = join(dir, '.venv');
    const ran = join(dir, 'ran');
    const cli = startRun(['run', dir, '--sync', '--', 'python', '-c', `open(${JSON.stringify(ran)}, "w")`], { ...env, UV_NO_CACHE: '1' });
    await until('the update to start (the previous env aside)', () => existsSync(`${venv}.pymgr-prev`) && existsSync(`${venv}.pymgr-lock`));
    await new Promise((r) => setTimeout(r, 1000)); // into the 10 s build
    process.kill(cli.pid, 'SIGINT');
    const exit = await cli.exited;
    expect(exit, cli.output()).toEqual({ code: 130, signal: null });
    expect(cli.output()).toMatch(/interrupted: stopping the running step; the previous env is kept/);
    expect(existsSync(`${venv}.pymgr-lock`), 'the lock was left').toBe(false);
    expect(existsSync(`${venv}.pymgr-prev`), 'the aside was left').toBe(false);
    expect(existsSync(ran), 'the command ran after the interrupted setup').toBe(false);
    // Nothing it started is left running: not uv, not uv's build backend (re-parented when uv was stopped).
    expect(processesWith(holderEntry({ host: hostname(), pid: cli.pid }))).toEqual([]);
    const prev = await runCli(['run', dir, '--', 'python', '-c', 'import alpha'], { env });
    expect(prev.code, prev.stderr).toBe(0);
    expect(prev.stderr).toMatch(/the env is outdated: requirements\.txt changed/);
  }, 120_000);
});
