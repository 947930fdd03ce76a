/**
 * Choosing the Python manager for a project. In order:
 * 1. `config.provider` when it is not `auto` (source `config`), available or not.
 * 2. What the project asks for (source `project`), when that manager is in `config.preference` and
 *    available: uv and rye projects → uv; a project with mise configuration (mise.toml, .mise.toml,
 *    .config/mise.toml, .tool-versions) → mise.
 * 3. The first available manager in `config.preference` (source `preference`).
 * 4. None available: the first in `config.preference` (source `preference`), whose reason says so; the
 *    pipeline then tries to provision it.
 */
import type { ProviderName } from '../contracts.js';
import type { PymgrConfig } from '../config/schema.js';
import type { ProjectDetection } from './detect-project.js';

export interface ProviderChoice {
  name: ProviderName;
  source: 'config' | 'project' | 'preference';
  reason: string;
}

/** What the project itself suggests, if anything, and why. */
function findProjectPreference(detection: ProjectDetection): { name: ProviderName; why: string } | undefined {
  if (detection.projectType === 'uv') return { name: 'uv', why: 'a uv project' };
  if (detection.projectType === 'rye') return { name: 'uv', why: 'a rye project (its lock installs with uv)' };
  if (detection.hasMiseConfig) {
    const file = detection.files.miseToml ?? detection.files.toolVersions;
    return { name: 'mise', why: `the project has mise configuration${file ? ` (${file})` : ''}` };
  }
  return undefined;
}

export async function selectProvider(
  detection: ProjectDetection,
  config: PymgrConfig,
  isAvailable: (name: ProviderName) => Promise<boolean>,
): Promise<ProviderChoice> {
  if (config.provider !== 'auto') {
    return { name: config.provider, source: 'config', reason: `provider "${config.provider}" is set in the configuration` };
  }
  const notes: string[] = [];
  const suggested = findProjectPreference(detection);
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
