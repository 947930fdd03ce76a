import type { Provider, ProviderName } from '../src/contracts.js';

/**
 * Every provider pymgr knows, loaded on demand (only the providers a command touches pay their
 * start-up cost). Adding a manager means adding it here; the conformance suite reads this list.
 */
const LOADERS: Record<ProviderName, () => Promise<Provider>> = {
  uv: async () => new (await import('./uv/uv-provider.js')).UvProvider(),
  mise: async () => new (await import('./mise/mise-provider.js')).MiseProvider(),
  pyenv: async () => new (await import('./pyenv/pyenv-provider.js')).PyenvProvider(),
};

/** A new provider instance for `name`. */
export function createProvider(name: ProviderName): Promise<Provider> {
  return LOADERS[name]();
}

export const providerNames = Object.keys(LOADERS) as ProviderName[];
