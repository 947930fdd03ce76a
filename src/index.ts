/**
 * pymgr's public API. Small on purpose: the verbs (each `(options) => Promise<Result>`, returning
 * data, never text), their option and result types (src/types.ts), config loading, the
 * executors, the provider registry, the Docker helpers, and the error type.
 */
export { setup } from './api/setup.js';
export { detect } from './api/detect.js';
export { showConfig } from './api/config.js';
export { describeEnv } from './api/env.js';
export { run, venvEnvironment } from './api/run.js';
export { doctor } from './api/doctor.js';
export { bakeImage, type BakeOptions, type BakeResult } from './api/bake.js';
export type * from './types.js';
export { loadConfig, type ResolvedConfig, type ConfigSource } from './config/load-config.js';
export { describeSources } from './config/describe-sources.js';
export { configSchema, defaultConfig, type PymgrConfig, type PymgrConfigInput } from './config/schema.js';
export { HostExecutor } from './executor/host-executor.js';
export { PymgrError, isPymgrError, ERROR_CODES, type ErrorCode } from './errors.js';
export { createProvider, providerNames, PROVIDERS } from '../providers/index.js';
export type * from './contracts.js';
export { DockerExecutor } from './docker/docker-executor.js';
export {
  ensurePersistentEnv,
  startPersistentEnv,
  stopPersistentEnv,
  removePersistentEnv,
} from './docker/persistent-env.js';
export { copyHostTools } from './docker/host-tools.js';
export { uploadProject, type UploadReport } from './docker/upload.js';
export {
  buildEnvironments,
  type FleetOptions,
  type FleetResult,
  type FleetEnvResult,
  type FleetEvent,
  type FleetEnvSpec,
} from './api/fleet.js';
export { readFleetFile, type FleetFile } from './config/fleet-file.js';
