import type { Executor } from '../contracts.js';
import { normalizeName } from '../detect/requirement-names.js';
import { PymgrError } from '../errors.js';
import type { IsolationCheck } from '../types.js';

export type { IsolationCheck };

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
 * Uses only modules every CPython >= 3.3 has, and no importlib.metadata (slow to import).
 */
const SCRIPT = String.raw`
import os, sys
venv, names = sys.argv[1], sys.argv[2:]
v = sys.version_info
version = "%d.%d.%d" % v[:3] + ("" if v.releaselevel == "final" else {"alpha": "a", "beta": "b", "candidate": "rc"}[v.releaselevel] + str(v.serial))
def q(s):
    # A JSON string, without importing json (a warm no-op pays for every import).
    out = []
    for ch in s:
        c = ord(ch)
        out.append("\\\\" if ch == "\\" else '\\"' if ch == '"' else ch if c >= 32 else "\\u%04x" % c)
    return '"' + "".join(out) + '"'
found = {}
want = set(names)
site = []
if want:
    # site is imported at start-up already (sysconfig and re would cost a warm no-op milliseconds).
    import site as _site
    def norm(n):
        n = n.lower().replace("_", "-").replace(".", "-")
        while "--" in n:
            n = n.replace("--", "-")
        return n
    real_prefix = os.path.realpath(sys.prefix)
    try:
        candidates = _site.getsitepackages()
    except AttributeError:  # an old virtualenv's own site.py
        import sysconfig
        candidates = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    site = sorted({os.path.realpath(p) for p in candidates if os.path.realpath(p).startswith(real_prefix + os.sep)})
# Walk sys.path in import order and read distribution names from *.dist-info / *.egg-info
# directory names (cheaper than importlib.metadata); the first hit is what an import would use.
for entry in sys.path if want else []:
    d = os.path.realpath(entry or os.getcwd())
    try:
        items = os.listdir(d)
    except OSError:
        continue
    for item in items:
        if not (item.endswith(".dist-info") or item.endswith(".egg-info")):
            continue
        name, _, rest = item.rsplit(".", 1)[0].partition("-")
        n = norm(name)
        if n in want and n not in found:
            found[n] = '{"found":true,"location":%s,"inVenv":%s,"version":%s}' % (q(os.path.join(d, item)), "true" if d in site else "false", q(rest.split("-")[0] or "?"))
packages = ",".join("%s:%s" % (q(n), found.get(n, '{"found":false}')) for n in names)
print('{"version":%s,"prefix":%s,"basePrefix":%s,"executable":%s,"realPrefix":%s,"realVenv":%s,"sitePackages":[%s],"packages":{%s}}' % (
    q(version), q(sys.prefix), q(sys.base_prefix), q(sys.executable or ""), q(os.path.realpath(sys.prefix)),
    q(os.path.realpath(venv)), ",".join(q(x) for x in site), packages))
`;


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
  const names = [...new Set(expected.map(normalizeName))];
  const res = await executor.exec(python, ['-I', '-c', SCRIPT, venvPath, ...names], {
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
