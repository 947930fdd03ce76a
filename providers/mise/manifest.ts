import type { ProviderManifest } from '../../src/contracts.js';

/** mise claims projects with mise configuration (mise.toml, .mise.toml, .config/mise.toml, .tool-versions). */
export const miseManifest: ProviderManifest = {
  name: 'mise',
  claims: (project) => {
    if (!project.hasMiseConfig) return undefined;
    const file = project.files.miseToml ?? project.files.toolVersions;
    return `the project has mise configuration${file ? ` (${file})` : ''}`;
  },
  load: async () => new (await import('./mise-provider.js')).MiseProvider(),
};
