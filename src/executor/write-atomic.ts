import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { Executor } from '../contracts.js';

/**
 * Write `path` whole, atomically: the executor's own {@link Executor.writeFileAtomic} when it has
 * one (a container: one exec), otherwise a temporary file beside it (a name of its own per call)
 * renamed into place, removed again when the rename fails. A kill at any moment leaves the old
 * file or the new one, never half of either (at worst a stray temporary file).
 */
export async function writeAtomic(executor: Executor, path: string, content: string, options: { mode?: number; parents?: boolean; defer?: boolean } = {}): Promise<void> {
  if (executor.writeFileAtomic) return executor.writeFileAtomic(path, content, options);
  // (`defer` is only a licence: written now here.)
  if (options.parents) await executor.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await executor.writeFile(tmp, content, { mode: options.mode ?? 0o644 });
  try {
    await executor.rename(tmp, path);
  } catch (err) {
    await executor.remove(tmp).catch(() => undefined);
    throw err;
  }
}
