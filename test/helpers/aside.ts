/**
 * Projects and checks for the build-aside tests: a local wheelhouse (no index), a requirements
 * project and a pyproject project built by an in-tree PEP 517/660 backend (no setuptools, no
 * network), a byte-level fingerprint of a venv tree, and killing the CLI's process group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTemp, runCli, type CliRun } from './project.js';
import { repoRoot } from './tools.js';
import { buildWheel } from './wheels.js';

/** A directory of tiny wheels: alpha, beta (needs alpha), gamma, delta, and `extra-<n>` when asked. */
export function makeWheelhouse(extras = 0): string {
  const dir = makeTemp('pymgr-wheels-');
  buildWheel(dir, 'alpha', '1.0');
  buildWheel(dir, 'beta', '1.0', ['alpha']);
  buildWheel(dir, 'gamma', '1.0');
  buildWheel(dir, 'delta', '1.0');
  for (let i = 0; i < extras; i++) buildWheel(dir, `extra-${i}`, '1.0');
  return dir;
}

/** A requirements project needing `reqs` (default alpha and beta). */
export function requirementsProject(reqs = ['alpha==1.0', 'beta==1.0']): string {
  const dir = join(makeTemp('pymgr-aside-'), 'proj');
  mkdirSync(dir);
  writeFileSync(join(dir, 'requirements.txt'), reqs.join('\n') + '\n');
  return dir;
}

const BACKEND = String.raw`
import base64, hashlib, os, zipfile
NAME, VERSION, DEPS = "swapproj", "0.1.0", ["alpha==1.0", "beta==1.0"]
def _wheel(directory, files):
    dist = "%s-%s" % (NAME, VERSION)
    files = dict(files)
    files[dist + ".dist-info/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (NAME, VERSION, "".join("Requires-Dist: %s\n" % d for d in DEPS))
    files[dist + ".dist-info/WHEEL"] = "Wheel-Version: 1.0\nGenerator: pymgr-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    name = dist + "-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(directory, name), "w") as z:
        for fn, text in files.items():
            data = text.encode()
            z.writestr(fn, data)
            h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (fn, h, len(data)))
        record.append(dist + ".dist-info/RECORD,,")
        z.writestr(dist + ".dist-info/RECORD", "\n".join(record) + "\n")
    return name
def get_requires_for_build_wheel(config_settings=None): return []
def get_requires_for_build_editable(config_settings=None): return []
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {"swapproj/__init__.py": open(os.path.join("src", "swapproj", "__init__.py")).read()})
def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {"swapproj.pth": os.path.abspath("src") + "\n"})
def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("no sdist")
`;

/** A pyproject project (`swapproj`, depending on alpha and beta) with an in-tree build backend. */
export function pyprojectProject(): string {
  const dir = join(makeTemp('pymgr-aside-'), 'swapproj');
  mkdirSync(join(dir, 'src', 'swapproj'), { recursive: true });
  writeFileSync(
    join(dir, 'pyproject.toml'),
    '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n\n[project]\nname = "swapproj"\nversion = "0.1.0"\ndependencies = ["alpha==1.0", "beta==1.0"]\n',
  );
  mkdirSync(join(dir, '_build'));
  writeFileSync(join(dir, '_build', 'backend.py'), BACKEND);
  writeFileSync(join(dir, 'src', 'swapproj', '__init__.py'), 'VALUE = 42\n');
  return dir;
}

/** An sdist whose setup.py raises, as `<name>-1.0.tar.gz` in `dir`. */
export function failingSdist(dir: string, name = 'explodes'): void {
  const work = makeTemp('pymgr-sdist-');
  const root = join(work, `${name}-1.0`);
  mkdirSync(root);
  writeFileSync(join(root, 'setup.py'), 'raise SystemExit("this package refuses to build")\n');
  writeFileSync(join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  if (spawnSync('tar', ['-czf', join(dir, `${name}-1.0.tar.gz`), '-C', work, `${name}-1.0`]).status !== 0) throw new Error('tar failed');
}

/**
 * Every path under `dir` with its type, mode, link target and content hash: equal fingerprints
 * mean the trees are byte for byte the same.
 */
export function treeFingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = rel ? join(dir, rel) : dir;
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(abs)}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${mode}`;
      for (const n of readdirSync(abs).sort()) walk(rel ? `${rel}/${n}` : n);
    } else out[rel] = `file ${mode} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`;
  };
  walk('');
  return out;
}

/** Start the built CLI in its own process group (so kill -9 reaches the installers it runs). */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; stderr: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => err, done };
}

/** kill -9 the process group of `child`. */
export function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** `pymgr <args> --json`, parsed. */
export async function cliJson(args: string[], env?: Record<string, string | undefined>): Promise<CliRun & { json: any }> {
  const res = await runCli([...args, '--json'], { env });
  let json: any;
  try {
    json = JSON.parse(res.stdout);
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

/**
 * An sdist `<name>-1.0.tar.gz` in `dir` whose build (an in-tree PEP 517 backend, no network) takes
 * `seconds` and then gives a real wheel: an install that is still running when it is looked at.
 */
export function slowSdist(dir: string, name: string, seconds: number): void {
  const work = makeTemp('pymgr-sdist-');
  const root = join(work, `${name}-1.0`);
  mkdirSync(root);
  writeFileSync(join(root, 'pyproject.toml'), `[build-system]\nrequires = []\nbuild-backend = "slowbackend"\nbackend-path = ["."]\n\n[project]\nname = "${name}"\nversion = "1.0"\n`);
  writeFileSync(join(root, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  writeFileSync(
    join(root, 'slowbackend.py'),
    BACKEND.replace('NAME, VERSION, DEPS = "swapproj", "0.1.0", ["alpha==1.0", "beta==1.0"]', `NAME, VERSION, DEPS = ${JSON.stringify(name)}, "1.0", []`)
      .replace(/def build_wheel[\s\S]*?\n(?=def build_editable)/, `def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    import time; time.sleep(${seconds})\n    return _wheel(wheel_directory, {"${name}/__init__.py": "VALUE = 1\\n"})\n`),
  );
  if (spawnSync('tar', ['-czf', join(dir, `${name}-1.0.tar.gz`), '-C', work, `${name}-1.0`]).status !== 0) throw new Error('tar failed');
}
