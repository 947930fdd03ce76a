import type { ProgressEvent } from '../contracts.js';

/**
 * The progress every verb reports, made regular whatever the providers send: a tool's output
 * arrives as whole lines (one event per line, not per chunk the pipe happened to deliver), and
 * each phase (`step`) is opened with a `start` event and closed with an `end` event carrying its
 * duration when the next phase begins.
 */
export function structuredProgress(sink: (event: ProgressEvent) => void, now: () => number = Date.now): (event: ProgressEvent) => void {
  let phase: { step: string; started: number } | undefined;
  let partial = '';
  let partialStep = '';
  let partialMessage = '';
  const flush = () => {
    if (partial) sink({ step: partialStep, message: partialMessage, output: `${partial}\n` });
    partial = '';
  };
  return (event) => {
    if (event.output !== undefined) {
      if (partial && partialStep !== event.step) flush();
      partialStep = event.step;
      partialMessage = event.message;
      const lines = (partial + event.output).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) sink({ step: event.step, message: event.message, output: `${line}\n` });
      return;
    }
    flush();
    if (!phase || phase.step !== event.step) {
      const t = now();
      if (phase) sink({ step: phase.step, message: `${phase.step} done`, phase: { state: 'end', durationMs: t - phase.started } });
      phase = { step: event.step, started: t };
      sink({ ...event, phase: { state: 'start' } });
      return;
    }
    sink(event);
  };
}
