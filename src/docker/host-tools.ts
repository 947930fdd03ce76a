/**
 * Giving a container the host's managers without git or network: uv and mise are single binaries,
 * so when the container runs the same OS and CPU as the host, pymgr copies them in through the
 * archive API:
 * - uv to `<toolsDir>/uv-<version>/bin/uv`, where the uv provider looks for a provisioned uv
 *   (set providers.uv.version to the version returned when it is not the configured one);
 * - mise to `<toolsDir>/mise-<version>/bin/mise`, returned so the caller sets providers.mise.path.
 * When the platforms differ (or the copy does not run there), nothing is copied and the reason is
 * returned: the image's own uv or mise (on PATH) is used, or the uv provider installs uv with pip.
 * pyenv is not copied: it comes from a cache mount (see persistent-env.ts).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open, readFile, realpath, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { PymgrConfigInput } from '../config/schema.js';
import type { ReadRequest } from '../contracts.js';
import { defaultToolsDir } from '../core/paths.js';
import { placeFact, probeBinary } from '../core/probe-cache.js';
import { findOnPath } from '../executor/which.js';
import type { DockerExecutor } from './docker-executor.js';
import { packFile } from './tar-archive.js';

const execFileP = promisify(execFile);

export type HostToolName = 'uv' | 'mise';

export interface HostToolResult {
  /** `copied` now, `present` (the same version was already there), or `skipped` (see `reason`). */
  action: 'copied' | 'present' | 'skipped';
  /** Path in the container (copied or present). */
  path?: string;
  /** Version of the host's binary. */
  version?: string;
  /** Host binary copied (or that would have been). */
  hostPath?: string;
  /** Why it was skipped. */
  reason?: string;
  /** When skipped for a reason other than "not requested": the tool the container has on its PATH, if any (the provider will use it). */
  containerPath?: string;
}

export interface CopyHostToolsOptions {
  /** pymgr's tools directory in the container (default: as setup computes it there). */
  toolsDir?: string;
  /** Host binaries: a path, `false` to skip, or undefined to look on the host's PATH. */
  uv?: string | false;
  mise?: string | false;
  /** The host's OS and CPU (default: this process's); injectable for tests. */
  hostPlatform?: NodeJS.Platform;
  hostArch?: string;
  /** Host environment for the PATH search (default: process.env). */
  hostEnv?: Record<string, string | undefined>;
}

export interface CopyHostToolsResult {
  toolsDir: string;
  uv: HostToolResult;
  mise: HostToolResult;
  /** Config to pass as `flags` (or merge into them) so the providers use what was copied. */
  config: PymgrConfigInput;
}

/** `uname -m` names for Node's `process.arch`. */
const UNAME_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * Copy the host's uv and mise into the container when the platforms match; see the file comment.
 * Never throws for "cannot copy": that is a `skipped` result with the reason.
 */
export async function copyHostTools(executor: DockerExecutor, options: CopyHostToolsOptions = {}): Promise<CopyHostToolsResult> {
  const toolsDir = options.toolsDir ?? (await defaultToolsDir(executor, {}));
  const mismatch = await comparePlatforms(executor, options.hostPlatform ?? process.platform, options.hostArch ?? process.arch);
  const hostEnv = options.hostEnv ?? process.env;
  const uv = await copyOne(executor, 'uv', options.uv, { toolsDir, mismatch, hostEnv });
  const mise = await copyOne(executor, 'mise', options.mise, { toolsDir, mismatch, hostEnv });
  const config: { providers?: { uv?: { version: string }; mise?: { path: string } } } = {};
  if (uv.action !== 'skipped' && uv.version) (config.providers ??= {}).uv = { version: uv.version };
  if (mise.action !== 'skipped' && mise.path) (config.providers ??= {}).mise = { path: mise.path };
  return { toolsDir, uv, mise, config: config as PymgrConfigInput };
}

/** Where a copied tool goes: `<toolsDir>/uv-<version>/bin/uv`, `<toolsDir>/mise-<version>/bin/mise`. */
export function hostToolTarget(toolsDir: string, name: HostToolName, version: string): string {
  return `${toolsDir}/${name}-${version}/bin/${name}`;
}

/** Why host binaries cannot run in the container, or `undefined` when they can. */
async function comparePlatforms(executor: DockerExecutor, hostPlatform: NodeJS.Platform, hostArch: string): Promise<string | undefined> {
  if (hostPlatform !== 'linux') return `the host is ${hostPlatform}, not linux`;
  // Learnt once per container, kept across processes (a container's kernel and machine never change).
  const res = await placeFact(executor, 'uname -s -m', () => executor.exec('uname', ['-s', '-m'], { timeoutMs: 30_000, readOnly: true }));
  if (res.exitCode !== 0) return `uname failed in ${executor.description} (exit ${res.exitCode})`;
  const [os, machine] = res.stdout.trim().split(/\s+/);
  if (os !== 'Linux') return `${executor.description} runs ${os}, not Linux`;
  const host = UNAME_ARCH[hostArch] ?? hostArch;
  if (machine !== host) return `${executor.description} is ${machine}, the host is ${host}`;
  return undefined;
}

async function copyOne(
  executor: DockerExecutor,
  name: HostToolName,
  setting: string | false | undefined,
  ctx: { toolsDir: string; mismatch?: string; hostEnv: Record<string, string | undefined> },
): Promise<HostToolResult> {
  const skipped = async (reason: string, extra: Partial<HostToolResult> = {}): Promise<HostToolResult> => ({
    action: 'skipped',
    reason,
    containerPath: await findOnPath(executor, name).catch(() => undefined),
    ...extra,
  });
  // Not asked for: nothing to look up in the container either.
  if (setting === false) return { action: 'skipped', reason: 'not requested' };
  if (ctx.mismatch) return skipped(`platforms differ: ${ctx.mismatch}`);
  const hostPath = setting ?? (await findHostBinary(name, ctx.hostEnv));
  if (!hostPath) return skipped(`no ${name} binary found on the host`);
  const version = await readHostVersion(hostPath, name);
  if (!version) return skipped(`${hostPath} --version did not report a version`, { hostPath });

  const target = hostToolTarget(ctx.toolsDir, name, version);
  if ((await readContainerVersion(executor, target, name)) === version) return { action: 'present', path: target, version, hostPath };

  const dir = target.slice(0, target.lastIndexOf('/'));
  const data = await readFile(hostPath);
  // Keep the host's mtime: setup's fingerprint includes the manager's size and mtime, so the same
  // binary copied into a recreated container leaves a ready env `reused`.
  const { mtimeMs } = await stat(hostPath);
  const { uid, gid } = await executor.userIds();
  await executor.mkdir(dir, { recursive: true, mode: 0o755 });
  const staging = `.${name}.partial-${process.pid}-${Date.now()}`;
  await executor.client.getContainer(executor.containerId).putArchive(dir, packFile(staging, data, { mode: 0o755, uid, gid, mtimeMs }));
  await executor.rename(`${dir}/${staging}`, target);
  const copiedVersion = await readContainerVersion(executor, target, name);
  if (copiedVersion !== version) {
    await executor.remove(target);
    return skipped(`the host's ${name} ${version} does not run in ${executor.description}`, { hostPath, version });
  }
  return { action: 'copied', path: target, version, hostPath };
}

/**
 * The reads {@link copyHostTools} makes of the container, for a batch before it runs (see
 * Executor.prefetch `lazy`): where the host's uv would be (its stat decides, through the probe
 * cache, whether it must be asked its version). Best effort: nothing when the host has no uv.
 */
export async function hostToolReads(toolsDir: string, hostEnv: Record<string, string | undefined> = process.env): Promise<ReadRequest[]> {
  const hostPath = await findHostBinary('uv', hostEnv).catch(() => undefined);
  const version = hostPath && (await readHostVersion(hostPath, 'uv'));
  return version ? [{ op: 'stat', path: hostToolTarget(toolsDir, 'uv', version) }] : [];
}

/**
 * The real binary behind `name` on the host's PATH. pyenv and asdf shims are scripts, not the
 * binary: those are resolved with `pyenv which` (an ELF check tells them apart).
 */
export async function findHostBinary(name: string, env: Record<string, string | undefined> = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if (!(await stat(candidate)).isFile()) continue;
    } catch {
      continue;
    }
    const real = await realpath(candidate);
    if (await isElf(real)) return real;
    if (/\/shims$/.test(dir)) {
      try {
        const { stdout } = await execFileP('pyenv', ['which', name], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
        const resolved = await realpath(stdout.trim());
        if (await isElf(resolved)) return resolved;
      } catch {
        /* not a pyenv shim, or pyenv cannot tell */
      }
    }
  }
  return undefined;
}

async function isElf(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, 0);
    return buf.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await fh.close();
  }
}

function parseVersion(name: HostToolName, text: string): string | undefined {
  const re = name === 'uv' ? /\buv (\d+\.\d+\.\d+)/ : /^(\d+\.\d+\.\d+)/m;
  return re.exec(text)?.[1];
}

/** Host binaries' versions, asked once per process (hints and the copy ask the same). */
const hostVersions = new Map<string, Promise<string | undefined>>();

function readHostVersion(path: string, name: HostToolName): Promise<string | undefined> {
  let known = hostVersions.get(path);
  if (!known) hostVersions.set(path, (known = askHostVersion(path, name)));
  return known;
}

async function askHostVersion(path: string, name: HostToolName): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP(path, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, MISE_NO_CONFIG: '1' } });
    return parseVersion(name, stdout);
  } catch {
    return undefined;
  }
}

async function readContainerVersion(executor: DockerExecutor, path: string, name: HostToolName): Promise<string | undefined> {
  // A binary that is not there fails to run (one round trip, as asking whether it exists would). Learnt once per container (src/core/probe-cache.ts): the uv provider asks the same of the same binary.
  const res = await probeBinary(executor, path, ['--version'], { timeoutMs: 30_000, ...(name === 'mise' ? { env: { MISE_NO_CONFIG: '1' } } : {}) });
  return res.exitCode === 0 ? parseVersion(name, res.stdout) : undefined;
}

