import { createProvider, selectProvider } from '../../providers/index.js';
import { describeOrigin } from '../config/describe-sources.js';
import { executorOf, providerAvailability, resolveProject } from '../core/context.js';
import { startCostMeter } from '../core/cost.js';
import { withFacts } from '../core/setup-facts.js';
import type { CommonOptions, DetectResult } from '../types.js';

export type { DetectResult };

/** What pymgr would do for a project, without changing anything (managers are only probed). */
export async function detect(options: CommonOptions = {}): Promise<DetectResult> {
  const executor = executorOf(options);
  const spent = startCostMeter(executor);
  const resolution = await resolveProject({ ...options, executor });
  const { detection, venvPath, ctx, resolved } = resolution;
  const provider = await selectProvider(detection, ctx.config, providerAvailability(ctx, createProvider), describeOrigin(resolved, 'provider'));
  return withFacts({
    projectDir: detection.projectDir,
    projectType: detection.projectType,
    provider,
    python: detection.python,
    venv: venvPath,
    files: detection.files,
    plan: { steps: detection.plan.steps, expected: detection.plan.expected },
    reasons: [...detection.reasons, { rule: 'provider', message: `provider ${provider.name}: ${provider.reason}` }],
    ...spent(),
  }, { resolution });
}
