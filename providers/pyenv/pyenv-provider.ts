import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type {
  InstallPlan,
  InstallReport,
  Problem,
  ProbeResult,
  Provider,
  ProviderContext,
  PythonInterpreter,
  PythonRequest,
  VenvTarget,
} from '../../src/contracts.js';
import { PymgrError, commandFailed, lastLines, runChecked, matchPythonVersion, redact, acquireEnvLock } from '../../src/core/kit.js';
import { listPyenvPythons, sortPythons } from '../common/find-pythons.js';
import { installPlanWithInstaller } from '../common/install.js';
import { pipProblem } from '../common/venv-pip.js';
import { pickInterpreter, pythonUnavailable } from '../common/python-choice.js';
import { findPyenv, readCurrentUid, readPyenvVersion, type PyenvLocation } from './find-pyenv.js';
import { buildGitTrustEnv } from './git-trust.js';
import { GIT_OWNERSHIP_CHECK_VERSION, readGitInfo } from './git-version.js';

/** A usable pyenv: its program and root. */
interface PyenvManager {
  bin: string;
  root: string;
  probe: ProbeResult;
}

/** Debian/Ubuntu packages python-build needs to compile CPython with its usual modules. */
export const PYTHON_BUILD_DEPENDENCIES = [
  'build-essential', 'libssl-dev', 'zlib1g-dev', 'libbz2-dev', 'libreadline-dev', 'libsqlite3-dev', 'libffi-dev', 'liblzma-dev',
];

/**
 * pyenv: Pythons built from source into `<root>/versions`. pymgr never runs git in a working pyenv
 * (unless `providers.pyenv.update`), gives every git and pyenv command it does run a scoped
 * `safe.directory` for the root (so a root owned by another user works), never writes any git
 * config, and never deletes, moves or re-initialises an existing root.
 */
export class PyenvProvider implements Provider {
  readonly name = 'pyenv' as const;
  readonly needsGit = true;
  private readonly ensured = new Map<string, PyenvManager>();

  async probe(ctx: ProviderContext): Promise<ProbeResult> {
    return this.probeAt(ctx, await findPyenv(ctx));
  }

  private async probeAt(ctx: ProviderContext, loc: PyenvLocation): Promise<ProbeResult> {
    const { executor } = ctx;
    const opts = ctx.config.providers.pyenv;
    const problems: Problem[] = [];
    let found = false;
    let version: string | undefined;
    if (loc.bin) {
      // `pyenv root` proves the program and its libexec run; unlike `pyenv --version` it never calls git.
      const res = await executor.exec(loc.bin, ['root'], { env: await this.pyenvEnv(ctx, loc.root), timeoutMs: 30_000 });
      if (res.exitCode === 0) {
        found = true;
        version = await readPyenvVersion(executor, loc.bin);
      } else {
        problems.push({
          code: 'PYENV_BROKEN',
          severity: 'error',
          message: `pyenv at ${loc.bin}${ctx.config.providers.pyenv.path ? ' (providers.pyenv.path)' : ''} does not run (\`pyenv root\` exit ${res.exitCode}): ${lastLines(res.stderr || res.stdout, ctx.config.providers.pyenv.path ? 5 : 1).trim() || '(no output)'}`,
          fix: `Repair or reinstall pyenv in ${loc.root} yourself (pymgr never deletes a pyenv root), or point providers.pyenv.root at another directory.`,
        });
      }
    } else if (loc.rootState === 'other') {
      problems.push({
        code: 'PYENV_ROOT_NOT_PYENV',
        severity: 'error',
        message: `The pyenv root ${loc.root} (from ${describeRootSource(loc)}) is not empty and holds no pyenv (no bin/pyenv)`,
        fix: `pymgr will not delete, move or re-initialise it. Point providers.pyenv.root (or PYENV_ROOT) at a new or empty directory, or restore pyenv there yourself (e.g. move the contents away, then \`git clone ${opts.repository} ${loc.root}\`).`,
      });
    }

    if (loc.rootUid !== undefined && loc.isGitCheckout) {
      const me = await readCurrentUid(executor);
      if (me !== undefined && me !== loc.rootUid) {
        problems.push({
          code: 'PYENV_ROOT_FOREIGN_OWNER',
          severity: 'warning',
          message:
            `The pyenv root ${loc.root} is a git checkout owned by uid ${loc.rootUid}, but commands run as uid ${me}. ` +
            `git ${GIT_OWNERSHIP_CHECK_VERSION} and later refuse to work in a repository owned by someone else ` +
            `("fatal: detected dubious ownership in repository"), so git commands there (pyenv --version, pyenv update, git pull) fail.`,
          fix:
            `Nothing to do for pymgr: it passes safe.directory=${loc.root} to each git and pyenv command it runs, in that command's ` +
            `environment only (GIT_CONFIG_COUNT/GIT_CONFIG_KEY_0/GIT_CONFIG_VALUE_0), and never writes git config. To use git there ` +
            `yourself, make the root yours (\`chown -R ${me} ${loc.root}\`) or run \`git -c safe.directory=${loc.root} ...\`. ` +
            `Do not add it to your global git config on every run.`,
          fixable: false,
        });
      }
    }

    // The trust decision, said out loud: pymgr runs pyenv (and its Pythons) from this root as the
    // current user, so whoever else can write the root or its bin/ can run code as that user.
    if (loc.rootState !== 'missing') {
      const me = await readCurrentUid(executor);
      const writers: string[] = [];
      for (const dir of [loc.root, `${loc.root}/bin`]) {
        const st = await executor.stat(dir);
        if (!st || me === undefined) continue;
        const who = [
          ...(st.uid !== me && st.mode & 0o200 ? [`its owner uid ${st.uid}`] : []),
          ...(st.mode & 0o020 ? [`group ${st.gid}`] : []),
          ...(st.mode & 0o002 ? ['every user'] : []),
        ];
        if (who.length) writers.push(`${dir} (mode 0${(st.mode & 0o777).toString(8)}) is writable by ${who.join(' and ')}`);
      }
      if (writers.length) {
        problems.push({
          code: 'PYENV_ROOT_WRITABLE_BY_OTHERS',
          severity: 'warning',
          message:
            `pymgr uses the pyenv root ${loc.root} as uid ${me} (git trusted for it per command only), but ${writers.join('; ')}: ` +
            'whoever can write there can change the pyenv and Pythons that run as you.',
          fix: `Use it only if you trust them (a shared cache of your own team), or make it yours (\`chown -R ${me} ${loc.root}\`, \`chmod -R go-w ${loc.root}\`), or point providers.pyenv.root at a root of your own.`,
          fixable: false,
        });
      }
    }

    const wouldClone = !found && opts.install && (loc.rootState === 'missing' || loc.rootState === 'empty') && !loc.bin;
    const cloneBlocked = wouldClone && ctx.config.index.offline && !isLocalRepository(opts.repository);
    if (cloneBlocked) {
      problems.push({
        code: 'PYENV_OFFLINE_NO_CLONE',
        severity: 'warning',
        message: `pyenv is not installed in ${loc.root}, and offline (index.offline) pymgr will not clone it from ${redact(opts.repository)}; setup with pyenv would fail`,
        fix: offlineCloneFix(opts.repository),
      });
    }
    const needsGit = opts.update || (wouldClone && !cloneBlocked);
    if (needsGit) {
      const git = await readGitInfo(executor);
      const why = opts.update ? 'providers.pyenv.update is true (git pull)' : `pyenv is not installed in ${loc.root} and pymgr installs it with git clone`;
      if (!git.found) {
        problems.push({
          code: 'GIT_MISSING',
          severity: 'error',
          message: `git is not installed on ${executor.description}, and pyenv needs it: ${why}`,
          fix: 'Install git (apt-get install git), or install pyenv yourself and set providers.pyenv.root, or choose a git-free manager (uv, mise).',
        });
      } else if (git.current === false) {
        problems.push({
          code: 'GIT_OLD',
          severity: 'warning',
          message: `git ${git.version} is older than ${GIT_OWNERSHIP_CHECK_VERSION}, which fixed CVE-2022-24765 (repositories owned by another user); pyenv needs git: ${why}`,
          fix: 'Upgrade git. (Older git ignores safe.directory, so pymgr still works with it.)',
        });
      }
    }
    return {
      name: 'pyenv',
      found,
      path: loc.root,
      version,
      source: loc.binSource === 'PATH' ? 'PATH' : loc.rootSource,
      needsGit,
      problems,
    };
  }

  /**
   * Find a working pyenv, or install it by `git clone` into a missing or empty root. Pulls when
   * providers.pyenv.update is true. A non-empty root that is not a working pyenv is an error and
   * is left exactly as it is.
   */
  async ensureManager(ctx: ProviderContext): Promise<ProbeResult> {
    return (await this.manager(ctx)).probe;
  }

  private async manager(ctx: ProviderContext): Promise<PyenvManager> {
    const opts = ctx.config.providers.pyenv;
    let loc = await findPyenv(ctx);
    const key = `${ctx.executor.description}\0${loc.root}\0${loc.bin ?? ''}`;
    const cached = this.ensured.get(key);
    if (cached) return cached;
    let probe = await this.probeAt(ctx, loc);
    if (probe.found) {
      if (opts.update && ctx.config.index.offline) {
        ctx.progress({ step: 'manager', message: `offline: not updating pyenv in ${loc.root} (providers.pyenv.update is ignored)` });
      } else if (opts.update) await this.update(ctx, loc);
    } else {
      if (loc.bin || loc.rootState === 'other') {
        const problem = probe.problems.find((p) => p.code === 'PYENV_BROKEN' || p.code === 'PYENV_ROOT_NOT_PYENV');
        throw new PymgrError('MANAGER_BROKEN', problem?.message ?? `pyenv in ${loc.root} does not work`, {
          hint: problem?.fix,
          details: { root: loc.root, rootSource: loc.rootSource, bin: loc.bin },
        });
      }
      if (!opts.install) {
        throw new PymgrError('MANAGER_NOT_FOUND', `pyenv is not installed in ${loc.root} (from ${describeRootSource(loc)}) on ${ctx.executor.description}`, {
          hint: 'Install pyenv there, set providers.pyenv.root to an existing pyenv, or allow providers.pyenv.install so pymgr clones it.',
        });
      }
      await this.install(ctx, loc);
      loc = await findPyenv(ctx);
      probe = await this.probeAt(ctx, loc);
      if (!probe.found || !loc.bin) {
        throw new PymgrError('MANAGER_BROKEN', `pyenv was cloned into ${loc.root} but does not run`, {
          hint: `Check ${opts.repository} is a pyenv repository; \`pymgr doctor\` shows what is wrong.`,
          details: { problems: probe.problems },
        });
      }
      probe = { ...probe, source: 'installed' };
    }
    const manager = { bin: loc.bin!, root: loc.root, probe };
    this.ensured.set(key, manager);
    return manager;
  }

  /** Environment for every pyenv command: the root, and scoped trust of it for the git calls pyenv makes. */
  async pyenvEnv(ctx: ProviderContext, root: string): Promise<Record<string, string | undefined>> {
    return { PYENV_ROOT: root, PYENV_VERSION: undefined, PYENV_DIR: undefined, ...(await this.gitEnv(ctx, root)) };
  }

  /** `safe.directory=<root>` (and its real path, which is what git compares) for one command, plus no prompts. */
  private async gitEnv(ctx: ProviderContext, root: string): Promise<Record<string, string>> {
    const dirs = [root];
    try {
      dirs.push(await ctx.executor.realpath(root));
    } catch {
      /* not there yet */
    }
    return { ...buildGitTrustEnv(await ctx.executor.getEnv(), dirs), GIT_TERMINAL_PROMPT: '0' };
  }

  /** Serialise changes to one root (clone, update, builds) between pymgr processes. */
  private lockRoot(ctx: ProviderContext, root: string) {
    const id = createHash('sha256').update(root).digest('hex').slice(0, 16);
    return acquireEnvLock(ctx.executor, `${ctx.toolsDir}/locks/pyenv-${id}`, {
      signal: ctx.signal,
      timeoutMs: 30 * 60_000,
      onWait: (holder, wait) => ctx.progress({ step: 'manager', message: `waiting for another pymgr using ${root} (${holder}, for ${Math.round(wait.heldMs / 1000)} s)`, wait }),
    });
  }

  private async install(ctx: ProviderContext, loc: PyenvLocation): Promise<void> {
    const { executor } = ctx;
    const repo = ctx.config.providers.pyenv.repository;
    if (ctx.config.index.offline && !isLocalRepository(repo)) {
      // Before git is even asked its version, and before the root or its lock is touched.
      throw new PymgrError('MANAGER_NOT_FOUND', `pyenv is not installed in ${loc.root}, and offline (index.offline) pymgr will not clone it from ${redact(repo)}`, {
        hint: offlineCloneFix(repo),
      });
    }
    const git = await readGitInfo(executor);
    if (!git.found) {
      throw new PymgrError('MANAGER_NOT_FOUND', `pyenv is not installed in ${loc.root}, and git, needed to install it, is not on ${executor.description}`, {
        hint: 'Install git, or install pyenv yourself and set providers.pyenv.root, or use a git-free manager (uv, mise).',
      });
    }
    const lock = await this.lockRoot(ctx, loc.root);
    try {
      const now = await findPyenv(ctx);
      if (now.rootState === 'pyenv') return; // another process installed it meanwhile
      if (now.rootState === 'other') {
        throw new PymgrError('MANAGER_BROKEN', `The pyenv root ${loc.root} is not empty and holds no pyenv`, {
          hint: 'pymgr will not delete, move or re-initialise it. Point providers.pyenv.root at a new or empty directory.',
        });
      }
      await executor.mkdir(posix.dirname(loc.root), { recursive: true });
      // Into a missing directory, or straight into an existing empty one (which may be a mount point
      // and must stay where it is): git clone handles both.
      ctx.progress({ step: 'manager', message: `installing pyenv into ${loc.root}: git clone ${redact(repo)}` });
      await runChecked(executor, 'git', ['clone', '--', repo, loc.root], {
        env: await this.gitEnv(ctx, loc.root),
        signal: ctx.signal,
        onOutput: (_s, chunk) => ctx.progress({ step: 'manager', message: 'git clone pyenv', output: chunk }),
        purpose: `install pyenv into ${loc.root}`,
        hint: `Check that ${redact(repo)} (providers.pyenv.repository) is reachable, or install pyenv there yourself.`,
      });
    } finally {
      await lock.release();
    }
  }

  private async update(ctx: ProviderContext, loc: PyenvLocation): Promise<void> {
    if (!loc.isGitCheckout) {
      throw new PymgrError('MANAGER_BROKEN', `providers.pyenv.update is true, but the pyenv root ${loc.root} is not a git checkout`, {
        hint: 'Set providers.pyenv.update to false, or update pyenv the way it was installed.',
      });
    }
    const lock = await this.lockRoot(ctx, loc.root);
    try {
      ctx.progress({ step: 'manager', message: `updating pyenv in ${loc.root}: git pull --ff-only` });
      await runChecked(ctx.executor, 'git', ['-C', loc.root, 'pull', '--ff-only'], {
        env: await this.gitEnv(ctx, loc.root),
        signal: ctx.signal,
        onOutput: (_s, chunk) => ctx.progress({ step: 'manager', message: 'git pull pyenv', output: chunk }),
        purpose: `update pyenv in ${loc.root}`,
        hint: 'Fix the checkout (local changes, diverged branch, unreachable remote), or set providers.pyenv.update to false.',
      });
    } finally {
      await lock.release();
    }
  }

  /** Pythons in `<root>/versions`, found by listing the directory (no pyenv or git command). */
  async listPythons(ctx: ProviderContext): Promise<PythonInterpreter[]> {
    const loc = await findPyenv(ctx);
    return sortPythons(await listPyenvPythons(ctx.executor, loc.root));
  }

  async ensurePython(ctx: ProviderContext, request: PythonRequest): Promise<PythonInterpreter> {
    const { executor } = ctx;
    const opts = ctx.config.providers.pyenv;
    const mgr = await this.manager(ctx);
    let pythons = await this.listPythons(ctx);
    const match = pickInterpreter(pythons, request.raw);
    if (match) return match;
    if (!opts.install) {
      throw pythonUnavailable('pyenv', request, pythons,
        `providers.pyenv.install is false. Install it yourself (PYENV_ROOT=${mgr.root} pyenv install <version>), allow providers.pyenv.install, or change the request.`);
    }

    const known = await this.listInstallable(ctx, mgr);
    const version = matchPythonVersion(request.raw, known);
    if (!version) {
      throw pythonUnavailable('pyenv', request, pythons,
        `pyenv ${mgr.probe.version ?? ''} in ${mgr.root} has no build definition matching "${request.raw}". Update pyenv (providers.pyenv.update: true, or git pull in the root), or change the request.`);
    }
    const cache = opts.buildCache;
    const cached = cache ? await findCachedTarball(ctx, cache, version) : undefined;
    if (ctx.config.index.offline && !cached && !opts.mirrorUrl) {
      throw pythonUnavailable('pyenv', request, pythons,
        `Offline (index.offline) and no source for CPython ${version}: put Python-${version}.tar.gz (Debian's python${minorOf(version)}_${version}.orig.tar.gz is the same file) ` +
        `into a directory and set providers.pyenv.buildCache to it, or set providers.pyenv.mirrorUrl, or install it yourself (pyenv install ${version}).`);
    }

    const env = await this.pyenvEnv(ctx, mgr.root);
    if (cache) {
      await executor.mkdir(cache, { recursive: true });
      env.PYTHON_BUILD_CACHE_PATH = cache;
      // Debian's .orig.tar.gz is byte-identical to Python-X.Y.Z.tgz; python-build asks for the
      // .tar.xz (another checksum) unless told to skip xz.
      if (!cached?.endsWith('.tar.xz')) env._PYTHON_BUILD_FORCE_SKIP_XZ = '1';
    }
    if (opts.mirrorUrl) env.PYTHON_BUILD_MIRROR_URL = opts.mirrorUrl;

    const lock = await this.lockRoot(ctx, mgr.root);
    try {
      pythons = await this.listPythons(ctx);
      const meanwhile = pythons.find((p) => p.version === version);
      if (meanwhile) return meanwhile;
      const message = `pyenv install ${version} (compiling CPython from source: this takes minutes)`;
      ctx.progress({ step: 'python', message });
      const res = await executor.exec(mgr.bin, ['install', '--skip-existing', '--verbose', version], {
        env,
        signal: ctx.signal,
        onOutput: (_s, chunk) => ctx.progress({ step: 'python', message, output: chunk }),
      });
      if (res.exitCode !== 0) {
        const text = `${res.stdout}\n${res.stderr}`;
        if (/failed to download|Could not resolve host|curl: \(\d+\)|wget: unable|Connection refused/i.test(text)) {
          throw pythonUnavailable('pyenv', request, pythons,
            `pyenv could not download the CPython ${version} source (exit ${res.exitCode}). Put Python-${version}.tar.gz into providers.pyenv.buildCache, ` +
            `set providers.pyenv.mirrorUrl, or check the network.`);
        }
        throw commandFailed(executor, res, `build Python ${version} with pyenv`,
          `Read the build output above. Building CPython needs a compiler and headers; on Debian/Ubuntu: apt-get install ${PYTHON_BUILD_DEPENDENCIES.join(' ')}.`);
      }
    } finally {
      await lock.release();
    }
    pythons = await this.listPythons(ctx);
    const built = pythons.find((p) => p.version === version);
    if (!built) {
      throw new PymgrError('MANAGER_BROKEN', `pyenv install ${version} succeeded but ${mgr.root}/versions/${version} has no Python interpreter`, {
        hint: `Look into ${mgr.root}/versions/${version}; remove it yourself and run pymgr again to rebuild.`,
      });
    }
    return { ...built, origin: 'installed' };
  }

  /** Exact CPython versions python-build can build (`pyenv install --list`, no network). */
  private async listInstallable(ctx: ProviderContext, mgr: PyenvManager): Promise<string[]> {
    const res = await runChecked(ctx.executor, mgr.bin, ['install', '--list'], {
      env: await this.pyenvEnv(ctx, mgr.root),
      timeoutMs: 60_000,
      purpose: 'list the Python versions pyenv can build',
      hint: `Check the pyenv installation in ${mgr.root}; \`pymgr doctor\` shows what is wrong.`,
    });
    return parseInstallList(res.stdout);
  }

  /** `python -m venv` with the chosen interpreter itself: never `pyenv global`/`local`, which change the user's defaults. */
  async createVenv(ctx: ProviderContext, python: PythonInterpreter, venv: VenvTarget): Promise<void> {
    ctx.progress({ step: 'venv', message: `${python.executable} -m venv ${venv.path} (Python ${python.version})` });
    await runChecked(ctx.executor, python.executable, ['-m', 'venv', venv.path], {
      cwd: ctx.projectDir,
      env: { PYTHONHOME: undefined, PYTHONPATH: undefined, VIRTUAL_ENV: undefined, PYENV_VERSION: undefined, PYTHONNOUSERSITE: '1' },
      signal: ctx.signal,
      purpose: `create the venv at ${venv.path}`,
      hint: `Check that ${python.executable} has the venv module (ensurepip); rebuild that Python with pyenv if not.`,
    });
  }

  /** pyenv installs with the venv's own pip: a venv without a working one (uv made it, or a kill) cannot be used. */
  venvProblem(ctx: ProviderContext, venv: VenvTarget): Promise<string | undefined> {
    return pipProblem(ctx, venv, 'pyenv');
  }

  async installDependencies(ctx: ProviderContext, venv: VenvTarget, plan: InstallPlan): Promise<InstallReport> {
    return installPlanWithInstaller(ctx, venv, plan, { kind: 'pip' });
  }
}

/** Final CPython versions and prereleases from `pyenv install --list` (no -dev, no free-threaded `t`, no other implementations). */
export function parseInstallList(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?$/.test(l));
}

/** The cached source tarball python-build would use for `version`, if present. */
async function findCachedTarball(ctx: ProviderContext, cache: string, version: string): Promise<string | undefined> {
  for (const ext of ['tar.gz', 'tar.xz']) {
    const file = `${cache}/Python-${version}.${ext}`;
    if (await ctx.executor.exists(file)) return file;
  }
  return undefined;
}

function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

function describeRootSource(loc: PyenvLocation): string {
  switch (loc.rootSource) {
    case 'config':
      return 'providers.pyenv.root';
    case 'config-path':
      return 'providers.pyenv.path';
    case 'PYENV_ROOT':
      return '$PYENV_ROOT';
    default:
      return 'the default ~/.pyenv';
  }
}

function offlineCloneFix(repository: string): string {
  return `Set providers.pyenv.repository to a local clone of pyenv (a path or file:// URL; now ${redact(repository)}), ` +
    'or install pyenv yourself and point providers.pyenv.root at it, or run without --offline (index.offline).';
}

/**
 * Whether git would clone `repository` from this machine's file system: a `file://` URL or a path
 * (git's rule: no `scheme://`, and no `:` before the first `/`, which would make it `host:path`).
 */
export function isLocalRepository(repository: string): boolean {
  if (/^file:\/\//i.test(repository)) return true;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) return false;
  const colon = repository.indexOf(':');
  const slash = repository.indexOf('/');
  return colon === -1 || (slash !== -1 && slash < colon);
}
