import { execFileSync } from 'node:child_process';
import { repoRoot } from './tools.js';

/** Build the bundled CLI once, so CLI tests run what users run. */
export default function globalSetup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--no-types'], { cwd: repoRoot, stdio: 'inherit' });
}
