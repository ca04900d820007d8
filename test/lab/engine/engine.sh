#!/usr/bin/env bash
# The lab's Dagger engine, for the real-engine suite (npm run test:engine):
#
#   engine.sh up       use the engine given (_EXPERIMENTAL_DAGGER_RUNNER_HOST, or a `dagger` on the PATH whose engine
#                      answers), else start the engine built from PACKLINE_DAGGER_SOURCE (test/lab/build/dagger.sh) in
#                      the lab's network namespace, with its own mount and pid namespaces; then write the client
#                      environment to $PACKLINE_LAB_STATE/engine/env (what test/lab/engine/engine.ts reads)
#   engine.sh down     stop the engine this script started (nothing else) and remove everything it made
#   engine.sh status   say whether an engine is up and answering (exit 0) or not (exit 1)
#   engine.sh env      print the client environment (KEY=VALUE lines) of the engine that is up
#
# Why its own namespaces: the engine rewrites /usr/bin/iptables*, mounts over /etc/resolv.conf, writes under /run and
# makes a bridge (dagger0, 10.87.0.0/16) with NAT rules. Throwaway overlays on /usr and /etc and a tmpfs on /run keep
# the host untouched; the network namespace is the lab's, so containers reach the lab address 10.123.0.1 (registries,
# git server, npm registry) through their dagger0 gateway and nothing else. The socket is on the host filesystem, so
# clients outside the namespaces (vitest, `dagger`) reach it.
#
# Images: engine.json mirrors docker.io, gcr.io, ghcr.io, quay.io and registry.k8s.io to the lab's "images" registry 10.123.0.1:5001 (plain
# HTTP, and only that one: the lab's "apps" registry 10.123.0.1:5000 stays HTTPS-only for the engine on purpose, since
# packline's own code must cope with a plain-HTTP target registry, issue 11), so image names in the code stay as they are.
#
# Modules (`dagger call`): unless PACKLINE_ENGINE_MODULES=0, the engine gets the built-in SDK content of
# test/lab/engine/sdk-content.sh, its node image is pushed to the images registry, and the npm registry of
# test/lab/engine/npm-registry.ts serves $PACKLINE_CACHE/npm-pool at http://10.123.0.1:4873/ for module containers.
#
# Environment: PACKLINE_LAB_STATE (default /var/lib/packline-lab; the lab's PID 1 in lab.pid), PACKLINE_CACHE
# (default /var/cache/packline), PACKLINE_DAGGER_SOURCE (required to build an engine),
# PACKLINE_ENGINE_MODULES (1), PACKLINE_ENGINE_DEBUG (1: --debug, so the tests read every log line for secrets).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# the lab's facts (STATE, LAB_ADDR, IMAGES_REGISTRY, lab_pid, in_lab_net) and build/common.sh (CACHE, log, die)
. "$here/../lib.sh"
repo="$REPO_ROOT"

lab_state="$STATE"
dir="$lab_state/engine"
sock="$dir/engine.sock"
envfile="$dir/env"
lab_addr="$LAB_ADDR"
images_registry="$IMAGES_REGISTRY"
npm_port=4873
# The engine's source comes only from PACKLINE_DAGGER_SOURCE (README, "Tests"; .ci/run sets it): nothing outside the
# repository is read unless the caller names it.

# ------------------------------------------------------------------------------------------------ helpers
# answers CLI RUNNER_HOST: does an engine answer a query through this CLI (and runner host, if any)? From /, since
# `dagger query` loads the module of its working directory (this checkout is one: minutes, and it needs the SDK images)
answers() {
  local cli=$1 host=$2
  [ -x "$cli" ] || cli=$(command -v "$cli" 2>/dev/null) || return 1
  if [ -n "$host" ]; then
    (cd / && echo '{ version }' | _EXPERIMENTAL_DAGGER_RUNNER_HOST="$host" DAGGER_NO_NAG=1 timeout 120 "$cli" query --progress=plain >/dev/null 2>&1)
  else
    (cd / && echo '{ version }' | DAGGER_NO_NAG=1 timeout 120 "$cli" query --progress=plain >/dev/null 2>&1)
  fi
}

# the unshare process this script started (recorded in engine.pid), if it still runs
started_pid() {
  local pid
  pid=$(cat "$dir/engine.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # setsid execs nsenter, which execs unshare: any of the three names, never a recycled pid of something else
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in setsid|nsenter|unshare) ;; *) return 1 ;; esac
  echo "$pid"
}

install_packages() {
  # busybox-static: the shell of the SDK content's images (sdk-content.sh)
  local pkgs=(runc tini dnsmasq-base iptables nftables pigz git busybox-static) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  log "engine: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: no package may start a service (dnsmasq's own would take port 53 on the host)
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 0755 "$policy"; created=1; fi
  local rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > "$lab_state/engine-apt.log" 2>&1 || rc=$?
  [ "$created" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || { tail -20 "$lab_state/engine-apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

write_env() { # MODE RUNNER_HOST CLI LOG MODULES [NPM_REGISTRY_LOG]
  mkdir -p "$dir"
  {
    echo "PACKLINE_ENGINE_MODE=$1"
    echo "_EXPERIMENTAL_DAGGER_RUNNER_HOST=$2"
    echo "_EXPERIMENTAL_DAGGER_CLI_BIN=$3"
    echo "DAGGER_NO_NAG=1"
    echo "PACKLINE_ENGINE_LOG=$4"
    echo "PACKLINE_ENGINE_MODULES=$5"
    echo "PACKLINE_NPM_REGISTRY_LOG=${6:-}"
  } > "$envfile.tmp"
  mv "$envfile.tmp" "$envfile"
}

# ------------------------------------------------------------------------------------------------ inner (PID 1)
# Runs as PID 1 of the engine's pid namespace, in its own mount namespace, in the lab's network namespace.
inner() {
  local bindir=$1 content=$2 npm_pool=$3
  mount --make-rprivate /
  mkdir -p "$dir/ovl/usr/upper" "$dir/ovl/usr/work" "$dir/ovl/etc/upper" "$dir/ovl/etc/work"
  mount -t overlay overlay -o "lowerdir=/usr,upperdir=$dir/ovl/usr/upper,workdir=$dir/ovl/usr/work" /usr
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$dir/ovl/etc/upper,workdir=$dir/ovl/etc/work" /etc
  mount -t tmpfs tmpfs /run
  # The engine's CNI plugins keep their IPAM state and cache in /var/lib/cni: an overlay keeps /var/lib in this
  # namespace too (its upper dir in this tmpfs), and the engine's own dir, which may be under /var/lib, is bound back
  # from a descriptor opened before the overlay hid it (--no-canonicalize: the path itself now names the overlay).
  mkdir -p /run/packline-var-lib/upper /run/packline-var-lib/work
  exec 9<"$dir"
  mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=/run/packline-var-lib/upper,workdir=/run/packline-var-lib/work" /var/lib
  mount --no-canonicalize --bind /proc/self/fd/9 "$dir"
  exec 9<&-
  mkdir -p /run/dagger /etc/dagger /usr/local/bin /usr/local/share/dagger
  # where the engine image puts its binaries (engine/distconsts); Debian's runc is 1.1.5, which is fine on cgroup v1
  ln -sf "$bindir/bin/dagger-engine" /usr/local/bin/dagger-engine
  ln -sf "$bindir/bin/dagger-init" /usr/local/bin/dagger-init
  ln -sf "$(command -v runc)" /usr/local/bin/runc
  ln -sf /usr/bin/tini-static /usr/local/bin/tini
  # the engine picks the legacy iptables backend here and calls xtables-*-multi by /usr/bin paths; Debian has /usr/sbin
  ln -sf /usr/sbin/xtables-legacy-multi /usr/bin/xtables-legacy-multi
  ln -sf /usr/sbin/xtables-nft-multi /usr/bin/xtables-nft-multi
  cp "$dir/engine.json" /etc/dagger/engine.json
  if [ -n "$content" ]; then
    ln -sfn "$content/content" /usr/local/share/dagger/content
    set -a; . "$content/sdk.env"; set +a
    # lives and dies with this pid namespace; module containers reach it through their gateway at the lab address
    "$repo/node_modules/.bin/tsx" "$here/npm-registry.ts" serve "$npm_pool" "$lab_addr" "$npm_port" \
      "http://$lab_addr:$npm_port" > "$dir/npm-registry.log" 2>&1 < /dev/null &
  fi
  ulimit -n "$(ulimit -Hn)" || true
  local debug=()
  [ "${PACKLINE_ENGINE_DEBUG:-1}" = 1 ] && debug=(--debug)
  exec /usr/bin/tini-static -s -- /usr/local/bin/dagger-engine --root "$dir/root" --addr "unix://$sock" \
    --oci-cni-binary-dir "$bindir/cni" "${debug[@]}"
}

# ------------------------------------------------------------------------------------------------ up
up() {
  local cli
  # 1. an engine given by the caller
  if [ -n "${_EXPERIMENTAL_DAGGER_RUNNER_HOST:-}" ]; then
    cli="${_EXPERIMENTAL_DAGGER_CLI_BIN:-$(command -v dagger || true)}"
    [ -n "$cli" ] || cli="$(PACKLINE_CACHE="$CACHE" "$repo/test/lab/build/dagger.sh")/bin/dagger"
    answers "$cli" "$_EXPERIMENTAL_DAGGER_RUNNER_HOST" ||
      die "_EXPERIMENTAL_DAGGER_RUNNER_HOST=$_EXPERIMENTAL_DAGGER_RUNNER_HOST does not answer (through $cli)"
    write_env external "$_EXPERIMENTAL_DAGGER_RUNNER_HOST" "$cli" "" "${PACKLINE_ENGINE_MODULES:-1}"
    log "engine: using the engine at $_EXPERIMENTAL_DAGGER_RUNNER_HOST"
    return 0
  fi
  if [ "${PACKLINE_ENGINE_USE_PATH:-1}" = 1 ] && cli=$(command -v dagger 2>/dev/null) && answers "$cli" ""; then
    write_env external "" "$cli" "" "${PACKLINE_ENGINE_MODULES:-1}"
    log "engine: using the engine of $cli"
    return 0
  fi
  # 2. ours, already up
  if started_pid >/dev/null && [ -f "$envfile" ] && answers "$dir/cli" "unix://$sock"; then
    log "engine: already up ($sock)"
    return 0
  fi
  started_pid >/dev/null && die "an engine of ours runs but is not ready or answering: run engine.sh down first"
  [ "$(id -u)" = 0 ] || die "starting an engine needs root"
  local lpid
  lpid=$(lab_pid) || die "the lab is not up (no live PID in $lab_state/lab.pid): run test/lab/lab.sh up first"
  # a stopped engine of ours that left its state behind, or one still holding the state-dir lock: never start a
  # second engine on the same root (the probe's hung client came from exactly that)
  if [ -e "$dir/root/dagger-engine.lock" ] && ! flock -n "$dir/root/dagger-engine.lock" true; then
    die "an engine still holds $dir/root/dagger-engine.lock: run engine.sh down (or stop it) first"
  fi
  install_packages
  local bindir content="" pool="$CACHE/npm-pool"
  bindir=$(PACKLINE_CACHE="$CACHE" "$repo/test/lab/build/dagger.sh")
  if [ "${PACKLINE_ENGINE_MODULES:-1}" = 1 ]; then
    content=$(PACKLINE_CACHE="$CACHE" "$here/sdk-content.sh")
    # the module under test is this repository: its production dependencies (and the typescript the runtime adds)
    "$repo/node_modules/.bin/tsx" "$here/npm-registry.ts" pack "$repo/package-lock.json" "$pool" typescript@5.9.3
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  ln -s "$bindir/bin/dagger" "$dir/cli"
  cat > "$dir/engine.json" <<JSON
{
  "registries": {
    "docker.io": { "mirrors": ["$images_registry"] },
    "gcr.io": { "mirrors": ["$images_registry"] },
    "ghcr.io": { "mirrors": ["$images_registry"] },
    "quay.io": { "mirrors": ["$images_registry"] },
    "registry.k8s.io": { "mirrors": ["$images_registry"] },
    "$images_registry": { "http": true }
  }
}
JSON
  local t0=$SECONDS
  # nsenter joins the lab's network namespace; unshare makes the mount and pid namespaces. unshare itself ignores
  # SIGTERM (down signals the namespace's PID 1 instead); --kill-child takes the namespace down if unshare is killed.
  setsid nsenter --net="/proc/$lpid/ns/net" \
    unshare --mount --pid --fork --kill-child=SIGTERM --mount-proc --propagation private \
    "$here/engine.sh" _inner "$bindir" "$content" "$pool" >> "$dir/engine.log" 2>&1 < /dev/null &
  echo $! > "$dir/engine.pid"
  # lab.sh down runs $STATE/down.d/*: the engine goes down with the lab even when a suite died before its teardown
  mkdir -p "$lab_state/down.d"
  printf '#!/bin/sh\nPACKLINE_LAB_STATE=%q exec bash %q down\n' "$lab_state" "$here/engine.sh" > "$lab_state/down.d/40-engine"
  chmod 0755 "$lab_state/down.d/40-engine"
  local i
  for i in $(seq 1 120); do
    [ -S "$sock" ] && break
    started_pid >/dev/null || { tail -30 "$dir/engine.log" >&2; die "the engine exited during start (log: $dir/engine.log)"; }
    sleep 0.5
  done
  answers "$dir/cli" "unix://$sock" || { tail -30 "$dir/engine.log" >&2; die "the engine does not answer on $sock"; }
  log "engine: up in $((SECONDS - t0)) s, socket $sock, log $dir/engine.log"
  if [ -n "$content" ]; then
    # the runtime asks for node:24-alpine (package.json "runtime": "node@24"), node:24.13.1-alpine (its default)
    # and oven/bun:1.3.0-alpine (the introspector); one glibc image answers all three
    local ref
    for ref in library/node:24-alpine library/node:24.13.1-alpine oven/bun:1.3.0-alpine; do
      in_lab_net "$repo/node_modules/.bin/tsx" "$here/oci.ts" push "$content/images" node "$images_registry/$ref" >/dev/null ||
        die "pushing the node image to $images_registry/$ref failed"
    done
    log "engine: node image pushed to $images_registry"
  fi
  if [ -n "$content" ]; then
    write_env started "unix://$sock" "$dir/cli" "$dir/engine.log" 1 "$dir/npm-registry.log"
  else
    write_env started "unix://$sock" "$dir/cli" "$dir/engine.log" 0
  fi
}

# ------------------------------------------------------------------------------------------------ down
down() {
  local pid init i
  if pid=$(started_pid); then
    # PID 1 of the namespace is tini (the child of unshare): it forwards SIGTERM to the engine, and when it exits
    # the pid namespace ends, taking dnsmasq, the npm registry and every container with it
    init=$(pgrep -P "$pid" | head -1 || true)
    [ -n "$init" ] && kill -TERM "$init" 2>/dev/null || true
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "engine: still running after 60 s, killing it"
      [ -n "$init" ] && kill -KILL "$init" 2>/dev/null || true
      for i in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    kill -0 "$pid" 2>/dev/null && die "the engine (unshare $pid) did not stop"
    log "engine: stopped"
  fi
  # the engine makes /sys/fs/cgroup/<controller>/buildkit on a cgroup v1 host; remove them once empty (rmdir refuses
  # a cgroup that still has processes, so another engine's cgroups are never touched)
  local d
  for d in /sys/fs/cgroup/*/buildkit; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  if [ -e "$envfile" ] && grep -q '^PACKLINE_ENGINE_MODE=external' "$envfile"; then rm -f "$envfile"; fi
  # overlay upper dirs, the engine's state and its log: nothing stays once the engine is down
  rm -f "$lab_state/down.d/40-engine"
  if [ -d "$dir" ]; then
    [ -n "${PACKLINE_ENGINE_KEEP_LOG:-}" ] && [ -f "$dir/engine.log" ] && cp "$dir/engine.log" "$PACKLINE_ENGINE_KEEP_LOG"
    rm -rf "$dir"
  fi
}

status() {
  if [ ! -f "$envfile" ]; then echo "engine: down"; return 1; fi
  local host cli
  host=$(sed -n 's/^_EXPERIMENTAL_DAGGER_RUNNER_HOST=//p' "$envfile")
  cli=$(sed -n 's/^_EXPERIMENTAL_DAGGER_CLI_BIN=//p' "$envfile")
  if answers "$cli" "$host"; then
    echo "engine: up ($(sed -n 's/^PACKLINE_ENGINE_MODE=//p' "$envfile"), ${host:-the CLI default}, pid $(started_pid || echo -))"
  else
    echo "engine: not answering (${host:-the CLI default})"; return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) [ -f "$envfile" ] || die "no engine is up ($envfile missing)"; cat "$envfile" ;;
  _inner) shift; inner "$@" ;;
  *) echo "usage: engine.sh up|down|status|env" >&2; exit 2 ;;
esac
