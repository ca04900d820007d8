#!/usr/bin/env bash
# `npm run test:cluster`: the cluster suite from start to end, as root.
#   1. on the host (the Go module proxy is reachable only from here): build the cluster's binaries and the lab's tools
#      (cached by version: seconds once built);
#   2. start the lab unless one runs already, then the cluster (cluster.sh up);
#   3. run vitest (test/lab/cluster/vitest.config.ts) in the lab's network namespace;
#   4. stop the cluster, and the lab if this script started it.
# PACKLINE_CLUSTER_KEEP=1 leaves both running (then `cluster.sh down` and `lab.sh down` by hand). Extra arguments go
# to vitest (a file filter, -t NAME). Under CI=true, as anywhere, a missing piece is a failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../lib.sh"
require_root
cd "$REPO_ROOT"
t0=$SECONDS

bash "$LAB_DIR/build/cluster.sh" > /dev/null
log "test:cluster: binaries ready ($((SECONDS - t0)) s)"

[ -f "$LAB_DIR/lab.sh" ] || die "test/lab/lab.sh is missing: the cluster needs the lab (its registries, git server and network)"
started_lab=0
if ! lab_pid > /dev/null; then
  bash "$LAB_DIR/lab.sh" up > /dev/null
  started_lab=1
fi
stop() {
  local status=$?
  if [ "${PACKLINE_CLUSTER_KEEP:-0}" = 1 ]; then
    log "test:cluster: PACKLINE_CLUSTER_KEEP=1: the cluster (and lab) keep running"
  else
    bash "$here/cluster.sh" down || status=1
    if [ "$started_lab" = 1 ]; then bash "$LAB_DIR/lab.sh" down || status=1; fi
  fi
  log "test:cluster: finished in $((SECONDS - t0)) s"
  exit "$status"
}
trap stop EXIT

t1=$SECONDS
bash "$here/cluster.sh" up > /dev/null
log "test:cluster: cluster up in $((SECONDS - t1)) s"
in_lab_net "$REPO_ROOT/node_modules/.bin/vitest" run --config test/lab/cluster/vitest.config.ts "$@"
