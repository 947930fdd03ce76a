import type { Executor, Problem, ProbeResult, ProviderContext } from '../contracts.js';
import { describeOrigin } from '../config/describe-sources.js';
import { loadConfig } from '../config/load-config.js';
import { defaultConfig, type PymgrConfig } from '../config/schema.js';
import type { ProjectDetection } from '../detect/detect-project.js';
import { isPymgrError, PymgrError } from '../errors.js';
import { redact } from '../redact.js';
import { matchPythonVersion } from '../python-version.js';
import { createProvider, providerNames, selectProvider } from '../../providers/index.js';
import { createContext, executorOf, locateProjectDir, resolveProject } from '../core/context.js';
import { inspectLock, lockPathFor, removeStaleLock } from '../core/lock.js';
import { readState } from '../core/state.js';
import { describePartial, onlyPartialFailed } from '../core/repair.js';
import { inspectVenv, type FileCheck } from '../core/verify.js';
import { checkAside, checkVenvManager } from './doctor-venv.js';
import type { DoctorManager, DoctorOptions, DoctorProblem, DoctorReport, ProviderChoice } from '../types.js';

export type { DoctorManager, DoctorOptions, DoctorProblem, DoctorReport };

/**
 * Check every manager, the project, its env and pymgr's lock, without changing anything (with
 * `fix`, only the safe fixes: removing a stale pymgr lock directory). Never writes git config.
 * Works in a directory that is not a Python project: managers are still reported.
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const executor = executorOf(options);
  const problems: DoctorProblem[] = [];
  const fixed: string[] = [];
  let ctx: ProviderContext;
  let detection: ProjectDetection | undefined;
  let providerOrigin: string | undefined;
  let venvPath: string | undefined;
  let projectError: string | undefined;
  let projectDir: string;

  try {
    const r = await resolveProject({ ...options, executor });
    providerOrigin = describeOrigin(r.resolved, 'provider');
    ctx = r.ctx;
    detection = r.detection;
    venvPath = r.venvPath;
    projectDir = r.projectDir;
  } catch (err) {
    if (!isPymgrError(err) || !['PROJECT_UNRECOGNISED', 'PROJECT_INVALID', 'CONFIG_INVALID'].includes(err.code)) throw err;
    projectError = err.message;
    projectDir = await locateProjectDir(executor, options.projectDir);
    let config: PymgrConfig;
    if (err.code === 'CONFIG_INVALID') {
      problems.push({ subject: 'config', code: 'CONFIG_INVALID', severity: 'error', message: err.message, fix: err.hint });
      config = defaultConfig();
    } else {
      if (err.code === 'PROJECT_INVALID') {
        problems.push({ subject: 'project', code: 'PROJECT_INVALID', severity: 'error', message: err.message, fix: err.hint });
      }
      config = await loadConfig({ projectDir, env: options.env, flags: options.flags, configFile: options.configFile, executor })
        .then((r) => r.config)
        .catch((e: unknown) => {
          problems.push({ subject: 'config', code: 'CONFIG_INVALID', severity: 'error', message: String((e as Error).message), fix: (e as PymgrError).hint });
          return defaultConfig();
        });
    }
    ctx = await createContext(options, executor, projectDir, config);
  }

  // Managers: every provider's own probe, which lists its problems (pyenv root owner, git, ...).
  const managers: DoctorManager[] = [];
  for (const name of providerNames) {
    let probe: ProbeResult;
    try {
      probe = await (await createProvider(name)).probe(ctx);
    } catch (err) {
      probe = {
        name,
        found: false,
        needsGit: false,
        problems: [{
          code: isPymgrError(err) ? err.code : 'PROBE_FAILED',
          severity: 'error',
          message: `Checking ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
          fix: (isPymgrError(err) ? err.hint : undefined) ||
            `Check that ${name} runs on ${executor.description} (run it yourself to see the error), or set \`provider\` to another manager; report this as a pymgr bug when ${name} works.`,
        }],
      };
    }
    const found = probe.problems.map((p) => withFix(p, name));
    managers.push({ ...probe, name, problems: found });
    for (const p of found) problems.push({ ...p, subject: name });
  }
  const foundByName = new Map(managers.map((m) => [m.name, m.found]));

  // The project's manager.
  let choice: ProviderChoice | undefined;
  if (detection) {
    choice = await selectProvider(detection, ctx.config, async (n) => foundByName.get(n) ?? false, providerOrigin);
    if (!managers.some((m) => m.found)) {
      problems.push({
        subject: 'project',
        code: 'NO_MANAGER',
        severity: 'error',
        message: `No Python manager (${providerNames.join(', ')}) was found for this ${detection.projectType} project; setup would try to install ${choice.name}`,
        fix: 'Install uv (python3 -m pip install uv), mise or pyenv, or make sure a python3 with pip exists so pymgr can provision uv; see the manager problems above.',
      });
    } else if (!foundByName.get(choice.name)) {
      problems.push({
        subject: 'project',
        code: 'MANAGER_UNAVAILABLE',
        severity: 'warning',
        message: `The manager for this project is ${choice.name} (${choice.reason}), and it was not found; setup will try to install it`,
        fix: `Install ${choice.name}, or choose an available manager with --provider / the provider setting.`,
      });
    }
  }

  // The env and its lock.
  let venv: DoctorReport['venv'];
  if (venvPath && detection) {
    const aside = await checkAside(executor, venvPath, !!options.fix);
    problems.push(...aside.problems);
    fixed.push(...aside.fixed);
    venv = await checkVenv(executor, venvPath, detection, problems, ctx.config.verify.deep ? 'deep' : 'full');
    if (choice && foundByName.get(choice.name)) {
      problems.push(...(await checkVenvManager(ctx, venvPath, await createProvider(choice.name))).problems);
    }
    const judged = await inspectLock(executor, lockPathFor(venvPath));
    if (judged) {
      const removed = options.fix && judged.stale ? await removeStaleLock(executor, judged) : false;
      // After a failed removal, report the lock as it is now (another setup may have taken it over).
      const lock = removed ? undefined : options.fix && judged.stale ? await inspectLock(executor, judged.path) : judged;
      if (removed) {
        fixed.push(`removed the stale pymgr lock ${judged.path} (${judged.detail})`);
      } else if (lock) {
        const takenOver = options.fix && judged.stale && !lock.stale;
        problems.push({
          subject: 'venv',
          code: lock.stale ? 'LOCK_STALE' : 'LOCK_HELD',
          severity: 'warning',
          message: lock.stale
            ? `A pymgr lock was left behind at ${lock.path} (${lock.detail})`
            : `Another pymgr setup holds ${lock.path} (${lock.detail}${takenOver ? '; it took the lock over while doctor was checking' : ''})`,
          fix: lock.stale ? `Run \`pymgr doctor --fix\` to remove it (setup also takes over stale locks).` : 'Wait for it to finish.',
          fixable: lock.stale,
        });
      }
    }
  }

  for (let i = 0; i < problems.length; i++) problems[i] = withFix(problems[i], problems[i].subject);
  const engine = await describeEngine(executor);

  return {
    ok: !problems.some((p) => p.severity === 'error'),
    projectDir,
    project: detection
      ? {
          type: detection.projectType,
          python: detection.python.raw,
          pythonSource: detection.python.sourcePath ?? detection.python.source,
          provider: choice && { name: choice.name, reason: choice.reason },
        }
      : { error: projectError ?? 'not detected' },
    venv,
    ...(engine ? { engine } : {}),
    managers,
    problems,
    fixed,
  };
}

/** In a container: which engine, chosen how (DOCKER_HOST, a Docker context, --engine, a socket). */
async function describeEngine(executor: Executor): Promise<DoctorReport['engine']> {
  if (executor.kind !== 'docker') return undefined;
  const { DockerExecutor } = await import('../docker/docker-executor.js');
  const { describeConnection } = await import('../docker/docker-client.js');
  if (!(executor instanceof DockerExecutor)) return undefined;
  return { address: redact(describeConnection(executor.client.connection)), chosenBy: executor.client.foundBy ?? 'the client given', container: executor.description };
}

/** The problem, with a generic next step when it came without one: every reported problem has a fix. */
function withFix<P extends Problem>(problem: P, subject: string): P {
  if (problem.fix?.trim()) return problem;
  const fix =
    subject === 'config'
      ? 'Correct the pymgr config (the file, PYMGR_* variables or flags) named in the message; `pymgr config` shows what is in effect.'
      : subject === 'project'
        ? 'Correct the project file named in the message, then run `pymgr doctor` again.'
        : subject === 'venv'
          ? 'Run `pymgr setup` to rebuild the env, or remove it yourself if pymgr did not create it.'
          : `Run ${subject} yourself to see what is wrong, then fix or reinstall it, or choose another manager with --provider / the provider setting.`;
  return { ...problem, fix };
}

async function checkVenv(
  executor: Executor,
  venvPath: string,
  detection: ProjectDetection,
  problems: DoctorProblem[],
  files: FileCheck,
): Promise<NonNullable<DoctorReport['venv']>> {
  const entries = await executor.readDir(venvPath);
  if (entries === undefined || entries.length === 0) return { path: venvPath, state: 'missing', detail: 'no venv yet: run `pymgr setup`' };
  const state = await readState(executor, venvPath);
  if (!entries.includes('pyvenv.cfg')) {
    if (!state) {
      problems.push({
        subject: 'venv',
        code: 'VENV_NOT_A_VENV',
        severity: 'error',
        message: `${venvPath} exists, is not empty and is not a venv (no pyvenv.cfg); pymgr will not touch it`,
        fix: 'Move that directory away yourself, or set `venv` in the pymgr config to another path.',
      });
      return { path: venvPath, state: 'not-a-venv' };
    }
  }
  const check = await inspectVenv(executor, venvPath, [], {
    versionOk: (v) => {
      try {
        return matchPythonVersion(detection.python.raw, [v]) !== undefined;
      } catch {
        return true;
      }
    },
    files,
    dependencies: true,
  });
  if (!check.verified && onlyPartialFailed(check)) {
    const detail = describePartial(check.partial);
    problems.push({
      subject: 'venv',
      code: 'VENV_PARTIAL_DISTRIBUTIONS',
      severity: 'error',
      message: `The env at ${venvPath} has distributions whose files are not all there: ${detail}`,
      fix: 'Run `pymgr setup`: it reinstalls them (their metadata alone would make an installer skip them).',
    });
    return { path: venvPath, state: 'broken', detail };
  }
  if (!check.verified) {
    const failed = check.checks.filter((c) => !c.ok);
    const notIsolated = failed.some((c) => c.name === 'prefix-is-venv' || c.name === 'prefix-differs-from-base' || c.name === 'executable-in-venv');
    const detail = failed.map((c) => c.detail).join('; ');
    problems.push({
      subject: 'venv',
      code: notIsolated ? 'VENV_NOT_ISOLATED' : 'VENV_BROKEN',
      severity: 'error',
      message: notIsolated ? `The env at ${venvPath} is not an isolated venv: ${detail}` : `The env at ${venvPath} does not work: ${detail}`,
      fix: 'Run `pymgr setup`: it rebuilds a broken venv, keeping it until the new one verifies (doctor never rebuilds anything).',
    });
    return { path: venvPath, state: 'broken', detail };
  }
  if (!state || state.status !== 'ready') {
    problems.push({
      subject: 'venv',
      code: 'VENV_INCOMPLETE',
      severity: 'warning',
      message: `The env at ${venvPath} works, but ${state ? 'the last setup did not finish' : 'pymgr has no record of setting it up'}`,
      fix: 'Run `pymgr setup` to finish and verify it.',
    });
    return { path: venvPath, state: 'incomplete' };
  }
  return { path: venvPath, state: 'ready', detail: `Python ${check.facts?.version} via ${state.provider.name}` };
}


