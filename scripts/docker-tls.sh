#!/usr/bin/env bash
# Certificates for the engine's TLS listener (tcp://127.0.0.1:2376 with --tlsverify), made with
# openssl, idempotently, in $PYMGR_DOCKER_TLS_DIR (default /run/pymgr-docker-tls):
#   ca.pem, server-cert.pem, server-key.pem   the engine's side (scripts/docker-engine.sh uses them);
#   client/{ca,cert,key}.pem                  a client that the engine accepts (DOCKER_CERT_PATH);
#   wrong-ca/{ca,cert,key}.pem                the same client with another CA (it must be refused).
set -euo pipefail
DIR="${PYMGR_DOCKER_TLS_DIR:-/run/pymgr-docker-tls}"
log() { printf 'docker-tls: %s\n' "$*" >&2; }
[ -f "$DIR/client/key.pem" ] && [ -f "$DIR/wrong-ca/ca.pem" ] && exit 0
if ! command -v openssl >/dev/null; then
  log "installing openssl with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
fi
mkdir -p "$DIR/client" "$DIR/wrong-ca"
chmod 0700 "$DIR"
cd "$DIR"
q() { "$@" >/dev/null 2>&1 || { log "ERROR: $*"; "$@"; exit 1; }; }
q openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=pymgr-test-ca -keyout ca-key.pem -out ca.pem
q openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server-key.pem -out server.csr
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile server.ext -out server-cert.pem
q openssl req -newkey rsa:2048 -nodes -subj /CN=pymgr-test-client -keyout client/key.pem -out client.csr
printf 'extendedKeyUsage=clientAuth\n' > client.ext
q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile client.ext -out client/cert.pem
cp ca.pem client/ca.pem
q openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=pymgr-other-ca -keyout wrong-ca/other-key.pem -out wrong-ca/ca.pem
cp client/cert.pem client/key.pem wrong-ca/
rm -f ./*.csr ./*.ext ./*.srl
log "certificates in $DIR"
