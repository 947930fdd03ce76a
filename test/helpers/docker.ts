/**
 * Shared set-up for tests that need the real Docker engine: find it, make sure the base image
 * exists (building it with scripts/docker-base-image.sh when missing), and create throw-away
 * containers that are removed at the end.
 *
 * Usage in a test file:
 *   const engine = await findTestEngine();
 *   const hasDocker = requireTool('Docker engine', engine);   // fails in CI, skips loudly locally
 *   describe.skipIf(!hasDocker)('...', () => { ... });
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DockerClient, DockerContainer } from '../../src/docker/docker-client.js';
import { findEngine } from '../../src/docker/find-engine.js';
import { isPymgrError } from '../../src/errors.js';
import { buildWheel } from './wheels.js';
import { findPyenvRoot, repoRoot } from './tools.js';

/** The base image the Docker tests run in (built by scripts/docker-base-image.sh). */
export const BASE_IMAGE = process.env.PYMGR_TEST_DOCKER_IMAGE ?? 'pymgr-test/bookworm:1';

/** Label on every container the tests create (to find leftovers: `docker ps -a --filter label=pymgr-test`). */
export const TEST_LABEL = 'pymgr-test';

/** The engine, or `undefined` when none answers (pass the result to `requireTool`). */
export async function findTestEngine(): Promise<DockerClient | undefined> {
  try {
    return await findEngine();
  } catch (err) {
    if (isPymgrError(err, 'DOCKER_UNAVAILABLE')) {
      process.stderr.write(`${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

/** Make sure {@link BASE_IMAGE} exists, building it (about a minute, needs root) when it does not. */
export async function ensureBaseImage(client: DockerClient, tag = BASE_IMAGE): Promise<string> {
  if (await client.hasImage(tag)) return tag;
  execFileSync('bash', [join(repoRoot, 'scripts', 'docker-base-image.sh'), tag], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!(await client.hasImage(tag))) throw new Error(`scripts/docker-base-image.sh ran but image ${tag} does not exist`);
  return tag;
}

export interface TestContainer {
  container: DockerContainer;
  id: string;
  name: string;
  /** Remove it (forced); safe to call twice. */
  remove(): Promise<void>;
}

export interface TestContainerOptions {
  image?: string;
  /** Container-level user (`Config.User`). */
  user?: string;
  env?: string[];
  workingDir?: string;
  /** Create but do not start it. */
  stopped?: boolean;
  /** Bind mounts, `host:container[:ro]`. */
  binds?: string[];
  /** Container name (default: a unique `pymgr-test-<pid>-<random>`). */
  name?: string;
}

/** A running container of the base image doing `sleep infinity`, auto-removed once stopped. */
export async function createTestContainer(client: DockerClient, options: TestContainerOptions = {}): Promise<TestContainer> {
  const image = options.image ?? (await ensureBaseImage(client));
  const name = options.name ?? `pymgr-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const container = await client.createContainer({
    image,
    name,
    cmd: ['sleep', 'infinity'],
    env: options.env,
    user: options.user,
    workingDir: options.workingDir,
    labels: { [TEST_LABEL]: '1' },
    binds: options.binds,
    autoRemove: !options.stopped,
  });
  if (!options.stopped) await container.start();
  const info = await container.inspect();
  return {
    container,
    id: info.id,
    name,
    remove: () => container.remove({ force: true }),
  };
}

/**
 * A directory of tiny local wheels standing in for PyPI (containers here cannot verify PyPI's TLS
 * chain, and tests should not depend on the network): every distribution the Docker tests' fixtures
 * ask for (`requirements`: six, idna; `mise-project`: packaging).
 */
export function buildFixtureWheels(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, version] of [
    ['six', '1.16.0'],
    ['idna', '3.7'],
    ['packaging', '24.1'],
  ]) {
    buildWheel(dir, name, version);
  }
  return dir;
}

/**
 * A Python built by the host's pyenv that runs in the base image (bookworm): the newest installed
 * version of `minor` (e.g. `3.10`), or undefined. Its interpreter has an absolute RUNPATH
 * (`<host root>/versions/<v>/lib`), so in a container it must sit at the same path.
 */
export function findHostPyenvPython(minor: string): { root: string; version: string; dir: string } | undefined {
  const root = findPyenvRoot();
  if (!root) return undefined;
  const versions = (readdirSync(join(root, 'versions'), { withFileTypes: true }) as { name: string; isDirectory(): boolean }[])
    .filter((d) => d.isDirectory() && new RegExp(`^${minor.replace('.', '\\.')}\\.\\d+$`).test(d.name))
    .map((d) => d.name)
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]));
  return versions[0] ? { root, version: versions[0], dir: join(root, 'versions', versions[0]) } : undefined;
}

/** Copy a pyenv Python version directory without its test suite and bytecode caches (a third of the size). */
export function copyPythonVersion(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    filter: (src) => !/\/(__pycache__|lib\/python[\d.]+\/test)$/.test(src),
  });
}

/** Remove every container carrying `label` (e.g. one test file's own label). */
export async function removeLabelled(client: DockerClient, label: string): Promise<void> {
  const list = await client.listContainers({ label: [label] }, { all: true });
  await Promise.all(list.map((c) => client.getContainer(c.id).remove({ force: true })));
}
