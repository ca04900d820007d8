#!/usr/bin/env bash
# Builds a Dagger engine and CLI (v0.21.9) from a Dagger source tree, for the real-engine suite.
#
# PACKLINE_DAGGER_SOURCE names a directory holding dagger-<rev>.tar.xz (dagger/dagger's backport-0.21 branch) and the
# vito-*.tar.xz modules the Go module proxy does not serve (.ci/run points it at ../shared/vendor/dagger). The
# binaries are cached under $PACKLINE_CACHE/dagger/<checksum of the tarballs>, so a second run costs nothing.
# Prints the binary directory on stdout; everything else goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/common.sh"

src="${PACKLINE_DAGGER_SOURCE:-}"
[ -n "$src" ] || die "PACKLINE_DAGGER_SOURCE is not set: point it at a directory with the Dagger source tarballs (see README, 'Tests')"
[ -d "$src" ] || die "PACKLINE_DAGGER_SOURCE=$src is not a directory"
dagger_tar=$(ls "$src"/dagger-*.tar.xz 2>/dev/null | head -1)
[ -n "$dagger_tar" ] || die "no dagger-*.tar.xz in $src"
for m in midterm dang tuist-v tuist-de; do ls "$src"/vito-$m*.tar.xz >/dev/null 2>&1 || die "no vito-$m*.tar.xz in $src"; done

key=$(cd "$src" && sha256sum dagger-*.tar.xz vito-*.tar.xz | sha256sum | cut -c1-16)
out="$CACHE/dagger/$key"
version=v0.21.9
# One build at a time (labs with different state dirs share the cache): wait for another, then use what it made.
mkdir -p "$CACHE/locks"
exec {lock_fd}> "$CACHE/locks/dagger.lock"
flock -w 3600 "$lock_fd" || die "waited an hour for $CACHE/locks/dagger.lock"
if [ -x "$out/bin/dagger-engine" ] && [ -x "$out/bin/dagger" ] && [ -x "$out/bin/dagger-init" ] && [ -x "$out/cni/dnsname" ]; then
  log "dagger $version: cached in $out"
  echo "$out"; exit 0
fi

work="$out/src"
if [ ! -f "$work/.extracted" ]; then
  log "dagger: extracting $(basename "$dagger_tar") and the vito modules into $work"
  rm -rf "$work"; mkdir -p "$work"
  tar -C "$work" -xJf "$dagger_tar"
  tar -C "$work" -xJf "$(ls "$src"/vito-midterm-*.tar.xz)"
  tar -C "$work" -xJf "$(ls "$src"/vito-dang-*.tar.xz)"
  tar -C "$work" -xJf "$(ls "$src"/vito-tuist-v*.tar.xz)"
  tar -C "$work" -xJf "$(ls "$src"/vito-tuist-de*.tar.xz)"
  cat >> "$work/dagger/go.mod" <<'MOD'

replace github.com/vito/midterm => ../midterm

replace github.com/vito/tuist => ../tuist

replace github.com/vito/tuist/teav1 => ../tuist-teav1/teav1

replace github.com/vito/dang/v2 => ../dang
MOD
  touch "$work/.extracted"
fi

export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local
ld="-s -w -X github.com/dagger/dagger/engine.Version=$version -X github.com/dagger/dagger/engine.Tag=$version"
mkdir -p "$out/bin.tmp" "$out/cni.tmp"
t0=$SECONDS
log "dagger: building the engine, CLI, init, dnsname (about 11 minutes on 2 cores from a cold Go cache)"
(cd "$work/dagger" &&
  go_retry build -trimpath -ldflags "$ld" -o "$out/bin.tmp/dagger-engine" ./cmd/engine &&
  go_retry build -trimpath -ldflags "$ld" -o "$out/bin.tmp/dagger" ./cmd/dagger &&
  go_retry build -trimpath -o "$out/bin.tmp/dagger-init" ./cmd/init &&
  go_retry build -trimpath -o "$out/cni.tmp/dnsname" ./cmd/dnsname) || die "building dagger failed"
log "dagger: CNI plugins (containernetworking/plugins v1.9.0)"
(cd "$here/../../../tools/cni" && GOFLAGS="-mod=readonly -buildvcs=false" go_retry build -trimpath -ldflags "-s -w" -o "$out/cni.tmp/" \
  github.com/containernetworking/plugins/plugins/main/bridge github.com/containernetworking/plugins/plugins/main/loopback \
  github.com/containernetworking/plugins/plugins/meta/firewall github.com/containernetworking/plugins/plugins/ipam/host-local) ||
  die "building the CNI plugins failed"
rm -rf "$out/bin" "$out/cni"; mv "$out/bin.tmp" "$out/bin"; mv "$out/cni.tmp" "$out/cni"
log "dagger $version: built in $((SECONDS - t0)) s into $out"
echo "$out"
