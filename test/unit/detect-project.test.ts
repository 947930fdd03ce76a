import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { PROJECT_TYPE_RULES } from '../../src/detect/detect-project.js';
import { cleanupTemp } from '../helpers/project.js';
import { PEP621, detect, detectError, fixture, project } from './detect-helpers.js';

afterAll(cleanupTemp);

const ruleOf = (d: { reasons: { rule: string }[] }) => d.reasons.find((r) => PROJECT_TYPE_RULES.some((t) => t.id === r.rule))?.rule;

describe('project type rules (fixtures)', () => {
  it('requirements: requirements.txt with -r and -c, constraints used through it', async () => {
    const dir = fixture('requirements');
    const d = await detect(dir);
    expect(d.projectType).toBe('requirements');
    expect(ruleOf(d)).toBe('requirements-files');
    expect(d.files.requirements).toEqual([join(dir, 'requirements.txt')]);
    // constraints.txt is applied by requirements.txt's own -c line, so not passed again.
    expect(d.files.constraints).toEqual([]);
    expect(d.plan.steps).toEqual([{ kind: 'requirements', files: [join(dir, 'requirements.txt')], constraints: [] }]);
    expect(d.plan.expected.sort()).toEqual(['idna', 'six']);
    const excluded = d.reasons.filter((r) => r.rule === 'requirements-excluded').map((r) => [r.file, r.message]);
    expect(excluded).toContainEqual([join(dir, 'requirements', 'base.txt'), expect.stringContaining('included by')]);
    expect(excluded).toContainEqual([join(dir, 'requirements-dev.txt'), expect.stringContaining('development file')]);
  });

  it('requirements with dev: requirements-dev.txt brings requirements.txt in', async () => {
    const dir = fixture('requirements');
    const d = await detect(dir, { dependencies: { dev: true } });
    expect(d.files.requirements).toEqual([join(dir, 'requirements-dev.txt')]);
    expect(d.plan.expected.sort()).toEqual(['attrs', 'idna', 'six']);
  });

  it('setuppy: setup.py project, name from its literal', async () => {
    const dir = fixture('setuppy');
    const d = await detect(dir);
    expect(d.projectType).toBe('setuptools');
    expect(ruleOf(d)).toBe('setup-py');
    expect(d.files.setupPy).toBe(join(dir, 'setup.py'));
    expect(d.plan.steps).toEqual([{ kind: 'project', path: dir, editable: true, extras: [], groups: [], constraints: [] }]);
    expect(d.plan.expected).toEqual(['pymgr-fixture-setuppy']);
  });

  it('setupcfg: setup.cfg project next to a tool-only pyproject.toml', async () => {
    const dir = fixture('setupcfg');
    const d = await detect(dir, { dependencies: { extras: ['six'], editable: false } });
    expect(d.projectType).toBe('setuptools');
    expect(ruleOf(d)).toBe('setup-cfg');
    expect(d.reasons.map((r) => r.rule)).toContain('pyproject-not-a-project');
    expect(d.plan.steps).toEqual([{ kind: 'project', path: dir, editable: false, extras: ['six'], groups: [], constraints: [] }]);
    expect(d.plan.expected).toEqual(['pymgr-fixture-setupcfg', 'idna', 'six']);
  });

  it('pyproject-setuptools: PEP 621 with an extra', async () => {
    const d = await detect(fixture('pyproject-setuptools'), { dependencies: { extras: ['six'] } });
    expect(d.projectType).toBe('pyproject');
    expect(ruleOf(d)).toBe('pep621-project');
    expect(d.pyproject?.buildBackend).toBe('setuptools.build_meta');
    expect(d.plan.expected).toEqual(['pymgr-fixture-pyproject-setuptools', 'packaging', 'six']);
  });

  it('pyproject-poetry: classic [tool.poetry] with a poetry-core build system', async () => {
    const d = await detect(fixture('pyproject-poetry'));
    expect(d.projectType).toBe('pyproject');
    expect(ruleOf(d)).toBe('pep517-build-system');
    expect(d.reasons.find((r) => r.rule === 'pep517-build-system')?.message).toContain('poetry');
    expect(d.pyproject?.name).toBe('pymgr-fixture-poetry');
    expect(d.plan.expected).toEqual(['pymgr-fixture-poetry', 'six']);
  });

  it('pyproject-hatch: dependency group chosen in the configuration', async () => {
    const d = await detect(fixture('pyproject-hatch'), { dependencies: { groups: ['test'] } });
    expect(d.projectType).toBe('pyproject');
    expect(d.plan.steps).toEqual([{ kind: 'project', path: fixture('pyproject-hatch'), editable: true, extras: [], groups: ['test'], constraints: [] }]);
    expect(d.plan.expected).toEqual(['pymgr-fixture-hatch', 'attrs', 'six']);
  });

  it('pyproject-flit and pyproject-pdm: other backends, names normalised', async () => {
    const flit = await detect(fixture('pyproject-flit'));
    expect(flit.projectType).toBe('pyproject');
    expect(flit.plan.expected).toEqual(['pymgr-fixture-flit', 'idna']);
    const pdm = await detect(fixture('pyproject-pdm'));
    expect(pdm.pyproject?.buildBackend).toBe('pdm.backend');
    expect(pdm.plan.expected).toEqual(['pymgr-fixture-pdm', 'packaging']);
  });

  it('uv-project: uv.lock, dev group only with dev', async () => {
    const dir = fixture('uv-project');
    const d = await detect(dir);
    expect(d.projectType).toBe('uv');
    expect(ruleOf(d)).toBe('uv-lock');
    expect(d.plan.steps).toEqual([{ kind: 'uv-project', path: dir, lockFile: join(dir, 'uv.lock'), extras: [], groups: [], dev: false, lock: 'locked' }]);
    expect(d.plan.expected).toEqual(['pymgr-fixture-uv', 'six']);
    const dev = await detect(dir, { dependencies: { dev: true, extras: ['idna'] } });
    expect(dev.plan.steps[0]).toMatchObject({ kind: 'uv-project', dev: true, extras: ['idna'] });
    expect(dev.plan.expected).toEqual(['pymgr-fixture-uv', 'six', 'idna', 'attrs']);
  });

  it('rye-project: [tool.rye] and requirements.lock with -e file:.', async () => {
    const dir = fixture('rye-project');
    const d = await detect(dir);
    expect(d.projectType).toBe('rye');
    expect(ruleOf(d)).toBe('tool-rye');
    expect(d.files.ryeLocks).toEqual([join(dir, 'requirements.lock'), join(dir, 'requirements-dev.lock')]);
    expect(d.plan.steps).toEqual([{ kind: 'rye-lock', path: dir, files: [join(dir, 'requirements.lock')] }]);
    expect(d.plan.expected).toEqual(['attrs', 'pymgr-fixture-rye']);
    const dev = await detect(dir, { dependencies: { dev: true } });
    expect(dev.plan.steps).toEqual([{ kind: 'rye-lock', path: dir, files: [join(dir, 'requirements.lock'), join(dir, 'requirements-dev.lock')] }]);
    expect(dev.plan.expected).toEqual(['attrs', 'pymgr-fixture-rye', 'six']);
  });
});

describe('project type rules (temporary projects)', () => {
  it('tool-uv: [tool.uv] without uv.lock is a uv project without a lock file', async () => {
    const dir = project({ 'pyproject.toml': `${PEP621('p-uv', ['six==1.16.0'])}\n[tool.uv]\npackage = false\n` });
    const d = await detect(dir);
    expect(d.projectType).toBe('uv');
    expect(ruleOf(d)).toBe('tool-uv');
    expect(d.plan.steps).toEqual([{ kind: 'uv-project', path: dir, extras: [], groups: [], dev: false, lock: 'locked' }]);
    // package = false: uv does not install the project itself.
    expect(d.plan.expected).toEqual(['six']);
  });

  it("tool-uv: legacy tool.uv.dev-dependencies count with dev", async () => {
    const dir = project({ 'pyproject.toml': `${PEP621('p-uv2')}\n[tool.uv]\ndev-dependencies = ["attrs==23.2.0"]\n` });
    expect((await detect(dir)).plan.expected).toEqual(['p-uv2']);
    expect((await detect(dir, { dependencies: { dev: true } })).plan.expected).toEqual(['p-uv2', 'attrs']);
  });

  it('rye-lock: requirements.lock without [tool.rye]', async () => {
    const dir = project({ 'pyproject.toml': PEP621('p-rye'), 'requirements.lock': '-e file:.\nsix==1.16.0\n' });
    const d = await detect(dir);
    expect(d.projectType).toBe('rye');
    expect(ruleOf(d)).toBe('rye-lock');
    expect(d.plan.expected).toEqual(['six', 'p-rye']);
  });

  it('tool-rye without a lock installs the project from pyproject.toml', async () => {
    const dir = project({ 'pyproject.toml': `${PEP621('p-rye2', ['attrs'])}\n[tool.rye]\nmanaged = true\n` });
    const d = await detect(dir);
    expect(d.projectType).toBe('rye');
    expect(d.plan.steps).toEqual([{ kind: 'project', path: dir, editable: true, extras: [], groups: [], constraints: [] }]);
    expect(d.plan.expected).toEqual(['p-rye2', 'attrs']);
  });

  it('poetry-legacy: [tool.poetry] without [project] or [build-system]', async () => {
    const dir = project({ 'pyproject.toml': '[tool.poetry]\nname = "Legacy_Poetry"\nversion = "0.1.0"\n[tool.poetry.dependencies]\npython = "^3.8"\nSix = "*"\nopt = { version = "*", optional = true }\n' });
    const d = await detect(dir);
    expect(d.projectType).toBe('pyproject');
    expect(ruleOf(d)).toBe('poetry-legacy');
    expect(d.plan.expected).toEqual(['legacy-poetry', 'six']);
  });

  it('pep517-build-system: [build-system] only, metadata in setup.py', async () => {
    const dir = project({
      'pyproject.toml': '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
      'setup.py': 'from setuptools import setup\nsetup(name="p517", version="1")\n',
    });
    const d = await detect(dir);
    expect(d.projectType).toBe('pyproject');
    expect(ruleOf(d)).toBe('pep517-build-system');
    expect(d.plan.steps.filter((s) => s.kind === 'project')).toHaveLength(1);
    expect(d.plan.expected).toEqual(['p517']);
  });

  it('a pyproject.toml with only tool settings is not a project by itself', async () => {
    const toolOnly = '[tool.black]\nline-length = 100\n';
    const err = await detectError(detect(project({ 'pyproject.toml': toolOnly })));
    expect(err.code).toBe('PROJECT_UNRECOGNISED');
    const withReqs = await detect(project({ 'pyproject.toml': toolOnly, 'requirements.txt': 'six\n' }));
    expect(withReqs.projectType).toBe('requirements');
    const withSetup = await detect(project({ 'pyproject.toml': toolOnly, 'setup.py': 'from setuptools import setup\nsetup()\n' }));
    expect(withSetup.projectType).toBe('setuptools');
  });

  it('setup.cfg declaring a project with nothing to build it is PROJECT_INVALID naming setup.cfg', async () => {
    const dir = project({ 'setup.cfg': '[metadata]\nname = cfg-only\n' });
    const err = await detectError(detect(dir));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(join(dir, 'setup.cfg'));
    expect(err.hint).toContain('setup.py');
  });

  it('setup.cfg with only tool settings is not a project', async () => {
    const err = await detectError(detect(project({ 'setup.cfg': '[flake8]\nmax-line-length = 100\n' })));
    expect(err.code).toBe('PROJECT_UNRECOGNISED');
  });

  it('requirements/ directory only: the file including the others is installed', async () => {
    const dir = project({
      'requirements/base.txt': 'six==1.16.0\n',
      'requirements/prod.txt': '-r base.txt\nidna==3.7\n',
      'requirements/test.txt': '-r prod.txt\nattrs\n',
    });
    const d = await detect(dir);
    expect(d.projectType).toBe('requirements');
    expect(d.files.requirements).toEqual([join(dir, 'requirements', 'prod.txt')]);
    expect(d.plan.expected.sort()).toEqual(['idna', 'six']);
    const dev = await detect(dir, { dependencies: { dev: true } });
    expect(dev.files.requirements).toEqual([join(dir, 'requirements', 'test.txt')]);
  });

  it('only development requirement files: they are installed rather than nothing', async () => {
    const dir = project({ 'requirements-dev.txt': 'attrs\n' });
    const d = await detect(dir);
    expect(d.projectType).toBe('requirements');
    expect(d.files.requirements).toEqual([join(dir, 'requirements-dev.txt')]);
    expect(d.reasons.map((r) => r.rule)).toContain('requirements-only-dev');
  });

  it('nothing Python: PROJECT_UNRECOGNISED with a hint listing what pymgr looks for', async () => {
    const err = await detectError(detect(fixture('not-python')));
    expect(err.code).toBe('PROJECT_UNRECOGNISED');
    expect(err.message).toContain(fixture('not-python'));
    for (const what of ['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements*.txt', 'uv.lock', 'requirements.lock']) {
      expect(err.hint).toContain(what);
    }
  });

  it('a missing directory and a relative path are refused', async () => {
    expect((await detectError(detect('/nonexistent/pymgr-project'))).code).toBe('PROJECT_UNRECOGNISED');
    expect((await detectError(detect('relative/dir'))).code).toBe('USAGE');
  });
});

describe('mixes', () => {
  it('setup.py + requirements.txt: requirements first, then the project', async () => {
    const dir = fixture('mix-setuppy-requirements');
    const d = await detect(dir);
    expect(d.projectType).toBe('setuptools');
    expect(d.plan.steps).toEqual([
      { kind: 'requirements', files: [join(dir, 'requirements.txt')], constraints: [] },
      { kind: 'project', path: dir, editable: true, extras: [], groups: [], constraints: [] },
    ]);
    expect(d.plan.expected).toEqual(['six', 'pymgr-fixture-mix-setuppy-requirements']);
  });

  it('pyproject + setup.py: pyproject, the project installed once', async () => {
    const d = await detect(fixture('mix-pyproject-setuppy'));
    expect(d.projectType).toBe('pyproject');
    expect(d.files.setupPy).toBeDefined();
    expect(d.plan.steps).toHaveLength(1);
    expect(d.plan.steps[0].kind).toBe('project');
    expect(d.plan.expected).toEqual(['pymgr-fixture-mix-pyproject-setuppy', 'six']);
  });

  it('uv.lock + requirements.txt: uv, the lock wins, requirements.txt only when configured', async () => {
    const dir = fixture('mix-uv-requirements');
    const d = await detect(dir);
    expect(d.projectType).toBe('uv');
    expect(d.plan.steps.map((s) => s.kind)).toEqual(['uv-project']);
    expect(d.reasons.map((r) => r.rule)).toContain('plan-requirements-ignored');
    // No [build-system]: uv does not install the project itself, so only its dependency is expected.
    expect(d.plan.expected).toEqual(['idna']);
    const configured = await detect(dir, { dependencies: { requirements: ['requirements.txt'] } });
    expect(configured.plan.steps.map((s) => s.kind)).toEqual(['uv-project', 'requirements']);
  });

  it('pyproject + requirements.txt + setup.cfg: pyproject, requirements installed too', async () => {
    const dir = project({ 'pyproject.toml': PEP621('mixed', ['attrs']), 'requirements.txt': 'six\n', 'setup.cfg': '[metadata]\nname = mixed\n' });
    const d = await detect(dir);
    expect(d.projectType).toBe('pyproject');
    expect(d.plan.steps.map((s) => s.kind)).toEqual(['requirements', 'project']);
    expect(d.plan.expected).toEqual(['six', 'mixed', 'attrs']);
  });

  it('uv.lock + [tool.rye]: uv wins (uv-lock comes first)', async () => {
    const dir = project({ 'pyproject.toml': `${PEP621('both')}\n[tool.rye]\nmanaged = true\n`, 'uv.lock': 'version = 1\n', 'requirements.lock': '-e file:.\n' });
    const d = await detect(dir);
    expect(d.projectType).toBe('uv');
  });

  it('rye + requirements.txt: the lock wins', async () => {
    const dir = project({ 'pyproject.toml': `${PEP621('r')}\n[tool.rye]\n`, 'requirements.lock': '-e file:.\n', 'requirements.txt': 'six\n' });
    const d = await detect(dir);
    expect(d.plan.steps.map((s) => s.kind)).toEqual(['rye-lock']);
  });

  it('setup.py + setup.cfg: setuptools, name from setup.cfg, installed once', async () => {
    const dir = project({ 'setup.py': 'from setuptools import setup\nsetup()\n', 'setup.cfg': '[metadata]\nname = From_Cfg\n[options]\ninstall_requires =\n    six\n    idna; python_version < "3"\n' });
    const d = await detect(dir);
    expect(d.projectType).toBe('setuptools');
    expect(d.plan.steps).toHaveLength(1);
    expect(d.plan.expected).toEqual(['from-cfg', 'six']);
    expect(d.reasons.find((r) => r.rule === 'expected-conditional')?.message).toContain('idna');
  });
});

describe('configuration and the plan', () => {
  it('configured requirement files are used exactly, relative to the project', async () => {
    const dir = project({ 'requirements.txt': 'six\n', 'deps/app.txt': 'idna\n', 'deps/pins.txt': 'idna==3.7\n' });
    const d = await detect(dir, { dependencies: { requirements: ['deps/app.txt'], constraints: ['deps/pins.txt'] } });
    expect(d.files.requirements).toEqual([join(dir, 'deps/app.txt')]);
    expect(d.plan.steps).toEqual([{ kind: 'requirements', files: [join(dir, 'deps/app.txt')], constraints: [join(dir, 'deps/pins.txt')] }]);
    expect(d.plan.expected).toEqual(['idna']);
  });

  it('a configured requirement file that does not exist is PROJECT_INVALID naming it', async () => {
    const dir = project({ 'requirements.txt': 'six\n' });
    const err = await detectError(detect(dir, { dependencies: { requirements: ['missing.txt'] } }));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain('missing.txt');
    expect(err.message).toContain('dependencies.requirements');
  });

  it('discovered constraints*.txt are constraints, not requirements', async () => {
    const dir = project({ 'requirements.txt': 'six\n', 'constraints.txt': 'six==1.16.0\n' });
    const d = await detect(dir);
    expect(d.files.requirements).toEqual([join(dir, 'requirements.txt')]);
    expect(d.plan.steps).toEqual([{ kind: 'requirements', files: [join(dir, 'requirements.txt')], constraints: [join(dir, 'constraints.txt')] }]);
  });

  it('an unknown extra or group is CONFIG_INVALID listing the defined ones', async () => {
    const extra = await detectError(detect(fixture('pyproject-setuptools'), { dependencies: { extras: ['nope'] } }));
    expect(extra.code).toBe('CONFIG_INVALID');
    expect(extra.message).toContain('"nope"');
    expect(extra.hint).toContain('six');
    const group = await detectError(detect(fixture('pyproject-hatch'), { dependencies: { groups: ['nope'] } }));
    expect(group.code).toBe('CONFIG_INVALID');
    expect(group.hint).toContain('test');
  });

  it('include-group entries in dependency groups are followed', async () => {
    const dir = project({ 'pyproject.toml': PEP621('g', [], '\n[dependency-groups]\nlint = ["ruff"]\ndev = ["pytest", { include-group = "lint" }]\n') });
    const d = await detect(dir, { dependencies: { dev: true } });
    expect(d.plan.steps[0]).toMatchObject({ kind: 'project', groups: ['dev'] });
    expect(d.plan.expected).toEqual(['g', 'pytest', 'ruff']);
  });

  it('the index options are copied from the configuration', async () => {
    const d = await detect(fixture('setuppy'), { index: { url: 'https://example.com/simple', findLinks: ['/wheels'], offline: true } });
    expect(d.plan.index).toEqual({ url: 'https://example.com/simple', extraUrls: [], findLinks: ['/wheels'], offline: true, noIndex: false });
  });

  it('pyproject data is reported: tool tables nest as tool -> uv/rye/pymgr', async () => {
    const dir = project({ 'pyproject.toml': `${PEP621('t', ['a'])}\n[tool.rye]\nmanaged = true\n[tool.pymgr]\nvenv = ".env"\n` });
    const d = await detect(dir);
    expect(d.pyproject?.tool.rye).toEqual({ managed: true });
    expect(d.pyproject?.tool.pymgr).toEqual({ venv: '.env' });
    expect(d.pyproject?.dependencies).toEqual(['a']);
  });
});

describe('malformed projects', () => {
  it('broken TOML: PROJECT_INVALID naming the file, line and column', async () => {
    const file = join(fixture('broken-toml'), 'pyproject.toml');
    const err = await detectError(detect(fixture('broken-toml')));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(`${file}:7:3`);
    expect(err.message).toMatch(/invalid TOML: .+/);
    expect(err.details).toMatchObject({ file, line: 7, column: 3 });
  });

  it('a mistyped key: PROJECT_INVALID naming the file and the key', async () => {
    const dir = project({ 'pyproject.toml': '[project]\nname = "x"\ndependencies = "six"\n' });
    const err = await detectError(detect(dir));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(join(dir, 'pyproject.toml'));
    expect(err.message).toContain('project.dependencies');
  });

  it('a missing -r include: PROJECT_INVALID naming the including file and line', async () => {
    const dir = project({ 'requirements.txt': 'six\n-r other.txt\n' });
    const err = await detectError(detect(dir));
    expect(err.code).toBe('PROJECT_INVALID');
    expect(err.message).toContain(join(dir, 'other.txt'));
    expect(err.message).toContain(`${join(dir, 'requirements.txt')} line 2`);
  });

  it('a [project] table and [tool.uv] that is not a table', async () => {
    const err = await detectError(detect(project({ 'pyproject.toml': 'project = 1\n' })));
    expect(err.message).toContain('project must be a table');
    const err2 = await detectError(detect(project({ 'pyproject.toml': '[tool]\nuv = "yes"\n' })));
    expect(err2.message).toContain('tool.uv must be a table');
  });
});

describe('constraints without requirement files', () => {
  it('apply to the project install', async () => {
    const dir = project({
      'setup.py': 'from setuptools import setup\nsetup(name="c-only", version="1", install_requires=["six"])\n',
      'constraints.txt': 'six==1.16.0\n',
    });
    const d = await detect(dir);
    expect(d.plan.steps).toEqual([{ kind: 'project', path: dir, editable: true, extras: [], groups: [], constraints: [join(dir, 'constraints.txt')] }]);
  });
});
