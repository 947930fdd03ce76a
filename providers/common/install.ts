import { parse as parseToml } from 'smol-toml';
import type { IndexOptions, InstallPlan, InstallReport, InstallStep, ProviderContext, VenvTarget } from '../../src/contracts.js';
import { normalizeName, PymgrError, prepareIndexAccess, redactArgs, runChecked } from '../../src/core/kit.js';
import { installFailed } from './install-errors.js';

/**
 * How packages get into a venv: `uv pip install --python <venv>` or the venv's own pip.
 * Both take the same requirement arguments; only the command and a few flags differ.
 */
export type Installer =
  | { kind: 'uv'; uv: string; env: Record<string, string | undefined> }
  | { kind: 'pip'; env?: Record<string, string | undefined> };

/** The command (file and leading args) that installs into `venv` with `installer`. */
export function installCommand(installer: Installer, venv: VenvTarget): { file: string; args: string[] } {
  if (installer.kind === 'uv') return { file: installer.uv, args: ['pip', 'install', '--python', venv.python] };
  return { file: venv.python, args: ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input'] };
}

/**
 * Run `fn` with the index flags and variables of one installer command: URLs with credentials
 * never go on the command line (a private netrc or the command's environment, see
 * src/core/index-access.ts), and the private netrc is removed afterwards. pip has no offline
 * switch: offline means `--no-index` there.
 */
export async function withIndexAccess<T>(
  ctx: ProviderContext,
  index: IndexOptions,
  installer: Installer['kind'],
  fn: (access: { args: string[]; env: Record<string, string> }) => Promise<T>,
): Promise<T> {
  const access = await prepareIndexAccess(ctx.executor, index, installer);
  try {
    const keyring = installer === 'uv' && ctx.config.providers.uv.keyringProvider;
    return await fn({ args: [...access.args, ...(keyring ? ['--keyring-provider', keyring] : [])], env: access.env });
  } finally {
    await access.cleanup();
  }
}

/** `path[extra1,extra2]`, for installing a local project with extras. */
export function withExtras(path: string, extras: readonly string[]): string {
  return extras.length ? `${path}[${extras.join(',')}]` : path;
}

/**
 * Requirements of the named dependency groups (PEP 735) of the pyproject in `projectDir`,
 * with `{include-group = ...}` expanded. Done here so it works with any pip version.
 * Groups named in `optional` are skipped when the project does not define them.
 */
export async function readGroupRequirements(
  ctx: ProviderContext,
  projectDir: string,
  groups: readonly string[],
  optional: readonly string[] = [],
): Promise<string[]> {
  if (!groups.length) return [];
  const file = `${projectDir}/pyproject.toml`;
  let data: Record<string, unknown>;
  try {
    data = parseToml(await ctx.executor.readFile(file)) as Record<string, unknown>;
  } catch (err) {
    throw new PymgrError('PROJECT_INVALID', `Cannot read dependency groups from ${file}`, {
      cause: err,
      hint: 'Dependency groups need a valid pyproject.toml with a [dependency-groups] table.',
    });
  }
  const table = (data['dependency-groups'] ?? {}) as Record<string, unknown[]>;
  const byName = new Map(Object.entries(table).map(([k, v]) => [normalizeName(k), v]));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (group: string, chain: string[]) => {
    const key = normalizeName(group);
    if (chain.includes(key)) throw new PymgrError('PROJECT_INVALID', `Dependency group cycle in ${file}: ${[...chain, key].join(' -> ')}`);
    if (seen.has(key)) return;
    seen.add(key);
    const items = byName.get(key);
    if (!items && chain.length === 0 && optional.some((o) => normalizeName(o) === key)) return;
    if (!items) {
      throw new PymgrError('PROJECT_INVALID', `Dependency group "${group}" is not defined in ${file}`, {
        hint: `Defined groups: ${[...byName.keys()].join(', ') || 'none'}. Fix dependencies.groups in your pymgr config.`,
        details: { file, keyPath: 'dependencies.groups' },
      });
    }
    for (const item of items) {
      if (typeof item === 'string') out.push(item);
      else if (item && typeof item === 'object' && 'include-group' in item) visit(String((item as Record<string, unknown>)['include-group']), [...chain, key]);
    }
  };
  for (const g of groups) visit(g, []);
  return out;
}

/** Pins (`name==version`) of the registry packages in a uv.lock, for installing a uv project through pip. */
export function pinsFromUvLock(lockText: string, projectName?: string): string[] {
  const data = parseToml(lockText) as { package?: Array<{ name: string; version?: string; source?: Record<string, unknown> }> };
  const pins: string[] = [];
  for (const pkg of data.package ?? []) {
    if (!pkg.version || !pkg.source) continue;
    if (!('registry' in pkg.source)) continue; // editable / virtual / path / git: not pinnable by version
    if (projectName && pkg.name === projectName) continue;
    pins.push(`${pkg.name}==${pkg.version}`);
  }
  return pins;
}

/**
 * What a uv.lock's `--locked` check would refuse, as far as names tell without uv: the names of
 * the project's dependencies and optional dependencies in pyproject.toml that the lock's record of
 * the project (`[package.metadata] requires-dist`) does not have. Empty when the lock has no such
 * record (an old lock format) or pyproject.toml does not parse (uv would say so itself).
 */
export function requirementsMissingFromUvLock(lockText: string, pyprojectText: string): string[] {
  let lock: { package?: Array<{ source?: Record<string, unknown>; metadata?: { 'requires-dist'?: Array<{ name?: string }> } }> };
  let project: { dependencies?: unknown; 'optional-dependencies'?: Record<string, unknown> } | undefined;
  try {
    lock = parseToml(lockText) as typeof lock;
    project = (parseToml(pyprojectText) as { project?: typeof project }).project;
  } catch {
    return [];
  }
  const root = (lock.package ?? []).find((p) => p.source && (p.source.editable === '.' || p.source.virtual === '.'));
  const recorded = root?.metadata?.['requires-dist'];
  if (!project || !Array.isArray(recorded)) return [];
  const have = new Set(recorded.map((r) => normalizeName(r.name ?? '')));
  const asked = [project.dependencies, ...Object.values(project['optional-dependencies'] ?? {})].flatMap((list) => (Array.isArray(list) ? list : []));
  const names = asked.map((r) => /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(String(r))?.[1]).filter((n): n is string => !!n);
  return [...new Set(names.filter((n) => !have.has(normalizeName(n))))];
}

/**
 * A uv.lock that is out of date with its project, in the same words whether uv refused it
 * (uv-provider.ts, with uv's `stderr`) or pymgr did for a pip-based manager (with `why`).
 */
export function uvLockOutOfDate(lockFile: string, projectPath: string, more: { why?: string; stderr?: string } = {}): PymgrError {
  return new PymgrError('PROJECT_INVALID', `${lockFile} is out of date with ${projectPath}/pyproject.toml${more.why ? ` (${more.why})` : ''}`, {
    hint: 'Pass --frozen to install exactly what uv.lock says, or --relock to re-lock it for this env (config dependencies.lock: frozen | update); as the project\'s maintainer, run `uv lock` and commit it. pymgr never re-locks unasked.',
    details: { file: lockFile, ...(more.stderr !== undefined ? { stderr: more.stderr } : {}) },
  });
}

/**
 * Make the installer put the plan's incomplete distributions (`plan.reinstall`) back although
 * their metadata says they are installed. uv: the `--reinstall-package` arguments to add to every
 * install command. pip has no such switch and cannot uninstall a distribution whose RECORD is
 * gone, so their dist-info directories are removed first: pip then sees them missing and installs
 * them over what is left of their files.
 */
export async function prepareReinstall(ctx: ProviderContext, venv: VenvTarget, plan: InstallPlan, installer: Installer, report: InstallReport): Promise<string[]> {
  const partial = plan.reinstall ?? [];
  if (!partial.length) return [];
  report.notes.push(`reinstalled incomplete ${partial.length === 1 ? 'distribution' : 'distributions'}: ${partial.map((d) => `${d.name} ${d.version} (${d.problem})`).join('; ')}`);
  if (installer.kind === 'uv') return reinstallArgs(plan);
  for (const d of partial) {
    if (d.distInfo.endsWith('.dist-info')) await ctx.executor.remove(d.distInfo, { recursive: true });
  }
  // A broken pip cannot reinstall itself: the venv's ensurepip installs it from its own wheel.
  if (partial.some((d) => d.name === 'pip')) {
    await runChecked(ctx.executor, venv.python, ['-m', 'ensurepip', '--default-pip'], {
      env: { ...installer.env, PIP_REQUIRE_VIRTUALENV: undefined, PYTHONNOUSERSITE: '1' },
      purpose: `reinstall pip into ${venv.path} with ensurepip`,
      signal: ctx.signal,
    });
  }
  return [];
}

/** `--reinstall-package <name>` for each incomplete distribution of the plan (uv pip install and uv sync). */
export function reinstallArgs(plan: InstallPlan): string[] {
  return (plan.reinstall ?? []).flatMap((d) => ['--reinstall-package', d.name]);
}

/**
 * Install a plan with uv's pip interface or the venv's pip. Used as is by providers that install
 * through pip (pyenv, mise) and by uv for everything except uv projects (which it syncs).
 * `handleStep` lets a provider take over a step (uv syncs uv projects); it returns true when it did.
 */
export async function installPlanWithInstaller(
  ctx: ProviderContext,
  venv: VenvTarget,
  plan: InstallPlan,
  installer: Installer,
  handleStep?: (step: InstallStep, report: InstallReport) => Promise<boolean>,
): Promise<InstallReport> {
  const report: InstallReport = { commands: [], notes: [] };
  const { file, args: base } = installCommand(installer, venv);
  const reinstall = await prepareReinstall(ctx, venv, plan, installer, report);
  const run = (args: string[], purpose: string) => withIndexAccess(ctx, plan.index, installer.kind, async (index) => {
    const full = [...base, ...index.args, ...reinstall, ...args];
    report.commands.push(redactArgs([file, ...full]));
    ctx.progress({ step: 'install', message: purpose });
    const res = await ctx.executor.exec(file, full, {
      cwd: ctx.projectDir,
      env: { ...installer.env, ...index.env, VIRTUAL_ENV: venv.path, PIP_REQUIRE_VIRTUALENV: '1', PYTHONNOUSERSITE: '1' },
      signal: ctx.signal,
      onOutput: (_s, chunk) => ctx.progress({ step: 'install', message: purpose, output: chunk }),
    });
    if (res.exitCode !== 0 || res.timedOut) throw installFailed(ctx.executor, res, purpose, undefined, { offline: plan.index.offline });
  });

  for (const step of plan.steps) {
    if (handleStep && (await handleStep(step, report))) continue;
    switch (step.kind) {
      case 'requirements': {
        const args = [...step.files.flatMap((f) => ['-r', f]), ...step.constraints.flatMap((f) => ['-c', f])];
        if (step.files.length) await run(args, `install ${step.files.length} requirement file(s)`);
        break;
      }
      case 'project': {
        const target = withExtras(step.path, step.extras);
        const groupReqs = await readGroupRequirements(ctx, step.path, step.groups);
        const constraints = (step.constraints ?? []).flatMap((f) => ['-c', f]);
        await run([...constraints, ...(step.editable ? ['-e', target] : [target]), ...groupReqs], `install the project${step.editable ? ' (editable)' : ''}`);
        break;
      }
      case 'uv-project': {
        const groups = [...new Set([...step.groups, ...(step.dev ? ['dev'] : [])])];
        const optional = step.dev && !step.groups.includes('dev') ? ['dev'] : [];
        const groupReqs = await readGroupRequirements(ctx, step.path, groups, optional);
        const extraArgs: string[] = [];
        if (step.lockFile && step.lock !== 'update') {
          const lockText = await ctx.executor.readFile(step.lockFile);
          if (step.lock === 'locked') {
            const missing = requirementsMissingFromUvLock(lockText, await ctx.executor.readFile(`${step.path}/pyproject.toml`));
            if (missing.length) throw uvLockOutOfDate(step.lockFile, step.path, { why: `pyproject.toml asks for ${missing.join(', ')}, which uv.lock does not have` });
          }
          const pins = pinsFromUvLock(lockText);
          const constraints = `${venv.path}/.pymgr/uv-lock-constraints.txt`;
          await ctx.executor.mkdir(`${venv.path}/.pymgr`, { recursive: true, mode: 0o755 });
          await ctx.executor.writeFile(constraints, pins.join('\n') + '\n', { mode: 0o644 });
          extraArgs.push('-c', constraints);
          report.notes.push(`uv.lock installed through ${installer.kind === 'uv' ? 'uv pip' : 'pip'}: its ${pins.length} registry pins were used as constraints`);
        } else {
          report.notes.push('uv project without uv.lock installed through pip from pyproject.toml');
        }
        await run([...extraArgs, '-e', withExtras(step.path, step.extras), ...groupReqs], 'install the uv project');
        break;
      }
      case 'rye-lock': {
        await run(step.files.flatMap((f) => ['-r', f]), `install the rye lock file(s)`);
        report.notes.push(`rye lock installed with ${installer.kind === 'uv' ? 'uv pip' : 'pip'}: ${step.files.map((f) => f.split('/').pop()).join(', ')}`);
        break;
      }
    }
  }
  return report;
}
