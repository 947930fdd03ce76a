import type { Executor, PartialDistribution } from '../contracts.js';
import { normalizeName } from '../detect/requirement-names.js';
import { PymgrError } from '../errors.js';
import type { IsolationCheck } from '../types.js';
import { filesSignaturePath } from './paths.js';

export type { IsolationCheck, PartialDistribution };

export interface IsolationReport {
  verified: boolean;
  checks: IsolationCheck[];
  /** What the venv's interpreter said about itself. */
  facts?: InterpreterFacts;
  /**
   * Distributions whose files are not all there (a file missing or of the wrong size, a missing
   * or empty RECORD, a top-level module not found): each one also fails a `files:<name>` check.
   * Empty unless `files` was `full` or `deep`.
   */
  partial: PartialDistribution[];
  /** What the files check covered (absent with `files: 'off'`). */
  files?: FilesSummary;
  /** With {@link InspectOptions.watch}: what the interpreter saw of the watched files. */
  watch?: WatchReport;
}

/** The watched files as the venv's interpreter saw them, in the same exec as the checks. */
export interface WatchReport {
  /**
   * One signature per watched path, in order: `ino:size:mtime_ns:ctime_ns` of a file (links
   * followed), a hash of the names in a directory (a path ending in `/`), or `missing`.
   */
  signatures: string[];
  /** The text of the state file named, or `undefined` when it could not be read. */
  state?: string;
  /** The id of the Docker container the interpreter runs in (from its mounts), or `''`. */
  container: string;
}

/**
 * How closely {@link inspectVenv} looks at the installed files:
 * - `off`: metadata only (is a dist-info there);
 * - `full`: every file each distribution's RECORD lists exists with its recorded size, its
 *   RECORD is not empty and its top-level modules are found on the venv's sys.path;
 * - `deep`: `full`, and every file's hash matches RECORD (bytecode without a hash must load);
 * - `signature`: the cheap check of the warm no-op: every directory recorded at the last full
 *   verification (`recordSignature`) still has its mtime, or else still holds the entries it
 *   held then. A removed file is caught; a file changed in place is left to the full check.
 */
export type FileCheck = 'off' | 'full' | 'deep' | 'signature';

export interface FilesSummary {
  mode: FileCheck;
  /** Distributions (`*.dist-info`) checked in the venv's site-packages. */
  distributions: number;
  /** RECORD entries checked. */
  files: number;
  /** With `recordSignature`: whether the signature was written; with `signature`: `ok` or `missing`. */
  signature?: 'written' | 'unwritten' | 'ok' | 'missing';
}

export interface InspectOptions {
  timeoutMs?: number;
  versionOk?: (version: string) => boolean;
  signal?: AbortSignal;
  /** How closely to look at the installed files (default `off`). */
  files?: FileCheck;
  /**
   * With `full` or `deep`: when every file passes, record the signature that `signature` checks
   * (`<venv>/.pymgr/files.sig`); the old one is removed first either way.
   */
  recordSignature?: boolean;
  /**
   * With `full` or `deep`: also report a distribution whose `Requires-Dist` (where the marker
   * holds) names one that was installed at the last full verification and is gone. For checks of
   * an env as it was left, not right after an install (whatever the installer left out is its choice).
   */
  dependencies?: boolean;
  /**
   * Also observe these paths and read this state file in the same interpreter start (the warm
   * fast path's whole check in one exec, which matters most in a container: one Engine API exec).
   */
  watch?: { paths: string[]; statePath: string };
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
 * Reports where the interpreter thinks it lives, where each requested distribution is installed
 * and, with a files mode, whether every distribution in the venv's site-packages is whole.
 * Arguments: the venv, the mode (`-`; `files` or `deep`, optionally `,record`; `sig`), the
 * signature file, then the names. Uses only modules every CPython >= 3.3 has, and no
 * importlib.metadata (slow to import); hashlib, base64 and marshal only with `deep`.
 */
/** Always: where the interpreter lives and where each requested distribution is. */
const SCRIPT_HEAD = String.raw`
import os, sys
venv, mode, sig_path, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
modes = set(mode.split(","))
deep = "deep" in modes
full = deep or "files" in modes
v = sys.version_info
version = "%d.%d.%d" % v[:3] + ("" if v.releaselevel == "final" else {"alpha": "a", "beta": "b", "candidate": "rc"}[v.releaselevel] + str(v.serial))
def q(s):
    # A JSON string, without importing json (a warm no-op pays for every import).
    if not s or ('"' not in s and "\\" not in s and min(s) >= " "):
        return '"' + s + '"'  # nothing to escape (the usual path): no loop over the characters
    out = []
    for ch in s:
        c = ord(ch)
        out.append("\\\\" if ch == "\\" else '\\"' if ch == '"' else ch if c >= 32 else "\\u%04x" % c)
    return '"' + "".join(out) + '"'
found = {}
want = set(names)
site = []
if want or full:
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
# With deps, every name seen is kept too (what a Requires-Dist may name), eggs on sys.path included.
deps = full and "deps" in modes
on_path = set()
for entry in sys.path if want or deps else []:
    if deps and entry.endswith(".egg"):  # an easy_install egg on sys.path: foo-1.0-py3.6.egg
        on_path.add(norm(os.path.basename(entry).partition("-")[0]))
    d = os.path.realpath(entry or os.getcwd())
    try:
        items = os.listdir(d)
    except OSError:
        continue
    for item in [i for i in items if i.endswith((".dist-info", ".egg-info"))]:
        name, _, rest = item.rsplit(".", 1)[0].partition("-")
        n = norm(name)
        on_path.add(n)
        if n in want and n not in found:
            found[n] = '{"found":true,"location":%s,"inVenv":%s,"version":%s}' % (q(os.path.join(d, item)), "true" if d in site else "false", q(rest.split("-")[0] or "?"))

# Files: every file a distribution's RECORD lists must be there, with the recorded size (and,
# deep, the recorded hash), and its top-level modules must be findable on sys.path (found, not
# imported). A RECORD that is missing or empty (what a killed install leaves) is broken.
fs_enc = sys.getfilesystemencoding()
bad = []
counts = [0, 0]
sig = {}
sig_state = ""
`;

/** With `full`/`deep`: every distribution's RECORD, and the signature with `record`. */
const SCRIPT_FILES = String.raw`def parse_row(line):
    # CSV path,hash,size: only the path can need quoting (commas, quotes).
    if line.startswith('"'):
        end = line.rfind('"')
        return [line[1:end].replace('""', '"')] + (line[end + 2:].split(",") + ["", ""])[:2]
    return (line.rsplit(",", 2) + ["", ""])[:3]
def findable(name):
    if name in sys.modules:
        return True
    for finder in sys.meta_path:
        try:
            find = getattr(finder, "find_spec", None)
            if (find(name, None) if find else finder.find_module(name, None)) is not None:
                return True
        except Exception:
            pass
    return False
def digest_of(path, algo):
    import hashlib, base64
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
def pyc_loads(path):
    import marshal
    with open(path, "rb") as f:
        data = f.read()
    try:
        marshal.loads(data[16:])
        return len(data) >= 16
    except Exception:
        return False
linked = set()
unsafe = []
pinned = []
def remember(path, size, sp):
    # The signature: each directory's mtime (taken before its entries are checked) and the
    # entries it must hold, up to site-packages.
    d, n = os.path.split(path)
    while True:
        entries = sig.get(d)
        if entries is None:
            try:
                entries = sig[d] = [os.stat(d).st_mtime_ns]
            except OSError:
                return
        entries.append(n + "\x1f" + size)
        if "\t" in path or "\n" in path:
            unsafe.append(path)
        if d == sp or not d.startswith(sp + os.sep) or d in linked:
            return
        linked.add(d)
        d, n = os.path.split(d)
        size = ""
_marker_env = []
def marker_env():
    # PEP 508's environment, from os.uname() and sys.implementation (platform would start
    # "uname -p" on old CPythons); versions as Python writes them (3.13.0rc1).
    if not _marker_env:
        impl = sys.implementation
        iv = impl.version
        uname = os.uname()
        _marker_env.append({
            "python_version": "%d.%d" % sys.version_info[:2], "python_full_version": version,
            "os_name": os.name, "sys_platform": sys.platform, "platform_system": uname.sysname,
            "platform_machine": uname.machine, "platform_release": uname.release, "platform_version": uname.version,
            "platform_python_implementation": {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython", "jython": "Jython"}.get(impl.name, impl.name),
            "implementation_name": impl.name,
            "implementation_version": "%d.%d.%d" % tuple(iv[:3]) + ("" if iv.releaselevel == "final" else {"alpha": "a", "beta": "b", "candidate": "rc"}[iv.releaselevel] + str(iv.serial)),
        })
    return _marker_env[0]
def marker_compare(left, op, right):
    if op == "in":
        return left in right
    if op == "not in":
        return left not in right
    if op == "===":
        return left == right
    if "*" in left or "*" in right:
        raise ValueError(op)
    def key(s):
        parts = s.split(".")
        return tuple(int(x) for x in parts) if all(x.isdigit() for x in parts) else None
    a, b = key(left), key(right)
    if a is not None and b is not None:
        n = max(len(a), len(b))
        a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    elif op in ("==", "!=") and not left[:1].isdigit() and not right[:1].isdigit():
        a, b = left, right  # plain strings (sys_platform == "linux")
    else:
        raise ValueError(op)  # a version this evaluator cannot order (6.1.0-foo, 3.13.0rc1): unknown
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op in ("<", "<=", ">", ">="):
        return a < b if op == "<" else a <= b if op == "<=" else a > b if op == ">" else a >= b
    raise ValueError(op)
def marker_applies(text):
    # A PEP 508 marker: True or False, or None when it cannot be told here (an extra, a form this
    # small evaluator does not know): the requirement is then not checked.
    import re
    toks = re.findall(r"""\(|\)|===|==|!=|~=|<=|>=|<|>|not\s+in\b|\bin\b|\band\b|\bor\b|"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.]*|\S""", text)
    pos = [0]
    env = marker_env()
    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None
    def take():
        pos[0] += 1
        return toks[pos[0] - 1] if pos[0] <= len(toks) else None
    def value():
        t = take()
        if t and t[0] in "\"'":
            return t[1:-1]
        if t in env:
            return env[t]
        raise ValueError(t)
    def atom():
        if peek() == "(":
            take()
            r = expr()
            if take() != ")":
                raise ValueError(")")
            return r
        left = value()
        op = " ".join((take() or "").split())
        return marker_compare(left, op, value())
    def conj():
        r = atom()
        while peek() == "and":
            take()
            r = atom() and r
        return r
    def expr():
        r = conj()
        while peek() == "or":
            take()
            r = conj() or r
        return r
    try:
        r = expr()
    except (ValueError, TypeError, IndexError):
        return None
    return r if pos[0] == len(toks) else None
def missing_requirements(di):
    # The Requires-Dist of a distribution (whose marker holds here) that no distribution on
    # sys.path provides: a dependency removed from under it. Names only; versions are the installer's.
    try:
        with open(os.path.join(di, "METADATA"), "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return []
    out = []
    for line in text.split("\n"):
        if not line.strip():
            break  # the headers end at the first blank line
        if not line.startswith("Requires-Dist:"):
            continue
        req, _, marker = line[len("Requires-Dist:"):].partition(";")
        req = req.strip()
        n = 0
        while n < len(req) and (req[n].isalnum() or req[n] in "._-"):
            n += 1
        if not n or (marker.strip() and marker_applies(marker) is not True):
            continue
        if norm(req[:n]) not in on_path:
            out.append(req[:n])
    return out
def check_dist(sp, item):
    di = os.path.join(sp, item)
    try:
        with open(os.path.join(di, "RECORD"), "rb") as f:
            data = f.read()
        rows = [r for r in data.decode("utf-8", "replace").splitlines() if r.strip()]
    except (IOError, OSError):
        return "its RECORD is missing"
    try:
        meta = os.stat(os.path.join(di, "METADATA")).st_size
    except OSError:
        return "its METADATA is missing"
    if write_sig:
        # Emptied in place, RECORD and METADATA leave their directory's mtime alone: their sizes are checked always.
        pinned.append((len(data), os.path.join(di, "RECORD")))
        pinned.append((meta, os.path.join(di, "METADATA")))
    if not rows:
        return "its RECORD is empty"
    problems = []
    tops = set()
    for row in rows:
        path, h, size = parse_row(row)
        target = os.path.normpath(os.path.join(sp, path))
        if write_sig:
            remember(target, size if size.isdigit() else "", sp)
        counts[1] += 1
        try:
            st = os.stat(target)
        except OSError:
            problems.append(path + " is missing")
            continue
        if size.isdigit() and int(size) != st.st_size:
            problems.append("%s is %d bytes, RECORD says %s" % (path, st.st_size, size))
        elif path.endswith(".pyc") and st.st_size < 16:
            problems.append("%s is truncated (%d bytes)" % (path, st.st_size))
        elif deep and "=" in h:
            algo, _, want_digest = h.partition("=")
            try:
                ok = digest_of(target, algo) == want_digest
            except (ValueError, IOError, OSError):
                ok = False
            if not ok:
                problems.append(path + " does not match its RECORD hash")
        elif deep and path.endswith(".pyc") and not pyc_loads(target):
            problems.append(path + " is not readable bytecode")
        first, sep, _ = path.partition("/")
        if sep:
            top = "" if first.endswith((".dist-info", ".data", ".egg-info")) or first in ("..", "__pycache__") else first
        else:
            top = first[:-3] if first.endswith(".py") else first.split(".")[0] if first.endswith((".so", ".pyd")) else ""
        if top.isidentifier():
            tops.add(top)
    for top in sorted(tops):
        if not findable(top):
            problems.append("module %s is not found on sys.path" % top)
    if deps:
        for dep in missing_requirements(di):
            if norm(dep) in recorded_dists:
                problems.append("it needs %s, which is not installed" % dep)
    if problems:
        more = len(problems) - 3
        return ", ".join(problems[:3]) + (" and %d more" % more if more > 0 else "")
    return ""
write_sig = full and "record" in modes
# With deps: a dependency gone since the last full verification (its signature lists the
# distributions then installed) is reported; one never installed is the installer's choice (an
# override or an exclusion in the project's uv settings), not a fault.
recorded_dists = set()
if deps:
    try:
        with open(sig_path, "rb") as f:
            for line in f.read().decode(fs_enc, "surrogateescape").split("\n")[1:]:
                parts = line.split("\t")
                if len(parts) > 2 and parts[1] in site:
                    for entry in parts[2:]:
                        name = entry.partition("\x1f")[0]
                        if name.endswith(".dist-info"):
                            recorded_dists.add(norm(name[:-10].partition("-")[0]))
    except (IOError, OSError, UnicodeError):
        pass
if write_sig:
    try:
        os.remove(sig_path)
    except OSError:
        pass
for sp in site if full else []:
    try:
        items = sorted(os.listdir(sp))
    except OSError:
        continue
    for item in items:
        if not item.endswith(".dist-info"):
            continue
        counts[0] += 1
        problem = check_dist(sp, item)
        if problem:
            name, _, rest = item[:-10].partition("-")
            bad.append('{"name":%s,"version":%s,"distInfo":%s,"problem":%s}' % (q(norm(name)), q(rest), q(os.path.join(sp, item)), q(problem)))
if write_sig:
    sig_state = "unwritten"
    lines = ["pymgr-files 1"]
    for d in sorted(sig):
        lines.append("%d\t%s\t%s" % (sig[d][0], d, "\t".join(sig[d][1:])))
    for size, path in pinned:
        lines.append("=%d\t%s" % (size, path))
    text = "\n".join(lines) + "\n"
    # A name holding a tab or a newline cannot be written: no signature, so no cheap check.
    if not bad and not unsafe:
        tmp = "%s.%d.tmp" % (sig_path, os.getpid())
        try:
            # Mode 0644 whatever the umask (it can only take bits away), as pymgr's other state files.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode(fs_enc, "surrogateescape"))
            os.rename(tmp, sig_path)
            sig_state = "written"
        except (IOError, OSError, UnicodeError):
            try:
                os.remove(tmp)
            except OSError:
                pass
`;

/** With `signature`: the warm no-op's cheap check (only what it needs is compiled: it runs on every no-op). */
const SCRIPT_SIGNATURE = String.raw`if "sig" in modes:
    # The cheap check of the warm no-op: a directory whose mtime moved (a file removed or added)
    # must still hold every entry recorded at the last full verification.
    sig_state = "ok"
    try:
        with open(sig_path, "rb") as f:
            lines = f.read().decode(fs_enc, "surrogateescape").split("\n")
    except (IOError, OSError, UnicodeError):
        lines = []
    if not lines or lines[0] != "pymgr-files 1":
        sig_state = "missing"
        lines = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] == "=":
            size, _, p = line[1:].partition("\t")
            try:
                if os.stat(p).st_size != int(size):
                    bad.append('{"problem":%s}' % q("%s is %d bytes, recorded %s" % (p, os.stat(p).st_size, size)))
            except OSError:
                bad.append('{"problem":%s}' % q(p + " is missing"))
            continue
        m, d, rest = line.split("\t", 2)
        try:
            if os.stat(d).st_mtime_ns == int(m):
                continue
        except OSError:
            bad.append('{"problem":%s}' % q(d + " is missing"))
            continue
        for entry in rest.split("\t"):
            n, _, size = entry.partition("\x1f")
            p = os.path.join(d, n)
            try:
                st = os.stat(p)
            except OSError:
                bad.append('{"problem":%s}' % q(p + " is missing"))
                continue
            if size and int(size) != st.st_size:
                bad.append('{"problem":%s}' % q("%s is %d bytes, recorded %s" % (p, st.st_size, size)))
`;

/** With `watch`: signatures of the watched paths, the state file and the container's id. */
const SCRIPT_WATCH = String.raw`watch = ""
if "watch" in modes:
    sigs = []
    for p in os.environ.get("PYMGR_WATCH", "").split("\n"):
        if not p:
            continue
        if p.endswith("/"):
            try:
                import hashlib
                listed = sorted(n for n in os.listdir(p[:-1]) if not n.endswith(".pymgr-lock"))
                sigs.append(q(hashlib.sha256("\0".join(listed).encode(fs_enc, "surrogateescape")).hexdigest()[:16]))
            except (OSError, UnicodeError):
                sigs.append('"missing"')
            continue
        try:
            st = os.stat(p)
            sigs.append('"%d:%d:%d:%d"' % (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        except OSError:
            sigs.append('"missing"')
    try:
        with open(os.environ.get("PYMGR_STATE", ""), "rb") as f:
            state = q(f.read().decode("utf-8", "replace"))
    except (IOError, OSError):
        state = "null"
    container = ""
    try:
        # Docker bind-mounts the container's own resolv.conf, hostname and hosts from .../containers/<id>/.
        with open("/proc/self/mountinfo") as f:
            text = f.read()
        at = text.find("/containers/")
        while at >= 0 and not container:
            cand = text[at + 12:at + 76]
            if len(cand) == 64 and all(c in "0123456789abcdef" for c in cand):
                container = cand
            at = text.find("/containers/", at + 1)
    except (IOError, OSError):
        pass
    watch = ',"watch":{"signatures":[%s],"state":%s,"container":%s}' % (",".join(sigs), state, q(container))
`;

const SCRIPT_TAIL = String.raw`files = '{"mode":%s,"distributions":%d,"files":%d,"signature":%s,"bad":[%s]}' % (q(mode), counts[0], counts[1], q(sig_state), ",".join(bad))
packages = ",".join("%s:%s" % (q(n), found.get(n, '{"found":false}')) for n in names)
print('{"version":%s,"prefix":%s,"basePrefix":%s,"executable":%s,"realPrefix":%s,"realVenv":%s,"sitePackages":[%s],"packages":{%s},"files":%s%s}' % (
    q(version), q(sys.prefix), q(sys.base_prefix), q(sys.executable or ""), q(os.path.realpath(sys.prefix)),
    q(os.path.realpath(venv)), ",".join(q(x) for x in site), packages, files, watch))
`;

/**
 * The program {@link inspectVenv} runs for these arguments: the venv's interpreter, its arguments
 * and its exec options (the CLI's fast path names it in a hint, src/cli/early-check.ts).
 */
export function checkInvocation(
  venvPath: string,
  expected: readonly string[],
  options: Omit<InspectOptions, 'signal'> = {},
): { file: string; args: string[]; options: { timeoutMs: number; env: Record<string, string | undefined>; readOnly: boolean }; names: string[] } {
  const names = [...new Set(expected.map(normalizeName))];
  const files = options.files ?? 'off';
  const watch = options.watch;
  const mode = (files === 'off' ? '-' : files === 'signature' ? 'sig' : `${files === 'deep' ? 'deep' : 'files'}${options.recordSignature ? ',record' : ''}${options.dependencies ? ',deps' : ''}`) + (watch ? ',watch' : '');
  const script = SCRIPT_HEAD + (files === 'full' || files === 'deep' ? SCRIPT_FILES : files === 'signature' ? SCRIPT_SIGNATURE : '') + (watch ? SCRIPT_WATCH : 'watch = ""\n') + SCRIPT_TAIL;
  return {
    file: `${venvPath}/bin/python`,
    // -B: a check never writes into the env (`.pth` files import modules from site-packages; their
    // bytecode would be written there, even while a snapshot of the env is being taken).
    args: ['-I', '-B', '-c', script, venvPath, mode, filesSignaturePath(venvPath), ...names],
    options: {
      timeoutMs: options.timeoutMs ?? 60_000,
      env: {
        PYTHONPATH: undefined, PYTHONHOME: undefined, VIRTUAL_ENV: undefined, PYTHONSTARTUP: undefined,
        ...(watch ? { PYMGR_WATCH: watch.paths.join('\n'), PYMGR_STATE: watch.statePath } : {}),
      },
      // Only the signature is ever written, and only when asked to.
      readOnly: !options.recordSignature,
    },
    names,
  };
}

/**
 * Ask the venv's own interpreter whether it is a real venv at `venvPath` and whether every
 * expected distribution is installed inside it. Never throws for a failed check: the report says.
 */
export async function inspectVenv(
  executor: Executor,
  venvPath: string,
  expected: readonly string[],
  options: InspectOptions = {},
): Promise<IsolationReport> {
  const { file: python, args, options: execOptions, names } = checkInvocation(venvPath, expected, options);
  const files = options.files ?? 'off';
  const res = await executor.exec(python, args, { ...execOptions, signal: options.signal });
  const checks: IsolationCheck[] = [];
  if (res.exitCode !== 0) {
    checks.push({
      name: 'interpreter-runs',
      ok: false,
      detail: `${python} did not run (exit ${res.exitCode}${res.timedOut ? ', timed out' : ''}): ${res.stderr.trim().split('\n').pop() ?? ''}`,
    });
    return { verified: false, checks, partial: [] };
  }
  let facts: InterpreterFacts & { realVenv: string; files: RawFiles; watch?: { signatures: string[]; state: string | null; container: string } };
  try {
    facts = JSON.parse(res.stdout.trim().split('\n').pop() ?? '');
  } catch (err) {
    checks.push({ name: 'interpreter-runs', ok: false, detail: `${python} gave unreadable output: ${res.stdout.slice(0, 200)}` });
    return { verified: false, checks, partial: [] };
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
  const partial: PartialDistribution[] = [];
  if (files !== 'off') {
    const raw = facts.files;
    for (const bad of raw.bad) {
      if (bad.name !== undefined) {
        partial.push({ name: bad.name, version: bad.version ?? '', distInfo: bad.distInfo ?? '', problem: bad.problem });
        checks.push({ name: `files:${bad.name}`, ok: false, detail: `${bad.name} ${bad.version} is incomplete: ${bad.problem}` });
      }
    }
    if (files === 'signature') {
      const changed = raw.bad.filter((b) => b.name === undefined).map((b) => b.problem);
      if (raw.signature === 'missing') checks.push({ name: 'files', ok: false, detail: 'no record of the last full verification of the files' });
      else if (changed.length) checks.push({ name: 'files', ok: false, detail: `changed since the last full verification: ${changed.slice(0, 3).join(', ')}` });
    }
  }
  const { files: rawFiles, watch: seen, ...rest } = facts;
  const summary: FilesSummary | undefined =
    files === 'off' ? undefined : { mode: files, distributions: rawFiles.distributions, files: rawFiles.files, ...(rawFiles.signature ? { signature: rawFiles.signature } : {}) };
  const watched: WatchReport | undefined = seen && { signatures: seen.signatures, container: seen.container, ...(seen.state !== null ? { state: seen.state } : {}) };
  return { verified: checks.every((c) => c.ok), checks, facts: rest, partial, ...(summary ? { files: summary } : {}), ...(watched ? { watch: watched } : {}) };
}

/** What the script reports about the files. */
interface RawFiles {
  distributions: number;
  files: number;
  signature: '' | 'written' | 'unwritten' | 'ok' | 'missing';
  /** With a name: a partial distribution; without: a signature entry that changed. */
  bad: Array<{ name?: string; version?: string; distInfo?: string; problem: string }>;
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
