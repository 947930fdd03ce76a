/** Lay `overlay` over `base`; keys set to `undefined` are removed. (No imports: the warm fast path uses it.) */
export function mergeEnv(
  base: Record<string, string | undefined>,
  overlay: Record<string, string | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = v;
  if (overlay) {
    for (const [k, v] of Object.entries(overlay)) {
      if (v === undefined) delete out[k];
      else out[k] = v;
    }
  }
  return out;
}
