/**
 * Install errors through pip (the pyenv provider, the machine's pyenv Python, built CLI, local
 * wheels): pip's own ERROR lines lead the message, the command line only with -v, and the hint
 * fits the cause (no such version: the name, the pin and the index; offline: the cache).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlainPyenvRoot, pickVersion } from '../helpers/pyenv.js';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';
import { buildWheel } from '../helpers/wheels.js';

const machineRoot = findPyenvRoot();
const v312 = machineRoot ? pickVersion(machineRoot, '3.12') : undefined;
const hasPyenv = requireTool('pyenv with a 3.12 Python', v312);

describe.skipIf(!hasPyenv)('pip install errors lead with pip\'s words (real pyenv Python, CLI)', () => {
  afterAll(cleanupTemp);

  it('no such version: pip\'s ERROR lines first, no command line, the not-found hint; -v adds the command', async () => {
    const tmp = makeTemp('pymgr-pip-errors-');
    const root = makePlainPyenvRoot(join(tmp, 'pyenv'), machineRoot!, { linkVersions: [v312!] });
    const wheels = makeTemp('pymgr-wheels-');
    buildWheel(wheels, 'alpha', '1.0');
    const dir = writeTree({
      'requirements.txt': 'alpha==9.9\n',
      '.python-version': '3.12\n',
      '.pymgrrc': JSON.stringify({ provider: 'pyenv', providers: { pyenv: { root, install: false } }, index: { findLinks: [wheels], noIndex: true } }),
    });
    const env = { PYMGR_STATE_DIR: makeTemp('pymgr-state-'), PIP_CACHE_DIR: makeTemp('pymgr-pip-cache-') };
    const res = await runCli(['setup', dir], { env });
    expect(res.code).toBe(1);
    const error = res.stderr.slice(res.stderr.indexOf('pymgr: error'));
    expect(error).toMatch(/^pymgr: error\[COMMAND_FAILED\]: Could not install 1 requirement file\(s\): Could not find a version that satisfies the requirement alpha==9\.9/);
    expect(error).toContain('No matching distribution found for alpha==9.9');
    expect(error).toMatch(/hint: `alpha` \(or that version of it\) is not on the index/);
    expect(error).not.toMatch(/pip install|-m pip/);
    const verbose = await runCli(['setup', dir, '-v'], { env });
    expect(verbose.stderr).toMatch(/command: \S*python\S* -m pip install/);
    // Offline, pip says the same words: the hint is about the cache, not the index.
    const offline = await runCli(['setup', dir, '--offline', '--json'], { env });
    expect(offline.code).toBe(1);
    const doc = JSON.parse(offline.stdout);
    expect(doc.error.details.cause).toBe('offline');
    expect(doc.error.hint).toMatch(/^pymgr is offline .* `alpha` is not in the installer's cache/);
  });
});
