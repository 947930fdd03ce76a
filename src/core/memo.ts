/** A memoised function, and the way to forget one key's answer (after the world changed). */
export interface Memoised<K, V> {
  (key: K): Promise<V>;
  forget(key: K): void;
}

/**
 * One answer per key: the first call for a key runs `fn`, later calls share its promise. A
 * rejected promise is forgotten, so a failure is retried on the next call rather than cached.
 * Keys are compared by identity, held weakly when `weak` is set (a provider context: its probes
 * live exactly as long as the command that made it).
 */
export function memoise<K, V>(fn: (key: K) => Promise<V>): Memoised<K, V>;
export function memoise<K extends object, V>(fn: (key: K) => Promise<V>, options: { weak: true }): Memoised<K, V>;
export function memoise<K, V>(fn: (key: K) => Promise<V>, options: { weak?: boolean } = {}): Memoised<K, V> {
  const map = (options.weak ? new WeakMap<object, Promise<V>>() : new Map<K, Promise<V>>()) as Map<K, Promise<V>>;
  const memo = (key: K) => {
    let p = map.get(key);
    if (!p) {
      p = fn(key);
      map.set(key, p);
      p.catch(() => map.delete(key));
    }
    return p;
  };
  return Object.assign(memo, { forget: (key: K) => void map.delete(key) });
}
