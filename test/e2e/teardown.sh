#!/usr/bin/env bash
# Stops what test/e2e/setup.sh started (dockerd and its containers, the registry) and removes its state, the
# registry storage and temp files. Keeps the Go-built binaries in $PACKLINE_E2E_CACHE. Safe to run any number of times.
set -uo pipefail

state_dir="${PACKLINE_E2E_STATE_DIR:-/var/lib/packline-e2e}"
run_dir="$state_dir/run"

log() { printf '[e2e teardown] %s\n' "$*" >&2; }

stop_pid() { # name pidfile: TERM, wait up to 20 s, then KILL; only the pid setup.sh recorded
  local name="$1" pidfile="$2" pid i
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop: KILL"
      kill -KILL "$pid" 2>/dev/null
      sleep 1
    fi
  fi
  rm -f "$pidfile"
}

if [ -S "$run_dir/docker.sock" ]; then
  # stop the containers first, so dockerd's shutdown is quick and leaves no mounts behind
  ids="$(DOCKER_HOST="unix://$run_dir/docker.sock" /usr/bin/docker ps -aq 2>/dev/null || true)"
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    DOCKER_HOST="unix://$run_dir/docker.sock" /usr/bin/docker rm -f $ids >/dev/null 2>&1 || true
  fi
fi
stop_pid dockerd "$run_dir/dockerd.pid"
# dockerd's own containerd (started by dockerd under the exec root) normally exits with it
if [ -f "$run_dir/docker-exec/containerd/containerd.pid" ]; then
  stop_pid containerd "$run_dir/docker-exec/containerd/containerd.pid"
fi
stop_pid registry "$run_dir/registry.pid"

if [ -f "$state_dir/registry-storage" ]; then
  storage="$(cat "$state_dir/registry-storage")"
  case "$storage" in
    */packline-e2e-registry.*) rm -rf "$storage" ;;
  esac
fi
rm -rf "${TMPDIR:-/tmp}"/packline-e2e-images.* 2>/dev/null

if [ -d "$state_dir" ]; then
  # anything dockerd left mounted under the state dir (overlay, shm) must go before the files do
  awk '{print $2}' /proc/mounts | grep -F "$state_dir/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$state_dir"
fi
log "done (kept the binary cache ${PACKLINE_E2E_CACHE:-/var/cache/packline-e2e})"
