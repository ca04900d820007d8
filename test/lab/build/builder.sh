#!/usr/bin/env bash
# The test builder 10.123.0.1:5001/e2e/builder:busybox, made by the real `pack builder create --publish` from the
# lab's e2e/build:busybox and e2e/run:busybox, the Go-built lifecycle, and two buildpacks, in this order:
#   packline-e2e/static  (test/e2e/buildpack)       serves the app's index.html; every e2e app uses it
#   packline-e2e/deps    (test/e2e/buildpack-deps)  optional: only apps with a packline-deps.lock
# pack publishes straight to the images registry (no Docker daemon), then the image is kept in the cache as an OCI
# layout keyed by all of the above, so a later lab pushes the very same builder (same digest) in a second.
#
# Runs in the lab's network namespace (lab.sh up calls it), with the variables build/tools.sh prints in the
# environment. Prints "<repository path>:<tag> <layout dir>".
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
cache_lock builder
: "${crane_bin:?} ${pack_bin:?} ${lifecycle_dir:?} ${lifecycle_version:?} ${platform_apis:?} ${buildpack_apis:?}"

run_image="$IMAGES_REGISTRY/e2e/run:busybox"
build_image="$IMAGES_REGISTRY/e2e/build:busybox"
builder_image="$IMAGES_REGISTRY/e2e/builder:busybox"
buildpacks=("$REPO_ROOT/test/e2e/buildpack" "$REPO_ROOT/test/e2e/buildpack-deps")

crane_() { "$crane_bin" --insecure "$@"; }
toml_value() { sed -n "s/^[[:space:]]*$2 = \"\(.*\)\"/\1/p" "$1/buildpack.toml" | head -1; }

run_digest="$(crane_ digest "$run_image")" || die "$run_image is not in the images registry"
build_digest="$(crane_ digest "$build_image")" || die "$build_image is not in the images registry"
key="$( {
  echo "$lifecycle_dir" "$pack_bin" "$run_digest" "$build_digest"
  for bp in "${buildpacks[@]}"; do files_key "$bp"; done
  sha256sum < "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)"
layout="$CACHE/images/e2e-builder-$key"

if [ -f "$layout/index.json" ]; then
  log "builder: cached in $layout"
else
  t0=$SECONDS
  work="$(mktemp -d "${TMPDIR:-/tmp}/packline-lab-builder.XXXXXX")"
  trap 'rm -rf "$work"' EXIT

  # the lifecycle as its release tarball: lifecycle.toml + lifecycle/{lifecycle,launcher,<phase> -> lifecycle}
  mkdir -p "$work/lifecycle/lifecycle"
  cp "$lifecycle_dir/lifecycle" "$lifecycle_dir/launcher" "$work/lifecycle/lifecycle/"
  for phase in detector analyzer restorer builder exporter rebaser creator extender; do
    ln -s lifecycle "$work/lifecycle/lifecycle/$phase"
  done
  cat > "$work/lifecycle/lifecycle.toml" <<EOF
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
  version = "$lifecycle_version"
EOF
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@315532801 -C "$work/lifecycle" -czf "$work/lifecycle.tgz" lifecycle.toml lifecycle

  static="${buildpacks[0]}" deps="${buildpacks[1]}"
  cat > "$work/builder.toml" <<EOF
description = "packline e2e test builder: busybox-static base, lifecycle $lifecycle_version, a static-site buildpack and an optional dependencies buildpack"

[[buildpacks]]
  uri = "$static"

[[buildpacks]]
  uri = "$deps"

[[order]]
  [[order.group]]
    id = "$(toml_value "$static" id)"
    version = "$(toml_value "$static" version)"
  [[order.group]]
    id = "$(toml_value "$deps" id)"
    version = "$(toml_value "$deps" version)"
    optional = true

[lifecycle]
  uri = "$work/lifecycle.tgz"

[build]
  image = "$build_image"

[run]
  [[run.images]]
    image = "$run_image"
EOF
  mkdir -p "$STATE/pack-home"
  # --publish: pack reads the base images from the registry and pushes the builder there, without a daemon (the
  # DOCKER_HOST below exists nowhere, so a daemon could not be used by accident)
  if ! DOCKER_HOST=unix:///nonexistent/docker.sock PACK_HOME="$STATE/pack-home" "$pack_bin" --no-color builder create "$builder_image" \
    --config "$work/builder.toml" --publish > "$work/pack.log" 2>&1; then
    cat "$work/pack.log" >&2
    die "pack builder create failed"
  fi
  rm -rf "$layout.tmp"
  crane_ pull --format oci "$builder_image" "$layout.tmp" || die "crane pull of $builder_image failed"
  mv "$layout.tmp" "$layout"
  log "builder: $builder_image made by pack in $((SECONDS - t0)) s, kept in $layout"
fi
echo "e2e/builder:busybox $layout"
