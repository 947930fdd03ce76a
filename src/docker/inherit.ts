/**
 * What the managers' commands in a container inherit from the host (config `docker.inherit`,
 * default all three):
 *
 * - `ca`: the host's CA bundle — the first of SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT and
 *   pip's config `cert` that names a readable file — copied into the container (content-addressed:
 *   `<tools>/ca/host-<sha256>.pem`, written once) and named by SSL_CERT_FILE (uv), PIP_CERT (pip)
 *   and REQUESTS_CA_BUNDLE. Behind a TLS-inspecting proxy this is what lets a container verify the
 *   index at all.
 * - `proxy`: HTTP_PROXY, HTTPS_PROXY, NO_PROXY, ALL_PROXY (either case).
 * - `index`: PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, UV_INDEX_URL, UV_EXTRA_INDEX_URL, UV_DEFAULT_INDEX,
 *   UV_INDEX. pymgr's own `index.*` settings reach the container through the install plan anyway.
 *
 * Variables are set per exec (an exec's environment is not part of `docker inspect` of the
 * container), never on the container; a URL's credentials are never shown in what this reports.
 * Every value records where it came from.
 */
import { writeAtomic } from '../executor/write-atomic.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { redact } from '../redact.js';
import type { ReadRequest } from '../contracts.js';
import type { DockerExecutor } from './docker-executor.js';

export type InheritKind = 'ca' | 'proxy' | 'index';

export interface InheritedSetting {
  kind: InheritKind;
  /** The variable (or `pip.conf cert`) it came from on the host. */
  from: string;
  /** What it is, for messages (credentials redacted): a path, or `NAME=value`. */
  what: string;
}

export interface Inherited {
  /** Variables for the managers' commands in the container. */
  env: Record<string, string>;
  settings: InheritedSetting[];
}

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY'];
const INDEX_VARS = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'UV_INDEX_URL', 'UV_EXTRA_INDEX_URL', 'UV_DEFAULT_INDEX', 'UV_INDEX'];

/** The host's CA bundle and where it was named, or `undefined` when none is named or readable. */
/** Where the host's CA bundle goes in the container: named by a digest of its content. */
function caTarget(toolsDir: string, pem: string): string {
  return `${toolsDir}/ca/host-${createHash('sha256').update(pem).digest('hex').slice(0, 16)}.pem`;
}

/** The read {@link inheritHostSettings} makes of the container for the CA bundle, for a batch before it runs. */
export function caReads(toolsDir: string, hostEnv: Record<string, string | undefined> = process.env): ReadRequest[] {
  const ca = findHostCaBundle(hostEnv);
  return ca ? [{ op: 'stat', path: caTarget(toolsDir, ca.pem) }] : [];
}

export function findHostCaBundle(env: Record<string, string | undefined>, home = env.HOME ?? homedir()): { path: string; from: string; pem: string } | undefined {
  const candidates: Array<[string, string | undefined]> = [
    ['SSL_CERT_FILE', env.SSL_CERT_FILE],
    ['REQUESTS_CA_BUNDLE', env.REQUESTS_CA_BUNDLE],
    ['PIP_CERT', env.PIP_CERT],
  ];
  // pip's own config files, the most specific first (as pip lets it override the others).
  const pipConfigs = [env.PIP_CONFIG_FILE, join(home, '.config', 'pip', 'pip.conf'), join(home, '.pip', 'pip.conf'), '/etc/xdg/pip/pip.conf', '/etc/pip.conf'];
  for (const file of pipConfigs) {
    if (!file) continue;
    const cert = readPipCert(file);
    if (cert) candidates.push([`cert in ${file}`, cert]);
  }
  for (const [from, path] of candidates) {
    if (!path) continue;
    try {
      const pem = readFileSync(path, 'utf8');
      if (pem.includes('-----BEGIN CERTIFICATE-----')) return { path, from, pem };
    } catch {
      /* named but not readable here: the next one */
    }
  }
  return undefined;
}

/** `cert = <path>` of a pip config file's [global] or [install] section. */
function readPipCert(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const head = /^\[(.+)\]$/.exec(line);
    if (head) section = head[1].trim().toLowerCase();
    const m = /^cert\s*[=:]\s*(.+)$/.exec(line);
    if (m && (section === 'global' || section === 'install')) return m[1].trim();
  }
  return undefined;
}

/**
 * Carry the host's settings of the given kinds into the container: the CA bundle copied in, the
 * variables returned (for {@link DockerExecutor.withEnv}). Never throws for what the host lacks.
 */
export async function inheritHostSettings(
  executor: DockerExecutor,
  kinds: readonly InheritKind[],
  options: { toolsDir: string; hostEnv?: Record<string, string | undefined> },
): Promise<Inherited> {
  const hostEnv = options.hostEnv ?? process.env;
  const env: Record<string, string> = {};
  const settings: InheritedSetting[] = [];
  if (kinds.includes('ca')) {
    const ca = findHostCaBundle(hostEnv);
    if (ca) {
      const target = caTarget(options.toolsDir, ca.pem);
      // Named by its content: a file of that name and size is that bundle (the stat is free when a
      // batch learnt it: caReads). A tools directory this user may not write still serves a bundle that is there.
      const there = await executor.stat(target).catch(() => undefined);
      if (!there?.isFile || there.size !== Buffer.byteLength(ca.pem)) {
        await writeAtomic(executor, target, ca.pem, { mode: 0o644, parents: true }).catch(async (err: unknown) => {
          if (!(await executor.exists(target))) throw err;
        });
      }
      for (const name of ['SSL_CERT_FILE', 'PIP_CERT', 'REQUESTS_CA_BUNDLE']) env[name] = target;
      settings.push({ kind: 'ca', from: ca.from, what: `${ca.path} (as ${target})` });
    }
  }
  const carry = (kind: InheritKind, names: string[]) => {
    for (const name of names.flatMap((n) => (kind === 'proxy' ? [n, n.toLowerCase()] : [n]))) {
      const value = hostEnv[name];
      if (value === undefined || value === '') continue;
      // A proxy on the host's loopback (a local cntlm, say) is the container itself in there.
      if (kind === 'proxy' && !/NO_PROXY/i.test(name) && isLoopbackUrl(value)) {
        settings.push({ kind, from: name, what: `${name} not carried: ${redact(value)} is this machine's loopback, which a container cannot reach` });
        continue;
      }
      env[name] = value;
      settings.push({ kind, from: name, what: `${name}=${redact(value)}` });
    }
  };
  if (kinds.includes('proxy')) carry('proxy', PROXY_VARS);
  if (kinds.includes('index')) carry('index', INDEX_VARS);
  return { env, settings };
}

function isLoopbackUrl(value: string): boolean {
  let host: string;
  try {
    host = new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
