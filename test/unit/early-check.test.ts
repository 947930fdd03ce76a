/**
 * The warm no-op's interpreter started early (src/cli/early-check.ts and bin/pymgr.mjs), with real
 * programs: bin/pymgr.mjs finds the hint where the fast path writes it and runs exactly what it
 * names (removed variables removed); the fast path takes that program's result only when the hint
 * named exactly its own command, and otherwise starts its own and rewrites the hint.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { EARLY_SLOT, earlyHintPath, runCheckCommand, serialise, type CheckCommand } from '../../src/cli/early-check.js';
import { cleanupTemp, makeTemp } from '../helpers/project.js';
import { repoRoot } from '../helpers/tools.js';

const execFileP = promisify(execFile);

describe('early check', () => {
  afterAll(() => cleanupTemp());

  it('bin/pymgr.mjs runs the program the hint names, found where the fast path writes hints', async () => {
    const state = makeTemp('pymgr-early-');
    const cwd = makeTemp('pymgr-early-cwd-');
    const marker = join(cwd, 'marker');
    const argv = ['setup', join(cwd, 'no-such-project')];
    const command: CheckCommand = { file: '/bin/sh', args: ['-c', 'printf "ran %s|%s" "$1" "${PYMGR_EARLY_GONE-unset}" > "$0"', marker, 'with-args'], env: { PYMGR_EARLY_GONE: undefined } };
    const hint = earlyHintPath({ PYMGR_STATE_DIR: state }, cwd, argv);
    mkdirSync(join(state, 'quick'), { recursive: true });
    writeFileSync(hint, serialise(command));
    // The project does not exist: the command itself fails, after bin started the hint's program.
    const r = await execFileP(process.execPath, [join(repoRoot, 'bin', 'pymgr.mjs'), ...argv], { cwd, env: { ...process.env, PYMGR_STATE_DIR: state, PYMGR_EARLY_GONE: 'set' } }).catch((e) => e);
    expect(r.code).not.toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('ran with-args|unset'); // and the variable it removes was removed
  });

  it('the fast path takes the started program only when the hint named exactly its command', async () => {
    const dir = makeTemp('pymgr-early-');
    const env = { PYMGR_STATE_DIR: dir };
    const argv = ['setup', 'p'];
    const ran = join(dir, 'ran');
    const command: CheckCommand = { file: '/bin/sh', args: ['-c', 'echo own >> "$0"; echo own', ran], env: { X: 'y' }, timeoutMs: 5000 };
    const slot = globalThis as { [EARLY_SLOT]?: unknown };

    // Started from a hint naming exactly this command: its result, nothing run again, the hint kept.
    slot[EARLY_SLOT] = { text: serialise(command), result: Promise.resolve({ code: 0, stdout: 'early\n', stderr: '', killed: false }) };
    const taken = await runCheckCommand(command, argv, env, dir);
    expect(taken).toMatchObject({ exitCode: 0, stdout: 'early\n' });
    expect(existsSync(ran)).toBe(false);
    expect(existsSync(earlyHintPath(env, dir, argv))).toBe(false);
    expect(slot[EARLY_SLOT]).toBeUndefined(); // taken once

    // A hint that named something else (another variable): started anew, the hint rewritten.
    slot[EARLY_SLOT] = { text: serialise({ ...command, env: { X: 'z' } }), result: Promise.resolve({ code: 0, stdout: 'stale\n', stderr: '', killed: false }) };
    const own = await runCheckCommand(command, argv, env, dir);
    expect(own).toMatchObject({ exitCode: 0, stdout: 'own\n' });
    expect(readFileSync(ran, 'utf8')).toBe('own\n');
    expect(readFileSync(earlyHintPath(env, dir, argv), 'utf8')).toBe(serialise(command));
  });
});
