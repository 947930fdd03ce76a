import { describeSources, type SourceRow } from '../config/load-config.js';
import type { Reason } from '../detect/detect-project.js';
import { selectProvider, type ProviderChoice } from '../detect/select-provider.js';
import { createProvider } from '../../providers/index.js';
import { providerAvailability, resolveProject, type CommonOptions } from '../core/context.js';

export interface DetectResult {
  projectDir: string;
  projectType: string;
  provider: ProviderChoice;
  python: { request: string; source: string; sourcePath?: string };
  venv: string;
  files: Record<string, unknown>;
  plan: { steps: unknown[]; expected: string[] };
  reasons: Reason[];
}

/** What pymgr would do for a project, without changing anything (managers are only probed). */
export async function detect(options: CommonOptions): Promise<DetectResult> {
  const { detection, venvPath, ctx } = await resolveProject(options);
  const provider = await selectProvider(detection, ctx.config, providerAvailability(ctx, createProvider));
  return {
    projectDir: detection.projectDir,
    projectType: detection.projectType,
    provider,
    python: detection.python,
    venv: venvPath,
    files: detection.files as unknown as Record<string, unknown>,
    plan: { steps: detection.plan.steps, expected: detection.plan.expected },
    reasons: [...detection.reasons, { rule: 'provider', message: `provider ${provider.name}: ${provider.reason}` }],
  };
}

export interface ShownConfig {
  file?: string;
  config: unknown;
  values: SourceRow[];
}

/** The resolved config and where every value came from. */
export async function showConfig(options: CommonOptions): Promise<ShownConfig> {
  const { loadConfig } = await import('../config/load-config.js');
  const { HostExecutor } = await import('../executor/host-executor.js');
  const executor = options.executor ?? new HostExecutor();
  const projectDir = options.projectDir ?? (executor.kind === 'host' ? process.cwd() : '/');
  const resolved = await loadConfig({ projectDir, env: options.env, flags: options.flags, configFile: options.configFile, executor });
  return { file: resolved.file, config: resolved.config, values: describeSources(resolved) };
}
