import * as z from 'zod';
import { configSchema } from './schema.js';

/**
 * The JSON Schema of a config file (`config.schema.json` at the repository root is this, written
 * by `scripts/gen-schema.mjs`; a unit test fails when they drift). It describes the input form:
 * defaults are shown as `default`, nothing is required, unknown keys are not allowed.
 */
export function generateJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>),
    title: 'pymgr configuration',
  };
}
