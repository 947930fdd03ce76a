/**
 * Project detection: what kind of Python project a directory holds, which Python it asks for, and the
 * install plan that sets it up. All file access goes through an {@link Executor}, so the same code works
 * on the host and inside a container.
 *
 * The project type is decided by ONE ordered rule table ({@link PROJECT_TYPE_RULES}); the first rule that
 * matches wins. Every answer is recorded as a {@link Reason} naming the rule, the file and why.
 *
 * Mixes (every combination has an answer; none is "unsupported"):
 *
 * | files present                                   | type         | plan                                                       |
 * |-------------------------------------------------|--------------|------------------------------------------------------------|
 * | uv.lock (+ anything)                            | uv           | uv-project (lock); requirement files only if configured    |
 * | pyproject [tool.uv] without uv.lock             | uv           | uv-project (no lock); requirement files only if configured |
 * | pyproject [tool.rye] or requirements.lock       | rye          | rye-lock (requirements.lock, + -dev.lock with dev); without a lock: project; requirement files only if configured |
 * | pyproject [project] / [build-system] / [tool.poetry] (+ setup.py, setup.cfg) | pyproject | requirement files (if any), then the project once |
 * | setup.py (+ setup.cfg, + a pyproject.toml that is not a project by itself) | setuptools | requirement files (if any), then the project once |
 * | setup.cfg declaring a project + a pyproject.toml that is not a project by itself | setuptools | as above (setuptools builds from setup.cfg) |
 * | setup.cfg declaring a project, no setup.py, no pyproject.toml | — | PROJECT_INVALID: pip and uv cannot build it (hint: add a setup.py shim or [build-system]) |
 * | requirements*.txt / requirements/*.txt only     | requirements | requirement files                                          |
 * | a pyproject.toml with none of the tables above  | (next rules) | not a project by itself                                    |
 * | nothing of the above                            | —            | PROJECT_UNRECOGNISED, hint lists what pymgr looks for      |
 *
 * uv and rye projects ignore discovered requirement files because their locks are authoritative (a
 * requirements.txt next to them is usually an export of the lock); name them in
 * `dependencies.requirements` to install them as well.
 *
 * Expected distributions (`plan.expected`, checked after installing) are PEP 503-normalised names.
 * Requirements with an environment marker are left out of `expected`: whether they are installed depends
 * on the interpreter. `dependencies.dev` adds the `dev` dependency group (and uv's legacy
 * `tool.uv.dev-dependencies`) where the project defines one.
 */
import { posix as path } from 'node:path';
import type { Executor, InstallPlan, InstallStep, ProjectType } from '../contracts.js';
import type { ProjectFiles, Reason } from '../types.js';
import type { PymgrConfig } from '../config/schema.js';
import { PymgrError } from '../errors.js';
import { findPythonRequest, MISE_TOML_FILES } from './find-python-request.js';
import {
  findSetupPyName,
  readPyproject,
  readSetupCfg,
  readTomlFile,
  type PyprojectInfo,
  type SetupCfgInfo,
} from './read-project-metadata.js';
import { discoverRequirementFiles, readRequirementNames } from './requirement-files.js';
import { normalizeName, parseRequirementName } from './requirement-names.js';

export type { ProjectType } from '../contracts.js';
export type { ProjectFiles, Reason } from '../types.js';

export interface ProjectDetection {
  projectDir: string;
  projectType: ProjectType;
  files: ProjectFiles;
  /** What pyproject.toml says (the public part of {@link PyprojectInfo}). */
  pyproject?: Pick<PyprojectInfo, 'name' | 'dependencies' | 'optionalDependencies' | 'dependencyGroups' | 'requiresPython' | 'buildBackend' | 'tool'>;
  hasMiseConfig: boolean;
  /** Matches PythonRequest in src/contracts.ts (`raw` is the request). */
  python: { raw: string; request: string; source: string; sourcePath?: string };
  plan: InstallPlan;
  reasons: Reason[];
}

export interface DetectOptions {
  /** The request when no file or setting names one (default `3`: the newest available). */
  defaultPython?: string;
  /** Where the config's `python` came from (`--python`, `PYMGR_PYTHON`, a config file): the request's `sourcePath`, and named in its errors. */
  configPythonOrigin?: string;
}

/** What the type rules look at. Built once from the directory listing and the parsed files. */
export interface DetectContext {
  projectDir: string;
  files: ProjectFiles;
  pyproject?: PyprojectInfo;
  setupCfg?: SetupCfgInfo;
  /** Every requirement file found (including development files that are not selected). */
  foundRequirements: string[];
}

export interface TypeAnswer {
  projectType: ProjectType;
  file: string;
  message: string;
}

export interface ProjectTypeRule {
  id: string;
  description: string;
  match(ctx: DetectContext): TypeAnswer | undefined;
}

const BACKENDS: [RegExp, string][] = [
  [/^setuptools\b/, 'setuptools'],
  [/^poetry\b/, 'poetry'],
  [/^hatchling\b/, 'hatch'],
  [/^flit_core\b|^flit\b/, 'flit'],
  [/^pdm\b/, 'pdm'],
  [/^maturin\b/, 'maturin'],
  [/^scikit_build_core\b/, 'scikit-build-core'],
  [/^uv_build\b/, 'uv'],
];

function describeBackend(backend: string | undefined): string {
  if (!backend) return 'no build-backend (setuptools by default)';
  const known = BACKENDS.find(([re]) => re.test(backend));
  return known ? `${known[1]} (${backend})` : backend;
}

/** The project type rules, in order. The first that matches decides the type. */
export const PROJECT_TYPE_RULES: readonly ProjectTypeRule[] = [
  {
    id: 'uv-lock',
    description: 'a uv.lock file: a uv project',
    match: (ctx) => (ctx.files.uvLock ? { projectType: 'uv', file: ctx.files.uvLock, message: 'uv.lock found: a uv project' } : undefined),
  },
  {
    id: 'tool-uv',
    description: 'a [tool.uv] table in pyproject.toml: a uv project',
    match: (ctx) =>
      ctx.pyproject?.tool.uv && ctx.files.pyproject
        ? { projectType: 'uv', file: ctx.files.pyproject, message: '[tool.uv] in pyproject.toml: a uv project (no uv.lock yet)' }
        : undefined,
  },
  {
    id: 'tool-rye',
    description: 'a [tool.rye] table in pyproject.toml: a rye project',
    match: (ctx) =>
      ctx.pyproject?.tool.rye && ctx.files.pyproject
        ? { projectType: 'rye', file: ctx.files.pyproject, message: '[tool.rye] in pyproject.toml: a rye project' }
        : undefined,
  },
  {
    id: 'rye-lock',
    description: 'a requirements.lock file: a rye project',
    match: (ctx) => {
      const lock = ctx.files.ryeLocks.find((f) => path.basename(f) === 'requirements.lock');
      return lock ? { projectType: 'rye', file: lock, message: 'requirements.lock found: a rye project' } : undefined;
    },
  },
  {
    id: 'pep621-project',
    description: 'a [project] table in pyproject.toml (PEP 621)',
    match: (ctx) =>
      ctx.pyproject?.hasProjectTable && ctx.files.pyproject
        ? {
            projectType: 'pyproject',
            file: ctx.files.pyproject,
            message: `[project] in pyproject.toml (PEP 621), build backend: ${describeBackend(ctx.pyproject.buildBackend)}`,
          }
        : undefined,
  },
  {
    id: 'pep517-build-system',
    description: 'a [build-system] table in pyproject.toml (PEP 517), any backend',
    match: (ctx) =>
      ctx.pyproject?.hasBuildSystem && ctx.files.pyproject
        ? {
            projectType: 'pyproject',
            file: ctx.files.pyproject,
            message: `[build-system] in pyproject.toml (PEP 517), backend: ${describeBackend(ctx.pyproject.buildBackend)}`,
          }
        : undefined,
  },
  {
    id: 'poetry-legacy',
    description: 'a [tool.poetry] table in pyproject.toml without [project]',
    match: (ctx) =>
      ctx.pyproject?.hasPoetry && ctx.files.pyproject
        ? { projectType: 'pyproject', file: ctx.files.pyproject, message: '[tool.poetry] in pyproject.toml: a Poetry project' }
        : undefined,
  },
  {
    id: 'setup-py',
    description: 'a setup.py file: a setuptools project',
    match: (ctx) =>
      ctx.files.setupPy
        ? {
            projectType: 'setuptools',
            file: ctx.files.setupPy,
            message: ctx.files.setupCfg ? 'setup.py (with setup.cfg): a setuptools project' : 'setup.py: a setuptools project',
          }
        : undefined,
  },
  {
    id: 'setup-cfg',
    description: 'a setup.cfg declaring a project ([metadata] or [options]): a setuptools project',
    match: (ctx) => {
      if (!ctx.files.setupCfg || !ctx.setupCfg?.declaresProject) return undefined;
      if (ctx.files.pyproject) {
        // Any pyproject.toml makes pip/uv use PEP 517; setuptools then builds from setup.cfg alone.
        return { projectType: 'setuptools', file: ctx.files.setupCfg, message: 'setup.cfg (built through pyproject.toml): a setuptools project' };
      }
      throw new PymgrError('PROJECT_INVALID', `${ctx.files.setupCfg} declares a project, but there is no setup.py or pyproject.toml to build it with`, {
        hint:
          'pip and uv need one of them: add a setup.py containing "from setuptools import setup; setup()", or a pyproject.toml with ' +
          '[build-system] requires = ["setuptools>=61"] and build-backend = "setuptools.build_meta".',
        details: { file: ctx.files.setupCfg },
      });
    },
  },
  {
    id: 'requirements-files',
    description: 'requirements*.txt or requirements/*.txt files',
    match: (ctx) => {
      const files = ctx.files.requirements.length > 0 ? ctx.files.requirements : ctx.foundRequirements;
      return files.length > 0
        ? { projectType: 'requirements', file: files[0], message: `requirement files: ${files.map((f) => path.relative(ctx.projectDir, f)).join(', ')}` }
        : undefined;
    },
  },
];

const LOOKED_FOR =
  'uv.lock, pyproject.toml with [project], [build-system], [tool.poetry], [tool.uv] or [tool.rye], requirements.lock, ' +
  'setup.py, setup.cfg, requirements*.txt, requirements/*.txt';

/**
 * Detect the project in `projectDir` (an absolute path where the executor runs): its type, files, Python
 * request and install plan. Throws PROJECT_UNRECOGNISED when nothing Python is there, PROJECT_INVALID when
 * a file is broken, CONFIG_INVALID when the configuration asks for something the project does not have.
 */
export async function detectProject(
  executor: Executor,
  projectDir: string,
  config: PymgrConfig,
  options: DetectOptions = {},
): Promise<ProjectDetection> {
  if (!path.isAbsolute(projectDir)) {
    throw new PymgrError('USAGE', `The project directory must be an absolute path, got "${projectDir}"`, {
      hint: 'Resolve the path before calling detectProject.',
    });
  }
  const dir = path.normalize(projectDir).replace(/(.)\/$/, '$1');
  const entries = await executor.readDir(dir);
  if (entries === undefined) {
    throw new PymgrError('PROJECT_UNRECOGNISED', `The project directory ${dir} does not exist (in ${executor.description})`, {
      hint: 'Check the path, or run pymgr from the project directory.',
      details: { projectDir: dir },
    });
  }
  const names = new Set(entries);
  const at = (name: string) => (names.has(name) ? path.join(dir, name) : undefined);
  const reasons: Reason[] = [];

  const files: ProjectFiles = {
    pyproject: at('pyproject.toml'),
    uvLock: at('uv.lock'),
    ryeLocks: ['requirements.lock', 'requirements-dev.lock'].filter((n) => names.has(n)).map((n) => path.join(dir, n)),
    setupPy: at('setup.py'),
    setupCfg: at('setup.cfg'),
    requirements: [],
    constraints: [],
    pythonVersionFile: at('.python-version'),
    toolVersions: at('.tool-versions'),
    runtimeTxt: at('runtime.txt'),
  };
  const miseTomls: string[] = [];
  for (const rel of MISE_TOML_FILES) {
    const p = path.join(dir, rel);
    if (rel.includes('/') ? await executor.exists(p) : names.has(rel)) miseTomls.push(p);
  }
  if (miseTomls.length > 0) files.miseToml = miseTomls[0];
  const hasMiseConfig = miseTomls.length > 0 || files.toolVersions !== undefined;

  const pyproject = files.pyproject ? readPyproject(await readTomlFile(executor, files.pyproject), files.pyproject) : undefined;
  const setupCfg = files.setupCfg ? readSetupCfg(await executor.readFile(files.setupCfg)) : undefined;
  if (pyproject && !pyproject.hasProjectTable && !pyproject.hasBuildSystem && !pyproject.hasPoetry && !pyproject.tool.uv && !pyproject.tool.rye) {
    reasons.push({
      rule: 'pyproject-not-a-project',
      file: files.pyproject,
      message: 'pyproject.toml has no [project], [build-system], [tool.poetry], [tool.uv] or [tool.rye]: not a project by itself',
    });
  }

  // Requirement files: configured ones exactly, else discovered.
  const deps = config.dependencies;
  const discovered = await discoverRequirementFiles(executor, dir, entries, deps.dev);
  const configuredRequirements = deps.requirements !== undefined;
  if (configuredRequirements) {
    files.requirements = await resolveConfiguredFiles(executor, dir, deps.requirements ?? [], 'dependencies.requirements');
    reasons.push({ rule: 'requirements-configured', message: `requirement files from the configuration: ${listRel(dir, files.requirements)}` });
  } else {
    files.requirements = discovered.selected;
    for (const f of discovered.selected) reasons.push({ rule: 'requirements-discovered', file: f, message: 'requirement file found' });
    for (const x of discovered.excluded) reasons.push({ rule: 'requirements-excluded', file: x.file, message: `not installed directly: ${x.why}` });
  }
  if (deps.constraints.length > 0) {
    files.constraints = await resolveConfiguredFiles(executor, dir, deps.constraints, 'dependencies.constraints');
    reasons.push({ rule: 'constraints-configured', message: `constraint files from the configuration: ${listRel(dir, files.constraints)}` });
  } else if (!configuredRequirements) {
    files.constraints = discovered.constraints;
    for (const f of discovered.constraints) reasons.push({ rule: 'constraints-discovered', file: f, message: 'constraint file found' });
  }

  // Project type: the first matching rule.
  const ctx: DetectContext = { projectDir: dir, files, pyproject, setupCfg, foundRequirements: discovered.found };
  let answer: TypeAnswer | undefined;
  let rule: ProjectTypeRule | undefined;
  for (const r of PROJECT_TYPE_RULES) {
    answer = r.match(ctx);
    if (answer) {
      rule = r;
      break;
    }
  }
  if (!answer || !rule) {
    throw new PymgrError('PROJECT_UNRECOGNISED', `No Python project found in ${dir}`, {
      hint: `pymgr looks for: ${LOOKED_FOR}. Add one of them, or point pymgr at the project directory.`,
      details: { projectDir: dir, lookedFor: LOOKED_FOR },
    });
  }
  reasons.push({ rule: rule.id, file: answer.file, message: answer.message });
  if (answer.projectType === 'requirements' && files.requirements.length === 0 && !configuredRequirements) {
    // Only development files exist: install them rather than nothing.
    files.requirements = discovered.found;
    reasons.push({ rule: 'requirements-only-dev', message: `only development requirement files exist; installing them: ${listRel(dir, files.requirements)}` });
  }

  // Python request.
  const { request, rule: pyRule } = await findPythonRequest({
    executor,
    projectDir: dir,
    configPython: config.python,
    configPythonOrigin: options.configPythonOrigin,
    defaultPython: options.defaultPython,
    files: { ...files, miseTomls },
    pyproject,
  });
  reasons.push({
    rule: `python-${pyRule.id}`,
    // A setting's origin (`--python`, `PYMGR_PYTHON`, a config file) is named, not listed as a project file.
    file: request.source === 'config' ? undefined : request.sourcePath,
    message:
      request.source === 'requires-python'
        ? `Python ${request.raw}: ${pyRule.description} ("${pyproject?.requiresPython}")`
        : `Python ${request.raw} from ${request.source === 'config' && request.sourcePath ? request.sourcePath : pyRule.description}`,
  });

  const plan = await buildPlan(executor, ctx, answer.projectType, config, configuredRequirements, reasons);

  return {
    projectDir: dir,
    projectType: answer.projectType,
    files,
    ...(pyproject
      ? {
          pyproject: {
            name: pyproject.name,
            dependencies: pyproject.dependencies,
            optionalDependencies: pyproject.optionalDependencies,
            dependencyGroups: pyproject.dependencyGroups,
            requiresPython: pyproject.requiresPython,
            buildBackend: pyproject.buildBackend,
            tool: pyproject.tool,
          },
        }
      : {}),
    hasMiseConfig,
    python: { raw: request.raw, request: request.raw, source: request.source, ...(request.sourcePath ? { sourcePath: request.sourcePath } : {}) },
    plan,
    reasons,
  };
}

function listRel(dir: string, files: string[]): string {
  return files.length === 0 ? '(none)' : files.map((f) => path.relative(dir, f)).join(', ');
}

async function resolveConfiguredFiles(executor: Executor, dir: string, list: string[], key: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of list) {
    const abs = path.resolve(dir, f);
    if (!(await executor.exists(abs))) {
      throw new PymgrError('PROJECT_INVALID', `${key} names ${f}, but ${abs} does not exist`, {
        hint: `Create ${abs}, or remove it from ${key} in the pymgr configuration.`,
        details: { key, file: abs },
      });
    }
    out.push(abs);
  }
  return out;
}

/** The project's own name: pyproject, then setup.cfg, then a literal in setup.py. */
async function findProjectName(executor: Executor, ctx: DetectContext): Promise<{ name?: string; file?: string }> {
  if (ctx.pyproject?.name) return { name: ctx.pyproject.name, file: ctx.files.pyproject };
  if (ctx.setupCfg?.name) return { name: ctx.setupCfg.name, file: ctx.files.setupCfg };
  if (ctx.files.setupPy) {
    const name = findSetupPyName(await executor.readFile(ctx.files.setupPy));
    if (name) return { name, file: ctx.files.setupPy };
  }
  return {};
}

class Expected {
  readonly names: string[] = [];
  readonly conditional: string[] = [];
  add(name: string | undefined): void {
    if (name && !this.names.includes(name)) this.names.push(name);
  }
  addRequirements(reqs: readonly string[]): void {
    for (const r of reqs) {
      const parsed = parseRequirementName(r);
      if (!parsed) continue;
      if (parsed.conditional) this.conditional.push(parsed.name);
      else this.add(parsed.name);
    }
  }
}

async function buildPlan(
  executor: Executor,
  ctx: DetectContext,
  type: ProjectType,
  config: PymgrConfig,
  configuredRequirements: boolean,
  reasons: Reason[],
): Promise<InstallPlan> {
  const dir = ctx.projectDir;
  // --all-extras: every extra the project defines, named (every installer then gets the same list).
  const definedExtras = Object.keys(ctx.pyproject?.optionalDependencies ?? ctx.setupCfg?.extrasRequire ?? {});
  const deps = config.dependencies.allExtras ? { ...config.dependencies, extras: definedExtras } : config.dependencies;
  if (config.dependencies.allExtras) {
    reasons.push({ rule: 'plan-all-extras', message: `all extras: ${definedExtras.join(', ') || '(the project defines none)'}` });
  }
  const steps: InstallStep[] = [];
  const expected = new Expected();
  const py = ctx.pyproject;

  const addRequirementsStep = async () => {
    if (ctx.files.requirements.length === 0) {
      if (ctx.files.constraints.length > 0) {
        reasons.push({ rule: 'plan-constraints-project', message: `no requirement files: the constraint files apply to the project install, if any: ${listRel(dir, ctx.files.constraints)}` });
      }
      return;
    }
    steps.push({ kind: 'requirements', files: [...ctx.files.requirements], constraints: [...ctx.files.constraints] });
    reasons.push({ rule: 'plan-requirements', message: `install ${listRel(dir, ctx.files.requirements)}` });
    for (const f of ctx.files.requirements) {
      const names = await readRequirementNames(executor, f, dir);
      for (const n of names.names) expected.add(n);
      expected.conditional.push(...names.conditional);
      if (names.includesProject) expected.add(normalizeMaybe((await findProjectName(executor, ctx)).name));
    }
  };

  const checkSelections = (groupsAvailable: Record<string, string[]>, extraGroups: string[] = []) => {
    if (py?.hasProjectTable && !py.dynamic.includes('optional-dependencies')) {
      for (const extra of deps.extras) {
        if (!(extra in py.optionalDependencies) && !Object.keys(py.optionalDependencies).some((k) => normalizeName(k) === normalizeName(extra))) {
          throw new PymgrError('CONFIG_INVALID', `dependencies.extras asks for "${extra}", but ${ctx.files.pyproject} defines no such extra`, {
            hint: `Defined extras: ${Object.keys(py.optionalDependencies).join(', ') || '(none)'}. Fix dependencies.extras.`,
            details: { key: 'dependencies.extras', value: extra, file: ctx.files.pyproject },
          });
        }
      }
    }
    for (const group of deps.groups) {
      if (!(group in groupsAvailable) && !extraGroups.includes(group)) {
        throw new PymgrError('CONFIG_INVALID', `dependencies.groups asks for "${group}", but ${ctx.files.pyproject ?? 'the project'} defines no such dependency group`, {
          hint: `Defined groups: ${Object.keys(groupsAvailable).join(', ') || '(none)'}. Fix dependencies.groups.`,
          details: { key: 'dependencies.groups', value: group, ...(ctx.files.pyproject ? { file: ctx.files.pyproject } : {}) },
        });
      }
    }
  };

  const addProjectDeps = (extras: string[], groups: string[]) => {
    if (py) {
      expected.addRequirements(py.dependencies);
      for (const e of extras) {
        const key = Object.keys(py.optionalDependencies).find((k) => normalizeName(k) === normalizeName(e));
        if (key) expected.addRequirements(py.optionalDependencies[key]);
      }
      for (const g of groups) expected.addRequirements(py.dependencyGroups[g] ?? []);
    }
    if (ctx.setupCfg && !py?.hasProjectTable) {
      expected.addRequirements(ctx.setupCfg.installRequires);
      for (const e of extras) expected.addRequirements(ctx.setupCfg.extrasRequire[e] ?? []);
    }
  };

  const addProjectStep = async (why: string) => {
    const groups = [...deps.groups];
    if (deps.dev && py?.dependencyGroups.dev && !groups.includes('dev')) groups.push('dev');
    checkSelections(py?.dependencyGroups ?? {});
    // Constraint files go with the requirement files when there are any, else with the project itself.
    const constraints = ctx.files.requirements.length ? [] : [...ctx.files.constraints];
    steps.push({ kind: 'project', path: dir, editable: deps.editable, extras: [...deps.extras], groups, constraints });
    const { name, file } = await findProjectName(executor, ctx);
    expected.add(normalizeMaybe(name));
    addProjectDeps(deps.extras, groups);
    reasons.push({
      rule: 'plan-project',
      file,
      message: `${why}${deps.editable ? ' (editable)' : ''}${name ? `; project name ${name}` : '; project name unknown (not verified)'}`,
    });
  };

  const noteIgnoredRequirements = () => {
    if (configuredRequirements || ctx.files.requirements.length === 0) return false;
    reasons.push({
      rule: 'plan-requirements-ignored',
      message: `the lock file is authoritative; not installing ${listRel(dir, ctx.files.requirements)} (name them in dependencies.requirements to install them too)`,
    });
    return true;
  };

  switch (type) {
    case 'uv': {
      const uv = (py?.tool.uv ?? {}) as Record<string, unknown>;
      const legacyDev = Array.isArray(uv['dev-dependencies']) ? (uv['dev-dependencies'] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
      checkSelections(py?.dependencyGroups ?? {}, legacyDev.length > 0 ? ['dev'] : []);
      steps.push({ kind: 'uv-project', path: dir, ...(ctx.files.uvLock ? { lockFile: ctx.files.uvLock } : {}), extras: [...deps.extras], groups: [...deps.groups], dev: deps.dev, lock: deps.lock });
      const lockUse = { locked: 'from uv.lock', frozen: 'exactly as uv.lock says (frozen: not checked against pyproject.toml)', update: 're-locked (uv.lock is updated to match pyproject.toml)' }[deps.lock];
      reasons.push({ rule: 'plan-uv-project', file: ctx.files.uvLock ?? ctx.files.pyproject, message: ctx.files.uvLock ? `install the uv project ${lockUse}` : 'install the uv project (no uv.lock: resolved at install time)' });
      const packaged = py?.hasProjectTable === true && (uv.package === true || (uv.package !== false && py.hasBuildSystem));
      if (packaged) expected.add(normalizeMaybe(py?.name));
      const groups = [...deps.groups];
      if (deps.dev && !groups.includes('dev')) groups.push('dev');
      addProjectDeps(deps.extras, groups);
      if (deps.dev) expected.addRequirements(legacyDev);
      if (configuredRequirements) await addRequirementsStep();
      else noteIgnoredRequirements();
      break;
    }
    case 'rye': {
      const locks = ctx.files.ryeLocks.filter((f) => path.basename(f) === 'requirements.lock' || (deps.dev && path.basename(f) === 'requirements-dev.lock'));
      if (deps.dev && !ctx.files.ryeLocks.some((f) => path.basename(f) === 'requirements-dev.lock')) {
        reasons.push({ rule: 'plan-rye-no-dev-lock', message: 'dependencies.dev is set but there is no requirements-dev.lock' });
      }
      const mainLock = deps.lock === 'update' ? undefined : locks.find((f) => path.basename(f) === 'requirements.lock');
      if (deps.lock === 'update' && locks.length) {
        reasons.push({ rule: 'plan-rye-relock', message: 'dependencies.lock is update: the rye lock files are not used; the project is resolved from pyproject.toml' });
      }
      if (mainLock) {
        const files = locks;
        steps.push({ kind: 'rye-lock', path: dir, files });
        reasons.push({ rule: 'plan-rye-lock', file: files[0], message: `install the rye lock ${listRel(dir, files)}` });
        for (const f of files) {
          const names = await readRequirementNames(executor, f, dir);
          for (const n of names.names) expected.add(n);
          expected.conditional.push(...names.conditional);
          if (names.includesProject) expected.add(normalizeMaybe((await findProjectName(executor, ctx)).name));
        }
      } else {
        await addProjectStep('no requirements.lock: install the project from pyproject.toml (run `rye lock` to pin it)');
      }
      if (configuredRequirements) await addRequirementsStep();
      else noteIgnoredRequirements();
      break;
    }
    case 'pyproject':
    case 'setuptools':
      await addRequirementsStep();
      await addProjectStep(type === 'pyproject' ? 'install the project from pyproject.toml' : `install the project with setuptools (${ctx.files.setupPy ? 'setup.py' : 'setup.cfg'})`);
      break;
    case 'requirements':
      await addRequirementsStep();
      break;
  }

  const conditional = [...new Set(expected.conditional)].filter((n) => !expected.names.includes(n));
  if (conditional.length > 0) {
    reasons.push({ rule: 'expected-conditional', message: `not verified (they have environment markers): ${conditional.join(', ')}` });
  }

  return {
    steps,
    expected: expected.names,
    index: {
      ...(config.index.url !== undefined ? { url: config.index.url } : {}),
      extraUrls: [...config.index.extraUrls],
      findLinks: [...config.index.findLinks],
      offline: config.index.offline,
      noIndex: config.index.noIndex,
    },
  };
}

function normalizeMaybe(name: string | undefined): string | undefined {
  return name ? normalizeName(name) : undefined;
}
