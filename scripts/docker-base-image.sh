#!/usr/bin/env bash
# Build the base image pymgr's Docker tests use, without a registry:
#   debootstrap --variant=minbase bookworm from the machine's own Debian mirror, then `docker import`.
# Usage: scripts/docker-base-image.sh [tag]        (default tag: pymgr-test/bookworm:1)
# Cached by tag: does nothing when an image with that tag exists. Bump the tag's suffix whenever
# PACKAGES below changes. Needs root (debootstrap) and a running engine (scripts/docker-engine.sh).
# The mirror is read at run time from the apt sources (the stanza whose Suites include bookworm);
# PYMGR_DEBIAN_MIRROR overrides it.
set -euo pipefail

TAG="${1:-pymgr-test/bookworm:1}"
SUITE=bookworm
PACKAGES=python3,python3-venv,python3-pip,git,ca-certificates,tar,procps

log() { printf 'docker-base-image: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

image_exists() { docker image inspect "$TAG" >/dev/null 2>&1; }

if image_exists; then
  log "image ${TAG} already exists"
  exit 0
fi

# One build at a time (parallel test workers may all ask for the image).
lockfile="${TMPDIR:-/tmp}/pymgr-docker-base-image.lock"
exec 9>"$lockfile"
flock -w 900 9 || die "timed out waiting for another build of ${TAG} (lock ${lockfile})"
if image_exists; then
  log "image ${TAG} was built meanwhile"
  exit 0
fi

# The mirror serving $SUITE (PYMGR_DEBIAN_MIRROR overrides it): see scripts/docker-debian-mirror.sh.
mirror="$(bash "$(dirname "${BASH_SOURCE[0]}")/docker-debian-mirror.sh" "$SUITE")" || true
[ -n "$mirror" ] || die "no Debian mirror for ${SUITE} found in /etc/apt/sources.list.d/*.sources or sources.list; set PYMGR_DEBIAN_MIRROR"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || die "debootstrap is not installed: run scripts/docker-engine.sh"
docker version >/dev/null 2>&1 || die "the Docker engine does not answer: run scripts/docker-engine.sh"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/pymgr-rootfs.XXXXXX")"
cleanup() { rm -rf --one-file-system "$workdir"; }
trap cleanup EXIT

log "debootstrap ${SUITE} (minbase + ${PACKAGES}) from ${mirror}"
start=$(date +%s)
PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$workdir/rootfs" "$mirror" \
  >"$workdir/debootstrap.log" 2>&1 || { tail -n 40 "$workdir/debootstrap.log" >&2; die "debootstrap failed"; }
# Smaller image: drop the package cache and lists (apt-get update works again when needed).
rm -rf "$workdir/rootfs/var/cache/apt/archives/"*.deb "$workdir/rootfs/var/lib/apt/lists/"*

log "importing as ${TAG}"
tar -C "$workdir/rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$TAG" >/dev/null
log "built ${TAG} in $(($(date +%s) - start)) s"
