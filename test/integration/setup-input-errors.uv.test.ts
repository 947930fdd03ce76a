/**
 * Broken inputs are errors before anything changes (real uv, built CLI, local wheels): an
 * unparsable uv.lock is PROJECT_INVALID before the venv is created; a `.pymgrrc` that is a
 * directory and `--index-url "not a url"` are configuration errors (exit 2) that change nothing; a
 * request for Python 2 is PYTHON_UNAVAILABLE before the env is touched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, makeTemp, runCli, writeTree } from '../helpers/project.js';
import { findPyenvRoot, findUv, requireTool } from '../helpers/tools.js';
import { treeFingerprint } from '../helpers/aside.js';
import { buildWheel } from '../helpers/wheels.js';

const run = requireTool('uv', findUv());
const pyenvRoot = findPyenvRoot();
const hasPython2 = requireTool('pyenv with a Python 2.7', !!pyenvRoot && existsSync(join(pyenvRoot, 'versions')) && readdirSync(join(pyenvRoot, 'versions')).some((v) => v.startsWith('2.7.')));
const env = () => ({ PYMGR_STATE_DIR: makeTemp('pymgr-state-') });

function requirementsProject(): string {
  const wheels = makeTemp('pymgr-wheels-');
  buildWheel(wheels, 'alpha', '1.0');
  return writeTree({ 'requirements.txt': 'alpha==1.0\n', 'pymgr.config.mjs': `export default ${JSON.stringify({ provider: 'uv', index: { findLinks: [wheels], noIndex: true } })};\n` });
}

describe.skipIf(!run)('inputs that are broken change nothing (real uv, CLI)', () => {
  afterAll(cleanupTemp);

  it('an unparsable uv.lock is PROJECT_INVALID naming the file and line, before the venv is created', async () => {
    const dir = writeTree({
      'pyproject.toml': '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = []\n',
      'uv.lock': 'version = 1\n[[package]\nname = "app"\n',
    });
    const res = await runCli(['setup', dir, '--json'], { env: env() });
    expect(res.code).toBe(1);
    const error = JSON.parse(res.stdout).error;
    expect(error.code).toBe('PROJECT_INVALID');
    expect(error.message).toContain(`${join(dir, 'uv.lock')}:2:`);
    expect(error.message).toContain('the lock file is broken');
    expect(existsSync(join(dir, '.venv'))).toBe(false);
  });

  it('an unparsable uv.lock leaves an existing env exactly as it was', async () => {
    // A uv project without a lock: the first setup's uv sync writes uv.lock.
    const dir = writeTree({
      'pyproject.toml': '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = []\n\n[tool.uv]\n',
    });
    const e = env();
    const first = await runCli(['setup', dir, '--json', '--offline'], { env: e });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const state = join(dir, '.venv', '.pymgr', 'state.json');
    const before = readFileSync(state, 'utf8');
    writeFileSync(join(dir, 'uv.lock'), readFileSync(join(dir, 'uv.lock'), 'utf8').replace('[[package]]', '[[package]'));
    const res = await runCli(['setup', dir, '--offline'], { env: e });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error\[PROJECT_INVALID\]: .*uv\.lock:\d+:\d+: invalid TOML/);
    expect(readFileSync(state, 'utf8')).toBe(before);
  });

  it.skipIf(!hasPython2)('a request for Python 2 is PYTHON_UNAVAILABLE before anything changes, with uv and with pyenv', async () => {
    const dir = requirementsProject();
    const e = env();
    const first = await runCli(['setup', dir, '--json'], { env: e });
    expect(first.code, first.stderr).toBe(0);
    const before = treeFingerprint(join(dir, '.venv'));
    for (const provider of ['uv', 'pyenv']) {
      const res = await runCli(['setup', dir, '--python', '2.7', '--provider', provider, '--json'], { env: e });
      expect(res.code, res.stdout + res.stderr).toBe(1);
      const error = JSON.parse(res.stdout).error;
      expect(error.code, provider).toBe('PYTHON_UNAVAILABLE');
      expect(error.message).toMatch(/Python 2\.7\.\d+ .*picked for the request 2\.7 from .*pymgr needs Python 3 \(the previous env at .* was kept as it was\)/);
      expect(error.hint).toContain('--python 3.12');
      expect(treeFingerprint(join(dir, '.venv'))).toEqual(before);
    }
    expect(existsSync(join(dir, '.venv.pymgr-prev'))).toBe(false);
  });

  it('a .pymgrrc that is a directory is a clear config error (exit 2), nothing created', async () => {
    const dir = requirementsProject();
    mkdirSync(join(dir, '.pymgrrc'));
    const res = await runCli(['setup', dir], { env: env() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`error[CONFIG_INVALID]: ${join(dir, '.pymgrrc')} is a directory, not a config file`);
    expect(existsSync(join(dir, '.venv'))).toBe(false);
    const json = await runCli(['config', dir, '--json'], { env: env() });
    expect(JSON.parse(json.stdout).error.code).toBe('CONFIG_INVALID');
  });

  it('--index-url "not a url" is a config error (exit 2) that changes nothing', async () => {
    const dir = requirementsProject();
    const e = env();
    const fresh = await runCli(['setup', dir, '--index-url', 'not a url', '--json'], { env: e });
    expect(fresh.code).toBe(2);
    const error = JSON.parse(fresh.stdout).error;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.details.keyPath).toBe('index.url');
    expect(existsSync(join(dir, '.venv'))).toBe(false);

    expect((await runCli(['setup', dir], { env: e })).code).toBe(0);
    const state = join(dir, '.venv', '.pymgr', 'state.json');
    const mtime = statSync(state).mtimeMs;
    const res = await runCli(['setup', dir, '--index-url', 'not a url'], { env: e });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/error\[CONFIG_INVALID\]: .*"not a url" is not valid for index\.url/);
    expect(statSync(state).mtimeMs).toBe(mtime);
    // URLs and absolute paths are still accepted.
    const ok = await runCli(['config', dir, '--index-url', 'https://pypi.org/simple', '--json'], { env: e });
    expect(ok.code).toBe(0);
  });

  it('--venv / is refused before anything is made (no lock beside the root)', async () => {
    const dir = requirementsProject();
    const res = await runCli(['setup', dir, '--venv', '/', '--json'], { env: env() });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).error).toMatchObject({ code: 'PROJECT_INVALID', message: 'The venv path / is the root directory' });
    expect(existsSync('/.pymgr-lock')).toBe(false);
    expect(existsSync('/.pymgr-prev')).toBe(false);
  });

  it('a bad Python request names where it came from: the flag, the variable, the config file', async () => {
    const dir = writeTree({ 'requirements.txt': 'alpha==1.0\n' });
    const flag = await runCli(['detect', dir, '--python', 'abc'], { env: env() });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/error\[CONFIG_INVALID\]: --python: invalid Python version "abc"/);
    const variable = await runCli(['detect', dir], { env: { ...env(), PYMGR_PYTHON: 'abc' } });
    expect(variable.stderr).toMatch(/configuration key "python" \(PYMGR_PYTHON\): invalid Python version "abc"/);
    writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ python: 'abc' }));
    const file = await runCli(['detect', dir], { env: env() });
    expect(file.stderr).toContain(`configuration key "python" (${join(dir, '.pymgrrc.json')}): invalid Python version "abc"`);
  });
});
