/**
 * Uploading a project into a container whose engine cannot see the host's files (a remote engine),
 * through the Engine API's archive endpoint, incrementally.
 *
 * - What goes: every file, symbolic link and directory under the project, except `.git`, venvs (a
 *   directory holding `pyvenv.cfg`, and the configured venv directory), pymgr's own lock and aside
 *   directories, and what `.dockerignore` (at the top) and `.gitignore` files (at any level, for
 *   what is below them) exclude — read with the `ignore` package (gitignore rules).
 * - Incrementally: a manifest of what was uploaded (per path: type, mode, size, SHA-256 or link
 *   target) is kept in the container (`<pymgr cache>/uploads/<hash of the target>.json`); an
 *   unchanged tree sends nothing, a changed file sends that file, a removed one is removed there.
 * - Faithfully: modes (the executable bit), symbolic links as links, modification times, names in
 *   any script (tar-stream writes PAX headers where ustar cannot hold a name).
 */
import { writeAtomic } from '../executor/write-atomic.js';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { pack } from 'tar-stream';
import { PymgrError } from '../errors.js';
import { pymgrCacheDir } from '../core/paths.js';
import type { DockerExecutor } from './docker-executor.js';

/** One path of the project as uploaded. */
interface ManifestEntry {
  /** `f` file, `l` symbolic link, `d` directory. */
  t: 'f' | 'l' | 'd';
  /** Permission bits. */
  m: number;
  /** Files: size and SHA-256; links: the target. */
  s?: number;
  h?: string;
  l?: string;
  /** Modification time, ms (kept so an unchanged file keeps its time in the container). */
  mt: number;
}

interface Manifest {
  schema: 1;
  entries: Record<string, ManifestEntry>;
}

export interface UploadOptions {
  /** The venv directory name relative to the project (never uploaded; default `.venv`). */
  venv?: string;
}

/** What an upload did: what it sent and what it removed. */
export interface UploadReport {
  /** The project in the container. */
  to: string;
  /** Files, links and directories sent (new or changed). */
  sent: number;
  /** Bytes of file content sent. */
  bytes: number;
  /** Paths removed in the container (gone on the host). */
  removed: number;
  /** Paths the container already had as they are. */
  unchanged: number;
}

const ALWAYS_SKIPPED = new Set(['.git', '.hg', '.svn']);

/** Walk the project as it would be uploaded (sorted, parents first). */
export function listUpload(hostDir: string, options: UploadOptions = {}): Map<string, ManifestEntry> {
  const venv = (options.venv ?? '.venv').replace(/\/+$/, '');
  const out = new Map<string, ManifestEntry>();
  const rules: Array<{ base: string; ig: Ignore }> = [];
  const top = readIgnore(join(hostDir, '.dockerignore'));
  if (top) rules.push({ base: '', ig: top });

  const ignored = (rel: string, isDir: boolean) =>
    rules.some(({ base, ig }) => {
      if (base && !rel.startsWith(`${base}/`)) return false;
      const sub = base ? rel.slice(base.length + 1) : rel;
      return ig.ignores(isDir ? `${sub}/` : sub);
    });

  const walk = (relDir: string) => {
    const abs = relDir ? join(hostDir, relDir) : hostDir;
    const own = readIgnore(join(abs, '.gitignore'));
    if (own) rules.push({ base: relDir, ig: own });
    for (const name of readdirSync(abs).sort()) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const full = join(hostDir, rel);
      if (ALWAYS_SKIPPED.has(name) || rel === venv || name.endsWith('.pymgr-lock') || name.endsWith('.pymgr-prev')) continue;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) {
        if (ignored(rel, false)) continue;
        out.set(rel, { t: 'l', m: st.mode & 0o7777, l: readlinkSync(full), mt: Math.floor(st.mtimeMs) });
      } else if (st.isDirectory()) {
        if (ignored(rel, true)) continue;
        let isVenv = false;
        try {
          isVenv = lstatSync(join(full, 'pyvenv.cfg')).isFile();
        } catch {
          /* not a venv */
        }
        if (isVenv) continue;
        out.set(rel, { t: 'd', m: st.mode & 0o7777, mt: Math.floor(st.mtimeMs) });
        walk(rel);
      } else if (st.isFile()) {
        if (ignored(rel, false)) continue;
        const data = readFileSync(full);
        out.set(rel, { t: 'f', m: st.mode & 0o7777, s: data.length, h: createHash('sha256').update(data).digest('hex'), mt: Math.floor(st.mtimeMs) });
      }
    }
    if (own) rules.pop();
  };
  walk('');
  return out;
}

function readIgnore(file: string): Ignore | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return ignore().add(text);
}

/**
 * The manifest's entries that the container still has as they were sent (type, size, and for files
 * the modification time the archive gave them), from one listing made in the container.
 */
async function stillAsSent(executor: DockerExecutor, containerDir: string, entries: Record<string, ManifestEntry>): Promise<Record<string, ManifestEntry>> {
  const r = await executor.exec('find', [`${containerDir}/`, '-mindepth', '1', '-printf', '%P\\t%y\\t%s\\t%T@\\0'], { env: { LC_ALL: 'C' }, readOnly: true });
  if (r.exitCode !== 0) return {};
  const there = new Map<string, { type: string; size: number; mtime: number }>();
  for (const rec of r.stdout.split('\0')) {
    const [rel, type, size, mtime] = rec.split('\t');
    if (rel) there.set(rel, { type, size: Number(size), mtime: Math.floor(Number(mtime)) });
  }
  const kept: Record<string, ManifestEntry> = {};
  for (const [rel, e] of Object.entries(entries)) {
    const t = there.get(rel);
    if (!t) continue;
    const ok = e.t === 'd' ? t.type === 'd' : e.t === 'l' ? t.type === 'l' : t.type === 'f' && t.size === e.s && t.mtime === Math.floor(e.mt / 1000);
    if (ok) kept[rel] = e;
  }
  return kept;
}

function same(a: ManifestEntry | undefined, b: ManifestEntry): boolean {
  return !!a && a.t === b.t && a.m === b.m && a.h === b.h && a.s === b.s && a.l === b.l && (b.t === 'd' || a.mt === b.mt);
}

/**
 * Upload `hostDir` to `containerDir` in the container, sending only what changed since the last
 * upload there. Throws PROJECT_UNRECOGNISED when `hostDir` is not a directory on the host.
 */
export async function uploadProject(executor: DockerExecutor, hostDir: string, containerDir: string, options: UploadOptions = {}): Promise<UploadReport> {
  if (!posix.isAbsolute(containerDir)) {
    throw new PymgrError('USAGE', `The upload target in ${executor.description} must be an absolute path (got ${containerDir})`, { hint: 'e.g. --upload /work/project' });
  }
  let now: Map<string, ManifestEntry>;
  try {
    if (!lstatSync(hostDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    now = listUpload(hostDir, options);
  } catch (err) {
    throw new PymgrError('PROJECT_UNRECOGNISED', `Cannot upload ${hostDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'Name the project directory on this machine; --upload is where it goes in the container.',
      cause: err,
    });
  }
  const manifestFile = `${pymgrCacheDir(await executor.getEnv())}/uploads/${createHash('sha256').update(containerDir).digest('hex').slice(0, 24)}.json`;
  let before: Record<string, ManifestEntry> = {};
  let sentBefore: string[] = [];
  try {
    const read = JSON.parse(await executor.readFile(manifestFile)) as Manifest;
    if (read.schema === 1) {
      sentBefore = Object.keys(read.entries);
      // The manifest holds only for what is still there as it was sent: a file changed or removed
      // in the container (a lock file rewritten there, say) is sent again.
      before = await stillAsSent(executor, containerDir, read.entries);
    }
  } catch {
    /* first upload here */
  }

  const changed = [...now].filter(([rel, e]) => !same(before[rel], e));
  // Removed here: removed there too (whatever became of it in the container meanwhile).
  const gone = sentBefore.filter((rel) => !now.has(rel));
  let bytes = 0;
  await executor.mkdir(containerDir, { recursive: true, mode: 0o755 });
  if (gone.length) {
    // Only what was sent goes: a file or link is removed, a directory only once it is empty (what
    // was made in it in the container, never sent from here, stays, with the directories above it).
    // Deepest first; one exec per few hundred paths.
    const paths = gone.sort().reverse().map((rel) => `${containerDir}/${rel}`);
    const script = 'rc=0; for p; do if [ -d "$p" ] && [ ! -L "$p" ]; then rmdir -- "$p" 2>/dev/null || :; else rm -f -- "$p" || rc=1; fi; done; exit $rc';
    for (let i = 0; i < paths.length; i += 400) {
      const r = await executor.exec('sh', ['-c', script, 'sh', ...paths.slice(i, i + 400)]);
      if (r.exitCode !== 0) throw new PymgrError('COMMAND_FAILED', `Could not remove what left the project in ${executor.description}: ${r.stderr.trim()}`);
    }
  }
  if (changed.length) {
    const { uid, gid } = await executor.userIds();
    const tar = pack();
    const chunks: Buffer[] = [];
    tar.on('data', (c: unknown) => chunks.push(c as Buffer));
    const done = new Promise<void>((resolve, reject) => {
      tar.on('end', resolve);
      tar.on('error', reject);
    });
    for (const [rel, e] of changed) {
      const header = { name: rel, mode: e.m, mtime: new Date(e.mt), uid, gid };
      if (e.t === 'd') tar.entry({ ...header, type: 'directory' });
      else if (e.t === 'l') tar.entry({ ...header, type: 'symlink', linkname: e.l });
      else {
        const data = readFileSync(join(hostDir, rel));
        bytes += data.length;
        tar.entry({ ...header, type: 'file', size: data.length }, data);
      }
    }
    tar.finalize();
    await done;
    await executor.putArchive(containerDir, Buffer.concat(chunks));
  }
  const manifest: Manifest = { schema: 1, entries: Object.fromEntries(now) };
  await writeAtomic(executor, manifestFile, JSON.stringify(manifest), { mode: 0o644, parents: true });
  return { to: containerDir, sent: changed.length, bytes, removed: gone.length, unchanged: now.size - changed.length };
}
