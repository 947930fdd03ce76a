#!/usr/bin/env node
// Benchmark: pymgr against the hand-written uv commands doing the same work, in one run, so the
// ratios compare like with like on this machine now. Prints medians and ratios; no assertions.
//
//   cold:  a fresh copy of the fixture -> a verified venv
//          pymgr:  pymgr setup <dir> --provider uv
//          raw:    uv venv --python <same interpreter> <dir>/.venv && uv pip install --python <venv> -r requirements.txt
//   warm:  the same project again, nothing changed
//          pymgr:  pymgr setup <dir>
//          floor:  node -e 0  +  <venv>/bin/python -c pass   (one Node start and one interpreter start)
//          and the same for an env pyenv built (provider: pyenv in its .pymgrrc.json), when pyenv is here
//          also:   uv pip install --python <venv> -r requirements.txt on the satisfied env
//   update: a 60-package env (local wheels, offline) gets one more requirement
//          pymgr:  pymgr setup <dir> --provider uv --offline --find-links <wheels>  (updated in place,
//                  the previous env kept as a hard-link snapshot until the update verifies)
//          raw:    uv pip install --python <venv> --offline --find-links <wheels> -r requirements.txt
//          also:   the snapshot alone (cp -al of the venv, then rm -rf of the copy), and the same
//                  update through the library's setup() in one running process (no Node start);
//                  and the floors of any verified update: the raw command plus one start of the
//                  venv's interpreter (`-I -c pass`), plus `node -e 0` for the CLI
//
//   detect: detect() over 1,000 small projects in one process (goal <= 1 s), and `pymgr detect` on one
//          project against `node -e 0` (goal <= 1.3x)
//   docker (when an engine answers; a container of the test image, 2 local wheels, the host's uv):
//          warm  pymgr setup /proj --docker c   vs  docker exec c /proj/.venv/bin/python -c pass (goal <= 3x)
//          cold  pymgr setup (fresh project)    vs  one docker exec of sh -c 'uv venv ... && uv pip install ...' (goal <= 1.3x)
//          warm through a proxy adding 20 ms to every Engine API request (DOCKER_HOST=tcp://...) (goal <= 0.3 s)
//          and the round trips each pymgr run reported (its --json `roundTrips`)
//   fleet (when the second engine answers: scripts/docker-engine2.sh): 12 projects, 8 packages each
//          from a pool of 16 local wheels (overlapping), offline
//          fleet:       buildEnvironments over both engines, concurrency 3, uv's cache on one fresh
//                       volume per engine
//          one by one:  the same 12 envs on the first engine, one at a time, no shared cache
//          and the share of installed packages served from the cache (1 - wheels unpacked into the
//          engines' cache volumes / packages installed)
//
// Usage: npm run bench [-- --runs N --fixture NAME --only host,detect,docker,fleet]
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', 7));
const ONLY = new Set((arg('only', 'host,detect,docker,fleet') ?? '').split(','));
const FIXTURE = arg('fixture', 'quickstart');
const pymgr = join(root, 'bin', 'pymgr.mjs');
const hasTime = existsSync('/usr/bin/time');

function run(cmd, args, opts = {}) {
  const argv = hasTime ? ['/usr/bin/time', ['-f', '%M', cmd, ...args]] : [cmd, args];
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv[1], { encoding: 'utf8', ...opts });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) {
    process.stderr.write(`bench: ${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}\n`);
    process.exit(1);
  }
  const rssKb = hasTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { ms, rssKb, stdout: r.stdout };
}

// Tiny wheels for the update row: benchpkg-0..N-1 and benchnew-0..M-1, 20 modules each.
const WHEELS = String.raw`
import base64, hashlib, os, sys, zipfile
out, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def build(name):
    mod = name.replace("-", "_"); dist = mod + "-1.0"
    files = {mod + "/__init__.py": "VALUE = 1\n", dist + ".dist-info/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name,
             dist + ".dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: pymgr-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    for i in range(20): files["%s/m%d.py" % (mod, i)] = "y = %d\n" % i * 30
    record = []
    with zipfile.ZipFile(os.path.join(out, dist + "-py3-none-any.whl"), "w") as z:
        for fn, text in files.items():
            data = text.encode(); z.writestr(fn, data)
            record.append("%s,sha256=%s,%d" % (fn, base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), len(data)))
        record.append(dist + ".dist-info/RECORD,,")
        z.writestr(dist + ".dist-info/RECORD", "\n".join(record) + "\n")
for i in range(n): build("benchpkg-%d" % i)
for i in range(m): build("benchnew-%d" % i)
`;

/** A TCP front for the engine's socket that holds every chunk a client sends for N ms (argv: port, socket, ms). */
const LATENCY_PROXY = String.raw`
const net = require('net');
const [port, socket, ms] = process.argv.slice(1);
net.createServer({ allowHalfOpen: true }, (client) => {
  const engine = net.connect({ path: socket, allowHalfOpen: true });
  client.on('data', (chunk) => setTimeout(() => engine.write(chunk), Number(ms)));
  engine.pipe(client);
  client.on('error', () => engine.destroy());
  engine.on('error', () => client.destroy());
  client.on('end', () => setTimeout(() => engine.end(), Number(ms)));
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
`;

const f = (x) => `${x.toFixed(0).padStart(6)} ms`;
const ratio = (a, b) => (a / b).toFixed(2) + 'x';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const work = mkdtempSync(join(tmpdir(), 'pymgr-bench-'));
let n = 0;
const freshCopy = () => {
  const dir = join(work, `p${n++}`);
  cpSync(join(root, 'fixtures', FIXTURE), dir, { recursive: true });
  rmSync(join(dir, '.venv'), { recursive: true, force: true });
  return dir;
};

try {
  if (!existsSync(join(root, 'dist', 'cli.js'))) run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--no-types']);
  if (ONLY.has('host')) benchHost();
  if (ONLY.has('detect')) await benchDetect();
  if (ONLY.has('docker')) await benchDocker();
  if (ONLY.has('fleet')) await benchFleet();
} finally {
  rmSync(work, { recursive: true, force: true });
}

function benchHost() {
  // One pymgr setup tells us which uv and which interpreter it uses; the raw commands use the same.
  const probeDir = freshCopy();
  const first = JSON.parse(run(process.execPath, [pymgr, 'setup', probeDir, '--provider', 'uv', '--json']).stdout);
  const uv = first.provider.path;
  const base = first.python.base;
  const req = (dir) => join(dir, 'requirements.txt');
  const raw = (dir) => {
    const a = run(uv, ['venv', '--quiet', '--no-project', '--python', base, join(dir, '.venv')]);
    const b = run(uv, ['pip', 'install', '--quiet', '--python', join(dir, '.venv', 'bin', 'python'), '-r', req(dir)], { cwd: dir });
    return { ms: a.ms + b.ms, rssKb: Math.max(a.rssKb, b.rssKb) };
  };
  raw(freshCopy()); // warm uv's cache for both sides

  const cold = { pymgr: [], raw: [], pymgrRss: [] };
  for (let i = 0; i < RUNS; i++) {
    const r = raw(freshCopy());
    cold.raw.push(r.ms);
    const p = run(process.execPath, [pymgr, 'setup', freshCopy(), '--provider', 'uv', '--json']);
    cold.pymgr.push(p.ms);
    cold.pymgrRss.push(p.rssKb);
  }

  const dir = freshCopy();
  run(process.execPath, [pymgr, 'setup', dir, '--json']);
  const venvPython = join(dir, '.venv', 'bin', 'python');
  const warm = { pymgr: [], node: [], python: [], uvPip: [], pymgrRss: [] };
  for (let i = 0; i < RUNS * 2; i++) {
    const p = run(process.execPath, [pymgr, 'setup', dir, '--json']);
    if (JSON.parse(p.stdout).venv.action !== 'reused') throw new Error('warm run was not a no-op');
    warm.pymgr.push(p.ms);
    warm.pymgrRss.push(p.rssKb);
    warm.node.push(run(process.execPath, ['-e', '0']).ms);
    warm.python.push(run(venvPython, ['-c', 'pass']).ms);
    warm.uvPip.push(run(uv, ['pip', 'install', '--quiet', '--python', venvPython, '-r', req(dir)], { cwd: dir }).ms);
  }

  // Update in place: 60 local wheels, then one added requirement per run (a new one each time).
  const wheels = join(work, 'wheels');
  mkdirSync(wheels);
  run(base, ['-c', WHEELS, wheels, '60', String(RUNS + 1)]);
  const offline = ['--offline', '--find-links', wheels];
  const sixty = Array.from({ length: 60 }, (_, i) => `benchpkg-${i}==1.0`);
  const upd = { pymgr: [], raw: [], snapshot: [], python: [], node: [] };
  const pdir = join(work, 'update-pymgr');
  const rdir = join(work, 'update-raw');
  for (const d of [pdir, rdir]) {
    mkdirSync(d);
    writeFileSync(join(d, 'requirements.txt'), sixty.join('\n') + '\n');
  }
  run(process.execPath, [pymgr, 'setup', pdir, '--provider', 'uv', '--python', first.python.version, ...offline, '--json']);
  run(uv, ['venv', '--quiet', '--no-project', '--python', base, join(rdir, '.venv')]);
  const rawPython = join(rdir, '.venv', 'bin', 'python');
  run(uv, ['pip', 'install', '--quiet', '--python', rawPython, ...offline, '-r', join(rdir, 'requirements.txt')], { cwd: rdir });
  for (let i = 0; i < RUNS; i++) {
    for (const d of [pdir, rdir]) appendFileSync(join(d, 'requirements.txt'), `benchnew-${i}==1.0\n`);
    const p = run(process.execPath, [pymgr, 'setup', pdir, '--provider', 'uv', '--python', first.python.version, ...offline, '--json']);
    if (JSON.parse(p.stdout).venv.action !== 'updated') throw new Error('the added requirement was not an update in place');
    upd.pymgr.push(p.ms);
    upd.raw.push(run(uv, ['pip', 'install', '--quiet', '--python', rawPython, ...offline, '-r', join(rdir, 'requirements.txt')], { cwd: rdir }).ms);
    const copy = join(work, `snapshot-${i}`);
    upd.snapshot.push(run('cp', ['-a', '-l', join(pdir, '.venv'), copy]).ms + run('rm', ['-rf', copy]).ms);
    // The floors: one start of the venv's interpreter (as the checks start it), one Node start.
    upd.python.push(run(join(pdir, '.venv', 'bin', 'python'), ['-I', '-c', 'pass']).ms);
    upd.node.push(run(process.execPath, ['-e', '0']).ms);
  }

  // The same update through the library, in one running process (what an environment builder
  // pays: no Node start, no module loading), against the raw command timed in that process too.
  const ldir = join(work, 'update-library');
  const lraw = join(work, 'update-library-raw');
  for (const d of [ldir, lraw]) {
    mkdirSync(d);
    writeFileSync(join(d, 'requirements.txt'), sixty.join('\n') + '\n');
  }
  run(uv, ['venv', '--quiet', '--no-project', '--python', base, join(lraw, '.venv')]);
  const lrawPython = join(lraw, '.venv', 'bin', 'python');
  const rawArgs = ['pip', 'install', '--quiet', '--python', lrawPython, ...offline, '-r', join(lraw, 'requirements.txt')];
  run(uv, rawArgs, { cwd: lraw });
  const libScript = `
    import { appendFileSync } from 'node:fs';
    import { execFileSync } from 'node:child_process';
    const { setup } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
    const dir = ${JSON.stringify(ldir)}, raw = ${JSON.stringify(lraw)};
    const flags = { provider: 'uv', python: ${JSON.stringify(first.python.version)}, index: { offline: true, findLinks: [${JSON.stringify(wheels)}] } };
    await setup({ projectDir: dir, flags });
    const out = { library: [], raw: [] };
    for (let i = 0; i < ${RUNS}; i++) {
      for (const d of [dir, raw]) appendFileSync(d + '/requirements.txt', 'benchnew-' + i + '==1.0\\n');
      let t = performance.now();
      const r = await setup({ projectDir: dir, flags });
      out.library.push(performance.now() - t);
      if (r.venv.action !== 'updated') throw new Error('the added requirement was not an update in place');
      t = performance.now();
      execFileSync(${JSON.stringify(uv)}, ${JSON.stringify(rawArgs)}, { cwd: raw });
      out.raw.push(performance.now() - t);
    }
    console.log(JSON.stringify(out));`;
  const lib = JSON.parse(run(process.execPath, ['--input-type=module', '-e', libScript]).stdout);

  // The same warm no-op for an env pyenv built (when pyenv is here): its own floor, measured alongside.
  const pyenvWarm = benchPyenvWarm();

  const floor = median(warm.node) + median(warm.python);
  console.log(`pymgr benchmark — fixture ${FIXTURE}, ${RUNS} cold runs, ${RUNS * 2} warm runs, uv ${first.provider.version}, Python ${first.python.version}`);
  console.log('');
  console.log(`cold  pymgr setup                      ${f(median(cold.pymgr))}`);
  console.log(`cold  raw uv venv + uv pip install     ${f(median(cold.raw))}`);
  console.log(`      ratio pymgr / raw uv             ${ratio(median(cold.pymgr), median(cold.raw))}   (goal <= 1.15x)`);
  console.log('');
  console.log(`warm  pymgr setup (no-op)              ${f(median(warm.pymgr))}`);
  console.log(`warm  floor: node -e 0 + python start  ${f(floor)}   (${median(warm.node).toFixed(0)} + ${median(warm.python).toFixed(0)})`);
  console.log(`      ratio pymgr / floor              ${ratio(median(warm.pymgr), floor)}   (goal <= 1.2x)`);
  if (pyenvWarm) {
    const pyFloor = median(pyenvWarm.node) + median(pyenvWarm.python);
    console.log(`warm  pymgr setup (no-op), pyenv env   ${f(median(pyenvWarm.pymgr))}`);
    console.log(`warm  floor for it                     ${f(pyFloor)}   (${median(pyenvWarm.node).toFixed(0)} + ${median(pyenvWarm.python).toFixed(0)})`);
    console.log(`      ratio pymgr / floor              ${ratio(median(pyenvWarm.pymgr), pyFloor)}   (goal <= 1.2x)`);
  } else {
    console.log('warm  pyenv env: skipped (no pyenv with a Python 3 here)');
  }
  console.log(`warm  uv pip install -r (satisfied)    ${f(median(warm.uvPip))}`);
  console.log(`      ratio pymgr / uv pip install     ${ratio(median(warm.pymgr), median(warm.uvPip))}`);
  console.log('');
  console.log(`update pymgr setup (+1 req, 60 pkgs)   ${f(median(upd.pymgr))}`);
  console.log(`update raw uv pip install -r           ${f(median(upd.raw))}`);
  console.log(`      ratio pymgr / raw uv             ${ratio(median(upd.pymgr), median(upd.raw))}   (goal <= 1.5x)`);
  console.log(`update snapshot alone (cp -al + rm -rf) ${f(median(upd.snapshot))}`);
  console.log(`      pymgr minus raw                  ${f(median(upd.pymgr) - median(upd.raw))}   (Node start, detection, checks, the snapshot: it overlaps the first check)`);
  const pyFloor = median(upd.raw) + median(upd.python);
  console.log(`update floor: raw + venv python -I     ${f(pyFloor)}   (${ratio(pyFloor, median(upd.raw))} of raw: any verified update, no snapshot, no Node)`);
  console.log(`update floor: the same + node -e 0     ${f(pyFloor + median(upd.node))}   (${ratio(pyFloor + median(upd.node), median(upd.raw))} of raw: the CLI's floor)`);
  console.log(`update library setup(), one process    ${f(median(lib.library))}`);
  console.log(`update raw uv, timed in that process  ${f(median(lib.raw))}`);
  console.log(`      ratio library / raw uv           ${ratio(median(lib.library), median(lib.raw))}   (no Node start: what an environment builder pays)`);
  if (hasTime) {
    console.log('');
    console.log(`max RSS  pymgr cold ${median(cold.pymgrRss)} KB, pymgr warm ${median(warm.pymgrRss)} KB`);
  }
  console.log('');
}


/** The warm no-op of an env pyenv built (the fixture, from PyPI through pip), against node -e 0 + its interpreter. */
function benchPyenvWarm() {
  const hasPyenv = spawnSync('pyenv', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!hasPyenv) return undefined;
  const dir = freshCopy();
  // The provider in the project's config: a plain `pymgr setup <dir>` is what takes the fast path.
  writeFileSync(join(dir, '.pymgrrc.json'), JSON.stringify({ provider: 'pyenv' }));
  const made = spawnSync(process.execPath, [pymgr, 'setup', dir, '--json'], { encoding: 'utf8' });
  if (made.status !== 0) {
    process.stderr.write(`bench: the pyenv env could not be made, row skipped:\n${made.stdout}${made.stderr}\n`);
    return undefined;
  }
  const out = { pymgr: [], node: [], python: [] };
  const venvPython = join(dir, '.venv', 'bin', 'python');
  for (let i = 0; i < RUNS * 2; i++) {
    const p = run(process.execPath, [pymgr, 'setup', dir, '--json']);
    const o = JSON.parse(p.stdout);
    if (o.venv.action !== 'reused' || o.provider.name !== 'pyenv') throw new Error('warm pyenv run was not a no-op of the pyenv env');
    out.pymgr.push(p.ms);
    out.node.push(run(process.execPath, ['-e', '0']).ms);
    out.python.push(run(venvPython, ['-c', 'pass']).ms);
  }
  return out;
}

/** detect() over 1,000 small projects in one process, and one `pymgr detect` against `node -e 0`. */
async function benchDetect() {
  const many = join(work, 'many');
  for (let i = 0; i < 1000; i++) {
    mkdirSync(join(many, `p${i}`), { recursive: true });
    writeFileSync(join(many, `p${i}`, 'requirements.txt'), 'six==1.16.0\n');
  }
  const script = `
    const { detect } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
    await detect({ projectDir: ${JSON.stringify(join(many, 'p0'))} });
    const t = performance.now();
    for (let i = 0; i < 1000; i++) await detect({ projectDir: ${JSON.stringify(many)} + '/p' + i });
    console.log(performance.now() - t);`;
  const times = [];
  for (let i = 0; i < 3; i++) times.push(Number(run(process.execPath, ['--input-type=module', '-e', script]).stdout.trim()));
  const one = { pymgr: [], node: [], fresh: [] };
  for (let i = 0; i < RUNS * 2; i++) {
    one.pymgr.push(run(process.execPath, [pymgr, 'detect', join(many, 'p1'), '--json']).ms);
    one.node.push(run(process.execPath, ['-e', '0']).ms);
    // Nothing recorded yet (its own state directory each time): detection, then the record written.
    one.fresh.push(run(process.execPath, [pymgr, 'detect', join(many, 'p1'), '--json'], { env: { ...process.env, PYMGR_STATE_DIR: mkdtempSync(join(work, 'state-')) } }).ms);
  }
  console.log('detection');
  console.log(`detect() x 1,000 projects, one process ${f(median(times))}   (goal <= 1000 ms; the manager probe learnt once)`);
  console.log(`pymgr detect one project               ${f(median(one.pymgr))}`);
  console.log(`node -e 0                              ${f(median(one.node))}`);
  console.log(`      ratio pymgr detect / node        ${ratio(median(one.pymgr), median(one.node))}   (goal <= 1.3x; an unchanged project, answered from its record)`);
  console.log(`pymgr detect, nothing recorded yet     ${f(median(one.fresh))}   (${ratio(median(one.fresh), median(one.node))}; detection, then the record written)`);
  console.log('');
}

/** The container rows: see the header. Skipped, saying why, when no engine or image is there. */
async function benchDocker() {
  const docker = (...args) => spawnSync('docker', args, { encoding: 'utf8' });
  const image = process.env.PYMGR_TEST_DOCKER_IMAGE ?? 'pymgr-test/bookworm:1';
  if (docker('image', 'inspect', image).status !== 0) {
    console.log(`docker: skipped (no engine answering, or no image ${image}: scripts/docker-engine.sh, scripts/docker-base-image.sh)`);
    return;
  }
  const wheels = join(work, 'docker-wheels');
  mkdirSync(wheels);
  run('python3', ['-c', WHEELS, wheels, '2', '0']);
  const projects = join(work, 'docker-projects');
  mkdirSync(projects);
  const name = `pymgr-bench-${process.pid}`;
  const made = docker('run', '-d', '--rm', '--name', name, '-v', `${projects}:/projects`, '-v', `${wheels}:/wheels:ro`, image, 'sleep', 'infinity');
  if (made.status !== 0) throw new Error(`docker run failed: ${made.stderr}`);
  let proxy;
  try {
    let k = 0;
    const project = () => {
      const d = `p${k++}`;
      mkdirSync(join(projects, d));
      writeFileSync(join(projects, d, 'requirements.txt'), 'benchpkg-0==1.0\nbenchpkg-1==1.0\n');
      writeFileSync(join(projects, d, '.pymgrrc.json'), JSON.stringify({ provider: 'uv', index: { offline: true, findLinks: ['/wheels'] } }));
      return `/projects/${d}`;
    };
    const setup = (dir, env) => {
      const r = run(process.execPath, [pymgr, 'setup', dir, '--docker', name, '--json'], env ? { env: { ...process.env, ...env } } : {});
      return { ...r, out: JSON.parse(r.stdout) };
    };
    const first = setup(project()); // copies the host's uv in; its path and Python for the raw commands
    const uv = first.out.provider.path;
    const base = first.out.python.base;
    const cold = { pymgr: [], raw: [], trips: [] };
    for (let i = 0; i < RUNS; i++) {
      const p = setup(project());
      cold.pymgr.push(p.ms);
      cold.trips.push(p.out.roundTrips);
      const d = project();
      cold.raw.push(run('docker', ['exec', name, 'sh', '-c', `"$1" venv -q --no-project --python "$2" "$3/.venv" && "$1" pip install -q --python "$3/.venv/bin/python" --offline --find-links /wheels -r "$3/requirements.txt"`, 'sh', uv, base, d]).ms);
    }
    const dir = project();
    setup(dir);
    const warm = { pymgr: [], raw: [], trips: [] };
    for (let i = 0; i < RUNS * 2; i++) {
      const p = setup(dir);
      if (p.out.venv.action !== 'reused') throw new Error('warm container run was not a no-op');
      warm.pymgr.push(p.ms);
      warm.trips.push(p.out.roundTrips);
      warm.raw.push(run('docker', ['exec', name, `${dir}/.venv/bin/python`, '-c', 'pass']).ms);
    }
    // An engine 20 ms away: a proxy (its own process) delaying every request from pymgr by 20 ms.
    const port = 23750 + (process.pid % 1000);
    proxy = spawn(process.execPath, ['-e', LATENCY_PROXY, String(port), '/var/run/docker.sock', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => proxy.stdout.once('data', resolve));
    const far = [];
    const farTrips = [];
    // Once through the proxy first: DOCKER_HOST is part of the fast path's key (another engine may
    // have another container of that name), so that run records, the timed ones are the no-op.
    await runAsync(process.execPath, [pymgr, 'setup', dir, '--docker', name, '--json'], { DOCKER_HOST: `tcp://127.0.0.1:${port}` });
    for (let i = 0; i < RUNS * 2; i++) {
      const r = await runAsync(process.execPath, [pymgr, 'setup', dir, '--docker', name, '--json'], { DOCKER_HOST: `tcp://127.0.0.1:${port}` });
      const out = JSON.parse(r.stdout);
      if (out.venv.action !== 'reused') throw new Error('warm run through the proxy was not a no-op');
      far.push(r.ms);
      farTrips.push(out.roundTrips);
    }
    console.log('docker (a container of the test image, 2 packages from local wheels, the host uv copied in)');
    console.log(`warm  pymgr setup --docker (no-op)     ${f(median(warm.pymgr))}   round trips ${median(warm.trips)}`);
    console.log(`warm  docker exec c python -c pass     ${f(median(warm.raw))}`);
    console.log(`      ratio pymgr / docker exec        ${ratio(median(warm.pymgr), median(warm.raw))}   (goal <= 3x)`);
    console.log(`cold  pymgr setup --docker             ${f(median(cold.pymgr))}   round trips ${median(cold.trips)}`);
    console.log(`cold  one docker exec: uv venv + pip   ${f(median(cold.raw))}`);
    console.log(`      ratio pymgr / one docker exec    ${ratio(median(cold.pymgr), median(cold.raw))}   (goal <= 1.3x)`);
    console.log(`warm  +20 ms per Engine API request    ${f(median(far))}   round trips ${median(farTrips)}   (goal <= 300 ms)`);
    // The same container through the SSH engine (scripts/ssh-engine.sh), when it is there.
    const agent = `${process.env.PYMGR_SSHD_DIR ?? '/run/pymgr-sshd'}/agent.sock`;
    if (existsSync(agent)) {
      const sshEnv = { DOCKER_HOST: `ssh://root@127.0.0.1:${process.env.PYMGR_SSHD_PORT ?? 2222}`, SSH_AUTH_SOCK: agent };
      setup(dir, sshEnv); // records the fast path for this engine (DOCKER_HOST is part of its key)
      const over = { warm: [], cold: [], coldTrips: [] };
      for (let i = 0; i < RUNS; i++) {
        over.warm.push(setup(dir, sshEnv).ms);
        const c = setup(project(), sshEnv);
        over.cold.push(c.ms);
        over.coldTrips.push(c.out.roundTrips);
      }
      console.log(`warm  over SSH (ssh://root@127.0.0.1)  ${f(median(over.warm))}   vs the local socket ${ratio(median(over.warm), median(warm.pymgr))}`);
      console.log(`cold  over SSH                         ${f(median(over.cold))}   vs the local socket ${ratio(median(over.cold), median(cold.pymgr))}   round trips ${median(over.coldTrips)}`);
    } else {
      console.log('ssh   skipped (no SSH engine: scripts/ssh-engine.sh)');
    }
  } finally {
    proxy?.kill();
    docker('rm', '-f', name);
  }
}

async function benchFleet() {
  const image = process.env.PYMGR_TEST_DOCKER_IMAGE ?? 'pymgr-test/bookworm:1';
  const second = `${process.env.PYMGR_DOCKER2_DIR ?? '/run/pymgr-docker2'}/docker.sock`;
  const docker2 = (...args) => spawnSync('docker', ['-H', `unix://${second}`, ...args], { encoding: 'utf8' });
  if (spawnSync('docker', ['image', 'inspect', image]).status !== 0 || docker2('image', 'inspect', image).status !== 0) {
    console.log(`fleet: skipped (both engines must answer and have ${image}: scripts/docker-engine.sh, scripts/docker-engine2.sh)`);
    return;
  }
  const { buildEnvironments } = await import(join(root, 'dist', 'index.js'));
  const wheels = join(work, 'fleet-wheels');
  mkdirSync(wheels);
  run('python3', ['-c', WHEELS, wheels, '16', '0']);
  const envs = Array.from({ length: 12 }, (_, i) => {
    const dir = join(work, 'fleet', `f${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'requirements.txt'), Array.from({ length: 8 }, (_, j) => `benchpkg-${(i + j) % 16}==1.0\n`).join(''));
    return { name: `f${i}`, project: dir, image, mounts: [`${wheels}:/wheels:ro`], flags: { provider: 'uv', index: { offline: true, findLinks: ['/wheels'] } } };
  });
  const tag = `bench${process.pid}`;
  const volume = `pymgr-bench-uv-${process.pid}`;
  const engines = ['default', `unix://${second}`];
  const cleanup = () => {
    for (const d of [(...a) => spawnSync('docker', a, { encoding: 'utf8' }), docker2]) {
      for (const fleet of [`${tag}a`, `${tag}b`]) {
        const ids = d('ps', '-aq', '--filter', `label=io.pymgr.fleet=${fleet}`).stdout.trim().split('\n').filter(Boolean);
        if (ids.length) d('rm', '-f', ...ids);
      }
      d('volume', 'rm', '-f', volume);
    }
  };
  try {
    const t0 = process.hrtime.bigint();
    const alone = await buildEnvironments({ envs, engines: ['default'], fleet: `${tag}a`, concurrency: 1, caches: [] });
    const oneByOne = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    const fleet = await buildEnvironments({ envs, engines, fleet: `${tag}b`, concurrency: 3, caches: ['uv'], cacheVolumes: { uv: volume } });
    const together = Number(process.hrtime.bigint() - t1) / 1e6;
    for (const r of [alone, fleet]) if (!r.ok) throw new Error(`fleet failed: ${JSON.stringify(r.envs.filter((e) => e.status !== 'ready'))}`);
    const installed = fleet.envs.reduce((n, e) => n + (e.installed ?? 0), 0);
    // Wheels unpacked into each engine's cache volume: one archive entry per distinct wheel.
    let unpacked = 0;
    for (const d of [(...a) => spawnSync('docker', a, { encoding: 'utf8' }), docker2]) {
      const ls = d('run', '--rm', '-v', `${volume}:/c:ro`, image, 'sh', '-c', 'ls /c/archive-v0 | wc -l');
      unpacked += Number(ls.stdout.trim());
    }
    const placed = fleet.engines.map((e) => `${e.envs} on ${e.name === 'default' ? 'the first' : 'the second'}`).join(', ');
    console.log('fleet (12 projects x 8 packages from 16 local wheels, offline; the host uv copied into every container)');
    console.log(`one by one, first engine, no shared cache ${f(oneByOne)}`);
    console.log(`fleet: 2 engines, concurrency 3, shared   ${f(together)}   (${placed})`);
    console.log(`      ratio fleet / one by one             ${ratio(together, oneByOne)}`);
    console.log(`      packages served from the cache       ${(100 * (1 - unpacked / installed)).toFixed(0)}%   (${installed} installed, ${unpacked} wheels unpacked into the 2 cache volumes)`);
  } finally {
    cleanup();
  }
}

/** Like run(), without blocking this process (the proxy above is another process; pymgr's output is needed). */
function runAsync(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => (code === 0 ? resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, stdout }) : reject(new Error(`${cmd} ${args.join(' ')}: ${code}\n${stdout}${stderr}`))));
  });
}
