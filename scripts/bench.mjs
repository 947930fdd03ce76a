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
//          also:   uv pip install --python <venv> -r requirements.txt on the satisfied env
//
// Usage: npm run bench [-- --runs N --fixture NAME]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', 7));
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

  const f = (x) => `${x.toFixed(0).padStart(6)} ms`;
  const ratio = (a, b) => (a / b).toFixed(2) + 'x';
  const floor = median(warm.node) + median(warm.python);
  console.log(`pymgr benchmark — fixture ${FIXTURE}, ${RUNS} cold runs, ${RUNS * 2} warm runs, uv ${first.provider.version}, Python ${first.python.version}`);
  console.log('');
  console.log(`cold  pymgr setup                      ${f(median(cold.pymgr))}`);
  console.log(`cold  raw uv venv + uv pip install     ${f(median(cold.raw))}`);
  console.log(`      ratio pymgr / raw uv             ${ratio(median(cold.pymgr), median(cold.raw))}   (goal <= 1.15x)`);
  console.log('');
  console.log(`warm  pymgr setup (no-op)              ${f(median(warm.pymgr))}`);
  console.log(`warm  floor: node -e 0 + python start  ${f(floor)}   (${median(warm.node).toFixed(0)} + ${median(warm.python).toFixed(0)})`);
  console.log(`      ratio pymgr / floor              ${ratio(median(warm.pymgr), floor)}   (goal <= 1.5x)`);
  console.log(`warm  uv pip install -r (satisfied)    ${f(median(warm.uvPip))}`);
  console.log(`      ratio pymgr / uv pip install     ${ratio(median(warm.pymgr), median(warm.uvPip))}`);
  if (hasTime) {
    console.log('');
    console.log(`max RSS  pymgr cold ${median(cold.pymgrRss)} KB, pymgr warm ${median(warm.pymgrRss)} KB`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
