/**
 * pymgr's public API. Small on purpose: the main job (`setup`), the read-only views (`detect`,
 * `showConfig`, `describeEnv`, `doctor`), config loading, the executors, and the error type.
 */
export { setup, type SetupOptions, type SetupResult, type VenvAction } from './api/setup.js';
export type { CommonOptions } from './core/context.js';
export { detect, showConfig, type DetectResult, type ShownConfig } from './api/detect.js';
export { describeEnv, type EnvReport } from './api/env.js';
export { venvEnvironment } from './api/run.js';
export { loadConfig, describeSources, type ResolvedConfig, type ConfigSource } from './config/load-config.js';
export { configSchema, defaultConfig, type PymgrConfig, type PymgrConfigInput } from './config/schema.js';
export { HostExecutor } from './executor/host-executor.js';
export { PymgrError, isPymgrError, ERROR_CODES, type ErrorCode } from './errors.js';
export { createProvider, providerNames } from '../providers/index.js';
export type * from './contracts.js';
export { DockerExecutor } from './docker/docker-executor.js';
export {
  ensurePersistentEnv,
  startPersistentEnv,
  stopPersistentEnv,
  removePersistentEnv,
} from './docker/persistent-env.js';
export { copyHostTools } from './docker/host-tools.js';
