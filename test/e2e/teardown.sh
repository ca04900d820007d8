#!/usr/bin/env bash
# Removes what the e2e tests left in the lab's dockerd (containers named packline-e2e-*, the packline-e2e-cache-*
# volumes) and their temp directories; test/e2e/global-setup.ts runs it after the tests. The lab itself (registries,
# dockerd, images) is test/lab/run.sh's to stop (lab.sh down). Safe to run any number of times.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../lab/lib.sh"

docker_() { DOCKER_HOST="unix://$RUN_DIR/docker.sock" /usr/bin/docker "$@"; }
if [ -S "$RUN_DIR/docker.sock" ] && docker_ version > /dev/null 2>&1; then
  ids="$(docker_ ps -aq --filter name=packline-e2e- 2>/dev/null)"
  # shellcheck disable=SC2086
  [ -z "$ids" ] || docker_ rm -f $ids > /dev/null 2>&1
  volumes="$(docker_ volume ls -q --filter name=packline-e2e-cache- 2>/dev/null)"
  # shellcheck disable=SC2086
  [ -z "$volumes" ] || docker_ volume rm -f $volumes > /dev/null 2>&1
fi
rm -rf "${TMPDIR:-/tmp}"/packline-e2e-* 2>/dev/null
log "e2e teardown: done (the lab keeps running until test/lab/lab.sh down)"
