/**
 * What `pymgr fleet` shows while it works. On a terminal: a live block at the bottom of stderr —
 * one line per running env (engine, last step, time) and a summary line (done, failed, running,
 * queued, elapsed) — redrawn at most every 100 ms, with a permanent line above it for every env
 * that finishes. Elsewhere: the permanent lines only. With --json: nothing (stdout gets the one
 * document).
 */
import type { FleetEnvResult, FleetEvent } from '../api/fleet.js';
import { redact } from '../redact.js';
import { paint, type CliIO } from './output.js';

export interface FleetView {
  onEvent(event: FleetEvent): void;
  /** A note above the live block (e.g. "stopping"). */
  note(text: string): void;
  /** Erase the live block; the view draws nothing more. */
  close(): void;
}

export function createFleetView(io: CliIO, mode: { json: boolean; verbose: boolean; columns?: number; now?: () => number }): FleetView {
  const now = mode.now ?? Date.now;
  const started = now();
  const running = new Map<string, { engine: string; step: string; since: number }>();
  let total = 0;
  let done = 0;
  let failed = 0;
  let cancelled = 0;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const live = io.isTTY && !mode.json;
  const width = () => Math.max(40, mode.columns ?? process.stderr.columns ?? 100);

  const erase = () => {
    if (drawn > 0) io.stderr(`\x1b[${drawn}A\r\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    timer = undefined;
    if (!live || closed) return;
    erase();
    const w = width();
    const lines = [...running].map(([name, r]) => fit(`  ${paint(io, 'stderr', 'cyan', '•')} ${name}  ${paint(io, 'stderr', 'dim', `${r.engine}  ${seconds(now() - r.since)}  ${r.step}`)}`, w));
    const queued = total - done - failed - cancelled - running.size;
    lines.push(fit(`  ${paint(io, 'stderr', 'bold', `${done} ready`)}, ${failed ? paint(io, 'stderr', 'red', `${failed} failed`) : '0 failed'}, ${running.size} running, ${queued} queued${cancelled ? `, ${cancelled} cancelled` : ''} — ${seconds(now() - started)}`, w));
    io.stderr(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const schedule = () => {
    if (live && !closed && !timer) timer = setTimeout(draw, 100);
  };
  // The times keep moving during a long step: redrawn every second as well.
  const ticker = live ? setInterval(schedule, 1000) : undefined;
  ticker?.unref();
  /** A line that stays: above the live block. */
  const permanent = (text: string) => {
    if (mode.json || closed) return;
    if (live) erase();
    io.stderr(`${text}\n`);
    if (live) draw();
  };

  return {
    onEvent(e) {
      if (mode.json) return;
      switch (e.type) {
        case 'start':
          total = e.envs;
          for (const engine of e.engines) {
            if (!engine.up) permanent(`${paint(io, 'stderr', 'yellow', '!')} engine ${engine.name} does not answer: ${redact(engine.error ?? '')}`);
          }
          {
            const up = e.engines.filter((x) => x.up).length;
            permanent(`${paint(io, 'stderr', 'cyan', '•')} fleet ${e.fleet}: ${e.envs} env${e.envs === 1 ? '' : 's'} on ${up} engine${up === 1 ? '' : 's'}`);
          }
          break;
        case 'placed':
          running.set(e.env, { engine: e.engine, step: e.why === 'moved' ? `moved from ${e.from}` : 'waiting for the engine', since: now() });
          if (mode.verbose || e.why === 'moved') permanent(`  ${e.env} → ${e.engine} (${e.why}${e.from ? ` from ${e.from}` : ''})`);
          schedule();
          break;
        case 'progress': {
          const r = running.get(e.env);
          if (r) r.step = redact(e.message);
          if (mode.verbose) permanent(`  ${paint(io, 'stderr', 'dim', `${e.env}: ${redact(e.message)}`)}`);
          schedule();
          break;
        }
        case 'engine-down':
          permanent(`${paint(io, 'stderr', 'red', '!')} engine ${e.engine} stopped answering: ${redact(e.message)}`);
          break;
        case 'warning':
          permanent(`${paint(io, 'stderr', 'yellow', '!')} ${redact(e.message)}`);
          break;
        case 'done':
          running.delete(e.result.name);
          if (e.result.status === 'ready') done++;
          else if (e.result.status === 'failed') failed++;
          else cancelled++;
          permanent(describeEnvResult(io, e.result));
          break;
      }
    },
    note: (text) => permanent(text),
    close() {
      if (timer) clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      if (live) erase();
      closed = true;
    },
  };
}

/** One finished env, on one line. */
export function describeEnvResult(io: CliIO, r: FleetEnvResult): string {
  const where = r.engine ? ` on ${r.engine}` : '';
  if (r.status === 'ready') {
    const what = r.image ? `image ${r.image}` : r.container;
    return `${paint(io, 'stderr', 'green', '✓')} ${r.name}${where}: ${r.action} — Python ${r.python}, ${r.provider}, ${what} (${seconds(r.durationMs)})`;
  }
  if (r.status === 'cancelled') return `${paint(io, 'stderr', 'yellow', '-')} ${r.name}${where}: cancelled`;
  return `${paint(io, 'stderr', 'red', '✗')} ${r.name}${where}: error[${r.error?.code}] ${redact(r.error?.message ?? '')}${r.error?.hint ? `\n    hint: ${redact(r.error.hint)}` : ''}`;
}

/** `4.2 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Cut a line to the terminal's width (colour codes do not count). */
function fit(text: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\x1b') {
      const end = text.indexOf('m', i);
      out += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width - 1) {
      out += '…';
      break;
    }
    out += text[i];
    visible++;
  }
  return text.includes('\x1b') ? `${out}\x1b[0m` : out;
}
