/**
 * A uv project set up by a pip-based manager (pyenv) follows the same lock policy as with uv: by
 * default (`locked`) a uv.lock out of date with pyproject.toml is refused before anything is
 * installed, naming what it lacks, and the previous env is kept (real uv and pyenv, built CLI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, copyFixture, runCli } from '../helpers/project.js';
import { findPyenvRoot, findUv, requireTool } from '../helpers/tools.js';
import { treeFingerprint } from '../helpers/aside.js';

const hasUv = requireTool('uv', findUv());
const hasPyenv = requireTool('pyenv', findPyenvRoot());

describe.skipIf(!hasUv || !hasPyenv)('a stale uv.lock under another manager', () => {
  afterAll(cleanupTemp);

  it('pyenv refuses it as uv does (PROJECT_INVALID naming the new dependency); the env is kept', async () => {
    const dir = copyFixture('uv-project');
    const made = await runCli(['setup', dir, '--json']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    const before = treeFingerprint(join(dir, '.venv'));
    const pyproject = join(dir, 'pyproject.toml');
    writeFileSync(pyproject, readFileSync(pyproject, 'utf8').replace('dependencies = ["six==1.16.0"]', 'dependencies = ["six==1.16.0", "packaging"]'));

    const uv = JSON.parse((await runCli(['setup', dir, '--json'])).stdout).error;
    expect(uv).toMatchObject({ code: 'PROJECT_INVALID', message: expect.stringContaining('uv.lock is out of date') });
    const pyenv = await runCli(['setup', dir, '--provider', 'pyenv', '--json']);
    expect(pyenv.code).toBe(1);
    const error = JSON.parse(pyenv.stdout).error;
    expect(error.code).toBe('PROJECT_INVALID');
    expect(error.message).toContain('uv.lock is out of date');
    expect(error.message).toContain('pyproject.toml asks for packaging, which uv.lock does not have');
    expect(error.hint).toContain('--relock');
    expect(error.details.previousEnv).toContain('kept');
    expect(treeFingerprint(join(dir, '.venv'))).toEqual(before);
  });
});
