/**
 * Partial distributions in a pip-based venv (the machine's pyenv Python, built CLI, local wheels):
 * pip's RECORD lists bytecode without a size, so a truncated `.pyc` of pip itself (`marshal data
 * too short` on every pip run) is caught by `--deep` (and a stub by the normal check), and setup
 * repairs pip with ensurepip; a removed module file of a dependency is reinstalled through pip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlainPyenvRoot, pickVersion } from '../helpers/pyenv.js';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const machineRoot = findPyenvRoot();
const v312 = machineRoot ? pickVersion(machineRoot, '3.12') : undefined;
const hasPyenv = requireTool('pyenv with a 3.12 Python', v312);

describe.skipIf(!hasPyenv)('partial distributions in a pip venv (real pyenv Python, CLI)', () => {
  afterAll(cleanupTemp);

  async function project() {
    const tmp = makeTemp('pymgr-partial-pip-');
    const root = makePlainPyenvRoot(join(tmp, 'pyenv'), machineRoot!, { linkVersions: [v312!] });
    const wheels = makeTemp('pymgr-wheels-');
    buildWheel(wheels, 'alpha', '1.0');
    const dir = writeTree({
      'requirements.txt': 'alpha==1.0\n',
      '.python-version': '3.12\n',
      '.pymgrrc': JSON.stringify({ provider: 'pyenv', providers: { pyenv: { root, install: false } }, index: { findLinks: [wheels], noIndex: true } }),
    });
    const env = { PYMGR_STATE_DIR: makeTemp('pymgr-state-'), PIP_CACHE_DIR: makeTemp('pymgr-pip-cache-') };
    const res = await runCli(['setup', dir, '--json'], { env });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const site = join(dir, '.venv', 'lib', 'python3.12', 'site-packages');
    return { dir, env, site };
  }

  const pipRuns = (dir: string) => {
    try {
      execFileSync(join(dir, '.venv', 'bin', 'python'), ['-m', 'pip', '--version'], { stdio: 'pipe' });
      return '';
    } catch (err) {
      return String((err as { stderr?: Buffer }).stderr);
    }
  };

  it("a truncated .pyc of pip: caught by --deep (a stub by the normal check), pip repaired by setup", async () => {
    const { dir, env, site } = await project();
    const cache = join(site, 'pip', '__pycache__');
    const pyc = join(cache, readdirSync(cache).find((f) => f.startsWith('__init__.') && f.endsWith('.pyc'))!);
    const whole = readFileSync(pyc);
    rmSync(pyc);
    writeFileSync(pyc, whole.subarray(0, Math.max(17, Math.floor(whole.length / 2))));
    expect(pipRuns(dir)).toMatch(/marshal data too short|EOFError|bad marshal/);

    // pip recorded no size for its bytecode: the normal check cannot tell, --deep can.
    expect(JSON.parse((await runCli(['env', dir, '--json'], { env })).stdout).state).toBe('ready');
    const deep = JSON.parse((await runCli(['env', dir, '--json', '--deep'], { env })).stdout);
    expect(deep.state).toBe('broken');
    expect(deep.detail).toMatch(/pip \S+ is incomplete: pip\/__pycache__\/__init__\.cpython-312\.pyc is not readable bytecode/);

    const res = await runCli(['setup', dir, '--json', '--deep'], { env });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    // pip repaired in place (a note), or the venv rebuilt aside because its manager cannot use it (the reason).
    const out = JSON.parse(res.stdout);
    if (out.venv.action === 'updated') expect(out.install.notes.join('\n')).toMatch(/reinstalled incomplete distribution: pip /);
    else expect(out.venv.reason).toMatch(/pip/);
    expect(pipRuns(dir)).toBe('');

    // A stub shorter than a bytecode header is caught without --deep.
    rmSync(pyc);
    writeFileSync(pyc, Buffer.from('0123456789'));
    const normal = JSON.parse((await runCli(['env', dir, '--json'], { env })).stdout);
    expect(normal.state).toBe('broken');
    expect(normal.detail).toContain('is truncated (10 bytes)');
  });

  it('a removed module file of a dependency is reinstalled through pip', async () => {
    const { dir, env, site } = await project();
    rmSync(join(site, 'alpha', '__init__.py'));
    const res = await runCli(['setup', dir, '--json'], { env });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).install.notes.join('\n')).toContain('alpha 1.0 (alpha/__init__.py is missing)');
    expect(existsSync(join(site, 'alpha', '__init__.py'))).toBe(true);
    const imp = await runCli(['run', dir, '--', 'python', '-c', 'import alpha'], { env });
    expect(imp.code, imp.stderr).toBe(0);
  });
});
