#!/usr/bin/env bash
# An SSH engine for the tests, idempotently: Debian's openssh-server on 127.0.0.1 with its own
# sshd_config, host key, PidFile and authorized_keys (nothing of the machine's own sshd or of
# ~/.ssh/authorized_keys is touched), a generated client key held by an ssh-agent on a fixed
# socket, and the host key recorded in ~/.ssh/known_hosts as `[127.0.0.1]:PORT` (as a user would
# after checking it). Over it, DOCKER_HOST=ssh://root@127.0.0.1:PORT reaches this machine's engine
# through `docker system dial-stdio`.
#
# Environment: PYMGR_SSHD_DIR (default /run/pymgr-sshd), PYMGR_SSHD_PORT (default 2222).
# The tests read the same two variables (test/helpers/ssh.ts). Needs root.
set -euo pipefail
DIR="${PYMGR_SSHD_DIR:-/run/pymgr-sshd}"
PORT="${PYMGR_SSHD_PORT:-2222}"
log() { printf 'ssh-engine: %s\n' "$*" >&2; }

if ! [ -x /usr/sbin/sshd ]; then
  log "installing openssh-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/tmp/pymgr-ssh-apt.log 2>&1 || { cat /tmp/pymgr-ssh-apt.log; exit 1; }
  # The package's own sshd is not wanted (it may have started one on port 22): ours is separate.
fi

mkdir -p "$DIR" /run/sshd
chmod 0700 "$DIR"
[ -f "$DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C pymgr-test-host -f "$DIR/host_key"
[ -f "$DIR/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C pymgr-test-client -f "$DIR/client_key"
cp "$DIR/client_key.pub" "$DIR/authorized_keys"
chmod 0600 "$DIR/authorized_keys"
cat > "$DIR/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/host_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxSessions 64
MaxStartups 64
CONF

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
if ! { [ -f "$DIR/sshd.pid" ] && kill -0 "$(cat "$DIR/sshd.pid")" 2>/dev/null && answers; }; then
  log "starting sshd on 127.0.0.1:$PORT"
  /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
  for _ in $(seq 1 50); do answers && break; sleep 0.1; done
  answers || { log "ERROR: sshd does not answer on 127.0.0.1:$PORT (log: $DIR/sshd.log)"; exit 1; }
fi

# The agent that holds the client key, on a fixed socket.
export SSH_AUTH_SOCK="$DIR/agent.sock"
if ! ssh-add -l >/dev/null 2>&1; then
  if [ "$(ssh-add -l >/dev/null 2>&1; echo $?)" = 2 ]; then
    rm -f "$SSH_AUTH_SOCK"
    ssh-agent -a "$SSH_AUTH_SOCK" >/dev/null
  fi
  ssh-add -q "$DIR/client_key"
fi

# The host key, recorded for [127.0.0.1]:PORT (replacing an older one of a previous run).
mkdir -p "$HOME/.ssh" && chmod 0700 "$HOME/.ssh"
touch "$HOME/.ssh/known_hosts"
ssh-keygen -q -R "[127.0.0.1]:$PORT" -f "$HOME/.ssh/known_hosts" >/dev/null 2>&1 || true
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$DIR/host_key.pub")" >> "$HOME/.ssh/known_hosts"
rm -f "$HOME/.ssh/known_hosts.old"

# Proof: the engine answers through the SSH engine (the docker CLI speaks ssh:// itself).
if ! DOCKER_HOST="ssh://root@127.0.0.1:$PORT" timeout 30 docker version --format '{{.Server.Version}}' >/dev/null 2>"$DIR/check.err"; then
  log "ERROR: the engine does not answer over ssh://root@127.0.0.1:$PORT: $(cat "$DIR/check.err")"
  exit 1
fi
log "ssh://root@127.0.0.1:$PORT answers (agent $SSH_AUTH_SOCK)"
