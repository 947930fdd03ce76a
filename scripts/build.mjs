// Builds pymgr: bundled ESM for the CLI (fast start-up: one file for the common path, lazily
// loaded chunks for the rest) and for the library, plus type declarations (`--no-types` skips them).
// dockerode and cosmiconfig stay external: they are imported lazily by the code paths that need them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// Build beside dist/ and swap it in, so a CLI started meanwhile (another test run) never sees
// a half-written or missing dist/.
const out = `.dist-build-${process.pid}`;
rmSync(out, { recursive: true, force: true });
// What both bundles share: ESM for Node 20, split into chunks, the lazily loaded packages outside.
const common = {
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['dockerode', 'cosmiconfig', 'ssh2', 'cpu-features'],
  define: { PYMGR_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: out,
  banner: { js: "import { createRequire as __pymgrCreateRequire } from 'node:module'; const require = __pymgrCreateRequire(import.meta.url);" },
});
// The warm no-op's own bundle (bin/pymgr.mjs imports it first for `setup` and `detect`): the
// host's path in one file; what only a container needs (the Engine API over node:http) in chunks
// of its own, loaded only then.
await build({ ...common, entryPoints: { quick: 'src/cli/quick.ts' }, outdir: `${out}/quick` });
if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', `${out}/types`], { stdio: 'inherit' });
}
const old = `.dist-old-${process.pid}`;
if (existsSync('dist')) renameSync('dist', old);
renameSync(out, 'dist');
rmSync(old, { recursive: true, force: true });
