import type { Provider, ProviderName } from '../src/contracts.js';
import { MiseProvider } from './mise/mise-provider.js';
import { PyenvProvider } from './pyenv/pyenv-provider.js';
import { UvProvider } from './uv/uv-provider.js';

/**
 * Every provider pymgr knows. Adding a manager means adding it here (and to the conformance
 * suite's list, which reads this one).
 */
const FACTORIES: Record<ProviderName, () => Provider> = {
  uv: () => new UvProvider(),
  mise: () => new MiseProvider(),
  pyenv: () => new PyenvProvider(),
};

export function createProvider(name: ProviderName): Provider {
  return FACTORIES[name]();
}

export const providerNames = Object.keys(FACTORIES) as ProviderName[];
