/**
 * The engine's TLS listener the tests use (scripts/docker-tls.sh and scripts/docker-engine.sh):
 * tcp://127.0.0.1:2376 with --tlsverify, client certificates in $PYMGR_DOCKER_TLS_DIR/client and,
 * signed by another CA, in $PYMGR_DOCKER_TLS_DIR/wrong-ca.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface TlsEngine {
  url: string;
  client: string;
  wrongCa: string;
}

/** The TLS engine, or `undefined` when its certificates are missing or nothing listens on 2376. */
export async function findTlsEngine(): Promise<TlsEngine | undefined> {
  const dir = process.env.PYMGR_DOCKER_TLS_DIR ?? '/run/pymgr-docker-tls';
  if (!existsSync(join(dir, 'client', 'key.pem'))) return undefined;
  const listening = await new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: 2376 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  return listening ? { url: 'tcp://127.0.0.1:2376', client: join(dir, 'client'), wrongCa: join(dir, 'wrong-ca') } : undefined;
}
