#!/usr/bin/env bash
# Runs a real-component suite in the lab, from start to end, as root:
#   test/lab/run.sh e2e [vitest args...]    npm run test:e2e   (vitest.e2e.config.ts)
#   test/lab/run.sh bench [args...]         npm run bench:e2e  (test/e2e/bench.ts)
#   test/lab/run.sh bench-rebase            npm run bench:rebase (test/e2e/bench-rebase.ts)
#
#   1. on the host (the Go module proxy, npm and Debian mirrors are reachable only from here): lab.sh up builds what
#      is missing (cached: seconds once built) and starts the lab, or reuses the running one with
#      PACKLINE_LAB_REUSE=1 (then it must be up already, and it is left running);
#   2. dockerd in the lab (lab.sh docker-up);
#   3. the suite's process in the lab's network namespace (lab.sh exec), so tests reach 10.123.0.1 directly;
#   4. lab.sh down, unless PACKLINE_LAB_KEEP=1 or PACKLINE_LAB_REUSE=1.
# The exit status is the suite's (or the first failure's). Nothing is ever skipped: a piece that cannot be set up is
# a failure, under CI=true or not.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

suite="${1:-}"
[ -n "$suite" ] && shift
case "$suite" in
  e2e) cmd=("$REPO_ROOT/node_modules/.bin/vitest" run --config vitest.e2e.config.ts "$@") ;;
  bench) cmd=("$REPO_ROOT/node_modules/.bin/tsx" test/e2e/bench.ts "$@") ;;
  bench-rebase) cmd=("$REPO_ROOT/node_modules/.bin/tsx" test/e2e/bench-rebase.ts "$@") ;;
  *) die "usage: test/lab/run.sh e2e|bench|bench-rebase [args...]" ;;
esac
require_root
cd "$REPO_ROOT"
[ -x "${cmd[0]}" ] || die "${cmd[0]} is missing: run npm ci first"
t0=$SECONDS
reuse="${PACKLINE_LAB_REUSE:-0}"
keep="${PACKLINE_LAB_KEEP:-0}"
lab=(bash "$LAB_DIR/lab.sh")

finish() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$reuse" = 1 ] || [ "$keep" = 1 ]; then
    log "run.sh $suite: the lab keeps running (PACKLINE_LAB_REUSE/KEEP); stop it with test/lab/lab.sh down"
  else
    "${lab[@]}" down || status=1
  fi
  log "run.sh $suite: finished in $((SECONDS - t0)) s, status $status"
  exit "$status"
}

if [ "$reuse" = 1 ]; then
  lab_pid > /dev/null || die "PACKLINE_LAB_REUSE=1 but no lab is running (test/lab/lab.sh up)"
  "${lab[@]}" status > /dev/null || die "PACKLINE_LAB_REUSE=1 but the lab is not healthy: $("${lab[@]}" status 2>&1 | tr '\n' ' ')"
  log "run.sh $suite: reusing the running lab"
fi
trap finish EXIT
trap 'exit 130' INT TERM
[ "$reuse" = 1 ] || "${lab[@]}" up
"${lab[@]}" docker-up
log "run.sh $suite: lab ready in $((SECONDS - t0)) s"
# The suite's temp dirs (sources, layers, caches it mounts into containers) live in the lab's state: lab.sh down
# removes them, and a suite's teardown never touches another lab's.
export TMPDIR="$STATE/tmp"
mkdir -p "$TMPDIR" && chmod 1777 "$TMPDIR"
in_lab_net "${cmd[@]}"
