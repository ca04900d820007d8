#!/usr/bin/env bash
# Builds the lab's Go tools from the Go module proxy (host network: run before entering the lab), cached under
# $PACKLINE_CACHE by version and by a hash of the pinning module's files, so a second run costs nothing:
#   crane      tools/crane                (go-containerregistry v0.20.6: pushes and pulls the lab's images)
#   lifecycle  test/e2e/tools/lifecycle   (buildpacks lifecycle + launcher, static, for the test builder)
#   pack       test/e2e/tools/pack        (pack CLI: `pack builder create`, and the e2e peer)
# Prints shell assignments on stdout (crane_bin=..., lifecycle_dir=..., pack_bin=..., versions and the lifecycle's
# API lists); everything else goes to stderr.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
cache_lock tools

export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

module_version() { # dir module: the version of a dependency as the tool module pins it (offline once downloaded)
  (cd "$1" && GOTOOLCHAIN=local go list -m -f '{{.Version}}' "$2")
}

# build name dir out-dir ldflags packages...: go build into out-dir unless every binary is already there
build() {
  local name="$1" dir="$2" out="$3" ldflags="$4"; shift 4
  local pkg complete=1
  for pkg in "$@"; do [ -x "$out/$(basename "$pkg")" ] || complete=0; done
  if [ "$complete" = 1 ]; then log "$name: cached in $out"; return; fi
  local t0=$SECONDS
  log "$name: building (static, from the Go module proxy)"
  rm -rf "$out.tmp"
  (cd "$dir" && go_retry mod download && go_retry build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp/" "$@") ||
    die "building $name failed"
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "$name: built in $((SECONDS - t0)) s"
}

crane_dir="$REPO_ROOT/tools/crane"
crane_version="$(module_version "$crane_dir" github.com/google/go-containerregistry 2>/dev/null || true)"
if [ -z "$crane_version" ]; then (cd "$crane_dir" && go_retry mod download) || die "go mod download in $crane_dir failed"; crane_version="$(module_version "$crane_dir" github.com/google/go-containerregistry)"; fi
crane_out="$CACHE/tools/crane-$crane_version-$(files_key "$crane_dir" \( -name '*.go' -o -name go.mod -o -name go.sum \))"
build "crane $crane_version" "$crane_dir" "$crane_out" \
  "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$crane_version" github.com/google/go-containerregistry/cmd/crane

lc_dir="$REPO_ROOT/test/e2e/tools/lifecycle"
(cd "$lc_dir" && go_retry mod download) >&2 || die "go mod download in $lc_dir failed"
lifecycle_version="$(module_version "$lc_dir" github.com/buildpacks/lifecycle)"
lc_out="$CACHE/tools/lifecycle-$lifecycle_version-$(files_key "$lc_dir" \( -name '*.go' -o -name go.mod -o -name go.sum \))"
build "lifecycle $lifecycle_version" "$lc_dir" "$lc_out" \
  "-X github.com/buildpacks/lifecycle/cmd.Version=${lifecycle_version#v}" \
  github.com/buildpacks/lifecycle/cmd/lifecycle github.com/buildpacks/lifecycle/cmd/launcher

pack_dir="$REPO_ROOT/test/e2e/tools/pack"
(cd "$pack_dir" && go_retry mod download) >&2 || die "go mod download in $pack_dir failed"
pack_version="$(module_version "$pack_dir" github.com/buildpacks/pack)"
pack_out="$CACHE/tools/pack-$pack_version-$(files_key "$pack_dir" \( -name '*.go' -o -name go.mod -o -name go.sum \))"
build "pack $pack_version" "$pack_dir" "$pack_out" \
  "-X github.com/buildpacks/pack/pkg/client.Version=${pack_version#v}" github.com/buildpacks/pack

# The lifecycle's supported API lists, read from its own source (api/apis.go), so the builder's lifecycle.toml
# tells the truth.
apis_go="$(cd "$lc_dir" && GOTOOLCHAIN=local go list -m -f '{{.Dir}}' github.com/buildpacks/lifecycle)/api/apis.go"
apis() { sed -n "s/^[[:space:]]*$1 = newApisMustParse(\[\]string{\([^}]*\)}.*/[\1]/p" "$apis_go" | head -1; }
platform_apis="$(apis Platform)"
buildpack_apis="$(apis Buildpack)"
[ -n "$platform_apis" ] && [ -n "$buildpack_apis" ] || die "could not read the lifecycle's API lists from $apis_go"

printf 'crane_bin=%q\ncrane_version=%q\n' "$crane_out/crane" "$crane_version"
printf 'lifecycle_dir=%q\nlifecycle_version=%q\n' "$lc_out" "${lifecycle_version#v}"
printf 'pack_bin=%q\npack_version=%q\n' "$pack_out/pack" "${pack_version#v}"
printf 'platform_apis=%q\nbuildpack_apis=%q\n' "$platform_apis" "$buildpack_apis"
