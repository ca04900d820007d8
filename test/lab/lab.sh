#!/usr/bin/env bash
# The lab: network, mount and pid namespaces made for the real-component suites, with their services inside.
# See test/lab/README.md for the contract (addresses, lab.json, what the other parts may rely on).
#
#   lab.sh up              build what is missing (host network), start the lab or reuse the running one, start its
#                          services, push the test images, publish the git fixtures, write $STATE/lab.json
#   lab.sh down            stop everything the lab started and remove $STATE: no process, mount, cgroup dir, veth
#                          or iptables rule is left on the host
#   lab.sh status          the lab and each service; exit 0 when the lab runs and every base service answers
#   lab.sh pid             the host pid of the lab's PID 1 (for nsenter -t)
#   lab.sh exec -- CMD...  CMD in the lab's NETWORK namespace only (host mounts and pids: files are shared)
#   lab.sh enter -- CMD... CMD in all the lab's namespaces (it dies with the lab)
#   lab.sh docker-up       start dockerd in the lab (idempotent);  lab.sh docker-down stops it
#   lab.sh start|stop SERVICE   registry-apps, registry-images, git, files, dockerd (the faults tests stop a registry)
#   lab.sh git-publish DIR NAME TAG [--private]   DIR's files as repository NAME at tag TAG (one commit, fixed dates)
#   lab.sh veth LAB_IF PID LAB_CIDR PEER_CIDR [PEER_IF]   a veth pair between the lab and the netns of PID
#   lab.sh route CIDR GATEWAY   a route in the lab (e.g. a pod network behind a veth peer)
#   lab.sh build           only the host-side builds (Go tools, image layouts, deps archives) into $PACKLINE_CACHE
#
# Environment: PACKLINE_LAB_STATE (default /var/lib/packline-lab), PACKLINE_CACHE (default /var/cache/packline),
# PACKLINE_LAB_SKIP_APT=1 (never run apt-get: fail when a package is missing).
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

SERVICES=(registry-apps registry-images git files)
LAB_PACKAGES=(docker.io docker-registry apache2-utils busybox-static tini git curl ca-certificates iproute2 util-linux)

check_state_dir() {
  case "$STATE" in
    /*) ;;
    *) die "PACKLINE_LAB_STATE must be an absolute path, got '$STATE'" ;;
  esac
  case "$STATE/" in
    /run/* | /var/run/*) die "PACKLINE_LAB_STATE=$STATE is under /run, which the lab replaces with its own tmpfs" ;;
  esac
}

# ------------------------------------------------------------------------------------------------------ packages

install_packages() {
  local missing=() p
  for p in "${LAB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  [ "${PACKLINE_LAB_SKIP_APT:-0}" = 1 ] && die "missing Debian packages ${missing[*]} and PACKLINE_LAB_SKIP_APT=1"
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$STATE"
  # policy-rc.d: the packages must not start their services (docker.io's dockerd, docker-registry on the host's
  # :5000); the lab runs its own, inside its namespace
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 0755 "$policy"; created=1; fi
  local ok=1
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } > "$STATE/apt.log" 2>&1 || ok=0
  [ "$created" = 1 ] && rm -f "$policy"
  [ "$ok" = 1 ] || { tail -20 "$STATE/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $STATE/apt.log)"; }
}

# ------------------------------------------------------------------------------------------------------ builds

# Host-side builds (Go module proxy): the tools, the image layouts, the deps archives. All cached; sets the tools'
# variables and writes $STATE/build.env and $STATE/images.list for the steps that run in the lab.
build_all() {
  local tools
  tools="$(bash "$LAB_DIR/build/tools.sh")" || die "building the lab's tools failed"
  eval "$tools"
  mkdir -p "$STATE"
  printf '%s\n' "$tools" > "$STATE/build.env"
  bash "$LAB_DIR/build/images.sh" "$crane_bin" > "$STATE/images.list.tmp" || die "building the lab's images failed"
  mv "$STATE/images.list.tmp" "$STATE/images.list"
  deps_dir="$(bash "$LAB_DIR/build/deps.sh")" || die "fetching the deps fixture's archives failed"
  echo "deps_dir=$(printf '%q' "$deps_dir")" >> "$STATE/build.env"
}

# ------------------------------------------------------------------------------------------------------ namespace

start_namespace() {
  local pid
  if pid="$(lab_pid)"; then
    log "lab: running (PID 1 is host pid $pid), reused"
    return
  fi
  mkdir -p "$STATE" "$RUN_DIR" "$STATE/logs"
  chmod 0711 "$STATE"
  rm -f "$STATE/lab.ready" "$LAB_PID_FILE"
  # setsid: the lab outlives this script and no terminal signal reaches it. unshare forks PID 1 (init.sh, then
  # tini) into the new namespaces and waits; --kill-child: should unshare die, PID 1 gets SIGTERM.
  setsid unshare --mount --net --pid --fork --kill-child=SIGTERM --mount-proc --propagation private \
    bash "$LAB_DIR/init.sh" "$STATE" "$LAB_ADDR" >> "$STATE/logs/lab.log" 2>&1 < /dev/null &
  local unshare_pid=$! i
  for i in $(seq 1 100); do
    [ -f "$STATE/lab.ready" ] && break
    kill -0 "$unshare_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -f "$STATE/lab.ready" ] || { tail -20 "$STATE/logs/lab.log" >&2; die "the lab's PID 1 did not start (log: $STATE/logs/lab.log)"; }
  pid="$(cut -d' ' -f1 "/proc/$unshare_pid/task/$unshare_pid/children")"
  [ -n "$pid" ] || die "could not find the lab's PID 1 (child of unshare $unshare_pid)"
  echo "$unshare_pid" > "$RUN_DIR/unshare.pid"
  readlink /proc/self/ns/net > "$RUN_DIR/outside.netns" # the network lab.sh veth never puts a peer into
  echo "$pid" > "$LAB_PID_FILE"
  log "lab: started (PID 1 is host pid $pid; $LAB_ADDR on its lo)"
}

# ------------------------------------------------------------------------------------------------------ services

service_pid() { # name: the host pid of a running service, or fail
  local f="$RUN_DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

http_code() { # url [curl args]: the HTTP status from inside the lab's network namespace (000 when nothing answers)
  local url="$1"; shift
  in_lab_net curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

service_ready() { # name: true when the service answers as it should
  case "$1" in
    registry-apps)
      [ "$(http_code "http://$APPS_REGISTRY/v2/")" = 401 ] &&
        [ "$(http_code "http://$APPS_REGISTRY/v2/" --config <(printf 'user = "%s:%s"\n' "$REGISTRY_USER" "$(cat "$STATE/registry-password")"))" = 200 ] ;;
    registry-images) [ "$(http_code "http://$IMAGES_REGISTRY/v2/")" = 200 ] ;;
    git) [ "$(http_code "http://$LAB_ADDR:$GIT_PORT/healthz")" = 200 ] ;;
    files) [ "$(http_code "http://$LAB_ADDR:$FILES_PORT/healthz")" = 200 ] ;;
    dockerd) DOCKER_HOST="unix://$RUN_DIR/docker.sock" /usr/bin/docker version >/dev/null 2>&1 ;;
    *) die "unknown service '$1' (one of: ${SERVICES[*]} dockerd)" ;;
  esac
}

registry_config() { # name address auth(yes|no)
  local name="$1" address="$2" auth="$3"
  mkdir -p "$STATE/registry/$name"
  {
    cat <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STATE/registry/$name
  delete:
    enabled: true
http:
  addr: $address
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
EOF
    if [ "$auth" = yes ]; then
      cat <<EOF
auth:
  htpasswd:
    realm: packline-lab
    path: $STATE/registry-apps.htpasswd
EOF
    fi
  } > "$STATE/registry-$name.yml"
}

service_argv() { # name: sets argv (the command, run in all the lab's namespaces) and wd
  wd=/
  case "$1" in
    registry-apps | registry-images) argv=(/usr/bin/docker-registry serve "$STATE/$1.yml") ;;
    git)
      wd="$REPO_ROOT" # node resolves --import tsx from here (the repository's node_modules)
      argv=(node --import tsx "$LAB_DIR/git-server.ts" --listen "$LAB_ADDR:$GIT_PORT" --root "$STATE/git" --token-file "$STATE/git-token") ;;
    files) argv=(/bin/busybox httpd -f -v -p "$LAB_ADDR:$FILES_PORT" -h "$STATE/files") ;;
    dockerd)
      argv=(/usr/sbin/dockerd
        # no bridge, no iptables, no forwarding: containers use --network host, i.e. the lab's own network
        --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --userland-proxy=false
        # plain HTTP to the lab's registries (docker trusts only 127.0.0.0/8 by itself)
        --insecure-registry "$APPS_REGISTRY" --insecure-registry "$IMAGES_REGISTRY"
        # Docker Hub names (busybox, registry:3, alpine/git) resolve to the images registry, as in the engine and the
        # cluster; dockerd mirrors only Docker Hub, so other registries' names must be pulled from the lab by its name
        --registry-mirror "http://$IMAGES_REGISTRY"
        --data-root "$STATE/docker" --exec-root /run/packline-lab/docker --pidfile /run/packline-lab/dockerd.pid
        -H "unix://$RUN_DIR/docker.sock" --config-file "$STATE/docker-daemon.json"
        # cgroupfs is not namespaced: every container cgroup goes under one directory that `down` removes
        --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$LAB_CGROUP")
      ;;
    *) die "unknown service '$1' (one of: ${SERVICES[*]} dockerd)" ;;
  esac
}

# Starts a service inside the lab (mount, network and pid namespaces): it dies with the lab whatever happens.
# nsenter -F does not fork: the sh it runs stays in our pid namespace (so `$!` is the service's HOST pid, the one
# the pid file keeps) while its children are born in the lab's, orphaned to the lab's tini.
spawn_in_lab() { # name
  local name="$1" pid1 pid
  pid1="$(lab_pid)" || die "no lab is running"
  service_argv "$name"
  pid="$(nsenter -t "$pid1" -m -n -p -F --wd="$wd" -- \
    sh -c 'log="$1"; shift; setsid "$@" >> "$log" 2>&1 < /dev/null & echo $!' sh "$STATE/logs/$name.log" "${argv[@]}")"
  [ -n "$pid" ] || die "$name did not start"
  echo "$pid" > "$RUN_DIR/$name.pid"
}

start_service() { # name [timeout seconds]
  local name="$1" timeout="${2:-30}" pid i
  if pid="$(service_pid "$name")"; then
    for i in $(seq 1 $((timeout * 5))); do service_ready "$name" && return 0; sleep 0.2; done
    die "$name (pid $pid) runs but does not answer; see $STATE/logs/$name.log, or lab.sh down && lab.sh up"
  fi
  spawn_in_lab "$name"
  pid="$(cat "$RUN_DIR/$name.pid")"
  for i in $(seq 1 $((timeout * 5))); do
    if service_ready "$name"; then log "$name: ready (host pid $pid)"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -20 "$STATE/logs/$name.log" >&2 || true
  die "$name did not start (log: $STATE/logs/$name.log)"
}

stop_pid() { # name pid [timeout seconds]: TERM, then KILL
  local name="$1" pid="$2" timeout="${3:-20}" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((timeout * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "$name (pid $pid) did not stop within $timeout s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

stop_service() { # name
  local pid
  if pid="$(service_pid "$1")"; then
    [ "$1" = dockerd ] && remove_containers
    stop_pid "$1" "$pid" 30
    log "$1: stopped"
  fi
  rm -f "$RUN_DIR/$1.pid"
}

remove_containers() { # so that dockerd's shutdown is quick and no container outlives it
  local docker=(env DOCKER_HOST="unix://$RUN_DIR/docker.sock" /usr/bin/docker) ids
  ids="$("${docker[@]}" ps -aq 2>/dev/null || true)"
  # shellcheck disable=SC2086
  [ -z "$ids" ] || "${docker[@]}" rm -f $ids > /dev/null 2>&1 || true
}

# ------------------------------------------------------------------------------------------------------ secrets

random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

make_secrets() {
  umask 077
  if [ ! -s "$STATE/registry-password" ]; then
    random_secret > "$STATE/registry-password"
    # -i: the password comes on stdin, never in an argv another process could read
    htpasswd -iBn "$REGISTRY_USER" < "$STATE/registry-password" > "$STATE/registry-apps.htpasswd"
  fi
  [ -s "$STATE/git-token" ] || random_secret > "$STATE/git-token"
  # a docker config.json with the apps registry's login: the docker CLI, pack and the lifecycle read it
  mkdir -p "$STATE/docker-config"
  printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$APPS_REGISTRY" \
    "$(printf '%s:%s' "$REGISTRY_USER" "$(cat "$STATE/registry-password")" | base64 -w0)" > "$STATE/docker-config/config.json"
  umask 022
  [ -f "$STATE/registry-apps.yml" ] || registry_config apps "$APPS_REGISTRY" yes
  [ -f "$STATE/registry-images.yml" ] || registry_config images "$IMAGES_REGISTRY" no
  [ -f "$STATE/docker-daemon.json" ] || echo '{}' > "$STATE/docker-daemon.json"
}

# ------------------------------------------------------------------------------------------------------ images

crane_() { in_lab_net "$crane_bin" --insecure "$@"; }

layout_digest() { # layout: its only image's manifest digest (index.json written compact by oci.ts, indented by crane)
  local d
  d="$(sed -n 's/.*"digest": *"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' "$1/index.json" | head -1)"
  [ -n "$d" ] || die "$1/index.json names no image digest"
  echo "$d"
}

push_layout() { # ref layout: into the images registry, unless it already holds that digest
  local ref="$IMAGES_REGISTRY/$1" layout="$2" want have
  want="$(layout_digest "$layout")"
  have="$(crane_ digest "$ref" 2>/dev/null || true)"
  [ "$have" = "$want" ] && return 0
  crane_ push "$layout" "$ref" > /dev/null 2>> "$STATE/logs/crane.log" || die "crane push $layout $ref failed (log: $STATE/logs/crane.log)"
}

push_images() {
  local ref layout n=0
  while read -r ref layout; do
    push_layout "$ref" "$layout"; n=$((n + 1))
  done < "$STATE/images.list"
  log "images: $n in $IMAGES_REGISTRY"
  # the builder needs the run and build images in the registry; pack runs in the lab's network namespace
  local line
  line="$(in_lab_net env STATE="$STATE" crane_bin="$crane_bin" pack_bin="$pack_bin" lifecycle_dir="$lifecycle_dir" \
    lifecycle_version="$lifecycle_version" platform_apis="$platform_apis" buildpack_apis="$buildpack_apis" \
    PACKLINE_LAB_STATE="$STATE" bash "$LAB_DIR/build/builder.sh")" || die "making the test builder failed"
  push_layout ${line}
  echo "$line" >> "$STATE/images.list"
}

# ------------------------------------------------------------------------------------------------------ git

# Publishes DIR as repository NAME (bare, under $STATE/git, or $STATE/git/private) with one commit tagged TAG. The
# author, committer and dates are fixed, so the same files give the same commit id in every lab.
git_publish() { # dir name tag [--private]
  local dir="$1" name="$2" tag="$3" private="${4:-}" repo work
  [ -d "$dir" ] || die "git-publish: $dir is not a directory"
  [[ "$name" =~ ^[A-Za-z0-9._/-]+$ && "$name" != *..* ]] || die "git-publish: bad repository name '$name'"
  repo="$STATE/git/$name.git"
  [ "$private" = --private ] && repo="$STATE/git/private/$name.git"
  work="$(mktemp -d "${TMPDIR:-/tmp}/packline-lab-git.XXXXXX")"
  cp -a "$dir/." "$work/"
  local -x GIT_AUTHOR_NAME="packline lab" GIT_AUTHOR_EMAIL="lab@packline.invalid" GIT_COMMITTER_NAME="packline lab" \
    GIT_COMMITTER_EMAIL="lab@packline.invalid" GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
    GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  (cd "$work" && rm -rf .git && git init -q -b main && git add -A && git commit -q -m "$(basename "$name") $tag" &&
    git tag -a -m "$tag" "$tag") || die "git-publish: committing $dir failed"
  [ -d "$repo" ] || git init -q --bare -b main "$repo"
  git -C "$work" push -q --force "$repo" main "refs/tags/$tag" || die "git-publish: pushing into $repo failed"
  rm -rf "$work"
  local url="http://$LAB_ADDR:$GIT_PORT/${repo#"$STATE/git/"}"
  echo "$url $tag $(git --git-dir="$repo" rev-parse "$tag^{commit}")"
}

publish_fixtures() {
  : > "$STATE/git-repos.list"
  git_publish "$REPO_ROOT/test/e2e/fixture-app" e2e/fixture-app v1.0.0 >> "$STATE/git-repos.list"
  git_publish "$REPO_ROOT/test/e2e/fixture-app" e2e/fixture-app v1.0.0 --private >> "$STATE/git-repos.list"
  git_publish "$REPO_ROOT/test/e2e/fixture-deps-app" e2e/fixture-deps-app v1.0.0 >> "$STATE/git-repos.list"
}

# ------------------------------------------------------------------------------------------------------ lab.json

json_image() { # key ref upstream
  local layout
  layout="$(awk -v r="$2" '$1 == r { print $2 }' "$STATE/images.list" | tail -1)"
  [ -n "$layout" ] || die "no layout for $2 in $STATE/images.list"
  printf '    "%s": { "ref": "%s/%s", "digest": "%s", "upstream": "%s", "layout": "%s" }' \
    "$1" "$IMAGES_REGISTRY" "$2" "$(layout_digest "$layout")" "$3" "$layout"
}

json_repo() { # key line-number
  local url tag commit
  read -r url tag commit < <(sed -n "$2p" "$STATE/git-repos.list")
  printf '      "%s": { "url": "%s", "tag": "%s", "commit": "%s" }' "$1" "$url" "$tag" "$commit"
}

bp_json() { # dir
  printf '{ "id": "%s", "version": "%s", "dir": "%s" }' \
    "$(sed -n 's/^[[:space:]]*id = "\(.*\)"/\1/p' "$1/buildpack.toml" | head -1)" \
    "$(sed -n 's/^[[:space:]]*version = "\(.*\)"/\1/p' "$1/buildpack.toml" | head -1)" "$1"
}

write_lab_json() {
  local pid
  pid="$(lab_pid)"
  cat > "$LAB_JSON.tmp" <<EOF
{
  "schema": 1,
  "pid": $pid,
  "unsharePid": $(cat "$RUN_DIR/unshare.pid"),
  "address": "$LAB_ADDR",
  "stateDir": "$STATE",
  "cacheDir": "$CACHE",
  "labSh": "$LAB_DIR/lab.sh",
  "logDir": "$STATE/logs",
  "cgroup": "$LAB_CGROUP",
  "registries": {
    "apps": { "address": "$APPS_REGISTRY", "username": "$REGISTRY_USER", "passwordFile": "$STATE/registry-password",
      "service": "registry-apps", "config": "$STATE/registry-apps.yml", "storage": "$STATE/registry/apps" },
    "images": { "address": "$IMAGES_REGISTRY", "anonymous": true,
      "service": "registry-images", "config": "$STATE/registry-images.yml", "storage": "$STATE/registry/images",
      "mirrorOf": ["docker.io", "gcr.io", "ghcr.io", "quay.io", "registry.k8s.io"] }
  },
  "insecureRegistries": ["$APPS_REGISTRY", "$IMAGES_REGISTRY"],
  "dockerConfigDir": "$STATE/docker-config",
  "docker": { "host": "unix://$RUN_DIR/docker.sock", "bin": "/usr/bin/docker", "service": "dockerd", "dataRoot": "$STATE/docker" },
  "git": {
    "url": "http://$LAB_ADDR:$GIT_PORT", "root": "$STATE/git", "service": "git",
    "username": "$GIT_USER", "tokenFile": "$STATE/git-token", "privatePrefix": "/private/",
    "repos": {
$(json_repo fixture 1),
$(json_repo fixturePrivate 2),
$(json_repo depsFixture 3)
    }
  },
  "files": { "url": "http://$LAB_ADDR:$FILES_PORT", "root": "$STATE/files", "service": "files", "deps": "http://$LAB_ADDR:$FILES_PORT/deps" },
  "images": {
$(json_image busybox library/busybox:latest docker.io/library/busybox:latest),
$(json_image registry library/registry:3 docker.io/library/registry:3),
$(json_image crane go-containerregistry/crane:v0.20.6 gcr.io/go-containerregistry/crane:v0.20.6),
$(json_image craneDebug google/go-containerregistry/crane/debug:v0.20.6 ghcr.io/google/go-containerregistry/crane/debug:v0.20.6),
$(json_image git alpine/git:v2.49.1 docker.io/alpine/git:v2.49.1),
$(json_image run e2e/run:busybox ""),
$(json_image build e2e/build:busybox ""),
$(json_image builder e2e/builder:busybox "")
  },
  "cnb": { "uid": $CNB_UID, "gid": $CNB_GID, "stackId": "$STACK_ID" },
  "buildpacks": [ $(bp_json "$REPO_ROOT/test/e2e/buildpack"), $(bp_json "$REPO_ROOT/test/e2e/buildpack-deps") ],
  "fixtures": { "static": "$REPO_ROOT/test/e2e/fixture-app", "deps": "$REPO_ROOT/test/e2e/fixture-deps-app" },
  "tools": { "crane": "$crane_bin", "pack": "$pack_bin", "lifecycleDir": "$lifecycle_dir", "packHome": "$STATE/pack-home" },
  "versions": {
    "lifecycle": "$lifecycle_version", "pack": "$pack_version", "crane": "$crane_version",
    "platformApis": $platform_apis, "buildpackApis": $buildpack_apis,
    "busybox": "$(deb_version busybox-static)", "git": "$(deb_version git)", "dockerRegistry": "$(deb_version docker-registry)",
    "docker": "$(deb_version docker.io)", "node": "$(node --version)"
  }
}
EOF
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$LAB_JSON.tmp" || die "lab.json is not valid JSON"
  chmod 0644 "$LAB_JSON.tmp"
  mv "$LAB_JSON.tmp" "$LAB_JSON"
}

# ------------------------------------------------------------------------------------------------------ up/down

cmd_up() {
  require_root
  check_state_dir
  local t0=$SECONDS
  command -v node > /dev/null || die "node is not on the PATH (the git server runs on it)"
  [ -d "$REPO_ROOT/node_modules/tsx" ] || die "$REPO_ROOT/node_modules/tsx is missing: run npm ci first"
  install_packages
  build_all
  start_namespace
  make_secrets
  mkdir -p "$STATE/git" "$STATE/files"
  echo ok > "$STATE/files/healthz"
  rm -rf "$STATE/files/deps" && cp -r "$deps_dir" "$STATE/files/deps"
  local s
  for s in "${SERVICES[@]}"; do start_service "$s"; done
  push_images
  publish_fixtures
  write_lab_json
  log "lab: up in $((SECONDS - t0)) s; $LAB_JSON"
}

cmd_docker_up() {
  require_root
  lab_pid > /dev/null || die "no lab is running (test/lab/lab.sh up)"
  start_service dockerd 60
}

# Removes the cgroup directories the lab's containers had (cgroupfs is shared with the host), deepest first. They
# are empty once their processes are gone, which takes a moment after the lab's PID 1 died.
remove_cgroups() {
  local i dirs
  for i in $(seq 1 50); do
    dirs="$(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$LAB_CGROUP" 2>/dev/null || true)"
    [ -z "$dirs" ] && return 0
    echo "$dirs" | while read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
    sleep 0.2
  done
  log "cgroups left behind: $(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$LAB_CGROUP" | tr '\n' ' ')"
  return 1
}

cmd_down() {
  require_root
  check_state_dir
  local t0=$SECONDS pid unshare_pid="" hook status=0
  [ -f "$RUN_DIR/unshare.pid" ] && unshare_pid="$(cat "$RUN_DIR/unshare.pid")"
  if pid="$(lab_pid)"; then
    # parts added by others (the engine, the cluster) stop first, each by its own hook
    if [ -d "$STATE/down.d" ]; then
      for hook in "$STATE"/down.d/*; do
        [ -x "$hook" ] || continue
        log "down: running $hook"
        timeout 120 "$hook" || log "down: $hook failed (exit $?)"
      done
    fi
    stop_service dockerd
    log "lab: stopping PID 1 (host pid $pid)"
    stop_pid "lab PID 1" "$pid" 20
  fi
  # unshare exits when its child does; it ignores SIGTERM, so only KILL is left if it did not
  if [ -n "$unshare_pid" ] && kill -0 "$unshare_pid" 2>/dev/null && [ "$(cat "/proc/$unshare_pid/comm" 2>/dev/null)" = unshare ]; then
    for _ in $(seq 1 50); do kill -0 "$unshare_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$unshare_pid" 2>/dev/null || true
  fi
  remove_cgroups || status=1
  if [ -d "$STATE" ]; then
    # nothing should be mounted there from the host's side (the lab's mounts died with its namespace)
    { awk '{print $2}' /proc/self/mounts | grep -F "$STATE/" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$STATE"
  fi
  log "lab: down in $((SECONDS - t0)) s"
  return $status
}

cmd_status() {
  local pid s up=0
  if ! pid="$(lab_pid)"; then
    echo "lab: not running (state $STATE)"
    return 1
  fi
  echo "lab: running, PID 1 host pid $pid, address $LAB_ADDR, state $STATE"
  for s in "${SERVICES[@]}" dockerd; do
    if service_pid "$s" > /dev/null; then
      if service_ready "$s"; then echo "  $s: ready (pid $(service_pid "$s"))"; else echo "  $s: NOT ANSWERING (pid $(service_pid "$s"))"; [ "$s" = dockerd ] || up=1; fi
    else
      echo "  $s: stopped"; [ "$s" = dockerd ] || up=1
    fi
  done
  return $up
}

cmd_veth() { # lab_if pid lab_cidr peer_cidr [peer_if]
  require_root
  local lab_if="$1" pid="$2" lab_cidr="$3" peer_cidr="$4" peer_if="${5:-eth0}" lab
  lab="$(lab_pid)" || die "no lab is running"
  [ -e "/proc/$pid/ns/net" ] || die "veth: no process $pid"
  # the peer must go into a namespace of its own: never the host's (the kernel's, which kthreadd keeps, nor the one
  # lab.sh up ran in), nor the lab's
  local target
  target="$(readlink "/proc/$pid/ns/net")"
  if [ "$target" = "$(readlink /proc/2/ns/net)" ] || [ "$target" = "$(cat "$RUN_DIR/outside.netns" 2>/dev/null)" ] ||
    [ "$target" = "$(readlink "/proc/$lab/ns/net")" ]; then
    die "veth: pid $pid is in the host's (or the lab's) network namespace; the lab never touches the host's network"
  fi
  # made in the lab with its peer moved straight into the other namespace: it never exists in the host's
  nsenter -t "$lab" -n ip link del "$lab_if" 2>/dev/null || true
  nsenter -t "$lab" -n ip link add "$lab_if" type veth peer name "$peer_if" netns "$pid" || die "veth: ip link add failed"
  nsenter -t "$lab" -n ip addr add "$lab_cidr" dev "$lab_if"
  nsenter -t "$lab" -n ip link set "$lab_if" up
  nsenter -t "$pid" -n ip addr add "$peer_cidr" dev "$peer_if"
  nsenter -t "$pid" -n ip link set "$peer_if" up
  nsenter -t "$pid" -n ip link set lo up
  log "veth: $lab_if ($lab_cidr, lab) <-> $peer_if ($peer_cidr, netns of pid $pid)"
}

cmd_route() { # cidr gateway
  require_root
  in_lab_net ip route replace "$1" via "$2" || die "route: ip route replace $1 via $2 failed in the lab"
}


cmd="${1:-}"
[ -n "$cmd" ] && shift
# up, down and docker-up of one lab take turns (two suites starting at once). flock -o keeps the lock in flock itself,
# so the lab's processes started meanwhile do not inherit it.
case "$cmd" in
  up | down | docker-up)
    if [ -z "${PACKLINE_LAB_LOCKED:-}" ]; then
      require_root
      mkdir -p "$CACHE/locks"
      exec flock -o -w 1800 "$CACHE/locks/lab-$(printf '%s' "$STATE" | sha256sum | cut -c1-12).lock" \
        env PACKLINE_LAB_LOCKED=1 bash "${BASH_SOURCE[0]}" "$cmd" "$@"
    fi ;;
esac
case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) require_root; cmd_status ;;
  pid) require_root; lab_pid || die "no lab is running" ;;
  exec | enter)
    require_root
    [ "${1:-}" = -- ] && shift
    [ "$#" -gt 0 ] || usage
    pid="$(lab_pid)" || die "no lab is running (test/lab/lab.sh up)"
    if [ "$cmd" = exec ]; then exec nsenter -t "$pid" -n -- "$@"; else exec nsenter -t "$pid" -m -n -p --wd="$PWD" -- "$@"; fi ;;
  docker-up) cmd_docker_up ;;
  docker-down) require_root; stop_service dockerd ;;
  start) require_root; [ -n "${1:-}" ] || usage; start_service "$1" ;;
  stop) require_root; [ -n "${1:-}" ] || usage; stop_service "$1" ;;
  git-publish) require_root; [ "$#" -ge 3 ] || usage; git_publish "$@" ;;
  veth) [ "$#" -ge 4 ] || usage; cmd_veth "$@" ;;
  route) [ "$#" = 2 ] || usage; cmd_route "$@" ;;
  build) require_root; install_packages; build_all; log "build: done (cache $CACHE)" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
