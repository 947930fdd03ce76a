import { describeSources } from '../config/describe-sources.js';
import { loadConfig } from '../config/load-config.js';
import { executorOf, locateProjectDir } from '../core/context.js';
import type { CommonOptions, ShownConfig } from '../types.js';

export type { ShownConfig };

/** The resolved config and where every value came from (works in any directory, project or not). */
export async function showConfig(options: CommonOptions = {}): Promise<ShownConfig> {
  const executor = executorOf(options);
  const projectDir = await locateProjectDir(executor, options.projectDir);
  const resolved = await loadConfig({ projectDir, env: options.env, flags: options.flags, configFile: options.configFile, executor });
  return { file: resolved.file, config: resolved.config, values: describeSources(resolved) };
}
