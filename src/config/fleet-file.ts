/**
 * The fleet file of `pymgr fleet <file>`: N env specs and M engines, validated by zod (its JSON
 * Schema, `fleet.schema.json`, is generated from {@link fleetSchema} like config.schema.json).
 * Paths in it are relative to the file; each env's `config` is checked against the config schema
 * and handed to setup as flags (the project's own config still applies below them).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { PymgrError } from '../errors.js';
import { PROVIDER_NAMES } from '../provider-names.js';
import { configSchema, type PymgrConfigInput } from './schema.js';
import { formatKeyPath } from './create-config-error.js';
import { suggestName } from './suggest-name.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MOUNT = /^\/[^:]*:\/[^:]*(:ro|:rw)?$/;

const envFields = {
  image: z.string().min(1).optional().describe('The base image of the env\'s container (tag or id), on every engine.'),
  target: z.string().regex(/^\/[^:]*$/).optional().describe('Where the project goes in the container (default /work/<name>).'),
  provider: z.enum(['auto', ...PROVIDER_NAMES]).optional().describe('The manager (same as config provider).'),
  python: z.string().min(1).optional().describe('The Python request (same as config python).'),
  mounts: z
    .array(z.string().regex(MOUNT, 'a bind mount host:container[:ro], both absolute'))
    .optional()
    .describe('Bind mounts from the engine\'s host, `host:container[:ro]` (e.g. a wheel directory).'),
  config: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Config values for the env, as in a .pymgrrc file (see config.schema.json); the project\'s own config applies below them.'),
};

export const fleetEnvSchema = z.strictObject({
  name: z.string().regex(NAME, 'letters, digits, _, . and -, starting with a letter or digit').max(64).describe('The env\'s name, unique in the fleet (its container is pymgr-<fleet>-<name>).'),
  project: z.string().min(1).describe('The project directory on this machine (relative to the fleet file); it is uploaded into the container.'),
  ...envFields,
  bake: z.string().min(1).optional().describe('Bake the env into this image (`repo:tag`) instead of keeping a container (pymgr bake).'),
});

export const fleetSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of fleet.schema.json, for editors.'),
    name: z.string().regex(NAME).max(40).optional().describe('The fleet\'s name, part of container names and labels (default: the file name and a hash of its path).'),
    engines: z
      .array(z.string().min(1))
      .min(1)
      .describe('The engines: `default` (DOCKER_HOST, DOCKER_CONTEXT, the usual sockets), a Docker context name, or an address (unix://, tcp://, ssh://user@host).'),
    concurrency: z.number().int().min(1).max(64).default(3).describe('How many envs are set up at once, over all engines.'),
    perEngine: z.number().int().min(1).max(64).optional().describe('How many at once on one engine (default: concurrency).'),
    caches: z
      .array(z.enum(['uv', 'mise', 'pyenv']))
      .default(['uv'])
      .describe('Caches every container of an engine shares, each on one named volume per engine (pymgr-uv-cache, pymgr-mise-data, pymgr-pyenv-root).'),
    defaults: z.strictObject(envFields).optional().describe('Values for every env that does not set its own.'),
    envs: z.array(fleetEnvSchema).min(1).describe('The envs to build.'),
  })
  .superRefine((fleet, ctx) => {
    const seen = new Set<string>();
    fleet.envs.forEach((env, i) => {
      if (seen.has(env.name)) ctx.addIssue({ code: 'custom', path: ['envs', i, 'name'], message: `"${env.name}" is used twice: env names must be unique` });
      seen.add(env.name);
      if (!env.image && !fleet.defaults?.image) ctx.addIssue({ code: 'custom', path: ['envs', i, 'image'], message: 'no image: give one here or in defaults' });
    });
    const engines = new Set<string>();
    for (const [i, e] of fleet.engines.entries()) {
      if (engines.has(e)) ctx.addIssue({ code: 'custom', path: ['engines', i], message: `"${e}" is listed twice` });
      engines.add(e);
    }
  });

export type FleetFileInput = z.input<typeof fleetSchema>;

/** One env of a fleet, everything resolved: absolute project path, image, flags. */
export interface FleetEnvSpec {
  name: string;
  /** The project on this machine (absolute). */
  project: string;
  image: string;
  /** Where it goes in the container (default /work/<name>). */
  target?: string;
  /** Config values for setup (the CLI's flags). */
  flags?: PymgrConfigInput;
  /** Bind mounts from the engine's host, `host:container[:ro]`. */
  mounts?: string[];
  /** Bake into this image instead of keeping a container. */
  bake?: string;
}

/** A fleet file, read and resolved. */
export interface FleetFile {
  file: string;
  name: string;
  engines: string[];
  concurrency: number;
  perEngine?: number;
  caches: Array<'uv' | 'mise' | 'pyenv'>;
  envs: FleetEnvSpec[];
}

/** The JSON Schema of fleet files (written to fleet.schema.json by scripts/gen-schema.mjs). */
export function generateFleetJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(fleetSchema, { io: 'input' }) as { properties: Record<string, any> };
  // An env's `config` is a config file's content: config.schema.json (beside this one) describes it.
  for (const fields of [schema.properties.defaults.properties, schema.properties.envs.items.properties]) {
    fields.config = { $ref: 'config.schema.json', description: fields.config.description };
  }
  return { ...schema, title: 'pymgr fleet' };
}

/** Read and validate a fleet file. CONFIG_INVALID names every problem with its place in the file. */
export async function readFleetFile(path: string): Promise<FleetFile> {
  const file = resolve(path);
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new PymgrError('USAGE', `Cannot read the fleet file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      hint: 'Name a JSON file that lists the engines and the envs (see fleet.schema.json).',
      cause: err,
    });
  });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PymgrError('CONFIG_INVALID', `The fleet file ${file} is not valid JSON: ${(err as Error).message}`, { hint: 'Fix the JSON syntax.', cause: err });
  }
  return resolveFleet(data, file);
}

/** Validate a fleet document read from `file` (paths are relative to its directory). */
export function resolveFleet(data: unknown, file: string): FleetFile {
  const parsed = fleetSchema.safeParse(data);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      let text = issue.message;
      // An unknown key: the closest one allowed there, as for config files.
      if (issue.code === 'unrecognized_keys') {
        const allowed = allowedKeysAt(issue.path);
        const hints = issue.keys.map((k) => [k, suggestName(k, allowed)] as const).filter(([, s]) => s);
        if (hints.length) text += ` (did you mean ${hints.map(([k, s]) => `"${s}" for "${k}"`).join(', ')}?)`;
      }
      problems.push(`${formatKeyPath(issue.path) || '(the document)'}: ${text}`);
    }
  }
  const fleet = parsed.success ? parsed.data : undefined;
  if (fleet) {
    const check = (config: Record<string, unknown> | undefined, where: string) => {
      if (!config) return;
      const r = configSchema.safeParse(config);
      if (!r.success) for (const issue of r.error.issues) problems.push(`${where}.${formatKeyPath(issue.path)}: ${issue.message}`);
    };
    check(fleet.defaults?.config, 'defaults.config');
    fleet.envs.forEach((env, i) => check(env.config, `envs[${i}].config`));
  }
  if (!fleet || problems.length > 0) {
    throw new PymgrError('CONFIG_INVALID', `The fleet file ${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'Fix the entries listed (fleet.schema.json describes the file; editors check it through "$schema").',
    });
  }
  const base = dirname(file);
  const defaults = fleet.defaults ?? {};
  return {
    file,
    // Without a name: the file's, with a hash of its path, so that two folders' fleet.json never share containers.
    name: fleet.name ?? `${(basename(file, extname(file)).replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '') || 'fleet').slice(0, 32)}-${createHash('sha256').update(file).digest('hex').slice(0, 6)}`,
    engines: fleet.engines,
    concurrency: fleet.concurrency,
    ...(fleet.perEngine !== undefined ? { perEngine: fleet.perEngine } : {}),
    caches: fleet.caches,
    envs: fleet.envs.map((env) => {
      // Two layers, the env's over the defaults'; in each, `provider`/`python` over its `config`.
      const layer = (l: { config?: Record<string, unknown>; provider?: string; python?: string }) => ({
        ...(l.config ?? {}),
        ...(l.provider !== undefined ? { provider: l.provider } : {}),
        ...(l.python !== undefined ? { python: l.python } : {}),
      });
      const flags: Record<string, unknown> = mergeConfig(layer(defaults), layer(env));
      const mounts = env.mounts ?? defaults.mounts;
      const target = env.target ?? defaults.target;
      return {
        name: env.name,
        project: isAbsolute(env.project) ? env.project : resolve(base, env.project),
        image: (env.image ?? defaults.image) as string,
        ...(target !== undefined ? { target } : {}),
        ...(Object.keys(flags).length > 0 ? { flags: flags as PymgrConfigInput } : {}),
        ...(mounts ? { mounts } : {}),
        ...(env.bake !== undefined ? { bake: env.bake } : {}),
      };
    }),
  };
}

/** The keys allowed at `path` of a fleet file (the top level, `defaults`, or an env). */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(fleetSchema.shape);
  if (path[0] === 'defaults') return Object.keys(envFields);
  if (path[0] === 'envs') return Object.keys(fleetEnvSchema.shape);
  return [];
}

/** `over` on top of `base`, objects merged key by key (arrays and values replaced). */
function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
