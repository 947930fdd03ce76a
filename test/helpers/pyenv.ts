/**
 * Building pyenv roots for the pyenv tests from the machine's own pyenv (no network): a git checkout
 * (optionally owned by another uid), a copy without .git, fake version directories; plus the git
 * config guard every pyenv test uses and a fake `git` that logs its calls.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { buildWheel } from './wheels.js';

/** The git config files pymgr must never write: user (both places) and system. */
export const GIT_CONFIG_FILES = [join(homedir(), '.gitconfig'), join(homedir(), '.config', 'git', 'config'), '/etc/gitconfig'];

export type GitConfigSnapshot = Map<string, Buffer | null>;

/** The bytes of every git config file now (null: missing). */
export function snapshotGitConfig(): GitConfigSnapshot {
  return new Map(GIT_CONFIG_FILES.map((f) => [f, existsSync(f) ? readFileSync(f) : null]));
}

/** Throw naming the file when any git config file differs from the snapshot (missing must stay missing). */
export function assertGitConfigUnchanged(before: GitConfigSnapshot): void {
  for (const [file, bytes] of before) {
    const now = existsSync(file) ? readFileSync(file) : null;
    if (bytes === null && now !== null) throw new Error(`${file} was created:\n${now.toString('utf8')}`);
    if (bytes !== null && now === null) throw new Error(`${file} was deleted`);
    if (bytes !== null && now !== null && !bytes.equals(now)) {
      throw new Error(`${file} changed:\n--- before\n${bytes.toString('utf8')}\n--- after\n${now.toString('utf8')}`);
    }
  }
}

/** Installed versions in a pyenv root, plain CPython only. */
export function listVersions(root: string): string[] {
  return existsSync(join(root, 'versions')) ? readdirSync(join(root, 'versions')).filter((v) => /^\d+\.\d+\.\d+$/.test(v)) : [];
}

/** The newest installed version of `minor` (e.g. `3.12`) in `root`, or undefined. */
export function pickVersion(root: string, minor: string): string | undefined {
  return listVersions(root)
    .filter((v) => v.startsWith(`${minor}.`))
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))[0];
}

/**
 * `git clone file://<machineRoot> <dest>` (pyenv's tracked files, python-build included), then
 * `cp -a` the given version directories into it and, with `owner`, `chown -R owner:owner` it all.
 */
export function makeGitPyenvRoot(dest: string, machineRoot: string, options: { versions?: string[]; owner?: number } = {}): string {
  execFileSync('git', ['clone', '-q', `file://${machineRoot}`, dest], { stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(join(dest, 'versions'), { recursive: true });
  for (const v of options.versions ?? []) execFileSync('cp', ['-a', join(machineRoot, 'versions', v), join(dest, 'versions', v)]);
  if (options.owner !== undefined) execFileSync('chown', ['-R', `${options.owner}:${options.owner}`, dest]);
  return dest;
}

/**
 * A copy of the machine's pyenv without any `.git` (and without its versions and shims), whose
 * `versions/<v>` are symbolic links to the machine's builds (fast, nothing copied).
 */
export function makePlainPyenvRoot(dest: string, machineRoot: string, options: { linkVersions?: string[] } = {}): string {
  cpSync(machineRoot, dest, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    filter: (src) => {
      const rel = relative(machineRoot, src);
      if (rel === '') return true;
      const parts = rel.split(sep);
      return !parts.includes('.git') && parts[0] !== 'versions' && parts[0] !== 'shims';
    },
  });
  mkdirSync(join(dest, 'versions'), { recursive: true });
  mkdirSync(join(dest, 'shims'), { recursive: true });
  for (const v of options.linkVersions ?? []) symlinkSync(join(machineRoot, 'versions', v), join(dest, 'versions', v));
  return dest;
}

/** A version directory whose interpreter is a stub (for matching tests that never run it). */
export function addFakeVersion(root: string, version: string): void {
  const bin = join(root, 'versions', version, 'bin');
  mkdirSync(bin, { recursive: true });
  const exe = join(bin, `python${version.split('.').slice(0, 2).join('.')}`);
  writeFileSync(exe, '#!/bin/sh\nexit 1\n');
  chmodSync(exe, 0o755);
}

/**
 * A directory holding a `git` that appends its arguments to `log` and fails: put `bin` first on PATH.
 * With `version`, `git --version` (logged too) answers `git version <version>` and succeeds, so
 * pymgr takes it for a working git.
 */
export function makeFakeGit(dir: string, options: { version?: string } = {}): { bin: string; log: string; calls(): string[] } {
  const bin = join(dir, 'fake-git-bin');
  const log = join(dir, 'git-calls.log');
  mkdirSync(bin, { recursive: true });
  const answer = options.version ? `[ "$*" = "--version" ] && { echo 'git version ${options.version}'; exit 0; }\n` : '';
  writeFileSync(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "git $*" >> '${log}'\n${answer}exit 1\n`);
  chmodSync(join(bin, 'git'), 0o755);
  return { bin, log, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
}

/** Local wheels for the `requirements` fixture (six, idna, attrs), for `--no-index --find-links`. */
export function makeRequirementsWheelhouse(dir: string): string {
  mkdirSync(dir, { recursive: true });
  buildWheel(dir, 'six', '1.16.0');
  buildWheel(dir, 'idna', '3.7');
  buildWheel(dir, 'attrs', '23.2.0');
  return dir;
}

/** Every path under `dir` with its type, size and inode, to prove nothing was deleted or replaced. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(`${relative(dir, p)} ${st.isDirectory() ? 'dir' : st.size} ${st.ino} ${st.uid}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
