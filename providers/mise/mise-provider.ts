import type {
  InstallPlan,
  InstallReport,
  ProbeResult,
  Provider,
  ProviderContext,
  PythonInterpreter,
  PythonRequest,
  VenvTarget,
} from '../../src/contracts.js';
import { PymgrError, assertSafeToRun, commandFailed, lastLines, runChecked, findOnPath, isExecutableFile, parsePythonRequest, probeBinary } from '../../src/core/kit.js';
import { defaultPyenvRoot, findInToolsDir, sortPythons } from '../common/find-pythons.js';
import { installPlanWithInstaller, type Installer } from '../common/install.js';
import { pipProblem } from '../common/venv-pip.js';
import { pickInterpreter, pythonUnavailable } from '../common/python-choice.js';
import { createVenvWithUv, managerDoesNotRun, uvEnvironment } from '../common/uv-tool.js';
import { buildMiseEnv } from './mise-env.js';
import { chooseInstallVersion, parseMiseLs, parseMiseLsRemote } from './mise-pythons.js';

/** Prints the interpreter's full version (`3.12.1`, `3.13.0rc1`), without site or environment influence. */
const VERSION_PROBE = ['-I', '-c', 'import platform; print(platform.python_version())'];

/**
 * mise: git-free; its Pythons are precompiled builds it downloads, or pyenv's, adopted with
 * `mise sync python --pyenv`. pymgr does not install mise itself (set providers.mise.path or put it
 * on PATH). Every mise command runs with {@link buildMiseEnv}: configured data/cache/state
 * directories, the project trusted for this run only, precompiled Pythons only, no system fallback.
 *
 * mise is never asked to *run* Python (`mise exec -- python` runs whatever `python` is on PATH when the
 * version is missing): pymgr reads mise's list of installs, takes the interpreter out of the install
 * directory and checks that it runs and reports the version mise says it is.
 */
export class MiseProvider implements Provider {
  readonly name = 'mise' as const;
  readonly needsGit = false;

  async probe(ctx: ProviderContext): Promise<ProbeResult> {
    const opts = ctx.config.providers.mise;
    let found: { path: string; source: string } | undefined;
    if (opts.path) {
      if (!(await isExecutableFile(ctx.executor, opts.path))) {
        return {
          name: 'mise',
          found: false,
          path: opts.path,
          source: 'config',
          needsGit: false,
          problems: [
            {
              code: 'MISE_PATH_INVALID',
              severity: 'error',
              message: `providers.mise.path is ${opts.path}, which is not an executable file on ${ctx.executor.description}`,
              fix: 'Fix providers.mise.path, or remove it to use the mise on PATH.',
            },
          ],
        };
      }
      await assertSafeToRun(ctx.executor, opts.path, { what: 'mise', source: 'providers.mise.path', within: opts.path.startsWith(`${ctx.toolsDir}/`) ? ctx.toolsDir : undefined });
      found = { path: opts.path, source: 'config' };
    } else {
      const onPath = await findOnPath(ctx.executor, 'mise');
      const inTools = onPath ? undefined : await findInToolsDir(ctx.executor, ctx.toolsDir, 'mise');
      if (onPath) found = { path: onPath, source: 'PATH' };
      else if (inTools) {
        await assertSafeToRun(ctx.executor, inTools, { what: 'mise', source: "pymgr's tools directory", within: ctx.toolsDir });
        found = { path: inTools, source: 'tools-dir' };
      }
    }
    if (!found) return { name: 'mise', found: false, needsGit: false, problems: [] };
    // Offline: `mise --version` otherwise asks mise.jdx.dev for the latest release.
    const res = await probeBinary(ctx.executor, found.path, ['--version'], { env: await this.miseEnv(ctx, { local: true }), timeoutMs: 30_000 });
    if (res.exitCode !== 0) {
      return managerDoesNotRun('mise', found, res, {
        code: 'MISE_BROKEN',
        fix: 'Reinstall mise (e.g. npm install -g @jdxcode/mise), or point providers.mise.path at a working one.',
      });
    }
    const version = /^(\d+\.\d+\.\d+\S*)/.exec(res.stdout.trim())?.[1];
    return { name: 'mise', found: true, path: found.path, version, source: found.source, needsGit: false, problems: [] };
  }

  async ensureManager(ctx: ProviderContext): Promise<ProbeResult> {
    const probe = await this.probe(ctx);
    if (probe.found) return probe;
    const problem = probe.problems[0];
    if (problem?.code === 'MISE_PATH_INVALID') {
      throw new PymgrError('MANAGER_NOT_FOUND', `mise not found at ${probe.path} (providers.mise.path) on ${ctx.executor.description}`, {
        hint: problem.fix,
        details: { keyPath: 'providers.mise.path' },
      });
    }
    if (problem) {
      throw new PymgrError('MANAGER_BROKEN', problem.message, {
        hint: problem.fix,
        ...(probe.source === 'config' ? { details: { keyPath: 'providers.mise.path', path: probe.path } } : {}),
      });
    }
    throw new PymgrError('MANAGER_NOT_FOUND', `mise is not installed on ${ctx.executor.description} (not on PATH, providers.mise.path not set)`, {
      hint: 'pymgr does not install mise. Install it (npm install -g @jdxcode/mise, or https://mise.jdx.dev/getting-started.html), set providers.mise.path, or choose another provider.',
    });
  }

  private async mise(ctx: ProviderContext): Promise<string> {
    return (await this.ensureManager(ctx)).path!;
  }

  /**
   * Environment every mise command runs with (see {@link buildMiseEnv}). `local` commands (version,
   * listing, pyenv sync) need no network and run with MISE_OFFLINE=1 so mise does not look for updates.
   */
  async miseEnv(ctx: ProviderContext, options: { local?: boolean } = {}): Promise<Record<string, string | undefined>> {
    const env = buildMiseEnv(ctx.config, ctx.projectDir, await ctx.executor.getEnv());
    if (options.local) env.MISE_OFFLINE = '1';
    return env;
  }

  async listPythons(ctx: ProviderContext): Promise<PythonInterpreter[]> {
    const mise = await this.mise(ctx);
    const res = await ctx.executor.exec(mise, ['ls', '--installed', '--json', 'python'], {
      cwd: ctx.projectDir,
      env: await this.miseEnv(ctx, { local: true }),
      timeoutMs: 60_000,
      signal: ctx.signal,
    });
    if (res.exitCode !== 0) {
      throw commandFailed(ctx.executor, res, 'list the Pythons mise has installed', 'Check the mise configuration files of the project and of the user; the output above says what mise could not read.');
    }
    let entries;
    try {
      entries = parseMiseLs(res.stdout);
    } catch (err) {
      throw new PymgrError('MANAGER_BROKEN', `\`mise ls --installed --json python\` printed something pymgr cannot read on ${ctx.executor.description}`, {
        cause: err,
        hint: 'Use a mise release that supports `ls --json` (2024 or later).',
        details: { stdout: res.stdout.slice(0, 500) },
      });
    }
    const found: PythonInterpreter[] = [];
    for (const entry of entries) {
      const exe = await findInterpreter(ctx, entry.installPath);
      if (exe) found.push({ version: entry.version, executable: exe, origin: 'mise' });
    }
    return sortPythons(found);
  }

  async ensurePython(ctx: ProviderContext, request: PythonRequest): Promise<PythonInterpreter> {
    const opts = ctx.config.providers.mise;
    const offline = ctx.config.index.offline;
    if (opts.syncPyenv) await this.syncPyenv(ctx);
    let pythons = await this.listPythons(ctx);
    const match = pickInterpreter(pythons, request.raw);
    if (match) return this.checkInterpreter(ctx, match, request, pythons);

    const where = request.sourcePath ?? request.source;
    const provide = `or change the request (${where})`;
    if (!opts.install) {
      throw pythonUnavailable('mise', request, pythons,
        `providers.mise.install is off. Install it yourself (\`mise install python@${safeInstallHint(request.raw)}\`), set providers.mise.syncPyenv to adopt pyenv's Pythons, ${provide}.`);
    }
    if (offline) {
      throw pythonUnavailable('mise', request, pythons,
        `Offline (index.offline), mise cannot download Python. Install it with pyenv and set providers.mise.syncPyenv, go online, ${provide}.`);
    }
    const mise = await this.mise(ctx);
    const env = await this.miseEnv(ctx);
    const version = chooseInstallVersion(request.raw, parsePythonRequest(request.raw).kind === 'specifier' ? await this.listRemote(ctx, mise, env) : []);
    if (!version) {
      throw pythonUnavailable('mise', request, pythons, `No Python version that mise could install satisfies "${request.raw}"; ${provide}.`);
    }
    ctx.progress({ step: 'python', message: `mise install python@${version} (precompiled builds only)` });
    const res = await ctx.executor.exec(mise, ['install', `python@${version}`], {
      cwd: ctx.projectDir,
      env,
      signal: ctx.signal,
      onOutput: (_s, chunk) => ctx.progress({ step: 'python', message: `mise install python@${version}`, output: chunk }),
    });
    if (res.exitCode !== 0) {
      const why = miseErrors(res.stderr || res.stdout);
      throw pythonUnavailable('mise', request, pythons,
        `\`mise install python@${version}\` failed${why ? `: ${why}` : ` (exit ${res.exitCode})`}. pymgr allows only precompiled builds (python.compile=false). Check the network, install that Python yourself, ${provide}.`);
    }
    pythons = await this.listPythons(ctx);
    const installed = pickInterpreter(pythons, request.raw);
    if (!installed) {
      throw pythonUnavailable('mise', request, pythons,
        `\`mise install python@${version}\` succeeded but installed nothing that satisfies "${request.raw}"; install a matching version with mise yourself, ${provide}.`);
    }
    return { ...(await this.checkInterpreter(ctx, installed, request, pythons)), origin: 'installed' };
  }

  /** Offer pyenv's Pythons to mise (symbolic links in mise's data directory; pyenv is only read). */
  private async syncPyenv(ctx: ProviderContext): Promise<void> {
    const root = await defaultPyenvRoot(ctx.executor, ctx.config.providers.pyenv.root);
    if (!(await ctx.executor.exists(`${root}/versions`))) {
      ctx.progress({ step: 'python', message: `providers.mise.syncPyenv: no pyenv versions at ${root}/versions, nothing to sync` });
      return;
    }
    const mise = await this.mise(ctx);
    ctx.progress({ step: 'python', message: `mise sync python --pyenv (${root})` });
    await runChecked(ctx.executor, mise, ['sync', 'python', '--pyenv'], {
      cwd: ctx.projectDir,
      env: { ...(await this.miseEnv(ctx, { local: true })), PYENV_ROOT: root },
      timeoutMs: 120_000,
      signal: ctx.signal,
      purpose: `offer pyenv's Pythons (${root}) to mise`,
      hint: 'Set providers.mise.syncPyenv to false to skip this, or check that mise can write its data directory.',
    });
  }

  /** mise's list of installable Python versions; empty when it cannot be fetched. */
  private async listRemote(ctx: ProviderContext, mise: string, env: Record<string, string | undefined>): Promise<string[]> {
    const res = await ctx.executor.exec(mise, ['ls-remote', 'python'], { cwd: ctx.projectDir, env, timeoutMs: 120_000, signal: ctx.signal });
    return res.exitCode === 0 ? parseMiseLsRemote(res.stdout) : [];
  }

  /**
   * Prove the interpreter mise listed runs and is the version mise says, so nothing else (a system
   * Python, a dangling link) is ever used in its place.
   */
  private async checkInterpreter(ctx: ProviderContext, python: PythonInterpreter, request: PythonRequest, all: PythonInterpreter[]): Promise<PythonInterpreter> {
    const res = await ctx.executor.exec(python.executable, VERSION_PROBE, {
      env: { PYTHONHOME: undefined, PYTHONPATH: undefined },
      timeoutMs: 60_000,
      signal: ctx.signal,
    });
    const reported = res.stdout.trim();
    if (res.exitCode !== 0 || reported !== python.version) {
      const what = res.exitCode !== 0 ? `does not run (exit ${res.exitCode}: ${lastLines(res.stderr, 1)})` : `reports Python ${reported || '(nothing)'}`;
      throw pythonUnavailable('mise', request, all.filter((p) => p !== python),
        `mise lists Python ${python.version} at ${python.executable}, but it ${what}. Reinstall it (\`mise uninstall python@${python.version}\` then \`mise install python@${python.version}\`, or \`mise sync python --pyenv\` for pyenv's).`);
    }
    return python;
  }

  async createVenv(ctx: ProviderContext, python: PythonInterpreter, venv: VenvTarget): Promise<void> {
    const installer = await this.installer(ctx);
    if (installer.kind === 'uv') {
      await createVenvWithUv(ctx, installer.uv, python, venv, "mise's Python");
      return;
    }
    ctx.progress({ step: 'venv', message: `${python.executable} -m venv ${venv.path}` });
    await runChecked(ctx.executor, python.executable, ['-m', 'venv', venv.path], {
      env: { VIRTUAL_ENV: undefined, PYTHONHOME: undefined, PYTHONPATH: undefined },
      cwd: ctx.projectDir,
      purpose: `create the venv at ${venv.path}`,
      hint: 'Debian\'s system Pythons need the python3-venv package; a mise Python has venv built in. The output above says what failed.',
      signal: ctx.signal,
    });
  }

  /** Installing with pip (no uv found) needs a venv with a working pip; with uv, any venv will do. */
  async venvProblem(ctx: ProviderContext, venv: VenvTarget): Promise<string | undefined> {
    return (await this.installer(ctx)).kind === 'pip' ? pipProblem(ctx, venv, 'mise (through pip, no uv was found)') : undefined;
  }

  async installDependencies(ctx: ProviderContext, venv: VenvTarget, plan: InstallPlan): Promise<InstallReport> {
    const installer = await this.installer(ctx);
    if (installer.kind === 'pip' && !(await ctx.executor.exists(`${venv.path}/bin/pip`))) {
      // A venv made earlier by uv has no pip; give it one from the interpreter's own bundle (no network).
      await runChecked(ctx.executor, venv.python, ['-m', 'ensurepip', '--default-pip'], {
        env: { VIRTUAL_ENV: venv.path, PYTHONNOUSERSITE: '1' },
        purpose: `add pip to the venv at ${venv.path}`,
        signal: ctx.signal,
      });
    }
    return installPlanWithInstaller(ctx, venv, plan, installer);
  }

  /** uv (providers.uv.path, else PATH) for speed when there is one; else the venv's own pip. */
  private async installer(ctx: ProviderContext): Promise<Installer> {
    const configured = ctx.config.providers.uv.path;
    const uv = configured && (await isExecutableFile(ctx.executor, configured)) ? configured : await findOnPath(ctx.executor, 'uv');
    if (!uv) return { kind: 'pip' };
    return { kind: 'uv', uv, env: uvEnvironment(ctx) };
  }
}

/** `<install>/bin/python3`, else `<install>/bin/python`, when it is there. */
async function findInterpreter(ctx: ProviderContext, installPath: string): Promise<string | undefined> {
  for (const name of ['python3', 'python']) {
    const exe = `${installPath}/bin/${name}`;
    if (await isExecutableFile(ctx.executor, exe)) return exe;
  }
  return undefined;
}

/** The `mise ERROR` lines of mise's output, without the version and --verbose boilerplate. */
export function miseErrors(output: string): string {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^mise ERROR/.test(l) && !/Version: |Run with --verbose/.test(l))
    .map((l) => l.replace(/^mise ERROR\s*/, ''))
    .join('; ');
}

/** The request as a mise version for a hint (`3.12`), or a placeholder when it is a specifier. */
function safeInstallHint(request: string): string {
  try {
    return chooseInstallVersion(request) ?? '<version>';
  } catch {
    return '<version>';
  }
}
