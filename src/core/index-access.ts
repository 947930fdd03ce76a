/**
 * How index URLs with credentials reach uv and pip without ever being on a command line
 * (`/proc/<pid>/cmdline` is world-readable; in a container `docker top` and the Engine API's
 * exec records show the arguments too).
 *
 * - No credentials in any URL: the URLs are flags, as always.
 * - Credentials (the usual case, `user:password@`): the URLs go on the command line *without*
 *   them, and the credentials go into a private netrc file — mode 0600, in a directory of mode
 *   0700 made for this one command in the temporary directory of the place the command runs, and
 *   removed after — named by `NETRC` in that command's environment. uv and pip (through requests)
 *   read `NETRC`, including pip's build-isolation subprocesses, which pip starts with the index
 *   URLs *as arguments* (so URLs with credentials in pip's environment would reach a command line
 *   there). The user's own netrc (`$NETRC`, else `~/.netrc`) is copied in first, so their other
 *   hosts keep working; pymgr's entries come last, and the last entry for a host wins in both uv
 *   and Python's netrc.
 * - Credentials netrc cannot carry (a token without password, whitespace or quotes, two URLs of
 *   one host with different credentials): the URLs with credentials go through the command's
 *   environment (`UV_INDEX_URL`/`UV_EXTRA_INDEX_URL`/`UV_FIND_LINKS`, or `PIP_INDEX_URL`/
 *   `PIP_EXTRA_INDEX_URL`/`PIP_FIND_LINKS`), readable only by the same user (and root). (pip still
 *   passes them as arguments to its build-isolation subprocess when it builds an sdist.)
 *
 * Docker (checked on Engine 20.10): an exec's `Env` is not shown by exec or container inspect,
 * but the netrc route is used there as well, so the password is in one private file only.
 */
import { randomBytes } from 'node:crypto';
import type { Executor, IndexOptions } from '../contracts.js';
import { homeDir } from './paths.js';

export type InstallerKind = 'uv' | 'pip';

/** What one install command needs for its indexes: flags, variables, and a clean-up for afterwards. */
export interface IndexAccess {
  /** Index flags (never carrying credentials). */
  args: string[];
  /** Variables for that one command. */
  env: Record<string, string>;
  /** `netrc`, `env` or `flags` (no credentials): how the credentials were given. */
  route: 'netrc' | 'env' | 'flags';
  /** Remove the private netrc (idempotent; never throws). */
  cleanup(): Promise<void>;
}

export interface Credentials {
  /** The URL without user and password. */
  url: string;
  host: string;
  login: string;
  password: string;
}

/** The URL's credentials split off, or undefined when it has none (or is not a URL). */
export function splitCredentials(raw: string): Credentials | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(raw)) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (!u.username && !u.password) return undefined;
  const login = safeDecode(u.username);
  const password = safeDecode(u.password);
  u.username = '';
  u.password = '';
  return { url: u.toString(), host: u.hostname, login, password };
}

/** The URL with any user and password removed (for fingerprints and the like). */
export function withoutCredentials(raw: string): string {
  return splitCredentials(raw)?.url ?? raw;
}

/** Whether any index URL carries credentials. */
export function hasCredentials(index: IndexOptions): boolean {
  return allUrls(index).some((u) => splitCredentials(u) !== undefined);
}

/** Index flags for `index`, URLs as given (the old behaviour, for URLs without credentials). */
export function plainIndexArgs(index: IndexOptions, installer: InstallerKind): string[] {
  return flagArgs(index, installer, (u) => u);
}

/**
 * Flags, variables and clean-up for one install command through `executor`; see the file
 * comment. Call `cleanup()` in a `finally` once the command has ended.
 */
export async function prepareIndexAccess(executor: Executor, index: IndexOptions, installer: InstallerKind): Promise<IndexAccess> {
  const none = async () => undefined;
  if (!hasCredentials(index)) return { args: plainIndexArgs(index, installer), env: {}, route: 'flags', cleanup: none };
  const creds = allUrls(index).map(splitCredentials).filter((c): c is Credentials => c !== undefined);
  if (!netrcCanCarry(creds)) return envRoute(index, installer);

  const env = await executor.getEnv();
  const base = (env.TMPDIR || '/tmp').replace(/\/+$/, '') || '/tmp';
  const dir = `${base}/pymgr-netrc-${randomBytes(8).toString('hex')}`;
  if (!(await executor.mkdir(dir, { mode: 0o700 }))) return envRoute(index, installer);
  const cleanup = async () => {
    await executor.remove(dir, { recursive: true }).catch(() => undefined);
  };
  try {
    const own = await executor.readFile(env.NETRC || `${homeDir(env)}/.netrc`).catch(() => '');
    const entries = creds.map((c) => `machine ${c.host}\nlogin ${c.login}\npassword ${c.password}\n`).join('\n');
    const file = `${dir}/netrc`;
    await executor.writeFile(file, `${own}${own && !own.endsWith('\n') ? '\n' : ''}${own ? '\n' : ''}${entries}`, { mode: 0o600 });
    return { args: flagArgs(index, installer, withoutCredentials), env: { NETRC: file }, route: 'netrc', cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function envRoute(index: IndexOptions, installer: InstallerKind): IndexAccess {
  const names = installer === 'uv'
    ? { url: 'UV_INDEX_URL', extra: 'UV_EXTRA_INDEX_URL', links: 'UV_FIND_LINKS' }
    : { url: 'PIP_INDEX_URL', extra: 'PIP_EXTRA_INDEX_URL', links: 'PIP_FIND_LINKS' };
  const env: Record<string, string> = {};
  if (index.url) env[names.url] = index.url;
  if (index.extraUrls.length) env[names.extra] = index.extraUrls.join(' ');
  // A flag replaces its variable: when one find-links entry has credentials, all of them go as the variable.
  const linksInEnv = index.findLinks.some((l) => splitCredentials(l));
  if (linksInEnv) env[names.links] = index.findLinks.join(' ');
  const args = flagArgs({ ...index, url: undefined, extraUrls: [], findLinks: linksInEnv ? [] : index.findLinks }, installer, (u) => u);
  return { args, env, route: 'env', cleanup: async () => undefined };
}

/** netrc holds one login and password per host, as whitespace-free words. */
function netrcCanCarry(creds: Credentials[]): boolean {
  const word = /^[^\s"'#\\]+$/;
  const byHost = new Map<string, string>();
  for (const c of creds) {
    if (!word.test(c.login) || !word.test(c.password) || !word.test(c.host)) return false;
    const key = `${c.login}\0${c.password}`;
    if (byHost.has(c.host) && byHost.get(c.host) !== key) return false;
    byHost.set(c.host, key);
  }
  return true;
}

function flagArgs(index: IndexOptions, installer: InstallerKind, map: (url: string) => string): string[] {
  const args: string[] = [];
  if (index.url) args.push('--index-url', map(index.url));
  for (const url of index.extraUrls) args.push('--extra-index-url', map(url));
  for (const link of index.findLinks) args.push('--find-links', map(link));
  if (index.noIndex || (index.offline && installer === 'pip')) args.push('--no-index');
  if (index.offline && installer === 'uv') args.push('--offline');
  return args;
}

function allUrls(index: IndexOptions): string[] {
  return [...(index.url ? [index.url] : []), ...index.extraUrls, ...index.findLinks];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
