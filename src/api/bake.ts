/**
 * Baking an env into an image, so that no container repeats the set-up:
 *
 * 1. a bake key — the base image's id, the project as it would be uploaded (paths, modes, content
 *    hashes), the config flags, the target path and pymgr's version — names what would be baked;
 *    an image labelled with that key is the answer (`reused`, no container made; the tag is
 *    pointed at it);
 * 2. otherwise a container of the base image gets the project uploaded (docker/upload.ts) and the
 *    env set up and verified there, uv's cache on a named volume (a mount, never a layer) given
 *    per exec, and is committed as `repo:tag` labelled with the key, the env's fingerprint, the
 *    manager, the Python and pymgr's version; the base image's command is kept;
 * 3. the image is then verified in a fresh container with networking disabled, by the venv's own
 *    interpreter (every requested distribution in the venv); an image that fails is removed.
 *
 * Index credentials never reach the image: they go to the installers per command (a private netrc
 * removed after, or the command's environment), never into files pymgr keeps or labels.
 */
import { createHash } from 'node:crypto';
import type { PymgrConfigInput } from '../config/schema.js';
import type { ProgressEvent } from '../contracts.js';
import { PymgrError, toPymgrError } from '../errors.js';
import { readState } from '../core/state.js';
import { assertIsolated, inspectVenv } from '../core/verify.js';
import { isDockerClient, DockerExecutor } from '../docker/docker-executor.js';
import type { DockerClient } from '../docker/docker-client.js';
import { findEngine, type FindEngineOptions } from '../docker/find-engine.js';
import { IDLE_COMMAND } from '../docker/persistent-env.js';
import { listUpload, uploadProject, type UploadReport } from '../docker/upload.js';
import { findHostCaBundle } from '../docker/inherit.js';
import { setup } from './setup.js';

export const BAKE_KEY_LABEL = 'io.pymgr.bake-key';

export interface BakeOptions {
  /** The project on this machine. */
  projectDir: string;
  /** The base image (tag or id). */
  image: string;
  /** What to call the result, `repo:tag` (`:latest` when no tag). */
  tag: string;
  /** Where the project goes in the image (default /work/project). */
  target?: string;
  /** Config values, as the CLI's flags. */
  flags?: PymgrConfigInput;
  /** Bind mounts for the build container only (`host:container[:ro]`, e.g. a wheel directory). */
  mounts?: string[];
  /** The named volume for uv's cache while baking (default `pymgr-bake-uv-cache`). */
  cacheVolume?: string;
  engine?: DockerClient | FindEngineOptions;
  onProgress?: (event: ProgressEvent) => void;
  /** pymgr's version, part of the key and a label. */
  version?: string;
  /** The host's environment (what the build inherits: docker.inherit). Default: process.env. */
  hostEnv?: Record<string, string | undefined>;
}

export interface BakeResult {
  action: 'created' | 'reused';
  image: { id: string; tag: string };
  key: string;
  labels: Record<string, string>;
  /** The project in the image. */
  projectDir: string;
  venv: string;
  upload?: UploadReport;
  durationMs: number;
}

const UV_CACHE = '/var/cache/pymgr/uv';

function splitTag(tag: string): { repo: string; tag: string } {
  const at = tag.lastIndexOf(':');
  return at > tag.lastIndexOf('/') ? { repo: tag.slice(0, at), tag: tag.slice(at + 1) } : { repo: tag, tag: 'latest' };
}

/** Bake the project's verified env into an image (see the file comment). */
export async function bakeImage(options: BakeOptions): Promise<BakeResult> {
  try {
    return await bake(options);
  } catch (err) {
    throw toPymgrError(err);
  }
}

/** A Docker image reference's repository (an optional registry host, then lowercase path components) and tag. */
const REPOSITORY = /^(?:(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(?::\d+)?\/|[a-zA-Z0-9-]+:\d+\/|localhost\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;

/** A name for the baked image the engine would refuse: a usage error before anything is built. */
function assertImageName(name: string): void {
  const { repo, tag } = splitTag(name);
  if (REPOSITORY.test(repo) && TAG.test(tag)) return;
  throw new PymgrError('USAGE', `--tag ${name} is not a valid image name`, {
    hint: 'Use repo[:tag]: lowercase letters, digits and separators (. _ -) in the repository, an optional registry host first; e.g. --tag app-env:1.',
  });
}

async function bake(options: BakeOptions): Promise<BakeResult> {
  const started = Date.now();
  assertImageName(options.tag);
  const progress = options.onProgress ?? (() => undefined);
  const client = isDockerClient(options.engine) ? options.engine : await findEngine(options.engine ?? {});
  const target = options.target ?? '/work/project';
  const { repo, tag } = splitTag(options.tag);
  const baseId = await client.findImageId(options.image);
  if (!baseId) {
    throw new PymgrError('USAGE', `No image ${options.image} on the engine`, { hint: 'Pull or build the base image first (`docker images` lists them).' });
  }
  const entries = [...listUpload(options.projectDir, { venv: options.flags?.venv })].map(([p, e]) => [p, e.t, e.m, e.h ?? e.l ?? '']);
  // What else decides what gets installed: the build's mounts (a wheelhouse) and the variables the
  // managers read or inherit (index, proxy, CA bundle by content), without any credentials in them.
  const hostEnv = options.hostEnv ?? process.env;
  const vars = Object.keys(hostEnv)
    .filter((k) => /^(PYMGR_|UV_|PIP_)|_PROXY$|^(SSL_CERT_FILE|REQUESTS_CA_BUNDLE)$/i.test(k))
    .sort()
    .map((k) => [k, createHash('sha256').update(hostEnv[k] ?? '').digest('hex').slice(0, 16)]);
  const ca = findHostCaBundle(hostEnv);
  const key = createHash('sha256')
    .update(JSON.stringify({ v: 2, baseId, entries, flags: options.flags ?? {}, target, version: options.version ?? '', mounts: options.mounts ?? [], vars, ca: ca ? createHash('sha256').update(ca.pem).digest('hex') : null }))
    .digest('hex')
    .slice(0, 32);

  const existing = (await client.findImagesByLabel(BAKE_KEY_LABEL, key))[0];
  if (existing) {
    if (!existing.tags.includes(`${repo}:${tag}`)) await client.tagImage(existing.id, repo, tag);
    progress({ step: 'bake', message: `${repo}:${tag} is already baked for this project (${existing.id.slice(7, 19)})` });
    return { action: 'reused', image: { id: existing.id, tag: `${repo}:${tag}` }, key, labels: existing.labels, projectDir: target, venv: existing.labels['io.pymgr.venv'] ?? `${target}/.venv`, durationMs: Date.now() - started };
  }

  const base = await client.imageConfig(baseId);
  const cacheVolume = options.cacheVolume ?? 'pymgr-bake-uv-cache';
  progress({ step: 'bake', message: `building on ${options.image}: a container with uv's cache on the volume ${cacheVolume}` });
  const box = await client.createContainer({
    image: baseId,
    cmd: IDLE_COMMAND,
    labels: { 'io.pymgr.bake': key },
    binds: [`${cacheVolume}:${UV_CACHE}`, ...(options.mounts ?? [])],
  });
  let imageId: string | undefined;
  try {
    await box.start();
    const info = await box.inspect();
    // The cache variable per exec: nothing of it in the committed config.
    const executor = await DockerExecutor.connect(info.id, { engine: client, env: { UV_CACHE_DIR: UV_CACHE } });
    const upload = await uploadProject(executor, options.projectDir, target, { venv: options.flags?.venv });
    progress({ step: 'bake', message: `uploaded ${upload.sent} entries (${upload.bytes} bytes) to ${target}` });
    const result = await setup({ projectDir: target, executor, flags: options.flags, onProgress: options.onProgress, env: hostEnv });
    const state = await readState(executor, result.venv.path);
    const labels: Record<string, string> = {
      [BAKE_KEY_LABEL]: key,
      'io.pymgr.fingerprint': state?.fingerprint ?? '',
      'io.pymgr.provider': result.provider.name,
      'io.pymgr.python': result.python.version,
      'io.pymgr.venv': result.venv.path,
      'io.pymgr.expected': JSON.stringify(state?.expected ?? []),
      'io.pymgr.version': options.version ?? '',
    };
    await box.stop(0);
    // Committed untagged, tagged once verified: a failed bake never takes the name from a good image.
    imageId = await client.commitContainer(info.id, { repo: '', tag: '', cmd: base.cmd ?? null, labels: { ...base.labels, ...labels } });
    progress({ step: 'bake', message: `committed ${imageId.slice(7, 19)}; verifying it with networking disabled` });
    await verifyBaked(client, imageId, result.venv.path, state?.expected ?? []);
    await client.tagImage(imageId, repo, tag);
    return { action: 'created', image: { id: imageId, tag: `${repo}:${tag}` }, key, labels, projectDir: target, venv: result.venv.path, upload, durationMs: Date.now() - started };
  } catch (err) {
    if (imageId) await client.removeImage(imageId).catch(() => undefined);
    throw err;
  } finally {
    await box.remove({ force: true }).catch(() => undefined);
  }
}

/** A fresh container of the image, no network: the venv's own interpreter proves the env. */
async function verifyBaked(client: DockerClient, imageId: string, venvPath: string, expected: string[]): Promise<void> {
  const box = await client.createContainer({ image: imageId, cmd: IDLE_COMMAND, networkDisabled: true, labels: { 'io.pymgr.bake-verify': '1' } });
  try {
    await box.start();
    const executor = await DockerExecutor.connect((await box.inspect()).id, { engine: client });
    const report = await inspectVenv(executor, venvPath, expected, { files: 'full' });
    assertIsolated(report, venvPath);
  } finally {
    await box.remove({ force: true }).catch(() => undefined);
  }
}
