/**
 * The pyenv trust decision, shown by `doctor`: a root owned by another uid (pymgr's own case, used
 * through scoped git trust) is reported as writable by that uid; a root of your own whose bin/ is
 * group-writable too; a root only you can write is not. A configured providers.pyenv.path that
 * anyone could change is refused, while one in a root owned by another uid is accepted.
 * Needs: the machine's pyenv (a git checkout, cloned from file://), root (to chown).
 */
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/api/doctor.js';
import { makeGitPyenvRoot } from '../helpers/pyenv.js';
import { cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers/project.js';
import { findPyenvRoot, requireTool } from '../helpers/tools.js';

const machineRoot = findPyenvRoot();
const hasPyenv = requireTool('a git checkout of pyenv in ~/.pyenv', machineRoot && existsSync(join(machineRoot, '.git')));
const isRoot = process.getuid?.() === 0;
if (hasPyenv && !isRoot) requireTool('root (to chown a pyenv root to uid 1000)', false);

describe.skipIf(!hasPyenv || !isRoot)('pyenv trust in doctor (real pyenv)', () => {
  afterAll(cleanupTemp);

  const problemsFor = async (root: string, path?: string) => {
    const report = await doctor({ projectDir: copyFixture('requirements'), env: {}, flags: { providers: { pyenv: { root, ...(path ? { path } : {}) } } } });
    return Object.assign(report.problems.filter((p) => p.subject === 'pyenv'), { found: report.managers.find((m) => m.name === 'pyenv')!.found });
  };

  it('a root owned by uid 1000: usable (scoped trust), and the warning says uid 1000 can change it', async () => {
    const root = makeGitPyenvRoot(join(makeTemp(), 'pyenv'), machineRoot!, { owner: 1000 });
    const problems = await problemsFor(root);
    expect(problems.found).toBe(true);
    const w = problems.find((p) => p.code === 'PYENV_ROOT_WRITABLE_BY_OTHERS');
    expect(w).toMatchObject({ severity: 'warning', fixable: false });
    expect(w!.message).toContain(`${root} (mode 0755) is writable by its owner uid 1000`);
    expect(w!.message).toContain(`${root}/bin (mode 0755) is writable by its owner uid 1000`);
    expect(w!.message).toContain('git trusted for it per command only');
    expect(w!.fix).toContain(`chown -R 0 ${root}`);
    expect(problems.some((p) => p.code === 'PYENV_ROOT_FOREIGN_OWNER')).toBe(true);
    // A configured pyenv inside that root is still accepted (only write bits are refused for pyenv).
    const withPath = await problemsFor(root, join(root, 'bin', 'pyenv'));
    expect(withPath.some((p) => p.code === 'MANAGER_UNSAFE')).toBe(false);
    const cli = await runCli(['doctor', copyFixture('requirements'), '--json'], { env: { PYMGR_PROVIDERS__PYENV__ROOT: root } });
    expect(JSON.parse(cli.stdout).problems.map((p: { code: string }) => p.code)).toContain('PYENV_ROOT_WRITABLE_BY_OTHERS');
  });

  it('your own root: no warning at 0755; a group-writable bin/ is named; a world-writable pyenv.path is refused', async () => {
    const root = makeGitPyenvRoot(join(makeTemp(), 'pyenv'), machineRoot!);
    chmodSync(root, 0o755);
    chmodSync(join(root, 'bin'), 0o755);
    expect((await problemsFor(root)).map((p) => p.code)).not.toContain('PYENV_ROOT_WRITABLE_BY_OTHERS');

    chmodSync(join(root, 'bin'), 0o775);
    const w = (await problemsFor(root)).find((p) => p.code === 'PYENV_ROOT_WRITABLE_BY_OTHERS');
    expect(w!.message).toContain(`${root}/bin (mode 0775) is writable by group 0`);
    expect(w!.message).not.toContain(`${root} (mode`);

    chmodSync(join(root, 'bin'), 0o755);
    const real = join(root, 'libexec', 'pyenv');
    chmodSync(real, 0o777);
    const refused = (await problemsFor(root, join(root, 'bin', 'pyenv'))).find((p) => p.code === 'MANAGER_UNSAFE');
    expect(refused?.message).toContain(`${real} is writable by every user`);
  });
});
