import type { Executor } from '../contracts.js';
import { PymgrError } from '../errors.js';

/** One isolation check and its outcome. */
export interface IsolationCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface IsolationReport {
  verified: boolean;
  checks: IsolationCheck[];
  /** What the venv's interpreter said about itself. */
  facts?: InterpreterFacts;
}

export interface InterpreterFacts {
  version: string;
  prefix: string;
  basePrefix: string;
  executable: string;
  realPrefix: string;
  sitePackages: string[];
  packages: Record<string, { found: boolean; location?: string; inVenv?: boolean; version?: string }>;
}

/*
 * Runs inside the venv's own interpreter (with -I: no PYTHONPATH, no user site, no cwd on sys.path).
 * Reports where the interpreter thinks it lives and where each requested distribution is installed.
 */
const SCRIPT = String.raw`
import json, os, sys, sysconfig, platform
venv, names = sys.argv[1], json.loads(sys.argv[2])
def norm(n):
    import re
    return re.sub(r"[-_.]+", "-", n).lower()
paths = sysconfig.get_paths()
site = sorted({os.path.realpath(paths["purelib"]), os.path.realpath(paths["platlib"])})
found = {}
if names:
    from importlib import metadata as md
    for dist in md.distributions():
        try:
            name = norm(dist.metadata["Name"] or "")
        except Exception:
            continue
        if not name or name not in names:
            continue
        loc = os.path.realpath(str(dist.locate_file("")))
        inv = any(loc == s or loc.startswith(s + os.sep) for s in site)
        prev = found.get(name)
        if prev is None or (inv and not prev["inVenv"]):
            found[name] = {"found": True, "location": loc, "inVenv": inv, "version": dist.version}
for n in names:
    found.setdefault(n, {"found": False})
print(json.dumps({
    "version": platform.python_version(),
    "prefix": sys.prefix,
    "basePrefix": sys.base_prefix,
    "executable": sys.executable,
    "realPrefix": os.path.realpath(sys.prefix),
    "realVenv": os.path.realpath(venv),
    "sitePackages": site,
    "packages": found,
}))
`;

/** Normalise a distribution name as PEP 503 does. */
export function normaliseName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * Ask the venv's own interpreter whether it is a real venv at `venvPath` and whether every
 * expected distribution is installed inside it. Never throws for a failed check: the report says.
 */
export async function inspectVenv(
  executor: Executor,
  venvPath: string,
  expected: readonly string[],
  options: { timeoutMs?: number; versionOk?: (version: string) => boolean; signal?: AbortSignal } = {},
): Promise<IsolationReport> {
  const python = `${venvPath}/bin/python`;
  const names = [...new Set(expected.map(normaliseName))];
  const res = await executor.exec(python, ['-I', '-c', SCRIPT, venvPath, JSON.stringify(names)], {
    timeoutMs: options.timeoutMs ?? 60_000,
    env: { PYTHONPATH: undefined, PYTHONHOME: undefined, VIRTUAL_ENV: undefined, PYTHONSTARTUP: undefined },
    signal: options.signal,
  });
  const checks: IsolationCheck[] = [];
  if (res.exitCode !== 0) {
    checks.push({
      name: 'interpreter-runs',
      ok: false,
      detail: `${python} did not run (exit ${res.exitCode}${res.timedOut ? ', timed out' : ''}): ${res.stderr.trim().split('\n').pop() ?? ''}`,
    });
    return { verified: false, checks };
  }
  let facts: InterpreterFacts & { realVenv: string };
  try {
    facts = JSON.parse(res.stdout.trim().split('\n').pop() ?? '');
  } catch (err) {
    checks.push({ name: 'interpreter-runs', ok: false, detail: `${python} gave unreadable output: ${res.stdout.slice(0, 200)}` });
    return { verified: false, checks };
  }
  checks.push({ name: 'interpreter-runs', ok: true, detail: `${python} runs Python ${facts.version}` });
  checks.push({
    name: 'prefix-is-venv',
    ok: facts.realPrefix === facts.realVenv,
    detail: `sys.prefix is ${facts.prefix}${facts.realPrefix === facts.realVenv ? '' : `, not the venv ${venvPath}`}`,
  });
  checks.push({
    name: 'prefix-differs-from-base',
    ok: facts.prefix !== facts.basePrefix,
    detail: facts.prefix !== facts.basePrefix ? `sys.base_prefix is ${facts.basePrefix}` : `sys.prefix equals sys.base_prefix (${facts.basePrefix}): not a venv`,
  });
  const exeInVenv = [venvPath, facts.realVenv].some((v) => facts.executable.startsWith(`${v.replace(/\/+$/, '')}/`));
  checks.push({
    name: 'executable-in-venv',
    ok: exeInVenv,
    detail: exeInVenv ? `sys.executable is ${facts.executable}` : `sys.executable ${facts.executable} is outside ${venvPath}`,
  });
  if (options.versionOk) {
    const ok = options.versionOk(facts.version);
    checks.push({ name: 'python-version', ok, detail: ok ? `Python ${facts.version} matches the request` : `Python ${facts.version} does not match the request` });
  }
  for (const name of names) {
    const p = facts.packages[name];
    const ok = !!p?.found && !!p.inVenv;
    checks.push({
      name: `package:${name}`,
      ok,
      detail: !p?.found
        ? `${name} is not installed`
        : p.inVenv
          ? `${name} ${p.version} in ${p.location}`
          : `${name} ${p.version} resolves to ${p.location}, outside the venv's site-packages`,
    });
  }
  return { verified: checks.every((c) => c.ok), checks, facts };
}

/** Throw ISOLATION_FAILED listing the failed checks. */
export function assertIsolated(report: IsolationReport, venvPath: string): void {
  if (report.verified) return;
  const failed = report.checks.filter((c) => !c.ok);
  throw new PymgrError('ISOLATION_FAILED', `The environment at ${venvPath} is not isolated: ${failed.map((c) => c.detail).join('; ')}`, {
    hint: 'pymgr never reports an unverified env as ready. Re-run `pymgr setup` to rebuild it; `pymgr doctor` explains what is wrong.',
    details: { venv: venvPath, failed },
  });
}
