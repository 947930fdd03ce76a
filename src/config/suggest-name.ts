/**
 * "Did you mean" for a mistyped key or variable name: the closest candidate by edit distance
 * (optimal string alignment, so a swapped pair of letters costs 1), or `undefined` when nothing is
 * close enough to be a plausible typo. Case, `_` and `-` differences alone always match, so
 * `extra_urls` suggests `extraUrls`.
 */
export function suggestName(input: string, candidates: readonly string[]): string | undefined {
  const normalise = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const wanted = normalise(input);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (normalise(candidate) === wanted) return candidate;
    const distance = measureEditDistance(input.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(input.length, best.name.length) / 3));
  return best.distance <= limit ? best.name : undefined;
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function measureEditDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][cols - 1];
}
