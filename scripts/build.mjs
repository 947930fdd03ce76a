// Builds pymgr: one bundled ESM file for the CLI (fast start-up) and one for the library,
// plus type declarations. Heavy modules that only some paths use (dockerode, cosmiconfig)
// stay external and are imported lazily by the code that needs them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  external: ['dockerode', 'cosmiconfig', 'ssh2', 'cpu-features'],
  banner: { js: "import { createRequire as __pymgrCreateRequire } from 'node:module'; const require = __pymgrCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' });
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' });
}
