import type {
  InstallPlan,
  InstallReport,
  InstallStep,
  ProbeResult,
  Provider,
  ProviderContext,
  PythonInterpreter,
  PythonRequest,
  ReadRequest,
  VenvTarget,
} from '../../src/contracts.js';
import { PymgrError, assertSafeToRun, runChecked, findOnPath, pathCandidates, isExecutableFile, resolvePyenvShim, redactArgs, acquireEnvLock, memoise, probeBinary, safeToRunReads } from '../../src/core/kit.js';
import { defaultPyenvRoot, findInToolsDir, listPyenvPythons, sortPythons } from '../common/find-pythons.js';
import { installPlanWithInstaller, reinstallArgs, uvLockOutOfDate, withIndexAccess } from '../common/install.js';
import { findBasePython } from '../common/base-python.js';
import { pickInterpreter, pythonUnavailable } from '../common/python-choice.js';
import { installFailed } from '../common/install-errors.js';
import { createVenvWithUv, managerDoesNotRun, uvEnvironment } from '../common/uv-tool.js';

/** Where pymgr provisions uv: `<toolsDir>/uv-<version>/bin/uv`. */
export function provisionedUvPath(toolsDir: string, version: string): string {
  return `${toolsDir}/uv-${version}/bin/uv`;
}

/** Prints `<implementation> <major.minor.micro>` (the probe of a Python on PATH). */
const PYTHON_VERSION_SCRIPT = 'import sys; print(sys.implementation.name, "%d.%d.%d" % sys.version_info[:3])';

/**
 * `python3.N` (N from 20 down to 6) in each PATH directory, in PATH order; not in a shims
 * directory (a pyenv or asdf shim is a script that answers for whatever it would run).
 */
function pathPythonCandidates(env: Record<string, string | undefined>): string[] {
  const minors = Array.from({ length: 15 }, (_, i) => 20 - i);
  return minors.flatMap((n) => pathCandidates(env, `python3.${n}`)).filter((p) => !/\/shims\/[^/]+$/.test(p));
}

/**
 * uv: git-free, fast, and installable from PyPI with any existing pip, so it is the default
 * manager on a fresh machine.
 */
export class UvProvider implements Provider {
  readonly name = 'uv' as const;
  readonly needsGit = false;

  /** One probe per context: selection, ensureManager and every later step share it. */
  readonly probe = memoise((ctx: ProviderContext) => this.probeNow(ctx), { weak: true });

  private async probeNow(ctx: ProviderContext): Promise<ProbeResult> {
    const found = await this.find(ctx);
    if (!found) return { name: 'uv', found: false, needsGit: false, problems: [] };
    const res = await probeBinary(ctx.executor, found.path, ['--version'], { timeoutMs: 30_000 });
    if (res.exitCode !== 0) {
      return managerDoesNotRun('uv', found, res, {
        code: 'UV_BROKEN',
        fix: 'Reinstall uv, or remove providers.uv.path so pymgr can provision its own.',
      });
    }
    const version = /uv (\S+)/.exec(res.stdout)?.[1];
    if (!version && found.source === 'config') {
      // Runs, but is not uv: as unusable as one that fails.
      return managerDoesNotRun('uv', found, { ...res, stderr: res.stdout || res.stderr }, {
        code: 'UV_BROKEN',
        what: 'not uv: `--version` printed no uv version,',
        fix: 'Point providers.uv.path at uv.',
      });
    }
    return { name: 'uv', found: true, path: found.path, version, source: found.source, needsGit: false, problems: [] };
  }

  private async find(ctx: ProviderContext): Promise<{ path: string; source: string } | undefined> {
    const opts = ctx.config.providers.uv;
    if (opts.path) {
      if (!(await isExecutableFile(ctx.executor, opts.path))) {
        throw new PymgrError('MANAGER_NOT_FOUND', `uv not found at ${opts.path} (providers.uv.path) on ${ctx.executor.description}`, {
          hint: 'Fix providers.uv.path, or remove it to let pymgr find or provision uv.',
          details: { keyPath: 'providers.uv.path' },
        });
      }
      await assertSafeToRun(ctx.executor, opts.path, { what: 'uv', source: 'providers.uv.path' });
      return { path: opts.path, source: 'config' };
    }
    const provisioned = provisionedUvPath(ctx.toolsDir, opts.version);
    // A pyenv shim only works where pyenv's selected version has uv: use the real binary behind it.
    // (The tools directory's uv is learnt in the same batch as the PATH candidates.)
    const onPath = await findOnPath(ctx.executor, 'uv', undefined, this.toolsDirReads(ctx)).then((p) => (p ? resolvePyenvShim(ctx.executor, p) : undefined));
    if (onPath) return { path: onPath, source: 'PATH' };
    // Another version in the tools directory (copied in from the host, or provisioned before a pin changed).
    const inTools = (await isExecutableFile(ctx.executor, provisioned)) ? provisioned : await findInToolsDir(ctx.executor, ctx.toolsDir, 'uv');
    if (!inTools) return undefined;
    await assertSafeToRun(ctx.executor, inTools, { what: 'uv', source: "pymgr's tools directory", within: ctx.toolsDir });
    return { path: inTools, source: 'tools-dir' };
  }

  /** What finding the tools directory's uv reads (learnt with the PATH candidates). */
  private toolsDirReads(ctx: ProviderContext): ReadRequest[] {
    return safeToRunReads(provisionedUvPath(ctx.toolsDir, ctx.config.providers.uv.version), ctx.toolsDir);
  }

  /** Where uv's own and pyenv's Pythons are listed from (by {@link listPythonsCheaply}). */
  private async pythonDirs(ctx: ProviderContext): Promise<string[]> {
    const env = await ctx.executor.getEnv();
    const dir = env.UV_PYTHON_INSTALL_DIR || `${env.XDG_DATA_HOME || `${env.HOME || '/root'}/.local/share`}/uv/python`;
    const pyenvRoot = await defaultPyenvRoot(ctx.executor, ctx.config.providers.pyenv.root);
    return [dir, `${pyenvRoot}/versions`];
  }

  async plannedReads(ctx: ProviderContext): Promise<ReadRequest[]> {
    try {
      const path = ctx.config.providers.uv.path;
      const manager = path
        ? safeToRunReads(path)
        : [...pathCandidates(await ctx.executor.getEnv(), 'uv').map((p) => ({ op: 'stat' as const, path: p })), ...this.toolsDirReads(ctx)];
      const pythons = pathPythonCandidates(await ctx.executor.getEnv()).map((p) => ({ op: 'stat' as const, path: p }));
      return [...manager, ...(await this.pythonDirs(ctx)).map((p) => ({ op: 'readDir' as const, path: p })), ...pythons];
    } catch {
      return [];
    }
  }

  async canProvision(ctx: ProviderContext): Promise<boolean> {
    // A uv the config names is never replaced by a provisioned one.
    if (ctx.config.providers.uv.path) return false;
    return ctx.config.providers.uv.provision && (await findBasePython(ctx)) !== undefined;
  }

  async ensureManager(ctx: ProviderContext): Promise<ProbeResult> {
    const probe = await this.probe(ctx);
    if (probe.found) return probe;
    const opts = ctx.config.providers.uv;
    if (probe.source === 'config') {
      // providers.uv.path is the user's decision: report it, never download or replace a uv instead.
      const problem = probe.problems[0];
      throw new PymgrError('MANAGER_BROKEN', problem?.message ?? `uv at ${probe.path} (providers.uv.path) does not run`, {
        hint: problem?.fix,
        details: { keyPath: 'providers.uv.path', path: probe.path },
      });
    }
    if (!opts.provision) {
      throw new PymgrError('MANAGER_NOT_FOUND', `uv is not installed on ${ctx.executor.description}`, {
        hint: 'Install uv (python3 -m pip install uv), set providers.uv.path, or allow providers.uv.provision.',
      });
    }
    const base = await findBasePython(ctx);
    if (!base) {
      throw new PymgrError('MANAGER_NOT_FOUND', `uv is not installed on ${ctx.executor.description} and no Python with pip was found to install it`, {
        hint: 'Install uv, or a python3 with pip, or choose another provider.',
      });
    }
    const target = `${ctx.toolsDir}/uv-${opts.version}`;
    // Never install into a tools directory another user could change.
    await assertSafeToRun(ctx.executor, provisionedUvPath(ctx.toolsDir, opts.version), { what: 'uv', source: "pymgr's tools directory", within: ctx.toolsDir });
    await ctx.executor.mkdir(ctx.toolsDir, { recursive: true, mode: 0o755 });
    // Setups of different projects may provision at once: one installs, the others wait and use it.
    const lock = await acquireEnvLock(ctx.executor, target, {
      signal: ctx.signal,
      onWait: (holder, wait) => ctx.progress({ step: 'manager', message: `waiting for another pymgr to install uv into ${target} (${holder}, for ${Math.round(wait.heldMs / 1000)} s)`, wait }),
    });
    try {
      this.probe.forget(ctx);
      const meanwhile = await this.probe(ctx);
      if (meanwhile.found) return meanwhile;
      ctx.progress({ step: 'manager', message: `installing uv ${opts.version} into ${target} with ${base}` });
      const staging = `${target}.partial-${process.pid}-${Date.now()}`;
      try {
        await withIndexAccess(ctx, ctx.config.index, 'pip', (index) => runChecked(
          ctx.executor,
          base,
          [
            '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--no-warn-script-location',
            '--target', staging, ...index.args, `uv==${opts.version}`,
          ],
          {
            env: { PIP_USER: '0', PIP_REQUIRE_VIRTUALENV: undefined, PYTHONNOUSERSITE: '1', ...index.env },
            purpose: `install uv ${opts.version} with pip`,
            hint: 'pymgr installs uv from PyPI with pip; check network/index settings, or install uv yourself and set providers.uv.path.',
            signal: ctx.signal,
          },
        ));
        // pip writes with the umask (group-writable under 002): pymgr's tools are writable by their owner only.
        await runChecked(ctx.executor, 'chmod', ['-R', 'go-w', '--', staging], { purpose: `make ${staging} writable by its owner only` });
        // Only a target that does not run is replaced (never a working uv another setup may be using).
        await ctx.executor.remove(target, { recursive: true });
        await ctx.executor.rename(staging, target);
      } finally {
        await ctx.executor.remove(staging, { recursive: true });
      }
      this.probe.forget(ctx);
      const again = await this.probe(ctx);
      if (!again.found) {
        throw new PymgrError('MANAGER_BROKEN', `uv was installed into ${target} but does not run`, {
          hint: 'Check that the platform is supported by the uv wheel; see `pymgr doctor`.',
        });
      }
      return { ...again, source: 'provisioned' };
    } finally {
      await lock.release();
    }
  }

  private async uv(ctx: ProviderContext): Promise<string> {
    const probe = await this.ensureManager(ctx);
    return probe.path!;
  }

  /** Environment every uv command runs with. */
  /** The environment every uv command runs with (see providers/common/uv-tool.ts). */
  async uvEnv(ctx: ProviderContext): Promise<Record<string, string | undefined>> {
    return uvEnvironment(ctx);
  }


  async listPythons(ctx: ProviderContext): Promise<PythonInterpreter[]> {
    const uv = await this.uv(ctx);
    const res = await ctx.executor.exec(uv, ['python', 'list', '--only-installed', '--output-format', 'json'], {
      env: await this.uvEnv(ctx),
      timeoutMs: 60_000,
      readOnly: true,
    });
    const found: PythonInterpreter[] = [];
    if (res.exitCode === 0) {
      try {
        const items = JSON.parse(res.stdout) as Array<{ version: string; path: string | null; implementation: string; url: string | null; variant?: string }>;
        for (const item of items) {
          if (item.implementation !== 'cpython' || !item.path || (item.variant && item.variant !== 'default')) continue;
          found.push({ version: item.version, executable: item.path, origin: item.path.includes('/uv/python/') ? 'uv-managed' : 'found' });
        }
      } catch {
        /* fall through to pyenv's list */
      }
    }
    // uv does not look inside pyenv's versions directory; offline, those are often the only Pythons.
    found.push(...(await listPyenvPythons(ctx.executor, await defaultPyenvRoot(ctx.executor, ctx.config.providers.pyenv.root))));
    return sortPythons(found);
  }

  /**
   * Pythons whose version can be read off a directory name, with no program run: uv's managed
   * installs and pyenv's versions. `uv python list` asks every interpreter on PATH for its version
   * (hundreds of ms), so it is only the fallback.
   */
  private async listPythonsCheaply(ctx: ProviderContext): Promise<PythonInterpreter[]> {
    const [dir, pyenvVersions] = await this.pythonDirs(ctx);
    const pyenvRoot = pyenvVersions.slice(0, -'/versions'.length);
    // Both directories in one batch (a container: one exec), unless plannedReads had them learnt.
    await ctx.executor.prefetch?.([{ op: 'readDir', path: dir }, { op: 'readDir', path: pyenvVersions }]);
    const found: PythonInterpreter[] = [];
    for (const name of (await ctx.executor.readDir(dir)) ?? []) {
      const m = /^cpython-(\d+\.\d+\.\d+)-[^+]+$/.exec(name);
      if (!m) continue;
      const exe = `${dir}/${name}/bin/python${m[1].split('.').slice(0, 2).join('.')}`;
      if (await isExecutableFile(ctx.executor, exe)) found.push({ version: m[1], executable: exe, origin: 'uv-managed' });
    }
    found.push(...(await listPyenvPythons(ctx.executor, pyenvRoot)));
    return sortPythons(found);
  }

  /**
   * `python3.N` on PATH, asked their version with a probe (src/core/probe-cache.ts: learnt once per
   * binary, across processes): what `uv python list` would find there, without it asking every
   * interpreter every time. Not when uv is told to use only its own Pythons.
   */
  private async listPathPythons(ctx: ProviderContext): Promise<PythonInterpreter[]> {
    const env = await ctx.executor.getEnv();
    const preference = (await this.uvEnv(ctx)).UV_PYTHON_PREFERENCE ?? env.UV_PYTHON_PREFERENCE;
    if (preference === 'only-managed') return [];
    const found: PythonInterpreter[] = [];
    for (const exe of pathPythonCandidates(env)) {
      if (!(await isExecutableFile(ctx.executor, exe))) continue;
      const res = await probeBinary(ctx.executor, exe, ['-I', '-c', PYTHON_VERSION_SCRIPT], { timeoutMs: 30_000 });
      const m = /^cpython (\d+\.\d+\.\d+)$/.exec(res.stdout.trim());
      if (res.exitCode === 0 && m && exe.endsWith(`python${m[1].split('.').slice(0, 2).join('.')}`)) found.push({ version: m[1], executable: exe, origin: 'found' });
    }
    return sortPythons(found);
  }

  async ensurePython(ctx: ProviderContext, request: PythonRequest): Promise<PythonInterpreter> {
    let match = pickInterpreter(await this.listPythonsCheaply(ctx), request.raw) ?? pickInterpreter(await this.listPathPythons(ctx), request.raw);
    if (match) return match;
    let pythons = await this.listPythons(ctx);
    match = pickInterpreter(pythons, request.raw);
    if (match) return match;
    const downloads = ctx.config.index.offline ? 'never' : ctx.config.providers.uv.pythonDownloads;
    if (downloads !== 'never') {
      const uv = await this.uv(ctx);
      ctx.progress({ step: 'python', message: `uv python install ${request.raw}` });
      const res = await ctx.executor.exec(uv, ['python', 'install', request.raw], { env: await this.uvEnv(ctx), signal: ctx.signal });
      if (res.exitCode === 0) {
        pythons = await this.listPythons(ctx);
        match = pickInterpreter(pythons, request.raw);
        if (match) return { ...match, origin: 'installed' };
      }
    }
    throw pythonUnavailable('uv', request, pythons, downloads === 'never'
      ? 'Python downloads are off (providers.uv.pythonDownloads: never, or offline). Install that Python (e.g. with pyenv), allow downloads, or change the request.'
      : 'uv could not install it. Check the network, or install that Python yourself.');
  }

  async createVenv(ctx: ProviderContext, python: PythonInterpreter, venv: VenvTarget): Promise<void> {
    await createVenvWithUv(ctx, await this.uv(ctx), python, venv);
  }


  async installDependencies(ctx: ProviderContext, venv: VenvTarget, plan: InstallPlan): Promise<InstallReport> {
    const uv = await this.uv(ctx);
    const env = await this.uvEnv(ctx);
    return installPlanWithInstaller(ctx, venv, plan, { kind: 'uv', uv, env }, async (step, report) => {
      if (step.kind !== 'uv-project') return false;
      await this.sync(ctx, uv, env, venv, plan, step, report);
      return true;
    });
  }

  private async sync(
    ctx: ProviderContext,
    uv: string,
    env: Record<string, string | undefined>,
    venv: VenvTarget,
    plan: InstallPlan,
    step: Extract<InstallStep, { kind: 'uv-project' }>,
    report: InstallReport,
  ): Promise<void> {
    const args = ['sync', '--python', venv.python];
    if (step.lockFile && step.lock !== 'update') args.push(step.lock === 'frozen' ? '--frozen' : '--locked');
    for (const e of step.extras) args.push('--extra', e);
    for (const g of step.groups) args.push('--group', g);
    // uv's --no-dev is --no-group dev, which wins over --group dev: only when dev is not asked for either way.
    if (!step.dev && !step.groups.includes('dev')) args.push('--no-dev');
    args.push(...reinstallArgs(plan));
    const how = !step.lockFile ? 'resolving pyproject.toml' : step.lock === 'update' ? 're-locking uv.lock' : `from uv.lock (--${step.lock})`;
    const res = await withIndexAccess(ctx, plan.index, 'uv', (index) => {
      args.push(...index.args);
      report.commands.push(redactArgs([uv, ...args]));
      ctx.progress({ step: 'install', message: `uv sync ${how}` });
      return ctx.executor.exec(uv, args, {
        cwd: step.path,
        env: { ...env, ...index.env, UV_PROJECT_ENVIRONMENT: venv.path },
        signal: ctx.signal,
        onOutput: (_s, chunk) => ctx.progress({ step: 'install', message: 'uv sync', output: chunk }),
      });
    });
    if (res.exitCode !== 0) {
      if (step.lockFile && /needs to be updated|--locked/.test(res.stderr)) {
        throw uvLockOutOfDate(step.lockFile, step.path, { stderr: res.stderr.trim().split('\n').slice(-5).join('\n') });
      }
      throw installFailed(ctx.executor, res, 'sync the uv project', undefined, { offline: plan.index.offline });
    }
    report.notes.push(
      !step.lockFile ? 'uv project synced (no uv.lock existed; uv wrote one)' : step.lock === 'update' ? 'uv project re-locked and synced (uv.lock updated)' : `uv project synced from uv.lock (--${step.lock})`,
    );
  }
}
