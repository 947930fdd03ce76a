#!/usr/bin/env bash
# Print the URI of the Debian repository that serves a suite (default bookworm), for
# scripts/docker-base-image.sh and scripts/fetch-cpython-tarball.sh.
#   PYMGR_DEBIAN_MIRROR, when set, is printed as is (trailing / removed).
#   Otherwise: the first deb822 stanza in $PYMGR_APT_DIR/sources.list.d/*.sources (default /etc/apt)
#   whose Types include `deb` and whose Suites include the suite itself (bookworm-security or
#   bookworm-updates alone do not count); else the first one-line `deb [options] URI SUITE ...`
#   for the suite in sources.list or sources.list.d/*.list.
# Usage: scripts/docker-debian-mirror.sh [suite]. Exits 1, saying so on stderr, when none is found.
set -euo pipefail

suite="${1:-bookworm}"
apt_dir="${PYMGR_APT_DIR:-/etc/apt}"

if [ -n "${PYMGR_DEBIAN_MIRROR:-}" ]; then
  printf '%s\n' "${PYMGR_DEBIAN_MIRROR%/}"
  exit 0
fi

from_sources() {
  local f
  for f in "$apt_dir"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (is_deb && has_suite && uri != "") { print uri; found = 1; exit } is_deb = 0; has_suite = 0; uri = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has_suite = 1 }
      tolower($1) == "uris:" { uri = $2 }
      END { if (!found) flush() }
    ' "$f"
  done
}

from_lists() {
  local f lists=()
  [ -f "$apt_dir/sources.list" ] && lists+=("$apt_dir/sources.list")
  for f in "$apt_dir"/sources.list.d/*.list; do [ -f "$f" ] && lists+=("$f"); done
  [ "${#lists[@]}" -gt 0 ] || return 0
  # deb [options] URI SUITE COMPONENTS...
  awk -v suite="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }' "${lists[@]}"
}

# (`|| true`: head may close the pipe early, and pipefail would make that a failure.)
mirror="$(from_sources | head -n 1 || true)"
[ -n "$mirror" ] || mirror="$(from_lists | head -n 1 || true)"
if [ -z "$mirror" ]; then
  echo "docker-debian-mirror: no Debian mirror for ${suite} in ${apt_dir}/sources.list.d/*.sources, sources.list or sources.list.d/*.list; set PYMGR_DEBIAN_MIRROR" >&2
  exit 1
fi
printf '%s\n' "${mirror%/}"
