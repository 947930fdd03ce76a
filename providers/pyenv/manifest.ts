import type { ProviderManifest } from '../../src/contracts.js';

/** pyenv claims no project type: it is chosen by configuration or preference. */
export const pyenvManifest: ProviderManifest = {
  name: 'pyenv',
  claims: () => undefined,
  load: async () => new (await import('./pyenv-provider.js')).PyenvProvider(),
};
