/**
 * An engine over SSH (`DOCKER_HOST=ssh://user@host[:port]`): one SSH connection to the host, and
 * on it a channel for every HTTP connection to the engine — forwarded straight to the engine's
 * socket (OpenSSH's streamlocal forwarding), or, where the server refuses that, through
 * `docker system dial-stdio` as the docker CLI does (a docker CLI on the host relays to the socket).
 *
 * Unlike docker-modem's own SSH support (a new SSH connection and a new dial-stdio process per
 * request), each request costs a channel, not a handshake and a process start.
 *
 * - Authentication, in order: the agent (`SSH_AUTH_SOCK`), then the usual key files
 *   (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`; a key that needs a passphrase is skipped: put it in
 *   the agent).
 * - The host must be known: its key is checked against `~/.ssh/known_hosts` and
 *   `/etc/ssh/ssh_known_hosts` (plain or hashed names, `[host]:port` for another port; `@revoked`
 *   honoured), as `StrictHostKeyChecking yes` does. An unknown or changed host key is refused with
 *   the fix (check the fingerprint, then `ssh-keyscan`).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, type AgentOptions } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
}

export interface SshOptions {
  env?: Record<string, string | undefined>;
  /** Known-hosts files (default `~/.ssh/known_hosts`, `/etc/ssh/ssh_known_hosts`). */
  knownHosts?: string[];
  /** Give up connecting after this long (default 10 s). */
  readyTimeoutMs?: number;
  /** The engine's socket on the host (default /var/run/docker.sock); `null`: always `docker system dial-stdio`. */
  remoteSocket?: string | null;
}

/** The name a host is recorded under in known_hosts: `host`, or `[host]:port` for another port than 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Whether `key` (the raw public key blob the server presented) is recorded for `name` in the
 * known-hosts text: `trusted`, `revoked`, `other-key` (the name is known with another key: a changed
 * host key) or `unknown`.
 */
export function checkKnownHost(text: string, name: string, key: Buffer): 'trusted' | 'revoked' | 'other-key' | 'unknown' {
  let verdict: 'trusted' | 'other-key' | 'unknown' = 'unknown';
  const blob = key.toString('base64');
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0].startsWith('@')) marker = fields.shift();
    if (fields.length < 3 || marker === '@cert-authority') continue;
    const [hosts, , keyB64] = fields;
    if (!hosts.split(',').some((pattern) => hostMatches(pattern, name))) continue;
    if (marker === '@revoked') {
      if (keyB64 === blob) return 'revoked';
      continue;
    }
    if (keyB64 === blob) verdict = 'trusted';
    else if (verdict === 'unknown') verdict = 'other-key';
  }
  return verdict;
}

/** The key types recorded for `name` (not revoked), in the order they appear. */
export function knownKeyTypes(text: string, name: string): string[] {
  const types: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#') || fields[0].startsWith('@')) continue;
    if (fields.length >= 3 && fields[0].split(',').some((p) => hostMatches(p, name)) && !types.includes(fields[1])) types.push(fields[1]);
  }
  return types;
}

/** ssh2's host key algorithm names for a known_hosts key type (RSA keys sign with SHA-2 today). */
function hostKeyAlgorithms(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return pattern === name;
}

/** An error whose message says what to do (it reaches DOCKER_UNAVAILABLE's list of attempts). */
function sshError(target: SshTarget, what: string, fix: string, cause?: unknown): Error {
  return new Error(`ssh to ${target.username}@${target.host}:${target.port}: ${what} (${fix})`, cause === undefined ? undefined : { cause });
}

/** The authentication methods to try, in order. */
function authMethods(target: SshTarget, env: Record<string, string | undefined>): Array<Record<string, unknown>> {
  const methods: Array<Record<string, unknown>> = [];
  if (env.SSH_AUTH_SOCK) methods.push({ type: 'agent', username: target.username, agent: env.SSH_AUTH_SOCK });
  const home = env.HOME ?? homedir();
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    let key: Buffer;
    try {
      key = readFileSync(join(home, '.ssh', name));
    } catch {
      continue;
    }
    if (/ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(key.toString('latin1', 0, 400))) continue; // needs a passphrase: the agent's job
    methods.push({ type: 'publickey', username: target.username, key });
  }
  return methods;
}

/**
 * An http.Agent whose connections are `docker system dial-stdio` channels on one SSH connection to
 * `target`, opened on first use. `close()` ends the SSH connection.
 */
export async function createSshAgent(target: SshTarget, options: SshOptions = {}): Promise<Agent & { close(): void }> {
  const { Client } = (await import('ssh2')).default as typeof import('ssh2');
  const env = options.env ?? process.env;
  const home = env.HOME ?? homedir();
  const knownHosts = options.knownHosts ?? [join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const name = knownHostsName(target.host, target.port);
  let client: import('ssh2').Client | undefined;
  let ready: Promise<import('ssh2').Client> | undefined;
  // The TCP connection keeps this process alive only while a channel in use is: an idle
  // connection kept for the next request must not hold a finished command open.
  let sock: Socket | undefined;
  let inUse = 0;
  const holdOpen = (delta: number) => {
    inUse += delta;
    if (inUse > 0) sock?.ref();
    else sock?.unref();
  };

  const connect = (): Promise<import('ssh2').Client> => {
    ready ??= new Promise((resolve, reject) => {
      const methods = authMethods(target, env);
      if (methods.length === 0) {
        reject(sshError(target, 'no SSH key to offer', 'start ssh-agent and `ssh-add` your key, or create ~/.ssh/id_ed25519'));
        ready = undefined;
        return;
      }
      const c = new Client();
      sock = tcpConnect({ host: target.host, port: target.port });
      holdOpen(1); // connecting: the process waits for it
      let connecting = true;
      const connected = () => {
        if (connecting) holdOpen(-1);
        connecting = false;
      };
      c.once('ready', connected);
      c.once('error', connected);
      c.once('close', connected);
      let hostProblem: Error | undefined;
      c.on('ready', () => {
        client = c;
        resolve(c);
      });
      c.on('error', (err: Error & { level?: string; code?: string }) => {
        ready = undefined;
        if (hostProblem) reject(hostProblem);
        else if (err.level === 'client-authentication') reject(sshError(target, 'the key was refused', `add your public key to ~${target.username}/.ssh/authorized_keys on ${target.host}, or the right key to the agent (ssh-add)`, err));
        else if (err.level === 'client-timeout') reject(sshError(target, 'no answer in time', `check that ${target.host} is reachable and sshd listens on port ${target.port}`, err));
        else if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENOTFOUND' || err.code === 'ETIMEDOUT') {
          reject(sshError(target, `host unreachable (${err.code})`, `check the host name and port, and that sshd runs on ${target.host}`, err));
        } else reject(sshError(target, err.message, 'check the address and that you can `ssh` there', err));
      });
      c.on('close', () => {
        client = undefined;
        ready = undefined;
      });
      // The known-hosts files as they are now, read once for this connection.
      const texts = knownHosts.flatMap((file) => {
        try {
          return [readFileSync(file, 'utf8')];
        } catch {
          return [];
        }
      });
      // Ask for the kind of host key known_hosts records for this host (as OpenSSH prefers them),
      // so a host known by its ECDSA key is not taken for a changed one when it also has Ed25519.
      const recorded = texts.flatMap((text) => knownKeyTypes(text, name));
      c.connect({
        ...(recorded.length ? { algorithms: { serverHostKey: [...new Set(recorded.flatMap(hostKeyAlgorithms))] as never } } : {}),
        sock,
        host: target.host,
        port: target.port,
        username: target.username,
        readyTimeout: options.readyTimeoutMs ?? 10_000,
        authHandler: methods as never,
        hostVerifier: (key: Buffer) => {
          let verdict: ReturnType<typeof checkKnownHost> = 'unknown';
          for (const text of texts) {
            const v = checkKnownHost(text, name, key);
            if (v === 'revoked') {
              verdict = v;
              break;
            }
            if (v === 'trusted' || (v === 'other-key' && verdict === 'unknown')) verdict = v;
            if (v === 'trusted') break;
          }
          if (verdict === 'trusted') return true;
          hostProblem =
            verdict === 'revoked'
              ? sshError(target, 'its host key is revoked in known_hosts', 'do not connect; ask the host\'s owner')
              : verdict === 'other-key'
                ? sshError(target, `its host key is not the one recorded for ${name} in known_hosts (it changed, or someone is in between)`, 'check with the host\'s owner before replacing the entry (`ssh-keygen -R`)')
                : sshError(target, `its host key is unknown (${name} is not in ${knownHosts.join(' or ')})`, `check its fingerprint, then \`ssh-keyscan -p ${target.port} ${target.host} >> ~/.ssh/known_hosts\``);
          return false;
        },
      });
    });
    return ready;
  };

  /**
   * A channel to the engine: straight to its socket (OpenSSH's streamlocal forwarding, what
   * `ssh -L` does with a socket: no process on the host), else through `docker system dial-stdio`
   * (a docker CLI started on the host for each connection, as the docker CLI itself does).
   */
  let forwarding = options.remoteSocket !== null;
  const remoteSocket = options.remoteSocket ?? '/var/run/docker.sock';
  const openChannel = (c: import('ssh2').Client, done: (err: Error | undefined, stream?: Duplex) => void) => {
    const dialStdio = () =>
      c.exec('docker system dial-stdio', (err, stream) => {
        if (err) done(sshError(target, `cannot start \`docker system dial-stdio\`: ${err.message}`, `install the docker CLI on ${target.host}`, err));
        else done(undefined, stream as unknown as Duplex);
      });
    if (!forwarding) return dialStdio();
    c.openssh_forwardOutStreamLocal(remoteSocket, (err, stream) => {
      if (!err) return done(undefined, stream as unknown as Duplex);
      forwarding = false; // refused by the server (AllowStreamLocalForwarding no): the CLI's way from now on
      dialStdio();
    });
  };

  const agent = new Agent({ keepAlive: true, maxSockets: 8 } as AgentOptions) as Agent & { close(): void };
  type Callback = (err: Error | null, socket?: Duplex) => void;
  (agent as unknown as { createConnection: (options: unknown, callback: Callback) => undefined }).createConnection = (_options, callback) => {
    holdOpen(1); // until the channel is open (then the channel holds it while in use)
    connect().then(
      (c) =>
        openChannel(c, (err, stream) => {
          if (err || !stream) {
            holdOpen(-1);
            return callback(err ?? new Error('no channel'));
          }
          // What http expects of a socket, on an SSH channel.
          const channel = stream as Duplex & { setKeepAlive?: () => void; setNoDelay?: () => void; setTimeout?: () => void; ref?: () => void; unref?: () => void };
          let held = true; // the hold taken above
          const hold = (on: boolean) => {
            if (held !== on) holdOpen(on ? 1 : -1);
            held = on;
            return channel;
          };
          channel.setKeepAlive = () => channel;
          channel.setNoDelay = () => channel;
          channel.setTimeout = () => channel;
          channel.ref = () => hold(true);
          channel.unref = () => hold(false);
          channel.once('close', () => hold(false));
          // The engine closed its side (a hijacked exec that ended): close ours, so the channel
          // closes (an SSH channel closes only when both sides have ended) and holds nothing.
          channel.once('end', () => {
            hold(false);
            channel.end();
          });
          callback(null, channel);
        }),
      (err: Error) => {
        holdOpen(-1);
        callback(err);
      },
    );
    return undefined;
  };
  agent.close = () => {
    agent.destroy();
    client?.end();
  };
  return agent;
}
