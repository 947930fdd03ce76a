/**
 * DockerExecutor against the real engine, in a throw-away container of the base image.
 * Needs: a Docker engine (scripts/docker-engine.sh) and the base image (built on demand).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../src/docker/docker-executor.js';
import { isPymgrError } from '../../src/errors.js';
import { createTestContainer, findTestEngine, type TestContainer } from '../helpers/docker.js';
import { requireTool } from '../helpers/tools.js';

const engine = await findTestEngine();
const hasDocker = requireTool('Docker engine', engine);

describe.skipIf(!hasDocker)('DockerExecutor (real engine)', () => {
  let box: TestContainer;
  let ex: DockerExecutor;
  let asUser: DockerExecutor;

  beforeAll(async () => {
    box = await createTestContainer(engine!, { env: ['FROM_IMAGE=yes'] });
    ex = await DockerExecutor.connect(box.name, { engine: engine! });
    asUser = await DockerExecutor.connect(box.id, { engine: engine!, user: '1000', env: { PYMGR_X: 'from-connect' } });
    await ex.mkdir('/work', { recursive: true });
  });

  afterAll(async () => {
    await box?.remove();
  });

  /** Processes in the container whose command line matches. */
  async function processesMatching(re: RegExp): Promise<string[]> {
    const r = await ex.exec('ps', ['-eo', 'pid,args']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('sleep infinity'); // ps sees the container's processes
    return r.stdout.split('\n').filter((l) => re.test(l));
  }

  describe('connect', () => {
    it('describes the container by short id and name', () => {
      expect(ex.kind).toBe('docker');
      expect(ex.description).toBe(`container ${box.id.slice(0, 12)} (${box.name})`);
      expect(asUser.containerId).toBe(box.id);
    });

    it('fails with DOCKER_UNAVAILABLE for a container that does not exist', async () => {
      const err = await DockerExecutor.connect('pymgr-test-no-such-container', { engine: engine! }).catch((e) => e);
      expect(isPymgrError(err, 'DOCKER_UNAVAILABLE')).toBe(true);
      expect(err.message).toContain('pymgr-test-no-such-container');
      expect(err.message).toContain('does not exist');
    });

    it('fails with DOCKER_UNAVAILABLE for a stopped container', async () => {
      const stopped = await createTestContainer(engine!, { stopped: true });
      try {
        const err = await DockerExecutor.connect(stopped.name, { engine: engine! }).catch((e) => e);
        expect(isPymgrError(err, 'DOCKER_UNAVAILABLE')).toBe(true);
        expect(err.message).toContain('not running');
        expect(err.hint).toContain(`docker start ${stopped.name}`);
      } finally {
        await stopped.remove();
      }
    });
  });

  describe('exec', () => {
    it('passes arguments verbatim (spaces, quotes, $, globs, empty strings)', async () => {
      const args = ['a b', "it's", '"dq"', '$HOME', '*', '', 'x;y', 'ünï'];
      const r = await ex.exec('python3', ['-c', 'import sys, json; print(json.dumps(sys.argv[1:]))', ...args]);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(args);
      expect(r.command).toEqual(['python3', '-c', expect.any(String), ...args]);
    });

    it('keeps stdout and stderr apart and passes the exit code through', async () => {
      const r = await ex.exec('sh', ['-c', 'echo out1; echo err1 >&2; echo out2; exit 42']);
      expect(r).toMatchObject({ exitCode: 42, stdout: 'out1\nout2\n', stderr: 'err1\n', timedOut: false });
    });

    it('streams output as it arrives, not at the end', async () => {
      const seen: { stream: string; chunk: string; at: number }[] = [];
      const start = Date.now();
      const r = await ex.exec('sh', ['-c', 'echo first; sleep 1; echo second >&2; sleep 1; echo third'], {
        onOutput: (stream, chunk) => seen.push({ stream, chunk, at: Date.now() - start }),
      });
      const end = Date.now() - start;
      expect(r.stdout).toBe('first\nthird\n');
      expect(seen.map((s) => [s.stream, s.chunk])).toEqual([
        ['stdout', 'first\n'],
        ['stderr', 'second\n'],
        ['stdout', 'third\n'],
      ]);
      expect(seen[0].at).toBeLessThan(end - 1500);
    });

    it('reassembles large output and multi-byte UTF-8 split across frames', async () => {
      const r = await ex.exec('python3', ['-c', 'import sys; sys.stdout.write("é✓" * 200000); sys.stderr.write("x" * 70000)']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('é✓'.repeat(200000));
      expect(r.stderr).toBe('x'.repeat(70000));
    });

    it('gives 127 for a program that does not exist, without rejecting', async () => {
      const r = await ex.exec('pymgr-no-such-program', ['x']);
      expect(r.exitCode).toBe(127);
      expect(r.stderr).toContain('pymgr-no-such-program');
    });

    it('writes stdin and closes it', async () => {
      const r = await ex.exec('python3', ['-c', 'import sys; d = sys.stdin.read(); print(len(d)); print(d.upper())'], {
        stdin: 'hello\nwörld',
      });
      expect(r.stdout).toBe('11\nHELLO\nWÖRLD\n');
    });

    it('lays env over the container environment, and removes variables set to undefined', async () => {
      const r = await ex.exec('python3', ['-c', 'import os, json; print(json.dumps({k: os.environ.get(k) for k in ["FOO", "FROM_IMAGE", "LANG", "PATH"]}))'], {
        env: { FOO: 'with space "and" quotes', LANG: undefined },
      });
      const env = JSON.parse(r.stdout);
      expect(env).toMatchObject({ FOO: 'with space "and" quotes', FROM_IMAGE: 'yes', LANG: null });
      expect(env.PATH).toContain('/usr/bin');
    });

    it('runs in cwd', async () => {
      expect((await ex.exec('pwd', [], { cwd: '/tmp' })).stdout).toBe('/tmp\n');
    });

    it('rejects (COMMAND_FAILED) when the working directory does not exist', async () => {
      const err = await ex.exec('true', [], { cwd: '/pymgr-no-such-dir' }).catch((e) => e);
      expect(isPymgrError(err, 'COMMAND_FAILED')).toBe(true);
      expect(err.message).toContain('/pymgr-no-such-dir');
    });

    it('runs as the user asked for, per call or per executor', async () => {
      expect((await ex.exec('id', ['-u'])).stdout).toBe('0\n');
      expect((await ex.exec('id', ['-u'], { user: '1000' })).stdout).toBe('1000\n');
      expect((await asUser.exec('id', ['-u'])).stdout).toBe('1000\n');
      expect((await asUser.exec('printenv', ['PYMGR_X'])).stdout).toBe('from-connect\n');
    });

    it('kills a program when the timeout runs out, with its children', async () => {
      const start = Date.now();
      const r = await ex.exec('sh', ['-c', 'sleep 31; echo never'], { timeoutMs: 500 });
      expect(Date.now() - start).toBeLessThan(5000);
      expect(r).toMatchObject({ timedOut: true, exitCode: -1, stdout: '' });
      expect(await processesMatching(/sleep 31/)).toEqual([]);
    });

    it('kills a plain sleep 30 on timeout, fast', async () => {
      const start = Date.now();
      const r = await ex.exec('sleep', ['30'], { timeoutMs: 300 });
      expect(Date.now() - start).toBeLessThan(3000);
      expect(r.timedOut).toBe(true);
      expect(await processesMatching(/sleep 30/)).toEqual([]);
    });

    it('does not report a timeout for a program that finishes in time', async () => {
      const r = await ex.exec('sh', ['-c', 'exit 3'], { timeoutMs: 10_000 });
      expect(r).toMatchObject({ exitCode: 3, timedOut: false });
    });

    it('aborts through an AbortSignal: rejects with the reason and kills the program', async () => {
      const controller = new AbortController();
      const reason = new Error('stop now');
      setTimeout(() => controller.abort(reason), 300);
      const start = Date.now();
      const err = await ex.exec('sleep', ['32'], { signal: controller.signal }).catch((e) => e);
      expect(err).toBe(reason);
      expect(Date.now() - start).toBeLessThan(5000);
      expect(await processesMatching(/sleep 32/)).toEqual([]);
    });

    it('rejects at once for a signal that is already aborted', async () => {
      const err = await ex.exec('true', [], { signal: AbortSignal.abort(new Error('early')) }).catch((e) => e);
      expect(err.message).toBe('early');
    });
  });

  describe('files', () => {
    it('round-trips UTF-8 text through writeFile and readFile, with the mode', async () => {
      const text = 'naïve ✓ — 日本語\nline 2\n\ttab\n';
      await ex.writeFile('/work/utf8.txt', text, { mode: 0o640 });
      expect(await ex.readFile('/work/utf8.txt')).toBe(text);
      const st = await ex.stat('/work/utf8.txt');
      expect(st).toMatchObject({ isFile: true, mode: 0o640, size: Buffer.byteLength(text), uid: 0 });
      // and the container's own tools see the same bytes
      expect((await ex.exec('cat', ['/work/utf8.txt'])).stdout).toBe(text);
    });

    it('replaces a file on a second writeFile, and writes an empty file', async () => {
      await ex.writeFile('/work/twice.txt', 'a long first version\n');
      await ex.writeFile('/work/twice.txt', 'short\n');
      expect(await ex.readFile('/work/twice.txt')).toBe('short\n');
      await ex.writeFile('/work/empty.txt', '');
      expect(await ex.readFile('/work/empty.txt')).toBe('');
    });

    it('handles long non-ASCII file names', async () => {
      const name = `${'é'.repeat(60)}-${'x'.repeat(80)}.txt`;
      await ex.writeFile(`/work/${name}`, 'long name\n');
      expect(await ex.readDir('/work')).toContain(name);
      expect(await ex.readFile(`/work/${name}`)).toBe('long name\n');
    });

    it('writes files owned by the executor user', async () => {
      await ex.mkdir('/work/u', { mode: 0o777 });
      await asUser.writeFile('/work/u/mine.txt', 'x');
      expect(await asUser.stat('/work/u/mine.txt')).toMatchObject({ uid: 1000 });
      expect(await asUser.mkdir('/work/u/dir')).toBe(true);
      expect(await ex.stat('/work/u/dir')).toMatchObject({ uid: 1000, isDirectory: true });
    });

    it('readFile rejects with ENOENT for a missing file, EISDIR for a directory, and follows symlinks', async () => {
      await expect(ex.readFile('/work/missing.txt')).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(ex.readFile('/work')).rejects.toMatchObject({ code: 'EISDIR' });
      await ex.writeFile('/work/target.txt', 'through the link\n');
      await ex.exec('ln', ['-sfn', 'target.txt', '/work/link.txt']);
      expect(await ex.readFile('/work/link.txt')).toBe('through the link\n');
    });

    it('writeFile writes through a symbolic link (the link stays a link), also a dangling one', async () => {
      await ex.mkdir('/work/wl', { recursive: true });
      await ex.writeFile('/work/wl/target.txt', 'old\n');
      expect((await ex.exec('ln', ['-sfn', 'target.txt', '/work/wl/link.txt'])).exitCode).toBe(0);
      await ex.writeFile('/work/wl/link.txt', 'new through the link\n');
      expect(await ex.stat('/work/wl/link.txt')).toMatchObject({ isSymbolicLink: true });
      expect((await ex.exec('readlink', ['/work/wl/link.txt'])).stdout).toBe('target.txt\n');
      expect((await ex.exec('cat', ['/work/wl/target.txt'])).stdout).toBe('new through the link\n');
      // a dangling link: the file it names is created, the link stays
      expect((await ex.exec('ln', ['-sfn', 'made.txt', '/work/wl/dangling.txt'])).exitCode).toBe(0);
      await ex.writeFile('/work/wl/dangling.txt', 'made\n');
      expect(await ex.stat('/work/wl/dangling.txt')).toMatchObject({ isSymbolicLink: true });
      expect((await ex.exec('cat', ['/work/wl/made.txt'])).stdout).toBe('made\n');
    });

    it('writeFile rejects with ENOENT when the parent directory is missing', async () => {
      await expect(ex.writeFile('/work/no/such/dir/f.txt', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('stat reports the owner of a chowned file, and undefined for nothing', async () => {
      await ex.writeFile('/work/owned.txt', 'x');
      expect((await ex.exec('chown', ['1234:2345', '/work/owned.txt'])).exitCode).toBe(0);
      expect(await ex.stat('/work/owned.txt')).toMatchObject({ uid: 1234, gid: 2345, isFile: true });
      expect(await ex.stat('/work/nothing-here')).toBeUndefined();
      expect(await ex.stat('/work/nothing-here/below')).toBeUndefined();
    });

    it('stat does not follow a final symlink; exists does', async () => {
      await ex.exec('ln', ['-sfn', '/work/nowhere', '/work/dangling']);
      expect(await ex.stat('/work/dangling')).toMatchObject({ isSymbolicLink: true, isFile: false });
      expect(await ex.exists('/work/dangling')).toBe(false);
      expect(await ex.exists('/work')).toBe(true);
      expect(await ex.exists('/work/missing')).toBe(false);
    });

    it('mkdir without recursive is atomic: the second one resolves false', async () => {
      expect(await ex.mkdir('/work/lock')).toBe(true);
      expect(await ex.mkdir('/work/lock')).toBe(false);
      const results = await Promise.all([1, 2, 3, 4].map(() => ex.mkdir('/work/race')));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('mkdir recursive creates parents, with the mode, and answers false when it exists', async () => {
      expect(await ex.mkdir('/work/a/b/c', { recursive: true, mode: 0o750 })).toBe(true);
      expect(await ex.stat('/work/a/b/c')).toMatchObject({ isDirectory: true, mode: 0o750 });
      expect(await ex.mkdir('/work/a/b/c', { recursive: true })).toBe(false);
      await expect(ex.mkdir('/work/x/y')).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('readDir lists names (dotfiles too), sorted, or undefined', async () => {
      await ex.mkdir('/work/list');
      for (const n of ['b.txt', '.hidden', 'a dir', 'C']) await ex.writeFile(`/work/list/${n}`, n);
      expect(await ex.readDir('/work/list')).toEqual(['.hidden', 'C', 'a dir', 'b.txt']);
      expect(await ex.readDir('/work/no-such-dir')).toBeUndefined();
      expect(await ex.readDir('/work/list/C')).toBeUndefined();
    });

    it('readDir keeps a name containing a newline whole', async () => {
      await ex.mkdir('/work/nl');
      await ex.writeFile('/work/nl/two\nlines', 'x');
      await ex.writeFile('/work/nl/plain', 'x');
      expect(await ex.readDir('/work/nl')).toEqual(['plain', 'two\nlines']);
      await ex.mkdir('/work/nl-empty');
      expect(await ex.readDir('/work/nl-empty')).toEqual([]);
      // through a link to a directory, like the host's readdir
      expect((await ex.exec('ln', ['-sfn', '/work/nl', '/work/nl-link'])).exitCode).toBe(0);
      expect(await ex.readDir('/work/nl-link')).toEqual(['plain', 'two\nlines']);
    });

    it('remove deletes a file, a tree with recursive, and is quiet about nothing', async () => {
      await ex.writeFile('/work/gone.txt', 'x');
      await ex.remove('/work/gone.txt');
      expect(await ex.exists('/work/gone.txt')).toBe(false);
      await ex.mkdir('/work/tree/sub', { recursive: true });
      await ex.writeFile('/work/tree/sub/f', 'x');
      await expect(ex.remove('/work/tree')).rejects.toBeTruthy();
      await ex.remove('/work/tree', { recursive: true });
      expect(await ex.exists('/work/tree')).toBe(false);
      await ex.remove('/work/never-existed');
    });

    it('rename replaces the target and rejects with ENOENT for a missing source', async () => {
      await ex.writeFile('/work/new.tmp', 'new');
      await ex.writeFile('/work/final.txt', 'old');
      await ex.rename('/work/new.tmp', '/work/final.txt');
      expect(await ex.readFile('/work/final.txt')).toBe('new');
      expect(await ex.exists('/work/new.tmp')).toBe(false);
      await expect(ex.rename('/work/new.tmp', '/work/other')).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('writeFileAtomic: one exec makes the parents, writes with the mode, renames over the old file and leaves no temporary file', async () => {
      const before = ex.cost().roundTrips!;
      await ex.writeFileAtomic('/work/atomic/a/b/state.json', '{"v":1}\n', { mode: 0o600, parents: true });
      expect(ex.cost().roundTrips! - before).toBe(1);
      expect(await ex.readFile('/work/atomic/a/b/state.json')).toBe('{"v":1}\n');
      expect((await ex.stat('/work/atomic/a/b/state.json'))?.mode! & 0o777).toBe(0o600);
      expect((await ex.stat('/work/atomic/a'))?.mode! & 0o777).toBe(0o755);
      // The directories it made are not remembered as missing (it listed them afresh).
      expect(await ex.readDir('/work/atomic/a/b')).toEqual(['state.json']);
      await ex.writeFileAtomic('/work/atomic/a/b/state.json', 'two');
      expect(await ex.readFile('/work/atomic/a/b/state.json')).toBe('two');
      expect(await ex.readDir('/work/atomic/a/b')).toEqual(['state.json']);
      // Without `parents` a missing directory is ENOENT, and nothing is left behind.
      await expect(ex.writeFileAtomic('/work/atomic/missing/x.json', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await ex.exists('/work/atomic/missing')).toBe(false);
      // A target that is a directory: the rename fails, the temporary file is removed.
      await ex.mkdir('/work/atomic/dir', { recursive: true });
      await expect(ex.writeFileAtomic('/work/atomic/dir', 'x')).rejects.toBeTruthy();
      expect((await ex.readDir('/work/atomic'))?.sort()).toEqual(['a', 'dir']);
    });

    it('a fence: programs (and the writes they carry) run only while the lock file holds the token; the owner write itself is carried first; lifting it restores the one before', async () => {
      const other = await DockerExecutor.connect(box.id, { engine: engine! }); // another process's view: no fence
      await ex.mkdir('/work/fence/lock', { recursive: true });
      const owner = '/work/fence/lock/owner.json';
      // The lock's first exec carries the owner file and then passes its own fence.
      await ex.writeFileAtomic(owner, JSON.stringify({ pid: 1, token: 'tok-A' }), { defer: true });
      const lift = ex.fence({ file: owner, token: 'tok-A' });
      expect((await ex.exec('touch', ['/work/fence/ran-1'])).exitCode).toBe(0);
      // A lock held while holding this one: its fence applies, then this one's again.
      await other.writeFile('/work/fence/inner.json', '{"token":"tok-I"}');
      const liftInner = ex.fence({ file: '/work/fence/inner.json', token: 'tok-I' });
      expect((await ex.exec('touch', ['/work/fence/ran-inner'])).exitCode).toBe(0);
      liftInner();
      // Taken over: another holder's token. Nothing runs, nothing deferred is written.
      await other.writeFile(owner, JSON.stringify({ pid: 2, token: 'tok-B' }));
      await ex.writeFileAtomic('/work/fence/state.json', 'late', { defer: true });
      await expect(ex.exec('touch', ['/work/fence/ran-2'])).rejects.toMatchObject({ code: 'LOCK_STALE', message: expect.stringContaining('/work/fence/lock') });
      await expect(ex.writeFileAtomic('/work/fence/now.json', 'x')).rejects.toMatchObject({ code: 'LOCK_STALE' });
      // The lock gone altogether: the same.
      await other.remove('/work/fence/lock', { recursive: true });
      await expect(ex.exec('touch', ['/work/fence/ran-3'])).rejects.toMatchObject({ code: 'LOCK_STALE' });
      expect((await other.readDir('/work/fence'))?.sort()).toEqual(['inner.json', 'ran-1', 'ran-inner']);
      lift();
      expect((await ex.exec('touch', ['/work/fence/ran-4'])).exitCode).toBe(0);
      expect(await other.exists('/work/fence/ran-4')).toBe(true);
    });

    it('writeFileAtomic with defer: made, in order, at the start of the next program run, in its round trip', async () => {
      const before = ex.cost().roundTrips!;
      await ex.writeFileAtomic('/work/deferred/a/state.json', 'first', { parents: true, defer: true });
      await ex.writeFileAtomic('/work/deferred/a/state.json', 'second', { mode: 0o600, defer: true });
      expect(ex.cost().roundTrips! - before).toBe(0); // nothing sent yet
      // The program sees both writes made (the second over the first), before it starts.
      const r = await ex.exec('cat', ['/work/deferred/a/state.json']);
      expect(r.stdout).toBe('second');
      expect(ex.cost().roundTrips! - before).toBe(1);
      expect((await ex.stat('/work/deferred/a/state.json'))?.mode! & 0o777).toBe(0o600);
      expect(await ex.readDir('/work/deferred/a')).toEqual(['state.json']); // no temporary file left
      // A read through the archive API of a file still deferred makes the write first.
      await ex.writeFileAtomic('/work/deferred/a/state.json', 'third', { defer: true });
      expect(await ex.readFile('/work/deferred/a/state.json')).toBe('third');
      // A file operation carries them too, as the executor's user.
      await ex.mkdir('/work/deferred/u', { recursive: true });
      await ex.exec('chown', ['1000', '/work/deferred/u']);
      await asUser.writeFileAtomic('/work/deferred/u/mine', 'x', { defer: true });
      expect(await asUser.exists('/work/deferred/u/mine')).toBe(true);
      expect((await ex.stat('/work/deferred/u/mine'))?.uid).toBe(1000);
      // A prefetch with nothing to read still carries them (it is the next operation).
      await ex.writeFileAtomic('/work/deferred/by-prefetch', 'p', { defer: true });
      await ex.prefetch([]);
      const other = await DockerExecutor.connect(box.id, { engine: engine! });
      expect(await other.readFile('/work/deferred/by-prefetch')).toBe('p');
      // Another user's program, on an executor sharing what this one holds (asUser): root's write
      // is made first, as root, then the program runs as its user.
      const user = await ex.asUser('1000');
      await ex.writeFileAtomic('/work/deferred/u/root-owned', 'r', { defer: true });
      expect((await user.exec('cat', ['/work/deferred/u/root-owned'])).stdout).toBe('r');
      expect((await ex.stat('/work/deferred/u/root-owned'))?.uid).toBe(0);
      // And the other way round.
      await user.writeFileAtomic('/work/deferred/u/user-owned', 'u', { defer: true });
      expect((await ex.exec('cat', ['/work/deferred/u/user-owned'])).stdout).toBe('u');
      expect((await ex.stat('/work/deferred/u/user-owned'))?.uid).toBe(1000);
    });

    it('prefetch: one exec, and every answer the same as the single read would give (missing, denied, links, files)', async () => {
      await ex.mkdir('/work/pf/dir/sub', { recursive: true });
      await ex.writeFile('/work/pf/dir/file', 'two lines\n\n');
      await ex.writeFile('/work/pf/dir/été', 'ü');
      await ex.exec('ln', ['-sfn', 'file', '/work/pf/dir/link']);
      await ex.exec('ln', ['-sfn', 'nowhere', '/work/pf/dir/dangling']);
      await ex.mkdir('/work/pf/closed/inner', { recursive: true });
      await ex.writeFile('/work/pf/closed/inner/f', 'x');
      await ex.exec('chmod', ['700', '/work/pf/closed']);
      const paths = ['/work/pf/dir', '/work/pf/dir/file', '/work/pf/dir/été', '/work/pf/dir/link', '/work/pf/dir/dangling', '/work/pf/dir/missing',
        '/work/pf/dir/file/below', '/work/pf/closed/inner/f', '/work/pf/closed/inner', '/work/pf/nope/deeper/x'];
      const ops = ['stat', 'exists', 'readFile', 'readDir', 'realpath'] as const;
      for (const who of [ex, asUser]) {
        const single = await DockerExecutor.connect(box.id, { engine: engine!, user: who === ex ? undefined : '1000' });
        const batched = await DockerExecutor.connect(box.id, { engine: engine!, user: who === ex ? undefined : '1000' });
        await batched.prefetch(paths.flatMap((path) => ops.map((op) => ({ op, path }))));
        const before = batched.cost().roundTrips!;
        const answer = async (e: DockerExecutor, op: (typeof ops)[number], path: string) => {
          try {
            return { value: await (e[op] as (p: string) => Promise<unknown>).call(e, path) };
          } catch (err) {
            return { code: (err as NodeJS.ErrnoException).code };
          }
        };
        const fromBatch = [];
        for (const path of paths) for (const op of ops) fromBatch.push(await answer(batched, op, path));
        expect(batched.cost().roundTrips! - before).toBe(0); // every answer came from the batch
        let i = 0;
        for (const path of paths) {
          for (const op of ops) expect(fromBatch[i++], `${op} ${path} as ${who === ex ? 'root' : '1000'}`).toEqual(await answer(single, op, path));
        }
      }
    });

    it('guessEnv is only a guess: the home comes from /etc/passwd, learnt with the first batch', async () => {
      const other = await createTestContainer(engine!);
      try {
        const setupEx = await DockerExecutor.connect(other.id, { engine: engine! });
        await setupEx.exec('sed', ['-i', 's#^root:\\([^:]*\\):0:0:\\([^:]*\\):/root:#root:\\1:0:0:\\2:/srv/roothome:#', '/etc/passwd']);
        const fresh = await DockerExecutor.connect(other.id, { engine: engine! });
        expect(fresh.guessEnv()?.HOME).toBe('/root'); // root's usual home: a guess for what to read ahead
        await fresh.prefetch([{ op: 'stat', path: '/' }]);
        const before = fresh.cost().roundTrips!;
        expect((await fresh.getEnv()).HOME).toBe('/srv/roothome'); // the truth, from the batch
        expect(fresh.cost().roundTrips! - before).toBe(0);
        expect(fresh.guessEnv()?.HOME).toBe('/root');
        // Another user without a home in the image: no guess.
        expect((await DockerExecutor.connect(other.id, { engine: engine!, user: '4321' })).guessEnv()).toBeUndefined();
      } finally {
        await other.remove();
      }
    });

    it('lazy reads ride on the next mkdir that makes its directory (a lock, then what it guards); flush makes held-back writes', async () => {
      await ex.mkdir('/work/guarded', { recursive: true });
      await ex.writeFile('/work/guarded/state', 'v1');
      const reads = [{ op: 'readFile' as const, path: '/work/guarded/state' }, { op: 'stat' as const, path: '/work/guarded/none' }];
      const fresh = await DockerExecutor.connect(box.id, { engine: engine! });
      await fresh.prefetch([{ op: 'stat', path: '/' }]); // the passwd entry learnt
      let before = fresh.cost().roundTrips!;
      await fresh.prefetch(reads, { lazy: true });
      expect(await fresh.mkdir('/work/guarded.lock', { mode: 0o755 })).toBe(true);
      expect(await fresh.readFile('/work/guarded/state')).toBe('v1');
      expect(await fresh.stat('/work/guarded/none')).toBeUndefined();
      expect(fresh.cost().roundTrips! - before).toBe(1); // the mkdir's exec made the reads too
      // A directory that is there (a lock someone holds): false, nothing learnt, the reads kept for the next batch.
      await ex.writeFile('/work/guarded/state', 'v2');
      const other = await DockerExecutor.connect(box.id, { engine: engine! });
      await other.prefetch([{ op: 'stat', path: '/' }]);
      await other.prefetch(reads, { lazy: true });
      expect(await other.mkdir('/work/guarded.lock', { mode: 0o755 })).toBe(false);
      before = other.cost().roundTrips!;
      await other.prefetch([]);
      expect(await other.readFile('/work/guarded/state')).toBe('v2');
      expect(other.cost().roundTrips! - before).toBe(1);
      // flush: nothing held back, no round trip; a deferred write, one.
      before = other.cost().roundTrips!;
      await other.flush();
      expect(other.cost().roundTrips! - before).toBe(0);
      await other.writeFileAtomic('/work/guarded/flushed', 'f', { defer: true });
      await other.flush();
      expect(other.cost().roundTrips! - before).toBe(1);
      expect((await ex.exec('cat', ['/work/guarded/flushed'])).stdout).toBe('f');
    });

    it('writeFileAtomic with defer: a write that fails fails the operation that carries it, which does not run', async () => {
      await ex.writeFileAtomic('/work/deferred-bad/missing/x.json', 'x', { defer: true }); // no parents: ENOENT
      const err = await ex.exec('touch', ['/work/ran']).catch((e) => e);
      expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/work/deferred-bad/missing/x.json' });
      expect(await ex.exists('/work/ran')).toBe(false); // the program never ran
      // Reported once: the next operation runs normally.
      expect((await ex.exec('true', [])).exitCode).toBe(0);
      // A prefetch (otherwise best effort) reports a write it carried that failed.
      await ex.writeFileAtomic('/work/deferred-bad/missing/y.json', 'y', { defer: true });
      await expect(ex.prefetch([{ op: 'stat', path: '/work' }])).rejects.toMatchObject({ code: 'ENOENT' });
      // A write's failure is not learnt as the answer of the read that carried it.
      await ex.writeFileAtomic('/work/deferred-bad/missing/z.json', 'z', { defer: true });
      await expect(ex.stat('/work')).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await ex.stat('/work'))?.isDirectory).toBe(true);
    });

    it('realpath resolves links and rejects with ENOENT for nothing', async () => {
      await ex.mkdir('/work/real/inner', { recursive: true });
      await ex.exec('ln', ['-sfn', '/work/real', '/work/alias']);
      expect(await ex.realpath('/work/alias/inner/../inner')).toBe('/work/real/inner');
      await expect(ex.realpath('/work/alias/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('getEnv', () => {
    it('is the container environment with HOME of the user', async () => {
      const env = await ex.getEnv();
      expect(env).toMatchObject({ FROM_IMAGE: 'yes', HOME: '/root', LANG: 'C.UTF-8' });
      expect(env.PATH).toContain('/usr/bin');
      const userEnv = await asUser.getEnv();
      expect(userEnv).toMatchObject({ HOME: '/', PYMGR_X: 'from-connect' });
      // what programs actually see agrees
      expect((await asUser.exec('printenv', ['HOME'])).stdout).toBe(`${userEnv.HOME}\n`);
    });

    it('a passwd user whose home it cannot write (nobody: /nonexistent) gets a private home', async () => {
      const nobody = await ex.asUser('nobody');
      const home = (await nobody.getEnv()).HOME;
      expect(home).toMatch(/\/pymgr-home-65534$/);
      expect((await nobody.exec('sh', ['-c', 'mkdir -p "$HOME/.cache/pymgr" && echo ok'])).stdout).toBe('ok\n');
    });
  });
});
