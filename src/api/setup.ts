import type { Executor, InstallPlan, InstallReport, ProbeResult, ProviderContext, VenvTarget } from '../contracts.js';
import { isPymgrError, PymgrError, toPymgrError } from '../errors.js';
import { matchPythonVersion } from '../python-version.js';
import { createProvider, selectProvider } from '../../providers/index.js';
import { describeOrigin } from '../config/describe-sources.js';
import { executorOf, providerAvailability, providerLoader, resolveProject } from '../core/context.js';
import { startCostMeter } from '../core/cost.js';
import { collectDependencyInputs, computeFingerprint, computeInputDigests, describeChangedInputs, fingerprintMatches } from '../core/fingerprint.js';
import { assertLockFilesParse } from '../detect/check-lock-files.js';
import { acquireEnvLock } from '../core/lock.js';
import { describeSelection } from '../core/selection.js';
import { asidePathFor, statePath, toolsDirFrom } from '../core/paths.js';
import { readState, writeState } from '../core/state.js';
import { newBuildId, recoverAside, venvDirectory } from '../core/build-aside.js';
import { factsOf, withFacts } from '../core/setup-facts.js';
import { startVenvWork, withKeptEnv } from '../core/venv-work.js';
import { describePartial, onlyPartialFailed, withReinstall } from '../core/repair.js';
import { assertIsolated, inspectVenv, type PartialDistribution } from '../core/verify.js';
import type { IsolationCheck, SetupChanges, SetupOptions, SetupResult, VenvAction } from '../types.js';
import { diffDistributions, listDistributions } from '../core/inventory.js';

export type { SetupOptions, SetupResult, VenvAction };

/** Git-free managers for a container: the host's own binaries, copied in when they can run there. */
async function copyManagersIn(ctx: ProviderContext, wantsMise: boolean): Promise<void> {
  const { copyHostTools } = await import('../docker/host-tools.js');
  const { DockerExecutor } = await import('../docker/docker-executor.js');
  if (!(ctx.executor instanceof DockerExecutor)) return;
  const provider = ctx.config.provider;
  if (provider === 'pyenv') return;
  const mise = provider === 'mise' || (provider === 'auto' && wantsMise);
  const copied = await copyHostTools(ctx.executor, { toolsDir: ctx.toolsDir, mise: mise ? undefined : false });
  for (const [name, r] of Object.entries({ uv: copied.uv, ...(mise ? { mise: copied.mise } : {}) })) {
    ctx.progress({
      step: 'manager',
      message: r.action === 'skipped' ? `${name} not copied from the host: ${r.reason}` : `${name} ${r.version} from the host ${r.action === 'copied' ? 'copied to' : 'already at'} ${r.path}`,
    });
  }
}

/**
 * What copying the host's tools in and inheriting its CA bundle will read of the container, asked
 * for lazily: learnt with detection's batch of reads, not in round trips of their own.
 */
async function hintContainerReads(executor: Executor, options: SetupOptions): Promise<void> {
  if (!executor.prefetch) return;
  const toolsDir = options.toolsDir ?? toolsDirFrom(executor, options.env, executor.guessEnv?.() ?? (await executor.getEnv()));
  const [{ hostToolReads }, { caReads }] = await Promise.all([import('../docker/host-tools.js'), import('../docker/inherit.js')]);
  const tools = options.copyHostTools === false ? [] : await hostToolReads(toolsDir);
  await executor.prefetch([...tools, ...caReads(toolsDir, options.env ?? process.env)], { lazy: true });
}

/**
 * The host's CA bundle, proxy and index variables for the managers' commands in a container
 * (config docker.inherit): the context's executor runs them with those variables from here on.
 */
async function inheritIntoContainer(ctx: ProviderContext, hostEnv?: Record<string, string | undefined>): Promise<void> {
  const kinds = ctx.config.docker.inherit;
  if (kinds.length === 0) return;
  const { DockerExecutor } = await import('../docker/docker-executor.js');
  if (!(ctx.executor instanceof DockerExecutor)) return;
  const { inheritHostSettings } = await import('../docker/inherit.js');
  const inherited = await inheritHostSettings(ctx.executor, kinds, { toolsDir: ctx.toolsDir, hostEnv: hostEnv ?? process.env });
  if (inherited.settings.length === 0) return;
  ctx.executor = ctx.executor.withEnv(inherited.env);
  ctx.progress({ step: 'manager', message: `from the host (docker.inherit): ${inherited.settings.map((s) => (s.kind === 'ca' ? `CA bundle ${s.what} from ${s.from}` : s.what)).join(', ')}` });
}

/**
 * pymgr's main job: a verified, isolated venv for the project. Loads config, detects the project,
 * picks and ensures the manager, ensures a Python, creates or reuses the venv, installs the
 * dependencies, verifies isolation with the venv's own interpreter and records state.
 * Throws a PymgrError for anything short of a verified env; never falls back to a base interpreter.
 */
export async function setup(options: SetupOptions = {}): Promise<SetupResult> {
  try {
    const executor = executorOf(options);
    const spent = startCostMeter(executor);
    const result = await runSetup({ ...options, executor });
    const facts = factsOf(result);
    const out = { ...result, ...spent() };
    return facts ? withFacts(out, facts) : out;
  } catch (err) {
    throw toPymgrError(err);
  }
}

async function runSetup(options: SetupOptions): Promise<SetupResult> {
  const started = Date.now();
  if (options.executor?.kind === 'docker') await hintContainerReads(options.executor, options);
  let resolution = await resolveProject(options);
  const { executor, projectDir, detection, venvPath, ctx, resolved } = resolution;
  const { config } = ctx;
  await assertLockFilesParse(executor, detection.plan);
  const providerFor = providerLoader(createProvider);
  const available = providerAvailability(ctx, providerFor);
  const root = detection.reasons.find((r) => r.rule === 'project-root');
  ctx.progress({ step: 'detect', message: `${detection.projectType} project in ${projectDir}${root ? ` (${root.message.replace(/^project root \S+: /, '')})` : ''}${describeSelection(detection.plan.steps)}` });
  if (executor.kind === 'docker' && options.copyHostTools !== false) await copyManagersIn(ctx, detection.hasMiseConfig);
  if (executor.kind === 'docker') await inheritIntoContainer(ctx, options.env);
  // A configured manager that fails (providers.<name>.path) ends selection before the env is touched.
  const choice = await selectProvider(detection, config, available, describeOrigin(resolved, 'provider')).catch(async (err: unknown) => {
    throw await untouchedEnvError(executor, venvPath, err);
  });
  const provider = await providerFor(choice.name);
  const request = detection.python;
  const versionOk = (v: string) => matchPythonVersion(request.raw, [v]) !== undefined;
  const expected = config.verify.packages ? detection.plan.expected : [];
  const files = config.verify.deep ? 'deep' : 'full';
  const venv: VenvTarget = { path: venvPath, python: `${venvPath}/bin/python` };

  // What the next steps read of the env and of the manager's files: asked for now, lazily, so a
  // container makes them in the lock's own exec, right after taking it (else in one batch below).
  const envReads = [
    ...(executor.prefetch ? ((await provider.plannedReads?.(ctx)) ?? []) : []),
    { op: 'stat' as const, path: venvPath },
    { op: 'realpath' as const, path: venvPath },
    { op: 'stat' as const, path: asidePathFor(venvPath) },
    { op: 'readFile' as const, path: statePath(venvPath) },
    { op: 'readDir' as const, path: venvPath },
    { op: 'readDir' as const, path: `${venvPath}/lib` },
  ];
  await executor.prefetch?.(envReads, { lazy: true });
  const lock = await acquireEnvLock(executor, venvPath, {
    timeoutMs: options.lockTimeoutMs,
    signal: options.signal,
    onWait: (holder, wait) => ctx.progress({ step: 'lock', message: `waiting for another setup of ${venvPath} (${holder}, holding it for ${Math.round(wait.heldMs / 1000)} s)`, wait }),
  });
  try {
    await executor.prefetch?.(envReads); // nothing left to read when the lock's exec made them
    // A setup killed earlier may have left the previous env aside: put it back (or drop a leftover) first.
    const venvDir = await venvDirectory(executor, venvPath); // learnt by the prefetch
    await assertOwnEnv(executor, venvDir, venvPath);
    const recovered = await recoverAside(executor, venvPath);
    if (recovered) {
      ctx.progress({
        step: 'venv',
        message: recovered.action === 'restore' ? `a setup was interrupted: put the previous env back from ${recovered.path}` : `removed ${recovered.path} (${recovered.detail})`,
      });
    }
    ctx.progress({ step: 'manager', message: `using ${choice.name} (${choice.reason})` });
    const manager: ProbeResult = await provider.ensureManager(ctx);
    let inputFiles = await collectDependencyInputs(executor, detection.plan); // for the fingerprint, the digests and the CLI's record
    const fingerprintInput = { executor, plan: detection.plan, provider: manager, request, venvPath, config, inputs: inputFiles };
    let fingerprint = await computeFingerprint(fingerprintInput);
    const state = await readState(executor, venvPath);
    const result = (action: VenvAction, python: { version: string; base: string }, checks: IsolationCheck[], install: InstallReport, reason?: string, changes?: SetupChanges): SetupResult => withFacts({
      projectDir,
      projectType: detection.projectType,
      provider: { name: choice.name, version: manager.version, path: manager.path, foundBy: manager.source, chosenBy: choice.source, reason: choice.reason },
      python: { version: python.version, executable: venv.python, base: python.base, request: request.raw, source: request.source, sourcePath: request.sourcePath },
      venv: { path: venvPath, action, ...(reason ? { reason } : {}) },
      isolation: { verified: true, checks },
      install,
      ...(changes ? { changes } : {}),
      reasons: detection.reasons.map((r) => (r.file ? `${r.message} (${r.file})` : r.message)),
      durationMs: Date.now() - started,
    }, { resolution, fingerprint, venvDir, inputFiles });

    // Warm path: nothing that decides the env changed. Still prove, with the venv's interpreter,
    // that it is the venv and that every requested dependency is still installed in it.
    let updateReason: string | undefined;
    // Partial distributions found (files missing under an intact dist-info): reinstalled below.
    let partial: PartialDistribution[] | undefined;
    if (state?.status === 'ready' && (await fingerprintMatches(fingerprintInput, state.fingerprint, fingerprint))) {
      ctx.progress({ step: 'verify', message: 'unchanged: checking the interpreter and the packages' });
      const quick = await inspectVenv(executor, venvPath, expected, { versionOk, signal: ctx.signal, timeoutMs: config.verify.timeoutMs, files, recordSignature: true, dependencies: true });
      if (quick.verified) {
        return result('reused', { version: quick.facts!.version, base: state.python.executable }, quick.checks, { commands: [], notes: ['nothing changed'] });
      }
      partial = quick.partial;
      updateReason = `the recorded env fails its checks (${quick.checks.filter((c) => !c.ok).map((c) => c.detail).join('; ')})`;
      ctx.progress({ step: 'venv', message: `${updateReason}: repairing` });
    }

    const python = await provider.ensurePython(ctx, request);
    ctx.progress({ step: 'python', message: `Python ${python.version} at ${python.executable}` });
    assertVenvCapable(python, request);
    // A top-level requirement that was dropped cannot be uninstalled reliably in place: rebuild.
    const dropped = (state?.expected ?? []).filter((name) => !detection.plan.expected.includes(name));
    const before = await listDistributions(executor, venvPath);
    let inputs = await computeInputDigests(fingerprintInput);
    // An update names what changed, as `run` warns it (`requirements.txt changed`), when the state can tell.
    const changedInputs = state?.status === 'ready' && state.inputs ? describeChangedInputs(state.inputs, inputs, projectDir) : [];
    if (!updateReason && changedInputs.length) updateReason = `${changedInputs.join(', ')} changed`;
    // Build at the final path (a venv's scripts embed it), with the previous env kept aside (core/build-aside.ts).
    const { decision, work } = await startVenvWork(executor, venvPath, {
      state,
      provider: choice.name,
      python,
      dropped,
      venvProblem: async () => provider.venvProblem?.(ctx, venv),
      updateReason,
    }, newBuildId());
    if (decision.action !== 'created') {
      ctx.progress({ step: 'venv', message: `${decision.reason}: ${decision.action === 'rebuilt' ? 'rebuilding' : 'updating in place'}; the current env is kept aside until the new one verifies` });
    }
    // Deferred: a container makes each write with the next operation (the venv's creation or the
    // install; the listing after verification), whose failure reports it.
    const record = (status: 'in-progress' | 'ready') =>
      writeState(executor, venvPath, {
        schema: 1,
        status,
        fingerprint,
        provider: { name: choice.name, version: manager.version, path: manager.path },
        python: { version: python.version, executable: python.executable, request: request.raw },
        projectType: detection.projectType,
        projectDir,
        expected: detection.plan.expected,
        build: work.id,
        inputs,
        updatedAt: new Date().toISOString(),
      }, { defer: true });
    let report: Awaited<ReturnType<typeof inspectVenv>>;
    let after: Awaited<ReturnType<typeof listDistributions>>;
    let install: InstallReport;
    // An update in place of a venv pymgr has no finished record of may hold half-written
    // distributions (an installer may even fail to read them): find them first.
    if (decision.action === 'updated' && partial === undefined && state?.status !== 'ready') {
      partial = (await inspectVenv(executor, venvPath, [], { files: 'full', timeoutMs: config.verify.timeoutMs, signal: ctx.signal })).partial;
    }
    const reinstall = decision.action === 'updated' ? partial : undefined;
    try {
      await record('in-progress');
      if (decision.action !== 'updated') await provider.createVenv(ctx, python, venv);
      if (reinstall?.length) ctx.progress({ step: 'install', message: `incomplete in the venv, reinstalling: ${describePartial(reinstall)}` });
      const installPlan = (partialNow: PartialDistribution[] | undefined) =>
        provider.installDependencies(ctx, venv, withReinstall(detection.plan, partialNow)).catch((err: unknown) => {
          throw nameThePython(err, python.version, request);
        });
      install = await installPlan(reinstall);
      ctx.progress({ step: 'verify', message: 'verifying isolation with the venv\'s interpreter' });
      const verify = () => inspectVenv(executor, venvPath, expected, {
        versionOk: (v) => v === python.version,
        timeoutMs: config.verify.timeoutMs,
        signal: ctx.signal,
        files,
        recordSignature: true,
      });
      report = await verify();
      // The installer took a partial distribution for installed: reinstall it, once, and look again.
      if (!report.verified && onlyPartialFailed(report)) {
        ctx.progress({ step: 'install', message: `incomplete after the install, reinstalling: ${describePartial(report.partial)}` });
        const again = await installPlan(report.partial);
        install.commands.push(...again.commands);
        install.notes.push(...again.notes.filter((n) => !install.notes.includes(n)));
        report = await verify();
      }
      if (!report.verified) assertLockHasRequested(report, detection.plan);
      assertIsolated(report, venvPath);
      // uv wrote the uv.lock the project did not have: the env is recorded as the project with it
      // (what the next command detects), else it would be `outdated` right away; but only when the
      // lock is all that changed (a file edited meanwhile keeps the fingerprint of what was
      // installed, so `outdated` after; a project that does not read now changes nothing).
      const lockless = detection.plan.steps.filter((s) => s.kind === 'uv-project' && !s.lockFile);
      if (lockless.length) {
        const now = await resolveProject({ ...options, executor, onProgress: undefined }).catch(() => undefined);
        if (now && JSON.stringify(now.detection.plan) !== JSON.stringify(detection.plan)) {
          const nowFiles = await collectDependencyInputs(executor, now.detection.plan);
          const input = { executor, plan: now.detection.plan, provider: manager, request: now.detection.python, venvPath, config: now.ctx.config, inputs: nowFiles };
          const nowInputs = await computeInputDigests(input);
          const locks = new Set(lockless.map((s) => (s.kind === 'uv-project' ? `${s.path}/uv.lock` : '')));
          const changed = Object.keys({ ...inputs, ...nowInputs }).filter((k) => inputs[k] !== nowInputs[k]);
          if (changed.every((k) => k === 'the install plan' || locks.has(k))) {
            resolution = now;
            inputFiles = nowFiles;
            fingerprint = await computeFingerprint(input);
            inputs = nowInputs;
          }
        }
      }
      await record('ready');
      after = await listDistributions(executor, venvPath, python.version);
      await executor.flush?.(); // the state written here, inside the try (the listing usually carried it)
    } catch (err) {
      // Put the previous env back; when that fails too (the container was stopped), the step that
      // failed first is still the error, and the next setup recovers the env from its sibling.
      const outcome = await work.rollback().catch(() => `the previous env is kept aside at ${asidePathFor(venvPath)}; the next pymgr setup puts it back`);
      throw withKeptEnv(err, outcome);
    }
    await work.commit();
    const changes = diffDistributions(before, after, {
      ...(state && state.python.version !== python.version ? { python: { from: state.python.version, to: python.version } } : {}),
      ...(state && state.provider.name !== choice.name ? { manager: { from: state.provider.name, to: choice.name } } : {}),
    });
    return result(decision.action, { version: python.version, base: python.executable }, report.checks, install, decision.reason, changes);
  } catch (err) {
    // Failed before the venv was touched (no manager, no such Python, ...): say the env is still there.
    throw await untouchedEnvError(executor, venvPath, err);
  } finally {
    await lock.release();
  }
}

/**
 * pymgr's venvs are Python 3's (the `venv` module; the checks run with the venv's own interpreter,
 * `-I`): a Python 2 is refused before the env is touched, naming where the request came from.
 */
function assertVenvCapable(python: { version: string; executable: string }, request: { raw: string; source: string; sourcePath?: string }): void {
  const major = Number(/^(\d+)\./.exec(python.version)?.[1]);
  if (!(major < 3)) return;
  throw new PymgrError('PYTHON_UNAVAILABLE', `Python ${python.version} (${python.executable}, picked for the request ${request.raw} from ${request.sourcePath ?? request.source}) cannot make a venv pymgr can verify: pymgr needs Python 3`, {
    hint: 'Ask for a Python 3 (--python 3.12, `python` in the pymgr config, .python-version or requires-python). Python 2 has no venv module and is past its end of life.',
    details: { python: python.version, executable: python.executable, request: request.raw },
  });
}

/**
 * The error of a setup that failed before the venv was touched: it says the env is still there
 * (when there is one, and the error does not say already what became of it).
 */
async function untouchedEnvError(executor: Executor, venvPath: string, err: unknown): Promise<unknown> {
  const said = (err as { details?: Record<string, unknown> }).details?.previousEnv !== undefined;
  if (said || !(await executor.exists(`${venvPath}/pyvenv.cfg`).catch(() => false))) return err;
  return withKeptEnv(err, `the previous env at ${venvPath} was kept as it was`);
}

/**
 * An env another user owns and this one cannot write is left alone: pymgr running as uid 1000
 * (`--user`) cannot update or rebuild a venv root made, and trying would leave parts of it owned
 * by 1000 (the kept-aside copies, what recovery puts back). Refused before anything changes (a
 * previous env left aside included); root may act on any env, and a group-writable shared env is
 * written as it is.
 */
async function assertOwnEnv(executor: Executor, venvDir: string, venvPath: string): Promise<void> {
  const uid = executor.userIds ? (await executor.userIds()).uid : process.getuid?.();
  if (uid === undefined || uid === 0) return;
  const owner = (await executor.stat(`${venvDir}/pyvenv.cfg`))?.uid;
  if (owner === undefined || owner === uid) return;
  const parent = venvDir.replace(/\/[^/]+\/?$/, '') || '/';
  const writable = await executor.exec('sh', ['-c', 'test -w "$1" && test -w "$2" && test -w "$3"', 'sh', venvDir, parent, `${venvDir}/pyvenv.cfg`], { readOnly: true });
  if (writable.exitCode === 0) return;
  throw new PymgrError('PROJECT_INVALID', `${venvPath} belongs to uid ${owner}; pymgr runs as uid ${uid} here and cannot update it`, {
    hint: `Set it up as the user that made it${executor.kind === 'docker' ? ' (--user, docker.user)' : ''}, or give the env to uid ${uid} yourself (chown -R), or point \`venv\` at another path.`,
    details: { venv: venvPath, owner, uid },
  });
}

/**
 * A uv.lock installed as it is (`--frozen`) that lacks what the project asks for: the lock is out
 * of date, not the env (every failing check is a requested package that is not installed).
 */
function assertLockHasRequested(report: { checks: IsolationCheck[] }, plan: InstallPlan): void {
  const failed = report.checks.filter((c) => !c.ok);
  const step = plan.steps.find((s) => s.kind === 'uv-project' && s.lock === 'frozen' && s.lockFile);
  const missing = (c: IsolationCheck) =>
    c.name.startsWith('package:') ? c.detail.endsWith(' is not installed') : c.name.startsWith('files:') && /is incomplete: (it needs \S+, which is not installed(, |$| and \d+ more$))+$/.test(c.detail);
  if (!step || step.kind !== 'uv-project' || !failed.length || !failed.every(missing)) return;
  const names = failed.filter((c) => c.name.startsWith('package:')).map((c) => c.name.slice('package:'.length));
  if (!names.length) return;
  throw new PymgrError('PROJECT_INVALID', `${step.lockFile} (installed as it is: --frozen) does not have ${names.join(', ')}, which ${step.path}/pyproject.toml asks for: the lock is out of date`, {
    hint: 'Re-lock it for this env with --relock (config dependencies.lock: update), or without --frozen have pymgr refuse an out-of-date lock before installing; as the project\'s maintainer, run `uv lock` and commit it.',
    details: { file: step.lockFile, missing: names },
  });
}

/**
 * A source build that failed names the Python it was built for and where that choice came from,
 * so the hint's "ask for another Python" has something to act on.
 */
function nameThePython(err: unknown, version: string, request: { raw: string; source: string; sourcePath?: string }): unknown {
  if (!isPymgrError(err) || err.details?.cause !== 'build-failed' || !err.hint) return err;
  const picked = `on Python ${version} (picked for the request ${request.raw} from ${request.sourcePath ?? request.source})`;
  return new PymgrError(err.code, err.message, { hint: err.hint.replace('the build failed', `the build failed ${picked}`), cause: err.cause, details: err.details });
}
