#!/usr/bin/env bash
# `npm run bench:cluster`: test/lab/cluster/bench.ts in the lab's network namespace, with everything it compares up:
# the lab (started unless one runs), its Docker daemon (as the e2e suite readies it) and the cluster. Stops what it
# started. (The Dagger engine's own timings: npm run bench:engine.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../lib.sh"
require_root
cd "$REPO_ROOT"
bash "$LAB_DIR/build/cluster.sh" > /dev/null
started_lab=0
if ! lab_pid > /dev/null; then bash "$LAB_DIR/lab.sh" up > /dev/null; started_lab=1; fi
cluster_was_up=0
bash "$here/cluster.sh" status > /dev/null 2>&1 && cluster_was_up=1
stop() {
  local status=$?
  [ "$cluster_was_up" = 1 ] || bash "$here/cluster.sh" down || status=1
  [ "$started_lab" = 0 ] || bash "$LAB_DIR/lab.sh" down || status=1
  exit "$status"
}
trap stop EXIT
bash "$LAB_DIR/lab.sh" docker-up > /dev/null
in_lab_net bash "$REPO_ROOT/test/e2e/setup.sh" > /dev/null
bash "$here/cluster.sh" up > /dev/null
in_lab_net "$REPO_ROOT/node_modules/.bin/tsx" "$here/bench.ts" "$@"
