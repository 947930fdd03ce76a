/**
 * What `pymgr setup` draws on a real terminal (a pseudo-terminal, from Python's pty module): the
 * step lines, the live line of the installer's output rewritten in place and cleared, colours on
 * (and off with NO_COLOR), the final summary line, and an error that starts on a clean line.
 * Snapshots hold the byte stream with the escapes made visible; the live line's content (which
 * depends on uv's cache) is collapsed to one marker, and temporary paths and timings normalised.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, copyFixture, makeTemp } from '../helpers/project.js';
import { repoRoot, requireTool } from '../helpers/tools.js';

const uvPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
const hasUv = requireTool('uv', uvPath);

const PTY = 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)';

/** Run the built CLI on a pseudo-terminal; its bytes as the terminal received them. */
function onTerminal(args: string[], env: Record<string, string | undefined> = {}): { code: number; bytes: string } {
  const childEnv: Record<string, string | undefined> = { ...process.env, TERM: 'xterm', COLUMNS: '200', ...env };
  delete childEnv.FORCE_COLOR;
  if (!('NO_COLOR' in env)) delete childEnv.NO_COLOR;
  const res = spawnSync('python3', ['-c', PTY, process.execPath, join(repoRoot, 'bin', 'pymgr.mjs'), ...args], {
    encoding: 'utf8',
    env: childEnv as NodeJS.ProcessEnv,
    timeout: 120_000,
  });
  return { code: res.status ?? -1, bytes: res.stdout.replace(/\r\n/g, '\n') };
}

const LIVE = '\r\x1b[2K  ';

/** Escapes visible, each run of live-line updates collapsed to one marker, run-dependent parts normalised. */
function visible(bytes: string, tmp: string): string {
  return bytes
    .split(tmp).join('<TMP>')
    .replace(/\r\x1b\[2K {2}(?:\x1b\[2m)?install: [^\r\n]*?(?:\x1b\[0m)?(?=\r|\n)/g, '<live install line>')
    .replace(/(<live install line>)+/g, '<live install line>')
    .replace(/\r\x1b\[2K/g, '<clear line>')
    .replace(/\x1b\[(\d+)m/g, '<$1>')
    .replace(/in \d+ ms/g, 'in N ms')
    .replace(/\/[^\s"']*\/bin\/uv\b/g, '<UV>');
}

describe.skipIf(!hasUv)('pymgr setup on a terminal (pseudo-terminal, real uv)', () => {
  afterAll(cleanupTemp);

  it('colours, live line, summary', () => {
    const dir = copyFixture('quickstart');
    const { code, bytes } = onTerminal(['setup', dir, '--provider', 'uv']);
    expect(code, bytes).toBe(0);
    expect(bytes).toContain(`${LIVE}\x1b[2minstall: `); // the installer's output, live
    expect(bytes).toMatch(/\x1b\[32mready:\x1b\[0m .*\(created\)/);
    expect(visible(bytes, join(dir, '..'))).toMatchSnapshot();
  });

  it('NO_COLOR: the same without a single colour', () => {
    const dir = copyFixture('quickstart');
    const { code, bytes } = onTerminal(['setup', dir, '--provider', 'uv'], { NO_COLOR: '1' });
    expect(code, bytes).toBe(0);
    expect(bytes).not.toMatch(/\x1b\[\d+m/);
    expect(bytes).toContain(LIVE); // still a terminal: the live line is drawn
    expect(visible(bytes, join(dir, '..'))).toMatchSnapshot();
  });

  it('an error starts on a clean line: the live line is cleared first', () => {
    const dir = join(makeTemp(), 'p');
    mkdirSync(dir);
    writeFileSync(join(dir, 'requirements.txt'), 'six==99.0\n');
    const { code, bytes } = onTerminal(['setup', dir, '--provider', 'uv']);
    expect(code).toBe(1);
    const at = bytes.indexOf('pymgr: \x1b[31merror[COMMAND_FAILED]');
    expect(at).toBeGreaterThan(0);
    const before = bytes.slice(0, at);
    // Either no live line was drawn, or it was cleared right before the error.
    if (before.lastIndexOf(LIVE) > before.lastIndexOf('\n')) expect(before.endsWith('\r\x1b[2K')).toBe(true);
    expect(bytes[at - 1] === '\n' || before.endsWith('\r\x1b[2K')).toBe(true);
    expect(visible(bytes, join(dir, '..'))).toMatchSnapshot();
  });
});
