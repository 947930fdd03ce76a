#!/usr/bin/env bash
# Remove what the Docker tests leave behind when a run is killed: containers labelled pymgr-test
# and the named cache volumes the persistent-env tests create (pymgr-test-*). Safe to run any time.
set -euo pipefail

containers=$(docker ps -aq --filter label=pymgr-test)
if [ -n "$containers" ]; then
  # shellcheck disable=SC2086
  docker rm -f $containers >/dev/null
  echo "removed $(echo "$containers" | wc -l) test container(s)"
fi

volumes=$(docker volume ls -q --filter name='^pymgr-test-')
if [ -n "$volumes" ]; then
  # shellcheck disable=SC2086
  docker volume rm $volumes >/dev/null
  echo "removed $(echo "$volumes" | wc -l) test volume(s)"
fi
