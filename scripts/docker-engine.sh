#!/usr/bin/env bash
# Make a Docker engine usable on this machine, idempotently:
#   1. install docker.io and debootstrap with apt-get when they are missing;
#   2. start dockerd in the background when the engine does not answer (the unix socket, and a TLS
#      listener on 127.0.0.1:2376 with certificates from scripts/docker-tls.sh);
#   3. wait up to 60 s for it to answer, and fail loudly otherwise.
# Needs root (or sudo) for steps 1 and 2. Safe to run again: it does nothing when all is well.
# Environment: PYMGR_DOCKERD_LOG (default /tmp/dockerd.log), PYMGR_DOCKER_WAIT (seconds, default 60).
set -euo pipefail

log() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else SUDO=(); fi
fi

engine_answers() {
  # `docker version` talks to the server (honours DOCKER_HOST); it fails when the engine does not answer.
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

missing=()
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v dockerd >/dev/null 2>&1 || { [[ " ${missing[*]-} " == *" docker.io "* ]] || missing+=(docker.io); }
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

if engine_answers; then
  log "engine already answers: $(docker version --format '{{.Server.Version}}')"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [[ "${DOCKER_HOST}" != unix:///var/run/docker.sock ]]; then
  die "DOCKER_HOST=${DOCKER_HOST} does not answer, and this script only starts a local dockerd on /var/run/docker.sock. Unset DOCKER_HOST or start that engine."
fi

logfile="${PYMGR_DOCKERD_LOG:-/tmp/dockerd.log}"
if pgrep -x dockerd >/dev/null 2>&1; then
  log "dockerd is running but does not answer yet; waiting"
else
  # Also a TLS listener on 127.0.0.1:2376 (--tlsverify: clients need a certificate of its CA), with
  # certificates from scripts/docker-tls.sh; the unix socket is as always.
  tls_dir="${PYMGR_DOCKER_TLS_DIR:-/run/pymgr-docker-tls}"
  bash "$(dirname "$0")/docker-tls.sh"
  tls=(-H unix:///var/run/docker.sock -H tcp://127.0.0.1:2376 --tlsverify
       --tlscacert "$tls_dir/ca.pem" --tlscert "$tls_dir/server-cert.pem" --tlskey "$tls_dir/server-key.pem")
  log "starting dockerd in the background (log: ${logfile}; TLS on 127.0.0.1:2376)"
  # setsid + nohup: dockerd outlives this script and its terminal.
  "${SUDO[@]}" setsid nohup dockerd "${tls[@]}" >"${logfile}" 2>&1 </dev/null &
fi

wait_s="${PYMGR_DOCKER_WAIT:-60}"
for ((i = 0; i < wait_s; i++)); do
  if engine_answers; then
    log "engine answers after ${i} s: $(docker version --format '{{.Server.Version}}')"
    exit 0
  fi
  sleep 1
done

log "last lines of ${logfile}:"
tail -n 30 "${logfile}" >&2 || true
die "the Docker engine did not answer within ${wait_s} s (socket /var/run/docker.sock). See ${logfile}."
