import type { ProviderManifest } from '../../src/contracts.js';

/** uv claims uv projects (uv.lock) and rye projects (rye's lock files install with uv). */
export const uvManifest: ProviderManifest = {
  name: 'uv',
  claims: (project) =>
    project.projectType === 'uv' ? 'a uv project' : project.projectType === 'rye' ? 'a rye project (its lock installs with uv)' : undefined,
  load: async () => new (await import('./uv-provider.js')).UvProvider(),
};
