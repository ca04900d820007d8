#!/usr/bin/env bash
# Sets up the real components the e2e tests (test/e2e/*.test.ts) run against, on a Debian 12 machine, as root:
#   - a Docker daemon (Debian's docker.io) with no bridge network and no iptables: containers run with --network host;
#   - a distribution registry (Debian's docker-registry) on 127.0.0.1 with htpasswd auth;
#   - the buildpacks lifecycle and the pack CLI, built with Go (binaries cached under $PACKLINE_E2E_CACHE);
#   - a test builder made from Debian's busybox-static only (nothing is pulled from a public registry): a run image
#     and a builder image (with test/e2e/buildpack/ and the lifecycle), both pushed to the local registry.
# It writes everything the tests need to $PACKLINE_E2E_STATE_DIR/state.json. Idempotent: a re-run reuses a running
# daemon and registry and the cached binaries. test/e2e/teardown.sh stops and removes it all (except the cache).
#
# Environment (all optional):
#   PACKLINE_E2E_STATE_DIR  state, sockets, logs, the registry storage  (default /var/lib/packline-e2e)
#   PACKLINE_E2E_CACHE      Go-built binaries, kept by teardown          (default /var/cache/packline-e2e)
#   PACKLINE_E2E_REGISTRY   the registry's host:port, on 127.0.0.1       (default 127.0.0.1:5000)
#   PACKLINE_E2E_SKIP_APT=1 do not run apt-get (the packages are already there)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state_dir="${PACKLINE_E2E_STATE_DIR:-/var/lib/packline-e2e}"
cache_dir="${PACKLINE_E2E_CACHE:-/var/cache/packline-e2e}"
registry="${PACKLINE_E2E_REGISTRY:-127.0.0.1:5000}"
registry_user="packline-e2e"

run_dir="$state_dir/run"
docker_sock="$run_dir/docker.sock"
docker_host="unix://$docker_sock"
docker_bin=/usr/bin/docker # Debian's client, the daemon's own version (the newer /usr/local/bin/docker also works)
docker_config="$state_dir/docker-config"
state_file="$state_dir/state.json"

cnb_uid=1000
cnb_gid=1000
stack_id="io.packline.e2e.busybox"
run_image="$registry/e2e/run:busybox"
builder_image="$registry/e2e/builder:busybox"
build_image="packline-e2e/build:busybox" # the builder's base, in the daemon only

started=$(date +%s)
log() { printf '[e2e setup %3ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
die() { printf '[e2e setup] FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it starts dockerd and a registry, and apt-get installs); uid is $(id -u)"
case "$registry" in
  127.0.0.1:[0-9]*) ;;
  *) die "PACKLINE_E2E_REGISTRY must be 127.0.0.1:<port> (all traffic stays on loopback), got '$registry'" ;;
esac
registry_port="${registry#127.0.0.1:}"

mkdir -p "$state_dir" "$run_dir" "$cache_dir"
chmod 0700 "$state_dir"

# ---------------------------------------------------------------------------------------------------- packages
install_packages() {
  local pkgs=(docker.io docker-registry apache2-utils busybox-static curl ca-certificates)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" = 0 ]; then
    log "packages: all present"
    return
  fi
  [ "${PACKLINE_E2E_SKIP_APT:-0}" = 1 ] && die "missing packages ${missing[*]} and PACKLINE_E2E_SKIP_APT=1"
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: the packages must not try to start their services (there may be no init system)
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 0755 "$policy"; created_policy=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > "$state_dir/apt.log" 2>&1 ||
    { tail -20 "$state_dir/apt.log" >&2; [ "$created_policy" = 1 ] && rm -f "$policy"; die "apt-get install failed"; }
  [ "$created_policy" = 1 ] && rm -f "$policy"
  # Debian's docker.io/docker-registry may have been started by their postinst where an init system exists: this
  # harness runs its own daemon and registry on its own socket and port, so those are left alone.
  return 0
}

# ---------------------------------------------------------------------------------------------------- dockerd
docker_() { DOCKER_HOST="$docker_host" DOCKER_CONFIG="$docker_config" "$docker_bin" "$@"; }

start_dockerd() {
  if docker_ version >/dev/null 2>&1; then
    log "dockerd: already answering on $docker_sock"
    return
  fi
  [ -f "$run_dir/dockerd.pid" ] && kill -0 "$(cat "$run_dir/dockerd.pid")" 2>/dev/null &&
    die "dockerd (pid $(cat "$run_dir/dockerd.pid")) runs but does not answer; run teardown.sh"
  rm -f "$docker_sock" "$run_dir/dockerd.pid"
  log "dockerd: starting (no bridge, no iptables), data root $state_dir/docker"
  # setsid: the daemon outlives this script and is not killed with the caller's process group
  setsid /usr/sbin/dockerd \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --data-root "$state_dir/docker" --exec-root "$run_dir/docker-exec" \
    --pidfile "$run_dir/dockerd.pid" -H "$docker_host" \
    > "$state_dir/dockerd.log" 2>&1 < /dev/null &
  local i
  for i in $(seq 1 60); do
    if docker_ version >/dev/null 2>&1; then
      log "dockerd: ready ($(docker_ version -f '{{.Server.Version}}' 2>/dev/null))"
      return
    fi
    if [ -f "$run_dir/dockerd.pid" ] && ! kill -0 "$(cat "$run_dir/dockerd.pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  tail -30 "$state_dir/dockerd.log" >&2 || true
  die "dockerd did not start (log: $state_dir/dockerd.log)"
}

# ---------------------------------------------------------------------------------------------------- registry
registry_answers() { # user password
  [ "$(curl -s -o /dev/null -w '%{http_code}' -u "$1:$2" "http://$registry/v2/" || true)" = 200 ]
}

port_in_use() { # port: true when something listens on 127.0.0.1:port or *:port
  ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q . && return 0
  # no ss: try to connect
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_registry() {
  local pidfile="$run_dir/registry.pid" password=""
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$state_dir/registry-password" ]; then
    password="$(cat "$state_dir/registry-password")"
    if registry_answers "$registry_user" "$password"; then
      log "registry: already running on $registry (pid $(cat "$pidfile"))"
      registry_password="$password"
      return
    fi
    die "registry (pid $(cat "$pidfile")) runs but does not answer on $registry; run teardown.sh"
  fi
  port_in_use "$registry_port" && die "port $registry_port is in use by another process: set PACKLINE_E2E_REGISTRY=127.0.0.1:<free port>"

  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
  printf '%s' "$password" > "$state_dir/registry-password"
  chmod 0600 "$state_dir/registry-password"
  local storage
  storage="$(mktemp -d "${TMPDIR:-/tmp}/packline-e2e-registry.XXXXXX")"
  printf '%s\n' "$storage" > "$state_dir/registry-storage" # teardown removes it
  htpasswd -Bbn "$registry_user" "$password" > "$state_dir/registry.htpasswd"
  cat > "$state_dir/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: $registry
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth:
  htpasswd:
    realm: packline-e2e
    path: $state_dir/registry.htpasswd
EOF
  log "registry: starting on $registry (storage $storage)"
  setsid /usr/bin/docker-registry serve "$state_dir/registry.yml" > "$state_dir/registry.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local i
  for i in $(seq 1 30); do
    if registry_answers "$registry_user" "$password"; then
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$registry/v2/")" = 401 ] ||
        die "registry answers without credentials: auth is not on"
      log "registry: ready, auth required (user $registry_user)"
      registry_password="$password"
      return
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.5
  done
  tail -20 "$state_dir/registry.log" >&2 || true
  die "registry did not start (log: $state_dir/registry.log)"
}

docker_login() {
  mkdir -p "$docker_config"
  chmod 0700 "$docker_config"
  printf '%s' "$registry_password" | docker_ login --username "$registry_user" --password-stdin "$registry" >/dev/null 2>&1 || die "docker login to $registry failed"
  log "docker login: $docker_config/config.json has $registry"
}

# ---------------------------------------------------------------------------------------------------- Go builds
go_bin="$(command -v go || true)"
[ -n "$go_bin" ] || go_bin=/usr/local/go/bin/go

tool_key() { # dir: a short hash of the tool module's files, so a changed go.mod rebuilds
  (cd "$1" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 | sort -z |
    xargs -0 sha256sum | sha256sum | cut -c1-12)
}

go_with_retries() { # args: run `go args` up to 3 times (the module proxy sometimes refuses for a moment)
  local i
  for i in 1 2 3; do
    if GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" "$go_bin" "$@"; then return 0; fi
    log "go $1 failed (attempt $i)"
    sleep $((i * 3))
  done
  return 1
}

module_version() { # dir module: the version of a dependency as the tool module pins it
  (cd "$1" && GOTOOLCHAIN=local "$go_bin" list -m -f '{{.Version}}' "$2")
}

build_tools() {
  local lc_dir="$here/tools/lifecycle" pack_dir="$here/tools/pack"
  lifecycle_version="$(module_version "$lc_dir" github.com/buildpacks/lifecycle)"
  pack_version="$(module_version "$pack_dir" github.com/buildpacks/pack)"
  lifecycle_bin_dir="$cache_dir/bin/lifecycle-$lifecycle_version-$(tool_key "$lc_dir")"
  pack_bin="$cache_dir/bin/pack-$pack_version-$(tool_key "$pack_dir")/pack"

  if [ -x "$lifecycle_bin_dir/lifecycle" ] && [ -x "$lifecycle_bin_dir/launcher" ]; then
    log "lifecycle $lifecycle_version: cached in $lifecycle_bin_dir"
  else
    log "lifecycle $lifecycle_version: building (CGO_ENABLED=0, static) ..."
    (cd "$lc_dir" && export CGO_ENABLED=0 && go_with_retries mod download &&
      go_with_retries build -trimpath \
        -ldflags "-s -w -X github.com/buildpacks/lifecycle/cmd.Version=${lifecycle_version#v}" \
        -o "$lifecycle_bin_dir.tmp/" github.com/buildpacks/lifecycle/cmd/lifecycle github.com/buildpacks/lifecycle/cmd/launcher) ||
      die "building the lifecycle failed"
    rm -rf "$lifecycle_bin_dir" && mv "$lifecycle_bin_dir.tmp" "$lifecycle_bin_dir"
    log "lifecycle $lifecycle_version: built"
  fi

  if [ -x "$pack_bin" ]; then
    log "pack $pack_version: cached at $pack_bin"
  else
    log "pack $pack_version: building ..."
    local dir; dir="$(dirname "$pack_bin")"
    (cd "$pack_dir" && export CGO_ENABLED=0 && go_with_retries mod download &&
      go_with_retries build -trimpath \
        -ldflags "-s -w -X github.com/buildpacks/pack/pkg/client.Version=${pack_version#v}" \
        -o "$dir.tmp/pack" github.com/buildpacks/pack) || die "building pack failed"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    log "pack $pack_version: built"
  fi
}

# The lifecycle's supported API lists, read from its own source (api/apis.go) so lifecycle.toml tells the truth.
lifecycle_apis() { # Platform|Buildpack -> e.g. ["0.7", "0.8"]
  local src
  src="$(cd "$here/tools/lifecycle" && GOTOOLCHAIN=local "$go_bin" list -m -f '{{.Dir}}' github.com/buildpacks/lifecycle)/api/apis.go"
  sed -n "s/^[[:space:]]*$1 = newApisMustParse(\[\]string{\([^}]*\)}.*/[\1]/p" "$src" | head -1
}

# ---------------------------------------------------------------------------------------------------- images
make_rootfs() { # dir: a busybox-static root filesystem with root and the CNB user
  local root="$1" applet
  mkdir -p "$root"/{bin,usr/bin,sbin,usr/sbin,etc,root,tmp,home/cnb,var/tmp}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  ln -sf ../../bin/env "$root/usr/bin/env"
  cat > "$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
cnb:x:$cnb_uid:$cnb_gid:cnb:/home/cnb:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat > "$root/etc/group" <<EOF
root:x:0:
cnb:x:$cnb_gid:
nogroup:x:65534:
EOF
  chown -R "$cnb_uid:$cnb_gid" "$root/home/cnb"
  chmod 0700 "$root/root"
  chmod 1777 "$root/tmp" "$root/var/tmp"
}

# Labels and env shared by the run and build images (the platform spec's base image labels).
base_dockerfile() { # base image, role
  cat <<EOF
FROM $1
LABEL io.buildpacks.stack.id="$stack_id" \\
      io.buildpacks.base.distro.name="busybox" \\
      io.buildpacks.base.distro.version="$busybox_version" \\
      io.buildpacks.base.maintainer="packline e2e" \\
      io.packline.e2e.role="$2"
ENV CNB_USER_ID=$cnb_uid CNB_GROUP_ID=$cnb_gid CNB_STACK_ID=$stack_id \\
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER $cnb_uid:$cnb_gid
WORKDIR /home/cnb
EOF
}

build_images() {
  local work; work="$(mktemp -d "${TMPDIR:-/tmp}/packline-e2e-images.XXXXXX")"
  busybox_version="$(dpkg-query -W -f='${Version}' busybox-static | sed 's/^[0-9]*://; s/-.*//')"

  make_rootfs "$work/rootfs"
  tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .
  docker_ import "$work/rootfs.tar" packline-e2e/base:busybox >/dev/null
  log "images: base packline-e2e/base:busybox imported ($(du -h "$work/rootfs.tar" | cut -f1) rootfs)"

  mkdir -p "$work/run" "$work/build"
  base_dockerfile packline-e2e/base:busybox run > "$work/run/Dockerfile"
  base_dockerfile packline-e2e/base:busybox build > "$work/build/Dockerfile"
  DOCKER_BUILDKIT=0 docker_ build -q --network host -t "$run_image" "$work/run" >/dev/null
  DOCKER_BUILDKIT=0 docker_ build -q --network host -t "$build_image" "$work/build" >/dev/null
  docker_ push -q "$run_image" >/dev/null
  log "images: run image $run_image pushed"

  # the lifecycle as its release tarball: lifecycle.toml + lifecycle/{lifecycle,launcher,<phase> -> lifecycle}
  local lc="$work/lifecycle" phase
  mkdir -p "$lc/lifecycle"
  cp "$lifecycle_bin_dir/lifecycle" "$lifecycle_bin_dir/launcher" "$lc/lifecycle/"
  for phase in detector analyzer restorer builder exporter rebaser creator extender; do
    ln -s lifecycle "$lc/lifecycle/$phase"
  done
  local platform_apis buildpack_apis
  platform_apis="$(lifecycle_apis Platform)"
  buildpack_apis="$(lifecycle_apis Buildpack)"
  [ -n "$platform_apis" ] && [ -n "$buildpack_apis" ] || die "could not read the lifecycle's API lists"
  cat > "$lc/lifecycle.toml" <<EOF
[apis]
[apis.buildpack]
  deprecated = []
  supported = $buildpack_apis
[apis.platform]
  deprecated = []
  supported = $platform_apis

[api]
  platform = "0.7"
  buildpack = "0.7"

[lifecycle]
  version = "${lifecycle_version#v}"
EOF
  tar --numeric-owner --owner=0 --group=0 -C "$lc" -czf "$work/lifecycle.tgz" lifecycle.toml lifecycle

  local bp_id bp_version
  bp_id="$(sed -n 's/^[[:space:]]*id = "\(.*\)"/\1/p' "$here/buildpack/buildpack.toml" | head -1)"
  bp_version="$(sed -n 's/^[[:space:]]*version = "\(.*\)"/\1/p' "$here/buildpack/buildpack.toml" | head -1)"
  cat > "$work/builder.toml" <<EOF
description = "packline e2e test builder: busybox-static base, lifecycle ${lifecycle_version}, one static-site buildpack"

[[buildpacks]]
  uri = "$here/buildpack"

[[order]]
  [[order.group]]
    id = "$bp_id"
    version = "$bp_version"

[lifecycle]
  uri = "$work/lifecycle.tgz"

[build]
  image = "$build_image"

[run]
  [[run.images]]
    image = "$run_image"
EOF
  pack_ builder create "$builder_image" --config "$work/builder.toml" --pull-policy never > "$work/pack-builder.log" 2>&1 ||
    { cat "$work/pack-builder.log" >&2; die "pack builder create failed"; }
  docker_ push -q "$builder_image" >/dev/null
  log "images: builder $builder_image created by pack and pushed"
  buildpack_id="$bp_id"
  buildpack_version="$bp_version"
  buildpack_apis_json="$buildpack_apis"
  platform_apis_json="$platform_apis"
  rm -rf "$work"
}

pack_() {
  mkdir -p "$state_dir/pack-home"
  DOCKER_HOST="$docker_host" DOCKER_CONFIG="$docker_config" PACK_HOME="$state_dir/pack-home" "$pack_bin" --no-color "$@"
}

write_state() {
  local run_size builder_size
  run_size="$(docker_ image inspect -f '{{.Size}}' "$run_image")"
  builder_size="$(docker_ image inspect -f '{{.Size}}' "$builder_image")"
  cat > "$state_file.tmp" <<EOF
{
  "stateDir": "$state_dir",
  "dockerHost": "$docker_host",
  "dockerBin": "$docker_bin",
  "dockerConfigDir": "$docker_config",
  "registry": "$registry",
  "username": "$registry_user",
  "password": "$registry_password",
  "builderImage": "$builder_image",
  "runImage": "$run_image",
  "buildImage": "$build_image",
  "stackId": "$stack_id",
  "cnbUserId": $cnb_uid,
  "cnbGroupId": $cnb_gid,
  "buildpack": { "id": "$buildpack_id", "version": "$buildpack_version", "dir": "$here/buildpack" },
  "fixtureApp": "$here/fixture-app",
  "packBin": "$pack_bin",
  "packHome": "$state_dir/pack-home",
  "packVersion": "${pack_version#v}",
  "lifecycleVersion": "${lifecycle_version#v}",
  "platformApis": $platform_apis_json,
  "buildpackApis": $buildpack_apis_json,
  "sizes": { "runImageBytes": $run_size, "builderImageBytes": $builder_size }
}
EOF
  chmod 0600 "$state_file.tmp"
  mv "$state_file.tmp" "$state_file"
}

install_packages
start_dockerd
start_registry
docker_login
build_tools
build_images
write_state
log "done: state in $state_file"
