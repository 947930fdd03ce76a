// Builds pymgr: bundled ESM for the CLI (fast start-up: one file for the common path, lazily
// loaded chunks for the rest) and for the library, plus type declarations (`--no-types` skips them).
// dockerode and cosmiconfig stay external: they are imported lazily by the code paths that need them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['dockerode', 'cosmiconfig', 'ssh2', 'cpu-features'],
  define: { PYMGR_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __pymgrCreateRequire } from 'node:module'; const require = __pymgrCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
