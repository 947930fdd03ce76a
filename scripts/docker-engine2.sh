#!/usr/bin/env bash
# A second Docker engine beside the first, sharing nothing with it but the kernel (fleet tests):
#   - its own data root, exec root (and so its own containerd), pidfile and unix socket;
#   - its own bridge (pymgr-br2, 172.31.250.1/24) instead of docker0, and its own cgroup parent;
#   - --iptables=false: it never touches the first engine's chains; this script adds the two rules
#     its containers need to reach the network (NAT out of its subnet, forwarding through its bridge);
#   - the base image loaded into it from the first engine (docker save | docker load).
# Idempotent: does nothing when the engine answers and has the image. Needs root and the first engine.
#   scripts/docker-engine2.sh          start it (and load the image)
#   scripts/docker-engine2.sh stop     stop it (SIGTERM, waits), then checks docker0 still exists
# Environment: PYMGR_DOCKER2_DIR (default /run/pymgr-docker2), PYMGR_DOCKER2_ROOT (data root, default
# /var/lib/pymgr-docker2), PYMGR_TEST_DOCKER_IMAGE (default pymgr-test/bookworm:1).
set -euo pipefail

log() { printf 'docker-engine2: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

dir="${PYMGR_DOCKER2_DIR:-/run/pymgr-docker2}"
data_root="${PYMGR_DOCKER2_ROOT:-/var/lib/pymgr-docker2}"
sock="$dir/docker.sock"
pidfile="$dir/docker.pid"
logfile="$dir/dockerd.log"
bridge=pymgr-br2
cidr=172.31.250.1/24
subnet=172.31.250.0/24
image="${PYMGR_TEST_DOCKER_IMAGE:-pymgr-test/bookworm:1}"
second=(docker -H "unix://$sock")

# Alive and not a zombie (a killed dockerd whose parent does not reap it stays one).
alive() {
  local f="${1:-$pidfile}" pid state
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  # The state field of /proc/<pid>/stat (after the command name in parentheses): Z is a zombie.
  state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [ -n "$state" ] && [ "$state" != Z ]
}
answers() { "${second[@]}" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ "${1:-}" = stop ]; then
  if alive; then
    pid="$(cat "$pidfile")"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do alive || break; sleep 1; done
    alive && die "dockerd ($pid) did not stop within 30 s"
    log "stopped"
  else
    log "not running"
  fi
  ip link show docker0 >/dev/null 2>&1 || die "the first engine's docker0 is gone after stopping the second engine"
  exit 0
fi

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "the first engine does not answer (run scripts/docker-engine.sh first)"
if ! command -v ip >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
  log "installing iproute2 and iptables with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 iptables
fi
mkdir -p "$dir" "$data_root"

if ! answers; then
  # Its bridge, made here (dockerd only creates docker0 itself).
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add name "$bridge" type bridge
    ip addr add "$cidr" dev "$bridge"
  fi
  ip link set "$bridge" up
  sysctl -qw net.ipv4.ip_forward=1
  iptables -t nat -C POSTROUTING -s "$subnet" ! -o "$bridge" -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s "$subnet" ! -o "$bridge" -j MASQUERADE
  iptables -C FORWARD -i "$bridge" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$bridge" -j ACCEPT
  iptables -C FORWARD -o "$bridge" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -o "$bridge" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT

  if alive; then
    log "dockerd ($(cat "$pidfile"), state $(sed 's/^.*) //' "/proc/$(cat "$pidfile")/stat" 2>/dev/null | cut -d' ' -f1)) is running but does not answer yet; waiting"
  else
    # A killed engine leaves its socket and pidfiles, and its containerd's: dockerd waits for a
    # containerd whose pid answers `kill -0`, which a zombie does (nobody here reaps them).
    rm -f "$sock" "$pidfile"
    alive "$dir/exec/containerd/containerd.pid" || rm -f "$dir/exec/containerd/containerd.pid"
    # The last run's log (a killed engine's, say) is kept beside the new one.
    [ -f "$logfile" ] && mv -f "$logfile" "$logfile.1"
    log "starting the second dockerd (socket $sock, data root $data_root, bridge $bridge; log $logfile, the last one's $logfile.1)"
    setsid nohup dockerd \
      -H "unix://$sock" \
      --data-root "$data_root" \
      --exec-root "$dir/exec" \
      --pidfile "$pidfile" \
      --bridge "$bridge" \
      --iptables=false --ip-masq=false --ip-forward=false \
      --cgroup-parent /pymgr-docker2 \
      >"$logfile" 2>&1 </dev/null &
  fi
  for ((i = 0; i < 60; i++)); do
    answers && break
    sleep 1
  done
  answers || { tail -n 30 "$logfile" >&2 || true; die "the second engine did not answer within 60 s (see $logfile)"; }
  log "answers: unix://$sock ($("${second[@]}" version --format '{{.Server.Version}}'))"
fi

if ! "${second[@]}" image inspect "$image" >/dev/null 2>&1; then
  docker image inspect "$image" >/dev/null 2>&1 || bash "$(dirname "$0")/docker-base-image.sh" "$image"
  log "loading $image into it (docker save | docker load)"
  docker save "$image" | "${second[@]}" load >/dev/null
fi
ip link show docker0 >/dev/null 2>&1 || die "the first engine's docker0 is gone"
log "ready: DOCKER_HOST=unix://$sock"
