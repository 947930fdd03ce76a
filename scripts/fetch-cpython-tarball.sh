#!/usr/bin/env bash
# Put a CPython source tarball into a python-build cache directory, without python.org:
# Debian's source archive carries the upstream tarball byte for byte
# (python3.11_3.11.2.orig.tar.gz is Python-3.11.2.tgz), so it is fetched from this machine's apt
# mirror and checked against the sha256 in python-build's own definition file.
#
# Usage: scripts/fetch-cpython-tarball.sh <version> <cacheDir> [pyenvRoot]
#   <cacheDir>/Python-<version>.tar.gz is written (use it as PYTHON_BUILD_CACHE_PATH with
#   _PYTHON_BUILD_FORCE_SKIP_XZ=1). A verified copy is kept in $PYMGR_TEST_CPYTHON_CACHE
#   (default ~/.cache/pymgr-test/cpython) so reruns do not download again.
# The mirror is the one serving bookworm in the apt sources (the deb822 stanza whose Types include
# deb and Suites include bookworm, else a one-line `deb` entry for bookworm), chosen by
# scripts/docker-debian-mirror.sh like the Docker base image's; PYMGR_DEBIAN_MIRROR overrides it.
set -euo pipefail

version="${1:?usage: fetch-cpython-tarball.sh <version> <cacheDir> [pyenvRoot]}"
cache_dir="${2:?usage: fetch-cpython-tarball.sh <version> <cacheDir> [pyenvRoot]}"
pyenv_root="${3:-${PYENV_ROOT:-$HOME/.pyenv}}"
stable="${PYMGR_TEST_CPYTHON_CACHE:-$HOME/.cache/pymgr-test/cpython}"

if [[ ! "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "fetch-cpython-tarball: '$version' is not an exact version such as 3.11.2" >&2
  exit 2
fi
minor="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

definition="$pyenv_root/plugins/python-build/share/python-build/$version"
if [[ ! -f "$definition" ]]; then
  echo "fetch-cpython-tarball: no python-build definition $definition (pass the pyenv root as the third argument)" >&2
  exit 1
fi
# The checksum of the .tgz (the gzip tarball Debian ships), from the definition's URL fragment.
expected=""
while IFS= read -r line; do
  if [[ "$line" =~ Python-${version//./\\.}\.tgz#([0-9a-f]{64}) ]]; then
    expected="${BASH_REMATCH[1]}"
    break
  fi
done < "$definition"
if [[ -z "$expected" ]]; then
  echo "fetch-cpython-tarball: $definition lists no Python-$version.tgz checksum" >&2
  exit 1
fi

sha_of() {
  local out
  out="$(sha256sum "$1")"
  printf '%s' "${out%% *}"
}

name="Python-$version.tar.gz"
mkdir -p "$stable" "$cache_dir"
if [[ -f "$stable/$name" && "$(sha_of "$stable/$name")" == "$expected" ]]; then
  cp "$stable/$name" "$cache_dir/$name"
  echo "$cache_dir/$name (from $stable)"
  exit 0
fi

mirror="$(bash "$(dirname "${BASH_SOURCE[0]}")/docker-debian-mirror.sh" bookworm)" || {
  echo "fetch-cpython-tarball: no Debian mirror (see above); set PYMGR_DEBIAN_MIRROR" >&2
  exit 1
}
url="$mirror/pool/main/p/python$minor/python${minor}_$version.orig.tar.gz"
tmp="$(mktemp "$stable/.$name.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
echo "fetch-cpython-tarball: downloading $url" >&2
curl -fsSL --retry 3 -o "$tmp" "$url"
actual="$(sha_of "$tmp")"
if [[ "$actual" != "$expected" ]]; then
  echo "fetch-cpython-tarball: $url has sha256 $actual, python-build expects $expected" >&2
  exit 1
fi
chmod 0644 "$tmp"
mv "$tmp" "$stable/$name"
trap - EXIT
cp "$stable/$name" "$cache_dir/$name"
echo "$cache_dir/$name"
