/**
 * Choosing the Python manager for a project. In order:
 * 1. `config.provider` when it is not `auto` (source `config`), available or not.
 * 2. The first provider, in registry order, that claims the project (its manifest's `claims`:
 *    uv claims uv and rye projects, mise claims projects with mise configuration), when that
 *    manager is in `config.preference` and available (source `project`).
 * 3. The first available manager in `config.preference` (source `preference`).
 * 4. None available: the first in `config.preference` (source `preference`), whose reason says so; the
 *    pipeline then tries to provision it.
 * `isAvailable` throws for a manager whose configured `providers.<name>.path` fails (the user's
 * decision, never skipped for another manager): selection then fails with that error.
 */
import type { ProjectFacts, ProviderManifest, ProviderName } from '../src/contracts.js';
import type { ProviderChoice, PymgrConfig } from '../src/core/kit.js';

/** What the project itself suggests, if anything, and why: the first claim in registry order. */
function findProjectPreference(project: ProjectFacts, registry: readonly ProviderManifest[]): { name: ProviderName; why: string } | undefined {
  for (const manifest of registry) {
    const why = manifest.claims(project);
    if (why) return { name: manifest.name, why };
  }
  return undefined;
}

/** Choose among the manifests of `registry` (providers/index.ts passes its own). */
export async function chooseProvider(
  registry: readonly ProviderManifest[],
  project: ProjectFacts,
  config: PymgrConfig,
  isAvailable: (name: ProviderName) => Promise<boolean>,
  configuredBy?: string,
): Promise<ProviderChoice> {
  if (config.provider !== 'auto') {
    return { name: config.provider, source: 'config', reason: `provider "${config.provider}" is set ${configuredBy ? (configuredBy.startsWith('/') ? `in ${configuredBy}` : `by ${configuredBy}`) : 'in the configuration'}` };
  }
  const notes: string[] = [];
  const suggested = findProjectPreference(project, registry);
  if (suggested) {
    if (!config.preference.includes(suggested.name)) {
      notes.push(`${suggested.why} suggests ${suggested.name}, which is not in preference`);
    } else if (await isAvailable(suggested.name)) {
      return { name: suggested.name, source: 'project', reason: `${suggested.why}, and ${suggested.name} is available` };
    } else {
      notes.push(`${suggested.why} suggests ${suggested.name}, which was not found`);
    }
  }
  for (const name of config.preference) {
    if (suggested && name === suggested.name) continue;
    if (await isAvailable(name)) {
      const prefix = notes.length > 0 ? `${notes.join('; ')}; ` : '';
      return { name, source: 'preference', reason: `${prefix}${name} is the first available (found, or installable without git) in preference [${config.preference.join(', ')}]` };
    }
  }
  const first = config.preference[0];
  const prefix = notes.length > 0 ? `${notes.join('; ')}; ` : '';
  return {
    name: first,
    source: 'preference',
    reason: `${prefix}none of [${config.preference.join(', ')}] was found; ${first} is first in preference and will be provisioned if possible`,
  };
}
