import type { ProjectFacts, Provider, ProviderManifest, ProviderName } from '../src/contracts.js';
import type { ProviderChoice, PymgrConfig } from '../src/core/kit.js';
import { miseManifest } from './mise/manifest.js';
import { pyenvManifest } from './pyenv/manifest.js';
import { chooseProvider } from './select-provider.js';
import { uvManifest } from './uv/manifest.js';

/**
 * The registry: every provider pymgr knows, by its manifest (what it claims, how to load it). The
 * order decides which claim wins when two providers claim a project. Providers are loaded on
 * demand (only the ones a command touches pay their start-up cost). Adding a manager means adding
 * its folder and one line here; the conformance suite reads this list.
 */
export const PROVIDERS: readonly ProviderManifest[] = [uvManifest, miseManifest, pyenvManifest];

export const providerNames: ProviderName[] = PROVIDERS.map((p) => p.name);

/** A new provider instance for `name`. */
export function createProvider(name: ProviderName): Promise<Provider> {
  const manifest = PROVIDERS.find((p) => p.name === name);
  if (!manifest) throw new Error(`no provider named ${name} in the registry`);
  return manifest.load();
}

/**
 * The manager for a project, from config, the registry's claims and `preference` (see
 * select-provider.ts). `configuredBy` names where a configured provider came from (`--provider`,
 * `PYMGR_PROVIDER`, a config file), for the reason.
 */
export function selectProvider(
  project: ProjectFacts,
  config: PymgrConfig,
  isAvailable: (name: ProviderName) => Promise<boolean>,
  configuredBy?: string,
): Promise<ProviderChoice> {
  return chooseProvider(PROVIDERS, project, config, isAvailable, configuredBy);
}
