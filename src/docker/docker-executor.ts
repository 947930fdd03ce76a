/**
 * An {@link Executor} inside a running Docker container, through the Engine API (never the `docker`
 * CLI, never shell strings built from caller data).
 *
 * How things are done:
 * - **exec**: one Engine API exec per call, `Cmd` an argument array. The program is started through a
 *   fixed wrapper, `/bin/sh -c 'echo "$$"; exec "$@"' sh <file> <args...>`: the shell prints its pid
 *   (the first stdout line, stripped before anything reaches the caller) and replaces itself with the
 *   program, so the program keeps that pid and leads its own process group (execs get their own
 *   session). The wrapper also gives a missing program exit 127, as on the host. Variables removed
 *   with `env: { X: undefined }` go through `env -u X -- <file> ...`.
 * - **timeout and abort**: the Engine API cannot kill an exec, so pymgr runs a second exec as root,
 *   `/bin/sh -c 'kill -s KILL -- "-$1" "$1"' sh <pid>`, killing the program's whole process group. If the
 *   output stream is still open 2 s later (a detached grandchild holding it), it is closed.
 *   A program pymgr killed (timeout) reports `exitCode: -1`.
 * - **signals**: a program killed by a signal it was not sent by pymgr (say SIGKILL n = 9 from the
 *   OOM killer) reports `exitCode` 128 + n (137), as a shell would: the Engine API only gives the
 *   exit status of the exec, which cannot be told apart from a program that ran `exit 137`. (The
 *   host executor can tell them apart.)
 * - **files**: readFile uses the archive API (a one-file tar) as root, and `cat` as any other
 *   user (the archive API does not read as the exec user); writeFile first resolves symbolic
 *   links (`realpath -m`) so it writes through a link instead of replacing it. The other file
 *   operations run GNU coreutils and findutils (`stat`, `test`, `mkdir`, `find`, `rm`, `mv`,
 *   `realpath`) as the executor's user with `LC_ALL=C`; errors are Node-style
 *   (`err.code === 'ENOENT'` ...), like the host executor's.
 * - **reads learnt once**: every read (`stat`, `readFile`, `readDir`, `realpath`, `exists`) is
 *   remembered, missing paths included, until this executor (or one {@link asUser} made from it)
 *   runs a program (other than one marked `readOnly`) or changes that path, something below it
 *   or its directory (a file operation forgets those; a `mkdir` that finds a directory there too),
 *   and for at most 30 s; {@link prefetch} learns many reads
 *   in one exec (a fixed POSIX sh script, the paths as arguments, answers framed by byte counts),
 *   with whatever was asked for lazily since the last one.
 *   A round trip to the engine costs 50–70 ms locally and far more remotely: reads of the same
 *   file by detection, the fingerprint and the state are one read.
 * - **deferred writes**: `writeFileAtomic(..., { defer: true })` of a small file is held back and
 *   made at the start of the next program run or file operation (the wrapper makes the writes, in
 *   order, before it execs the program: no round trip of its own). A write that fails stops the
 *   wrapper there: that operation rejects with the write's error and its program never runs. A
 *   read of the file through the archive API makes the write first; another writeFileAtomic does
 *   not carry them (a lock's refresh on a timer must not take the main flow's writes).
 * - Relative paths are taken from the container's working directory (`/` when it has none).
 *
 * Needs `/bin/sh`, coreutils and findutils in the container (any Debian/Ubuntu-based image).
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { ExecOptions, ExecResult, Executor, ExecutorCost, FileStat, OutputStream, ReadRequest } from '../contracts.js';
import { isPymgrError, PymgrError } from '../errors.js';
import { HOLDER, HOLDER_VAR, holderEntry } from '../executor/holder.js';
import { FrameDemuxer } from './demux-stream.js';
import {
  describeConnection,
  statusCodeOf,
  type ContainerInfo,
  type DockerClient,
  type DockerContainer,
} from './docker-client.js';
import { useEngine, type FindEngineOptions } from './find-engine.js';
import { parseTar } from './tar-archive.js';

export interface DockerExecutorOptions {
  /** The engine: a client already connected, or how to find one (default: {@link findEngine} with defaults). */
  engine?: DockerClient | FindEngineOptions;
  /** Variables laid over the container's environment for every exec; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Default user for execs and file operations (`uid[:gid]` or a name). Default: the container's user. */
  user?: string;
  /** After a kill, how long to wait for the output stream to close before closing it (default 2000 ms). */
  killGraceMs?: number;
}

const WRAPPER = 'echo "$$"; exec "$@"';
/**
 * While the executor holds an env lock ({@link DockerExecutor.fence}): `F=<owner file> T=<token>`
 * lead the arguments, and the program runs only while the owner file still holds the token (read
 * by the shell itself, no program). An exec whose start reached the engine after its pymgr died
 * and another took the lock over prints `pymgr-fence-lost` instead of its pid and runs nothing.
 */
const FENCE_HEAD = 'F=$1; T=$2; shift 2';
const FENCE_CHECK = 'l=; IFS= read -r l < "$F" 2>/dev/null; case "$l" in *"$T"*) ;; *) echo pymgr-fence-lost; exit 124;; esac';
const FENCED_WRAPPER = [FENCE_HEAD, FENCE_CHECK, WRAPPER].join('\n');
/**
 * {@link WRAPPER} carrying deferred writes ({@link DockerExecutor.writeFileAtomic} with `defer`):
 * `sh -c CARRY sh <n> (<dir> <tmp> <target> <parents 0|1> <mode> <content>){n} <file> <args...>`.
 * Each write as WRITE_ATOMIC does it, in order; the first that fails prints
 * `pymgr-write-failed <index>` and its error instead of the pid, and the program is not run.
 */
const CARRY_LOOP = [
  'n=$1; shift; i=0',
  'while [ "$i" -lt "$n" ]; do',
  '  if ! err=$( { if [ "$4" = 1 ]; then LC_ALL=C mkdir -p -m 755 -- "$1" || exit 1; fi; printf %s "$6" > "$2" && LC_ALL=C chmod "$5" -- "$2" && LC_ALL=C mv -f -T -- "$2" "$3"; } 2>&1 ); then',
  '    rm -f -- "$2"; printf \'pymgr-write-failed %s\\n%s\\n\' "$i" "$err"; exit 125',
  '  fi',
  '  shift 6; i=$((i + 1))',
  'done',
].join('\n');
const CARRY_WRAPPER = [CARRY_LOOP, WRAPPER].join('\n');
/** {@link CARRY_WRAPPER} under a fence: the check first, so a refused exec writes nothing either. */
const FENCED_CARRY_WRAPPER = [FENCE_HEAD, FENCE_CHECK, CARRY_LOOP, WRAPPER].join('\n');
/** ... except in the lock's first exec, which carries the owner file itself: the writes, then the check. */
const FENCING_CARRY_WRAPPER = [FENCE_HEAD, CARRY_LOOP, FENCE_CHECK, WRAPPER].join('\n');
/** A deferred write larger than this is written at once (it travels as an argument). */
const MAX_DEFERRED_BYTES = 64 * 1024;
/** {@link DockerExecutor.prefetch}: `op path` pairs in, `op status bytes\n<bytes>` frames out, then `end`. */
/** `sh -c WRITE_ATOMIC sh <dir> <tmp> <target> <parents 0|1> <mode>`, the content on standard input. */
const WRITE_ATOMIC = 'set -e; if [ "$4" = 1 ]; then mkdir -p -v -m 755 -- "$1"; fi; trap \'rm -f -- "$2"\' EXIT; cat > "$2"; chmod "$5" -- "$2"; mv -f -T -- "$2" "$3"; trap - EXIT';

const READ_BATCH = [
  // Few programs per read: a path that is not there (its directory searchable) is answered by the
  // shell's own tests, and a stat or realpath keeps its answer in a variable (the byte count is
  // the shell's, LC_ALL=C); only files and listings go through a temporary file.
  't=$(mktemp) || exit 3',
  'e="$t.e"',
  'trap \'rm -f "$t" "$e"\' EXIT',
  'frame() { printf \'%s %s %s\\n%s\' "$1" "$2" "${#3}" "$3"; }',
  'while [ "$#" -ge 2 ]; do',
  '  op=$1; p=$2; shift 2',
  '  if [ "$op" = exists ]; then',
  '    if [ -e "$p" ]; then frame exists 0 ""; else frame exists 1 ""; fi',
  '    continue',
  '  fi',
  '  if ! [ -e "$p" ] && ! [ -L "$p" ] && [ -x "${p%/*}/" ]; then',
  '    frame "$op" 1 "$op: cannot access \'$p\': No such file or directory"',
  '    continue',
  '  fi',
  '  case "$op" in',
  '    stat) if s=$(stat -c \'%u %g %f %s %.9Y\' -- "$p" 2>&1); then frame stat 0 "$s"; else frame stat 1 "$s"; fi; continue ;;',
  '    realpath) if s=$(realpath -e -- "$p" 2>&1); then frame realpath 0 "$s"; else frame realpath 1 "$s"; fi; continue ;;',
  '    readFile) cat -- "$p" >"$t" 2>"$e" ;;',
  '    readDir) find "${p%/}/" -mindepth 1 -maxdepth 1 -printf \'%f\\0\' >"$t" 2>"$e" ;;',
  '    *) exit 4 ;;',
  '  esac',
  '  s=$?',
  '  if [ "$s" -eq 0 ]; then f=$t; else f=$e; fi',
  '  printf \'%s %s %s\\n\' "$op" "$s" "$(wc -c <"$f")"',
  '  cat "$f"',
  'done',
  'printf \'end\\n\'',
].join('\n');
/**
 * `sh -c MKDIR_THEN_READ <READ_BATCH> <mode or ''> <dir> <op path>...`: make the directory (not its
 * parents; an existing one is EEXIST) and, only when this made it, run READ_BATCH over the reads:
 * `mkdir-ok` and the frames, or `mkdir-failed` and mkdir's error.
 */
const MKDIR_THEN_READ = [
  'batch=$0; mode=$1; dir=$2; shift 2',
  'if [ -n "$mode" ]; then m=$(mkdir -m "$mode" -- "$dir" 2>&1); else m=$(mkdir -- "$dir" 2>&1); fi || { printf \'mkdir-failed\\n%s\' "$m"; exit 0; }',
  'printf \'mkdir-ok\\n\'',
  'exec /bin/sh -c "$batch" sh "$@"',
].join('\n');
/** `sh -c STOP_LEFTOVERS sh <VAR=value>`: kill every process whose environment holds exactly that entry; print how many. */
const STOP_LEFTOVERS = [
  'n=0',
  'for f in $(grep -l -x -z -F -e "$1" /proc/[0-9]*/environ 2>/dev/null); do',
  '  p=${f#/proc/}; p=${p%/environ}',
  '  [ "$p" = "$$" ] && continue',
  '  kill -s KILL "$p" 2>/dev/null && n=$((n + 1))',
  'done',
  'echo "$n"',
].join('\n');
/** How long a read is believed when nothing this executor did could have changed it. */
const READ_TTL_MS = 30_000;
/** Errors worth remembering (the answer, not a hiccup of the engine). */
const REMEMBERED_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'ELOOP']);

/** Reads remembered by an executor and the executors made from it with asUser (keys hold the user). */
interface ReadStore {
  entries: Map<string, { at: number; value: Promise<unknown> }>;
  generation: number;
  /** What pymgr takes as fixed while it runs: each user's /etc/passwd entry. */
  passwd: Map<string, Promise<{ uid: number; gid: number; home: string } | undefined>>;
  /** Deferred writes, in order, not yet carried by a program run (see {@link DockerExecutor.writeFileAtomic}). */
  pending: DeferredWrite[];
  /** The env lock programs run under (see {@link DockerExecutor.fence}). */
  fence?: { file: string; token: string };
  /** Settles when the writes the last carrier took have landed (or failed). */
  landing?: Promise<void>;
}
interface DeferredWrite {
  /** The user it is written as (see DockerExecutor.userKey). */
  user: string;
  dir: string;
  tmp: string;
  target: string;
  parents: boolean;
  mode: string;
  content: string;
}
const KILL_SCRIPT = 'kill -s KILL -- "-$1" "$1" 2>/dev/null; exit 0';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_SYMLINKS = 40;

export class DockerExecutor implements Executor {
  readonly kind = 'docker' as const;
  readonly description: string;
  /** Full id of the container. */
  readonly containerId: string;
  /** Name of the container (no leading slash). */
  readonly containerName: string;
  private readonly envOverlay: Record<string, string | undefined>;
  private readonly user: string | undefined;
  private readonly killGraceMs: number;
  private envCache?: Promise<Record<string, string>>;
  private idsCache?: Promise<{ uid: number; gid: number }>;
  /** Programs run by this executor and the executors {@link asUser} derived from it. */
  private readonly execCount: { n: number };
  private readonly reads: ReadStore;
  /** Reads asked for lazily: learnt with the next prefetch. */
  private readonly hints: ReadRequest[] = [];

  private constructor(
    /** The engine this executor talks to (for callers that need more of the engine). */
    readonly client: DockerClient,
    private readonly container: DockerContainer,
    private readonly info: ContainerInfo,
    options: DockerExecutorOptions,
    execCount: { n: number } = { n: 0 },
    reads: ReadStore = { entries: new Map(), generation: 0, passwd: new Map(), pending: [] },
  ) {
    this.execCount = execCount;
    this.reads = reads;
    this.containerId = info.id;
    this.containerName = info.name;
    this.description = `container ${info.id.slice(0, 12)} (${info.name})`;
    this.envOverlay = { ...(options.env ?? {}) };
    this.user = options.user;
    this.killGraceMs = options.killGraceMs ?? 2000;
  }

  /**
   * An executor for a running container, by id or name. Throws DOCKER_UNAVAILABLE when no engine
   * answers, or the container does not exist or is not running.
   */
  static async connect(container: string, options: DockerExecutorOptions = {}): Promise<DockerExecutor> {
    let client: DockerClient | undefined = isDockerClient(options.engine) ? options.engine : undefined;
    let info: ContainerInfo;
    try {
      if (client) info = await client.getContainer(container).inspect();
      // The inspect is the ping: a found engine that does not answer is looked for again (findEngine).
      else ({ client, value: info } = await useEngine((options.engine as FindEngineOptions | undefined) ?? {}, (c) => {
        client = c;
        return c.getContainer(container).inspect();
      }));
    } catch (err) {
      if (isPymgrError(err, 'DOCKER_UNAVAILABLE')) throw err;
      const where = client ? describeConnection(client.connection) : 'the engine';
      if (statusCodeOf(err) === 404) {
        throw new PymgrError('DOCKER_UNAVAILABLE', `Container "${container}" does not exist on the engine at ${where}`, {
          hint: 'Check the name with `docker ps -a`, or create the container first.',
          cause: err,
        });
      }
      throw new PymgrError('DOCKER_UNAVAILABLE', `Could not inspect container "${container}" on ${where}: ${messageOf(err)}`, {
        hint: 'Check that the engine is running and that you may use it (`docker ps`).',
        cause: err,
      });
    }
    if (!info.running) {
      throw new PymgrError('DOCKER_UNAVAILABLE', `Container "${info.name}" (${info.id.slice(0, 12)}) is not running`, {
        hint: `Start it (\`docker start ${info.name}\`) and try again.`,
      });
    }
    return new DockerExecutor(client, client.getContainer(info.id), info, options);
  }

  /** Programs run, and the engine operations and requests of the client (shared by every executor on it). */
  cost(): ExecutorCost {
    return { execs: this.execCount.n, roundTrips: this.client.traffic.operations, requests: this.client.traffic.requests };
  }

  /** Run a program: what was learnt of the files is forgotten (the program may change them). */
  async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (options.readOnly) return this.execNow(file, args, options);
    return this.changing(undefined, () => this.execNow(file, args, options));
  }

  private async execNow(file: string, args: readonly string[], options: ExecOptions = {}, carry = true): Promise<ExecResult> {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, file);
    // Deferred writes go first, in this program's exec, after those another carrier took have landed.
    let carried: DeferredWrite[] = [];
    let landed: (() => void) | undefined;
    if (carry) {
      const who = this.userKey(options.user ?? this.user);
      while (this.reads.pending.length > 0 && this.reads.pending[0].user !== who) await this.flushAs(this.reads.pending[0].user);
      for (let seen: Promise<void> | undefined; seen !== this.reads.landing; ) await (seen = this.reads.landing);
      // From here to the new landing, nothing awaits: no other carrier can come between.
      const n = this.reads.pending.findIndex((w) => w.user !== who);
      carried = this.reads.pending.splice(0, n === -1 ? this.reads.pending.length : n);
      if (carried.length) this.reads.landing = new Promise<void>((resolve) => (landed = resolve));
    }
    // What the writes touch was forgotten when they were deferred; nothing read since has been
    // believed without them (a read carries them, or makes them first), so nothing is forgotten here.
    try {
      return await this.execCarrying(file, args, options, carried);
    } finally {
      landed?.();
    }
  }

  /** Run a program as `user` (a {@link userKey}) that does nothing but carry that user's deferred writes. */
  private async flushAs(user: string): Promise<void> {
    await this.execNow('true', [], { user, env: { LC_ALL: 'C' } });
  }

  /** Who a program runs as, named one way: the user asked for, else the container's, else root. */
  private userKey(user: string | undefined): string {
    return user || this.info.user || 'root';
  }

  private async execCarrying(file: string, args: readonly string[], options: ExecOptions, carried: DeferredWrite[]): Promise<ExecResult> {
    this.execCount.n++;
    const command = [file, ...args];
    const signal = options.signal;

    const { set, unset } = splitEnv({ ...this.envOverlay, ...(options.env ?? {}), [HOLDER_VAR]: HOLDER });
    const target = unset.length ? ['env', ...unset.flatMap((k) => ['-u', k]), '--', ...command] : command;
    const withStdin = options.stdin !== undefined;
    const fence = this.reads.fence;
    const fenceArgs = fence ? [fence.file, fence.token] : [];
    const carrier = !fence ? CARRY_WRAPPER : carried.some((w) => w.target === fence.file) ? FENCING_CARRY_WRAPPER : FENCED_CARRY_WRAPPER;
    const cmd = carried.length
      ? ['/bin/sh', '-c', carrier, 'sh', ...fenceArgs, String(carried.length), ...carried.flatMap((w) => [w.dir, w.tmp, w.target, w.parents ? '1' : '0', w.mode, w.content]), ...target]
      : ['/bin/sh', '-c', fence ? FENCED_WRAPPER : WRAPPER, 'sh', ...fenceArgs, ...target];

    let stream: import('node:stream').Duplex;
    let session: Awaited<ReturnType<DockerContainer['exec']>>;
    try {
      session = await this.container.exec({
        cmd,
        env: set.length ? set : undefined,
        workingDir: options.cwd,
        user: options.user ?? this.user,
        stdin: withStdin,
      });
      stream = await session.start();
    } catch (err) {
      throw this.cannotRun(file, messageOf(err), err);
    }

    const demux = new FrameDemuxer();
    const decoders: Record<OutputStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const out: Record<OutputStream, string> = { stdout: '', stderr: '' };
    const emit = (which: OutputStream, text: string) => {
      if (!text) return;
      out[which] += text;
      options.onOutput?.(which, text);
    };
    let pid: number | undefined;
    let head = Buffer.alloc(0);
    let startFailure: string | undefined;
    let killedBy: 'timeout' | 'abort' | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const requestKill = (why: 'timeout' | 'abort') => {
      if (killedBy) return;
      killedBy = why;
      if (pid !== undefined) void this.killGroup(pid);
      graceTimer = setTimeout(() => stream.destroy(), this.killGraceMs);
    };

    stream.on('data', (chunk: Buffer) => {
      for (const frame of demux.push(chunk)) {
        if (frame.stream === 'stdout' && pid === undefined && startFailure === undefined) {
          head = Buffer.concat([head, frame.payload]);
          const nl = head.indexOf(0x0a);
          if (nl === -1) continue;
          const line = head.subarray(0, nl).toString('latin1').trim();
          const rest = head.subarray(nl + 1);
          head = Buffer.alloc(0);
          if (/^\d+$/.test(line)) {
            pid = Number(line);
            if (killedBy) void this.killGroup(pid);
            emit('stdout', decoders.stdout.write(rest));
          } else {
            // The wrapper never ran: the engine reports why (e.g. a missing working directory).
            startFailure = `${line}\n${rest.toString('utf8')}`;
          }
        } else if (startFailure !== undefined) {
          startFailure += frame.payload.toString('utf8');
        } else {
          emit(frame.stream, decoders[frame.stream].write(frame.payload));
        }
      }
    });

    const ended = new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', (err) => (killedBy ? resolve() : reject(err)));
    });
    const timer = options.timeoutMs !== undefined ? setTimeout(() => requestKill('timeout'), options.timeoutMs) : undefined;
    const onAbort = () => requestKill('abort');
    signal?.addEventListener('abort', onAbort, { once: true });

    try {
      if (withStdin) {
        stream.write(options.stdin ?? '');
        stream.end(); // half-close: the program sees end of input
      }
      await ended;
    } catch (err) {
      throw this.cannotRun(file, `the output stream failed: ${messageOf(err)}`, err);
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
    }

    if (killedBy === 'abort') throw abortError(signal!, file);
    if (pid === undefined && !killedBy) {
      const why = (startFailure ?? head.toString('utf8')).trim() || 'the engine gave no reason';
      if (fence && why.startsWith('pymgr-fence-lost')) {
        throw new PymgrError('LOCK_STALE', `${file} was not run in ${this.description}: the env lock (${fence.file.replace(/\/owner\.json$/, '')}) is no longer this process's; another setup took it over`, {
          hint: 'This setup was stopped or cut off for longer than the lock allows and another one took over. Run `pymgr setup` again once that one has finished.',
          details: { lock: fence.file },
        });
      }
      const failedWrite = /^pymgr-write-failed (\d+)\n?([\s\S]*)$/.exec(why);
      if (failedWrite && carried[Number(failedWrite[1])]) {
        const w = carried[Number(failedWrite[1])];
        const detail = failedWrite[2].trim() || 'the write failed';
        throw markDeferred(fileError(errnoFromText(detail), 'open', w.target, detail, this.description));
      }
      throw this.cannotRun(file, why);
    }
    emit('stdout', decoders.stdout.end());
    emit('stderr', decoders.stderr.end());

    let exitCode = -1;
    if (!killedBy) exitCode = await this.waitExitCode(session, file);
    return { command, exitCode, stdout: out.stdout, stderr: out.stderr, timedOut: killedBy === 'timeout' };
  }

  async readFile(path: string): Promise<string> {
    const abs = this.absolute(path);
    return this.remembered('readFile', abs, async () => {
      // The archive API carries no writes: one of this file still deferred is made first.
      if (this.reads.pending.some((w) => w.target === abs)) await this.flush();
      return this.readFileNow(abs);
    });
  }

  private async readFileNow(start: string): Promise<string> {
    // The archive API reads as root whatever the exec user: another user reads with `cat`, as
    // itself (a file it may not read is EACCES, as on the host and in a batch).
    if (!this.runsAsRoot()) return answerReadFile(await this.runTool(['cat', '--', start]), start, this.description);
    let abs = start;
    for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
      const archive = await this.getArchive(abs, 'open');
      const entry = parseTar(archive)[0];
      if (!entry) throw fileError('EIO', 'open', abs, 'the engine returned an empty archive', this.description);
      if (entry.type === 'directory') throw fileError('EISDIR', 'open', abs, 'illegal operation on a directory', this.description);
      if (entry.type === 'symlink') {
        abs = posix.resolve(posix.dirname(abs), entry.linkname);
        continue;
      }
      return entry.data.toString('utf8');
    }
    throw fileError('ELOOP', 'open', start, 'too many symbolic links', this.description);
  }

  async writeFile(path: string, content: string, options: { mode?: number } = {}): Promise<void> {
    await this.changing([this.absolute(path)], () => this.writeFileNow(path, content, options));
  }

  /**
   * One exec as the executor's user: the content on standard input, written through symbolic links
   * (a dangling one names the file to create) as on the host, then the mode set. The file belongs
   * to that user, and a directory that user may not write is EACCES, as on the host.
   */
  private async writeFileNow(path: string, content: string, options: { mode?: number }): Promise<void> {
    const abs = this.absolute(path);
    const mode = (options.mode ?? 0o644).toString(8);
    const r = await this.execNow('/bin/sh', ['-c', 'cat > "$1" && chmod "$2" -- "$1"', 'sh', abs, mode], { env: { LC_ALL: 'C' }, stdin: content });
    if (r.exitCode !== 0) throw toolError(r, 'open', abs, this.description);
  }

  /**
   * {@link Executor.writeFileAtomic} in one exec: parents made (with `parents`), the content on
   * standard input into a temporary file beside the target, its mode set, renamed over the target;
   * the temporary file is removed when any step fails.
   */
  async writeFileAtomic(path: string, content: string, options: { mode?: number; parents?: boolean; defer?: boolean } = {}): Promise<void> {
    const abs = this.absolute(path);
    const dir = posix.dirname(abs);
    const tmp = `${abs}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const mode = (options.mode ?? 0o644).toString(8);
    if (options.defer && Buffer.byteLength(content) <= MAX_DEFERRED_BYTES && !content.includes('\0')) {
      this.forgetReads([abs, tmp, dir]);
      this.reads.pending.push({ user: this.userKey(this.user), dir, tmp, target: abs, parents: !!options.parents, mode, content });
      return;
    }
    // Not a carrier: a write of its own (a lock's refresh on a timer must not take the main flow's writes).
    const r = await this.changing([abs, tmp], () =>
      this.execNow('/bin/sh', ['-c', WRITE_ATOMIC, 'sh', dir, tmp, abs, options.parents ? '1' : '0', mode], { env: { LC_ALL: 'C' }, stdin: content }, false),
    );
    // `mkdir -v` named every directory it made: what was learnt of them (and their parents) is stale.
    const made = [...r.stdout.matchAll(/created directory '(.*)'$/gm)].map((m) => m[1]);
    if (made.length) this.forgetReads(made);
    if (r.exitCode !== 0) throw toolError(r, 'open', abs, this.description);
  }

  async exists(path: string): Promise<boolean> {
    const abs = this.absolute(path);
    return this.remembered('exists', abs, async () => answerExists(await this.runTool(['test', '-e', abs]), abs, this.description));
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const abs = this.absolute(path);
    return this.remembered('stat', abs, async () => answerStat(await this.runTool(['stat', '-c', '%u %g %f %s %.9Y', '--', abs]), abs, this.description));
  }

  /**
   * {@link Executor.stopLeftovers}: every program of this container whose environment says the
   * dead pymgr process started it (each exec carries `_PYMGR_HOLDER=<host>/<pid>`, which its
   * children inherit) is killed, in one exec.
   */
  async stopLeftovers(from: { host: string; pid: number }): Promise<number> {
    const r = await this.execNow('/bin/sh', ['-c', STOP_LEFTOVERS, 'sh', holderEntry(from)], { user: 'root', env: { LC_ALL: 'C' } });
    return Number(r.stdout.trim()) || 0;
  }

  /**
   * {@link Executor.fence}: from now on every program runs only while `lock.file` holds
   * `lock.token` (checked in the exec's wrapper) until the returned function lifts it (the
   * fence before it applies again: a lock taken while holding another). An exec sent by a pymgr
   * that has since died can reach the engine late, after another setup took the lock over and
   * is restoring the env; it then runs nothing (its client is gone: nobody sees the error).
   */
  fence(lock: { file: string; token: string }): () => void {
    const before = this.reads.fence;
    this.reads.fence = lock;
    return () => {
      if (this.reads.fence === lock) this.reads.fence = before;
    };
  }

  /** {@link Executor.flush}: the writes held back, made now (one exec; none when there are none). */
  async flush(): Promise<void> {
    if (this.reads.pending.length) await this.execNow('true', [], { env: { LC_ALL: 'C' } });
  }

  /** Learn many reads in one exec (see the class comment); best effort, never rejects. */
  async prefetch(reads: readonly ReadRequest[], options: { lazy?: boolean } = {}): Promise<void> {
    if (options.lazy) {
      this.hints.push(...reads);
      return;
    }
    const todo = this.readsToMake(reads);
    if (todo.length === 0) return;
    const generation = this.reads.generation;
    let res: ExecResult;
    try {
      res = await this.runTool(['/bin/sh', '-c', READ_BATCH, 'sh', ...todo.flatMap((r) => [r.op, r.abs])]);
    } catch (err) {
      if (deferredWriteFailed.has(err as object)) throw err; // a write it carried failed: that is the caller's news
      return;
    }
    if (res.exitCode !== 0 || generation !== this.reads.generation) return;
    this.learnBatch(todo, res.stdout);
  }

  /**
   * `reads` and what was asked for lazily (taken), once each, absolute, without what is known;
   * the user's /etc/passwd entry (its home decides paths) until it is known.
   */
  private readsToMake(reads: readonly ReadRequest[]): Array<{ op: ReadRequest['op']; abs: string }> {
    const passwd: ReadRequest[] = this.reads.passwd.has(this.passwdKey()) ? [] : [{ op: 'readFile', path: '/etc/passwd' }];
    return [...new Map([...this.hints.splice(0), ...reads, ...passwd].map((r) => {
      const abs = this.absolute(r.path);
      return [`${r.op}\0${abs}`, { op: r.op, abs }] as const;
    })).values()].filter((r) => !this.knows(r.op, r.abs));
  }

  /** Learn the answers of a READ_BATCH run over `todo` from its output (nothing when they do not add up). */
  private learnBatch(todo: Array<{ op: ReadRequest['op']; abs: string }>, stdout: string): void {
    // Output that was not UTF-8 (a file in another encoding) cannot be framed by byte counts once
    // decoded: learn nothing from it (those reads are made one by one when asked).
    if (stdout.includes('\uFFFD')) return;
    const frames = parseReadFrames(Buffer.from(stdout, 'utf8'), todo.length);
    if (!frames || frames.some((f, i) => f.op !== todo[i].op)) return;
    todo.forEach((r, i) => {
      const f = frames[i];
      const text = f.payload.toString('utf8');
      const asTool: ExecResult = { command: [r.op, r.abs], exitCode: f.status, stdout: f.status === 0 ? text : '', stderr: f.status === 0 ? '' : text, timedOut: false };
      this.learn(r.op, r.abs, (async () => ANSWERS[r.op](asTool, r.abs, this.description))());
      if (r.op === 'readFile' && r.abs === '/etc/passwd' && f.status === 0 && !this.reads.passwd.has(this.passwdKey())) {
        this.reads.passwd.set(this.passwdKey(), Promise.resolve(passwdEntry(text, this.passwdKey())));
      }
    });
  }

  async mkdir(path: string, options: { recursive?: boolean; mode?: number } = {}): Promise<boolean> {
    let created = true;
    try {
      created = await this.mkdirNow(path, options);
      return created;
    } finally {
      // A new directory (or a failure) may have changed things; so may one that was there: a lock
      // directory someone else holds is looked into next (its owner, its age), afresh.
      if (created || !options.recursive) this.forgetReads([this.absolute(path)]);
    }
  }

  private async mkdirNow(path: string, options: { recursive?: boolean; mode?: number }): Promise<boolean> {
    const abs = this.absolute(path);
    const modeArgs = options.mode === undefined ? [] : ['-m', options.mode.toString(8)];
    if (options.recursive) {
      // One exec: `-v` names every directory it made; none made means the directory was there.
      const r = await this.runTool(['mkdir', '-p', '-v', ...modeArgs, '--', abs]);
      if (r.exitCode !== 0) throw toolError(r, 'mkdir', abs, this.description);
      const made = [...r.stdout.matchAll(/created directory '(.*)'$/gm)].map((m) => m[1]);
      if (made.length) this.forgetReads(made);
      return r.stdout.trim() !== '';
    }
    // Reads asked for lazily ride along: made right after a directory this call made (what a lock
    // guards is read under it), learnt only then; otherwise kept for the next batch.
    const hints = this.hints.length ? this.readsToMake([]) : [];
    if (hints.length === 0) {
      const r = await this.runTool(['mkdir', ...modeArgs, '--', abs]);
      if (r.exitCode === 0) return true;
      if (errnoFromText(r.stderr) === 'EEXIST') return false;
      throw toolError(r, 'mkdir', abs, this.description);
    }
    const r = await this.runTool(['/bin/sh', '-c', MKDIR_THEN_READ, READ_BATCH, options.mode === undefined ? '' : options.mode.toString(8), abs, ...hints.flatMap((h) => [h.op, h.abs])]);
    if (r.stdout.startsWith('mkdir-ok\n')) {
      this.forgetReads([abs]);
      if (r.exitCode === 0) this.learnBatch(hints, r.stdout.slice('mkdir-ok\n'.length));
      return true;
    }
    this.hints.push(...hints.map((h) => ({ op: h.op, path: h.abs })));
    const why = r.stdout.startsWith('mkdir-failed\n') ? r.stdout.slice('mkdir-failed\n'.length) : r.stderr;
    if (errnoFromText(why) === 'EEXIST') return false;
    throw toolError({ ...r, stderr: why, stdout: '' }, 'mkdir', abs, this.description);
  }

  async readDir(path: string): Promise<string[] | undefined> {
    const abs = this.absolute(path);
    // NUL-separated names (a name may hold a newline); the trailing slash follows a link to a directory.
    const dir = abs.endsWith('/') ? abs : `${abs}/`;
    return this.remembered('readDir', abs, async () => answerReadDir(await this.runTool(['find', dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\0']), abs, this.description));
  }

  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    const abs = this.absolute(path);
    const r = await this.changing([abs], () => this.runTool(['rm', options.recursive ? '-rf' : '-f', '--', abs]));
    if (r.exitCode !== 0) throw toolError(r, 'rm', abs, this.description);
  }

  async rename(from: string, to: string): Promise<void> {
    const paths = [this.absolute(from), this.absolute(to)];
    const r = await this.changing(paths, () => this.runTool(['mv', '-f', '-T', '--', ...paths]));
    if (r.exitCode !== 0) throw toolError(r, 'rename', from, this.description);
  }

  async realpath(path: string): Promise<string> {
    const abs = this.absolute(path);
    return this.remembered('realpath', abs, async () => answerRealpath(await this.runTool(['realpath', '-e', '--', abs]), abs, this.description));
  }

  /** `Config.Env` of the container, with `HOME` of the executor's user, and the executor's own variables. */
  async getEnv(): Promise<Record<string, string>> {
    this.envCache ??= this.computeEnv();
    return this.laidOver(await this.envCache);
  }

  /**
   * {@link Executor.guessEnv}: the container's variables with `HOME` as the image says, or
   * `/root` for root (its usual home; {@link getEnv} reads the passwd entry), or no guess for
   * another user. For choosing reads to learn ahead only.
   */
  guessEnv(): Record<string, string> | undefined {
    const env = this.imageEnv();
    if (env.HOME === undefined) {
      if (!this.runsAsRoot()) return undefined;
      env.HOME = '/root';
    }
    return this.laidOver(env);
  }

  /**
   * This container and user, with `env` laid over every exec's variables (what the managers'
   * commands inherit from the host, docker/inherit.ts). Shares what was learnt and counted.
   */
  withEnv(env: Record<string, string | undefined>): DockerExecutor {
    return new DockerExecutor(this.client, this.container, this.info, { env: { ...this.envOverlay, ...env }, user: this.user, killGraceMs: this.killGraceMs }, this.execCount, this.reads);
  }

  /**
   * This container, with every exec and file operation run as `user` (`uid[:gid]` or a name). A
   * user without a home in the container's /etc/passwd, or whose home is not there (a bare uid in
   * a root image, `nobody`), and without a `HOME` it can write gets a private one,
   * `/tmp/pymgr-home-<uid>` (mode 0700, made by that user), so the managers' caches and pymgr's
   * tools directory are that user's own.
   */
  async asUser(user: string): Promise<DockerExecutor> {
    const next = new DockerExecutor(this.client, this.container, this.info, { env: this.envOverlay, user, killGraceMs: this.killGraceMs }, this.execCount, this.reads);
    const entry = await next.findPasswdEntry();
    const env = await next.getEnv();
    // A passwd home that is not there (nobody's /nonexistent) is none; one that is stays the user's
    // HOME, read-only or not (its config, credentials and Pythons are the user's).
    if (entry && entry.home && entry.home !== '/' && (await next.exec('test', ['-d', entry.home], { readOnly: true })).exitCode === 0) return next;
    if ((this.envOverlay.HOME || this.info.env.some((kv) => kv.startsWith('HOME='))) && (await next.exec('test', ['-w', env.HOME])).exitCode === 0) return next;
    const { uid } = await next.userIds();
    const home = `${(env.TMPDIR || '/tmp').replace(/\/+$/, '')}/pymgr-home-${uid}`;
    await next.mkdir(home, { mode: 0o700 });
    const st = await next.stat(home);
    if (!st?.isDirectory || st.uid !== uid || (st.mode & 0o077) !== 0) {
      throw new PymgrError('USAGE', `${home} in ${this.description} is not a private directory of uid ${uid} (owner ${st?.uid}, mode ${st?.mode.toString(8)})`, {
        hint: `Give the user a home in the image, or set HOME for the container; or remove ${home}.`,
      });
    }
    return new DockerExecutor(this.client, this.container, this.info, { env: { ...this.envOverlay, HOME: home }, user, killGraceMs: this.killGraceMs }, this.execCount, this.reads);
  }

  // ---- internals ----

  private readKey(op: ReadRequest['op'], abs: string): string {
    return `${this.user ?? ''}\0${op}\0${abs}`;
  }

  private knows(op: ReadRequest['op'], abs: string): boolean {
    const hit = this.reads.entries.get(this.readKey(op, abs));
    return !!hit && Date.now() - hit.at < READ_TTL_MS;
  }

  /** Keep an answer (a value, or an error worth remembering) until the next change. */
  private learn<T>(op: ReadRequest['op'], abs: string, value: Promise<T>): Promise<T> {
    const key = this.readKey(op, abs);
    const entry = { at: Date.now(), value: value as Promise<unknown> };
    this.reads.entries.set(key, entry);
    value.catch((err: unknown) => {
      const answer = REMEMBERED_ERRORS.has((err as NodeJS.ErrnoException)?.code ?? '') && !deferredWriteFailed.has(err as object);
      if (!answer && this.reads.entries.get(key) === entry) this.reads.entries.delete(key);
    });
    return value;
  }

  private remembered<T>(op: ReadRequest['op'], abs: string, read: () => Promise<T>): Promise<T> {
    const hit = this.reads.entries.get(this.readKey(op, abs));
    if (hit && Date.now() - hit.at < READ_TTL_MS) return hit.value as Promise<T>;
    return this.learn(op, abs, read());
  }

  /** Forget everything learnt of the files (a caller that knows they may have changed meanwhile). */
  forgetLearnt(): void {
    this.forgetReads();
  }

  /**
   * A change: what it may touch is forgotten before (a read in flight is not kept) and after (what
   * was read meanwhile is not believed) — `paths` and what is below them, or everything.
   */
  private async changing<T>(paths: string[] | undefined, work: () => Promise<T>): Promise<T> {
    this.forgetReads(paths);
    try {
      return await work();
    } finally {
      this.forgetReads(paths);
    }
  }

  /**
   * Forget what may have changed: everything (a program ran), or what a file operation on `paths`
   * touched — each path, whatever is below it, and its directory (listing, times).
   */
  private forgetReads(paths?: string[]): void {
    this.reads.generation++;
    if (!paths) {
      this.reads.entries.clear();
      return;
    }
    const touched = paths.map((p) => p.replace(/\/+$/, '') || '/');
    const parents = new Set(touched.map((p) => posix.dirname(p)));
    for (const key of [...this.reads.entries.keys()]) {
      const abs = key.slice(key.indexOf('\0', key.indexOf('\0') + 1) + 1);
      if (parents.has(abs) || touched.some((p) => abs === p || abs.startsWith(`${p}/`))) this.reads.entries.delete(key);
    }
  }

  /** `Config.Env` of the container, with the engine's default PATH when the image sets none. */
  private imageEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const kv of this.info.env) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    env.PATH ??= DEFAULT_PATH;
    return env;
  }

  /** `env` with this executor's own variables laid over it (set, or removed). */
  private laidOver(env: Record<string, string>): Record<string, string> {
    const { set, unset } = splitEnv(this.envOverlay);
    const out = { ...env };
    for (const kv of set) {
      const eq = kv.indexOf('=');
      out[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    for (const k of unset) delete out[k];
    return out;
  }

  private async computeEnv(): Promise<Record<string, string>> {
    const env = this.imageEnv();
    if (env.HOME === undefined) {
      const entry = await this.findPasswdEntry();
      env.HOME = entry?.home || '/';
    }
    return env;
  }

  /**
   * Extract a tar archive into the existing directory `dir` (the Engine API's archive endpoint; the
   * entries' owners as the archive says). What was learnt of `dir` is forgotten.
   */
  async putArchive(dir: string, tar: Buffer): Promise<void> {
    const abs = this.absolute(dir);
    await this.changing([abs], () =>
      this.container.putArchive(abs, tar).catch((err: unknown) => {
        const status = statusCodeOf(err);
        throw fileError(status === 404 ? 'ENOENT' : status === 403 ? 'EACCES' : 'EIO', 'open', abs, messageOf(err), this.description, err);
      }),
    );
  }

  /** The executor's user, as uid and gid (for file ownership in archives). */
  userIds(): Promise<{ uid: number; gid: number }> {
    this.idsCache ??= (async () => {
      const spec = this.effectiveUser();
      const [userPart, groupPart] = spec.split(':', 2);
      const entry = await this.findPasswdEntry();
      const uid = /^\d+$/.test(userPart) ? Number(userPart) : entry?.uid;
      if (uid === undefined) {
        throw new PymgrError('USAGE', `User "${userPart}" does not exist in ${this.description}`, {
          hint: 'Use a numeric uid[:gid] or a user listed in the container\'s /etc/passwd.',
        });
      }
      let gid = entry?.gid ?? 0;
      if (groupPart !== undefined && groupPart !== '') {
        if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
        else {
          const found = await this.findGroupId(groupPart);
          if (found === undefined) {
            throw new PymgrError('USAGE', `Group "${groupPart}" does not exist in ${this.description}`, {
              hint: 'Use a numeric gid or a group listed in the container\'s /etc/group.',
            });
          }
          gid = found;
        }
      }
      return { uid, gid };
    })();
    return this.idsCache;
  }

  private effectiveUser(): string {
    return this.userKey(this.user);
  }

  /** Whether programs run as root (by name or uid). */
  private runsAsRoot(): boolean {
    return /^(root|0)(:|$)/.test(this.effectiveUser());
  }

  /** {@link Executor.placeId}: the engine and the container's full id. */
  get placeId(): string {
    return `${describeConnection(this.client.connection)}#${this.containerId}`;
  }

  /** The scope of {@link Executor.scope}: this container, whatever the variables or the user. */
  get scope(): object {
    return this.reads;
  }

  /** The user part of {@link effectiveUser}: the key of its passwd entry. */
  private passwdKey(): string {
    return this.effectiveUser().split(':')[0];
  }

  /** The user's /etc/passwd entry, read once per container (a failed read is tried again). */
  private findPasswdEntry(): Promise<{ uid: number; gid: number; home: string } | undefined> {
    const userPart = this.passwdKey();
    let known = this.reads.passwd.get(userPart);
    if (!known) {
      known = this.readPasswdEntry(userPart);
      this.reads.passwd.set(userPart, known);
      known.catch(() => this.reads.passwd.delete(userPart));
    }
    return known;
  }

  private async readPasswdEntry(userPart: string): Promise<{ uid: number; gid: number; home: string } | undefined> {
    let text: string;
    try {
      text = await this.readFile('/etc/passwd');
    } catch {
      return userPart === 'root' || userPart === '0' ? { uid: 0, gid: 0, home: '/root' } : undefined;
    }
    return passwdEntry(text, userPart);
  }

  private async findGroupId(name: string): Promise<number | undefined> {
    let text: string;
    try {
      text = await this.readFile('/etc/group');
    } catch {
      return undefined;
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[0] === name) return Number(f[2]);
    }
    return undefined;
  }

  private absolute(path: string): string {
    return posix.resolve(this.info.workingDir || '/', path);
  }

  /** A program of a file operation (coreutils, findutils): run without forgetting what was read. */
  private runTool(argv: string[]): Promise<ExecResult> {
    return this.execNow(argv[0], argv.slice(1), { env: { LC_ALL: 'C' } });
  }

  private async getArchive(abs: string, syscall: string): Promise<Buffer> {
    let stream: Readable;
    try {
      stream = await this.container.getArchive(abs);
    } catch (err) {
      const status = statusCodeOf(err);
      if (status === 404) throw fileError('ENOENT', syscall, abs, 'no such file or directory', this.description, err);
      // The engine's message names the cause (a parent that is a file: "not a directory").
      throw fileError(errnoFromText(messageOf(err)), syscall, abs, messageOf(err), this.description, err);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return Buffer.concat(chunks);
  }

  /** Kill a process group started by {@link exec} (a second exec, as root: there is no exec-kill API). */
  private async killGroup(pid: number): Promise<void> {
    try {
      const session = await this.container.exec({
        cmd: ['/bin/sh', '-c', KILL_SCRIPT, 'sh', String(pid)],
        user: '0',
        stdin: false,
      });
      const stream = await session.start();
      stream.resume();
      await new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
    } catch {
      // The grace timer closes the stream anyway; the result reports the kill.
    }
  }

  private async waitExitCode(session: Awaited<ReturnType<DockerContainer['exec']>>, file: string): Promise<number> {
    // The stream can close a moment before the engine records the exit status.
    for (let i = 0; i < 100; i++) {
      let state;
      try {
        state = await session.inspect();
      } catch (err) {
        throw this.cannotRun(file, `could not read the exit status: ${messageOf(err)}`, err);
      }
      if (!state.running && state.exitCode !== null) return state.exitCode;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw this.cannotRun(file, 'the engine did not report an exit status within 2 s');
  }

  private cannotRun(file: string, why: string, cause?: unknown): PymgrError {
    return new PymgrError('COMMAND_FAILED', `Could not run \`${file}\` in ${this.description}: ${why}`, {
      hint: 'Check that the container is running, and that the working directory and user exist in it.',
      cause,
    });
  }
}

/** Whether `engine` is a connected client (else: how to find one). */
export function isDockerClient(engine: DockerExecutorOptions['engine']): engine is DockerClient {
  return !!engine && typeof (engine as DockerClient).ping === 'function' && typeof (engine as DockerClient).getContainer === 'function';
}

/** `KEY=value` strings to set and names to remove. */
function splitEnv(env: Record<string, string | undefined>): { set: string[]; unset: string[] } {
  const set: string[] = [];
  const unset: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) unset.push(k);
    else set.push(`${k}=${v}`);
  }
  return { set, unset };
}

function abortError(signal: AbortSignal, file: string): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new PymgrError('COMMAND_FAILED', `Aborted: ${file}`, { cause: signal.reason });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const ERRNO_TEXT: [RegExp, string][] = [
  [/No such file or directory|Directory nonexistent/i, 'ENOENT'],
  [/Not a directory/i, 'ENOTDIR'],
  [/File exists/i, 'EEXIST'],
  [/Permission denied|Operation not permitted/i, 'EACCES'],
  [/Is a directory/i, 'EISDIR'],
  [/Directory not empty/i, 'ENOTEMPTY'],
  [/Read-only file system/i, 'EROFS'],
  [/Too many levels of symbolic links/i, 'ELOOP'],
  [/cannot move .* to a subdirectory of itself|Invalid argument/i, 'EINVAL'],
];

/** The entry of `user` (a name or a uid) in the text of /etc/passwd. */
function passwdEntry(text: string, user: string): { uid: number; gid: number; home: string } | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7) continue;
    if (f[0] === user || f[2] === user) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
  }
  return undefined;
}

/** Errors of deferred writes, thrown by the operation that carried them. */
const deferredWriteFailed = new WeakSet<object>();
function markDeferred<T extends object>(err: T): T {
  deferredWriteFailed.add(err);
  return err;
}

function errnoFromText(text: string): string {
  for (const [re, code] of ERRNO_TEXT) if (re.test(text)) return code;
  return 'EIO';
}

/** A Node-style file error (`code`, `syscall`, `path`), like the host executor's. */
function fileError(code: string, syscall: string, path: string, detail: string, where: string, cause?: unknown): NodeJS.ErrnoException {
  const err = new Error(`${code}: ${detail}, ${syscall} '${path}' (in ${where})`, cause === undefined ? undefined : { cause }) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  err.path = path;
  return err;
}

function toolError(r: ExecResult, syscall: string, path: string, where: string): NodeJS.ErrnoException {
  const detail = (r.stderr || r.stdout).trim() || `\`${r.command.join(' ')}\` exited with ${r.exitCode}`;
  return fileError(errnoFromText(detail), syscall, path, detail, where);
}

/** `test -e`: 0 there, 1 not there, anything else an error. */
function answerExists(r: ExecResult, abs: string, where: string): boolean {
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false;
  throw toolError(r, 'access', abs, where);
}

/** `stat -c '%u %g %f %s %.9Y'`: the facts, or `undefined` when nothing is there. */
function answerStat(r: ExecResult, abs: string, where: string): FileStat | undefined {
  if (r.exitCode !== 0) {
    const code = errnoFromText(r.stderr);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw toolError(r, 'lstat', abs, where);
  }
  const [uid, gid, rawHex, size, mtime] = r.stdout.trim().split(' ');
  const raw = parseInt(rawHex, 16);
  const type = raw & 0o170000;
  return {
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymbolicLink: type === 0o120000,
    uid: Number(uid),
    gid: Number(gid),
    mode: raw & 0o7777,
    size: Number(size),
    mtimeMs: Math.round(Number(mtime) * 1000),
  };
}

/** `find dir/ -printf '%f\\0'`: sorted names, or `undefined` when there is no such directory. */
function answerReadDir(r: ExecResult, abs: string, where: string): string[] | undefined {
  if (r.exitCode !== 0) {
    const code = errnoFromText(r.stderr);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw toolError(r, 'scandir', abs, where);
  }
  return r.stdout.split('\0').filter((n) => n !== '').sort();
}

function answerRealpath(r: ExecResult, abs: string, where: string): string {
  if (r.exitCode !== 0) throw toolError(r, 'realpath', abs, where);
  return r.stdout.replace(/\n$/, '');
}

/** `cat` of a read batch: the text, or the error it names. */
function answerReadFile(r: ExecResult, abs: string, where: string): string {
  if (r.exitCode === 0) return r.stdout;
  throw fileError(errnoFromText(r.stderr), 'open', abs, r.stderr.trim() || `cat exited with ${r.exitCode}`, where);
}

/** How each read of a batch is answered from its program's result, as the single reads answer. */
const ANSWERS: Record<ReadRequest['op'], (r: ExecResult, abs: string, where: string) => unknown> = {
  stat: answerStat,
  exists: answerExists,
  readDir: answerReadDir,
  realpath: answerRealpath,
  readFile: answerReadFile,
};

/** The frames of the read batch, or `undefined` when they do not add up (then nothing is learnt). */
function parseReadFrames(out: Buffer, count: number): Array<{ op: string; status: number; payload: Buffer }> | undefined {
  const frames: Array<{ op: string; status: number; payload: Buffer }> = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) return undefined;
    const m = /^(\w+) (\d+) (\d+)$/.exec(out.subarray(at, nl).toString('latin1'));
    if (!m) return undefined;
    const size = Number(m[3]);
    if (nl + 1 + size > out.length) return undefined;
    frames.push({ op: m[1], status: Number(m[2]), payload: out.subarray(nl + 1, nl + 1 + size) });
    at = nl + 1 + size;
  }
  return out.subarray(at).toString('latin1') === 'end\n' ? frames : undefined;
}
