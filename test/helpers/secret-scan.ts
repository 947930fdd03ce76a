/**
 * Looking for a secret where other users could see it: every process's command line on this
 * host, sampled while something runs, and every file under a set of directories.
 */
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

/** The command lines of every process now (`/proc/<pid>/cmdline`, NULs as spaces). */
export function readAllCmdlines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      /* gone */
    }
  }
  return out.filter(Boolean);
}

/**
 * Sample every process's command line every `everyMs` until `stop()`: returns every distinct line
 * seen, so a test can assert both that the install was seen running and that no line had the secret.
 */
export function sampleCmdlines(everyMs = 25): { stop(): Set<string>; seen: Set<string> } {
  const seen = new Set<string>();
  const tick = () => {
    for (const line of readAllCmdlines()) seen.add(line);
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    seen,
    stop() {
      clearInterval(timer);
      tick();
      return seen;
    },
  };
}

/** Every regular file under `dirs` (links not followed) whose bytes contain `needle`. */
export function filesContaining(dirs: string[], needle: string): string[] {
  const hits: string[] = [];
  const want = Buffer.from(needle);
  const walk = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) walk(join(p, name));
    } else if (st.isFile()) {
      try {
        if (readFileSync(p).includes(want)) hits.push(p);
      } catch {
        /* unreadable */
      }
    }
  };
  for (const d of dirs) walk(d);
  return hits;
}

/** How many regular files are under `dir` (to show a scan looked at something). */
export function countFiles(dir: string): number {
  let n = 0;
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
    else if (st.isFile()) n++;
  };
  try {
    walk(dir);
  } catch {
    /* missing */
  }
  return n;
}
