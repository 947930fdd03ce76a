#!/usr/bin/env bash
# Everything pymgr's tests need, installed idempotently at pinned versions, then their versions
# printed. Called by `npm run test:full` (the README's test command) and so by .ci/run.
#   - uv (PyPI, pinned) for the uv provider tests;
#   - mise comes from npm (a dev dependency: `npm ci` installed it);
#   - pyenv: the machine's ~/.pyenv (used as a local source; never modified);
#   - the Docker engine (docker.io from Debian, dockerd started in the background) and the
#     debootstrap base image the container tests use;
#   - a second Docker engine sharing nothing with the first but the kernel: scripts/docker-engine2.sh;
#   - an SSH engine in front of it (openssh-server from Debian on 127.0.0.1:2222, an ssh-agent
#     holding a generated client key): scripts/ssh-engine.sh;
#   - CPython build dependencies for the one test that really builds a Python with pyenv.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION="${PYMGR_TEST_UV_VERSION:-0.13.9}"
log() { printf 'test-env: %s\n' "$*" >&2; }

# uv, pinned, from PyPI.
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]; then
  log "installing uv==$UV_VERSION with pip"
  python3 -m pip install --disable-pip-version-check --quiet "uv==$UV_VERSION"
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

# CPython build dependencies (pyenv install from a local tarball).
need=()
for pkg in build-essential libssl-dev zlib1g-dev libbz2-dev libreadline-dev libsqlite3-dev libffi-dev liblzma-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Docker engine and the base image.
bash scripts/docker-engine.sh
bash scripts/docker-base-image.sh
# A second engine beside it (own data root, exec root, socket, bridge), the base image loaded (fleets).
bash scripts/docker-engine2.sh
# The SSH engine (sshd on 127.0.0.1, an agent with the client key) in front of it.
bash scripts/ssh-engine.sh

# The built CLI (npm ci runs it through `prepare`; rebuild when sources are newer).
[ -f dist/cli.js ] || npm run build

printf '\n== tool versions ==\n'
printf 'node      %s\n' "$(node --version)"
printf 'uv        %s\n' "$(uv --version)"
printf 'mise      %s\n' "$(node_modules/.bin/mise --version 2>/dev/null || echo 'MISSING (npm ci installs it)')"
printf 'pyenv     %s\n' "$("${PYENV_ROOT:-$HOME/.pyenv}/bin/pyenv" --version 2>/dev/null || echo MISSING)"
printf 'pythons   %s\n' "$(ls "${PYENV_ROOT:-$HOME/.pyenv}/versions" 2>/dev/null | tr '\n' ' ')"
printf 'git       %s\n' "$(git --version)"
printf 'docker    %s\n' "$(docker version --format 'client {{.Client.Version}}, engine {{.Server.Version}}' 2>/dev/null || echo 'engine not answering')"
printf 'engine 2  %s\n' "$(docker -H unix:///run/pymgr-docker2/docker.sock version --format '{{.Server.Version}}' 2>/dev/null || echo 'not answering')"
printf 'sshd      %s\n' "$(dpkg-query -W -f '${Version}' openssh-server 2>/dev/null || echo MISSING)"
printf '\n'
