/**
 * What a verb cost: programs run and, in a container, Engine API round trips. Results carry these
 * counts (`execs`, `roundTrips`) so that tests can bound a design's cost instead of timing it.
 */
import type { Executor } from '../contracts.js';

export interface Cost {
  /** Programs run (a container's file operations run programs too). */
  execs: number;
  /** Containers: Engine API operations (an exec, an archive read or write, an inspect, a ping). */
  roundTrips?: number;
}

/** Start counting on `executor`; the function returned gives what was spent since. */
export function startCostMeter(executor: Executor): () => Cost {
  const at = executor.cost?.();
  return () => {
    const now = executor.cost?.();
    if (!now || !at) return { execs: 0 };
    return {
      execs: now.execs - at.execs,
      ...(now.roundTrips !== undefined ? { roundTrips: now.roundTrips - (at.roundTrips ?? 0) } : {}),
    };
  };
}
