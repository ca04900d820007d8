#!/usr/bin/env bash
# Builds the lab's test images as OCI layouts under $PACKLINE_CACHE/images, offline, from Debian packages installed on
# this machine and the Go-built crane (build/tools.sh). Nothing is pulled from a public registry: each image stands in
# for the upstream one under the same repository path, so a registry mirror keeps packline's image names unchanged.
#
#   library/busybox:latest               Debian busybox-static: /bin/busybox and its applets, root and nobody
#   library/registry:3                   busybox + Debian's docker-registry (+ its libraries); `registry serve
#                                        /etc/docker/registry/config.yml`, :5000, storage /var/lib/registry
#   go-containerregistry/crane:v0.20.6   /ko-app/crane (entrypoint), as upstream's ko-built image has it
#   google/go-containerregistry/crane/debug:v0.20.6   the same with busybox in /busybox (upstream's debug image)
#   alpine/git:v2.49.1                   busybox + Debian's git, its git-core helpers (git-remote-http...) and
#                                        libraries; entrypoint git (Debian's git version, under upstream's tag)
#   e2e/run:busybox, e2e/build:busybox   busybox + the CNB user 1000:1000: the test builder's run and build images
#
# Layers are tarballs of staged trees with fixed times, numeric owners and sorted names, and test/lab/oci.ts writes
# the layout with a fixed creation time, so the same inputs give the same digests. A layout is cached under a key
# made of its layers' digests and its config, and reused while those do not change.
#
# Usage: images.sh CRANE_BIN. Prints one line per image on stdout: "<repository path>:<tag> <layout dir>".
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
cache_lock images

crane_bin="${1:?usage: images.sh CRANE_BIN}"
[ -x "$crane_bin" ] || die "crane binary $crane_bin is missing (build/tools.sh builds it)"
tsx="$REPO_ROOT/node_modules/.bin/tsx"
[ -x "$tsx" ] || die "$tsx is missing: run npm ci in $REPO_ROOT first"

umask 022
export LC_ALL=C
# 1980-01-01T00:00:01Z, as buildpacks images: every file of every layer has this mtime.
EPOCH=315532801
work="$CACHE/images/work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# tar_tree dir out: a reproducible tarball of a staged tree (entries sorted, one mtime, numeric owners as staged).
tar_tree() {
  local dir="$1" out="$2"
  # shellcheck disable=SC2046
  (cd "$dir" && tar --format=gnu --sort=name --mtime="@$EPOCH" --numeric-owner -cf "$out" $(find . -mindepth 1 -maxdepth 1 -printf '%P\n' | sort))
}

# copy_libs root file...: copies into the staged root every shared library the ELF files among the given ones need,
# as ldd names them (dereferenced, at the path ldd found it, which the image's ld.so searches too).
copy_libs() {
  local root="$1"; shift
  local f lib
  for lib in $(for f in "$@"; do
      [ -L "$f" ] && continue
      head -c 4 "$f" | grep -q ELF || continue
      ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'
    done | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

specs=()
out_lines=()
# image name ref: writes a spec for test/lab/oci.ts when the cached layout is missing; sets last_layout. The rest
# comes in variables: $layer_tar (the image's own layer), $layer_comment, $base_layout (or empty), $config_json.
image() {
  local name="$1" ref="$2"
  local tar_digest key layout
  tar_digest="$(sha256sum "$layer_tar" | cut -c1-64)"
  key="$(printf '%s\n' "$tar_digest" "$layer_comment" "${base_layout:-none}" "$config_json" | sha256sum | cut -c1-16)"
  layout="$CACHE/images/$name-$key"
  if [ -f "$layout/index.json" ]; then
    log "image $ref: cached in $layout"
  else
    local spec="$work/$name.spec.json"
    cat > "$spec" <<JSON
{ "out": "$layout", $( [ -n "${base_layout:-}" ] && printf '"base": "%s",' "$base_layout" )
  "layers": [{ "tar": "$layer_tar", "comment": "$layer_comment" }],
  "config": $config_json }
JSON
    specs+=("$spec")
  fi
  out_lines+=("$ref $layout")
  last_layout="$layout"
}
flush() { # build the layouts whose specs were written (one tsx start for all)
  if [ "${#specs[@]}" -gt 0 ]; then
    log "images: writing ${#specs[@]} OCI layout(s)"
    "$tsx" "$LAB_DIR/oci.ts" "${specs[@]}" >/dev/null || die "test/lab/oci.ts failed"
    specs=()
  fi
}

path_env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
busybox_version="$(deb_version busybox-static)"
busybox_upstream="$(echo "$busybox_version" | sed 's/^[0-9]*://; s/-.*//')"

# ------------------------------------------------------------------------------------------------ library/busybox
bb="$work/busybox"
mkdir -p "$bb"/{bin,sbin,etc,root,tmp,usr/bin,usr/sbin,var/tmp}
cp /bin/busybox "$bb/bin/busybox"
for applet in $("$bb/bin/busybox" --list); do
  [ -e "$bb/bin/$applet" ] || ln -s busybox "$bb/bin/$applet"
done
ln -s ../../bin/env "$bb/usr/bin/env"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$bb/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$bb/etc/group"
chmod 0700 "$bb/root"
chmod 1777 "$bb/tmp" "$bb/var/tmp"
layer_tar="$work/busybox.tar"; tar_tree "$bb" "$layer_tar"
layer_comment="busybox-static $busybox_version (Debian)"
base_layout=""
config_json="{ \"Env\": [$path_env], \"Cmd\": [\"sh\"] }"
image busybox library/busybox:latest
busybox_layout="$last_layout"
flush

# ------------------------------------------------------------------------------------------------ library/registry
reg="$work/registry"
mkdir -p "$reg/bin" "$reg/etc/docker/registry" "$reg/var/lib/registry"
cp /usr/bin/docker-registry "$reg/bin/registry"
copy_libs "$reg" /usr/bin/docker-registry
# upstream's default configuration (distribution's cmd/registry/config-example.yml), storage on the volume path
cat > "$reg/etc/docker/registry/config.yml" <<'YAML'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
YAML
layer_tar="$work/registry.tar"; tar_tree "$reg" "$layer_tar"
layer_comment="docker-registry $(deb_version docker-registry) (Debian)"
base_layout="$busybox_layout"
config_json="{ \"Env\": [$path_env], \"Entrypoint\": [\"registry\"], \"Cmd\": [\"serve\", \"/etc/docker/registry/config.yml\"],
  \"ExposedPorts\": { \"5000/tcp\": {} } }"
image registry library/registry:3

# ------------------------------------------------------------------------------------------------ crane
cr="$work/crane"
mkdir -p "$cr/ko-app" "$cr/etc" "$cr/tmp"
cp "$crane_bin" "$cr/ko-app/crane"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$cr/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$cr/etc/group"
chmod 1777 "$cr/tmp"
layer_tar="$work/crane.tar"; tar_tree "$cr" "$layer_tar"
crane_version="$("$crane_bin" version)"
layer_comment="crane $crane_version (go-containerregistry, built from the Go module proxy)"
base_layout=""
config_json="{ \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/ko-app\", \"KO_DATA_PATH=/var/run/ko\"],
  \"Entrypoint\": [\"/ko-app/crane\"] }"
image crane "go-containerregistry/crane:$crane_version"
crane_layout="$last_layout"

# upstream's crane "debug" image (ghcr.io/google/go-containerregistry/crane/debug): the same crane, and busybox
# under /busybox (distroless's debug layout), so a step can run `sh -c` scripts around crane
dbg="$work/crane-debug"
mkdir -p "$dbg/busybox"
cp /bin/busybox "$dbg/busybox/busybox"
for applet in $("$dbg/busybox/busybox" --list); do
  [ -e "$dbg/busybox/$applet" ] || ln -s busybox "$dbg/busybox/$applet"
done
layer_tar="$work/crane-debug.tar"; tar_tree "$dbg" "$layer_tar"
layer_comment="busybox-static $busybox_version (Debian) at /busybox"
base_layout="$crane_layout"
config_json="{ \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox:/ko-app\", \"KO_DATA_PATH=/var/run/ko\"],
  \"Entrypoint\": [\"/ko-app/crane\"] }"
flush # crane's layout is this one's base
image crane-debug "google/go-containerregistry/crane/debug:$crane_version"

# ------------------------------------------------------------------------------------------------ alpine/git
gt="$work/git"
mkdir -p "$gt/git" "$gt/usr/bin" "$gt/usr/lib" "$gt/usr/share"
# the git-core helpers (git-remote-http for http(s) clones, the sh scripts) and the templates `git init` copies
cp -a /usr/bin/git "$gt/usr/bin/git"
cp -a /usr/lib/git-core "$gt/usr/lib/git-core"
cp -a /usr/share/git-core "$gt/usr/share/git-core"
copy_libs "$gt" /usr/bin/git $(find /usr/lib/git-core -type f | sort)
layer_tar="$work/git.tar"; tar_tree "$gt" "$layer_tar"
layer_comment="git $(deb_version git) (Debian) with its git-core helpers and libraries"
base_layout="$busybox_layout"
config_json="{ \"Env\": [$path_env], \"Entrypoint\": [\"git\"], \"Cmd\": [\"--help\"], \"WorkingDir\": \"/git\" }"
image git alpine/git:v2.49.1

# ------------------------------------------------------------------------------------------------ e2e run and build
cnb="$work/cnb"
mkdir -p "$cnb/etc" "$cnb/home/cnb"
cat > "$cnb/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
cnb:x:$CNB_UID:$CNB_GID:cnb:/home/cnb:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
printf 'root:x:0:\ncnb:x:%s:\nnogroup:x:65534:\n' "$CNB_GID" > "$cnb/etc/group"
chown "$CNB_UID:$CNB_GID" "$cnb/home/cnb"
layer_tar="$work/cnb.tar"; tar_tree "$cnb" "$layer_tar"
layer_comment="the CNB user cnb ($CNB_UID:$CNB_GID)"
base_layout="$busybox_layout"
for role in run build; do
  config_json="{ \"Env\": [\"CNB_USER_ID=$CNB_UID\", \"CNB_GROUP_ID=$CNB_GID\", \"CNB_STACK_ID=$STACK_ID\", $path_env],
  \"User\": \"$CNB_UID:$CNB_GID\", \"WorkingDir\": \"/home/cnb\", \"Cmd\": null,
  \"Labels\": { \"io.buildpacks.stack.id\": \"$STACK_ID\", \"io.buildpacks.base.distro.name\": \"busybox\",
    \"io.buildpacks.base.distro.version\": \"$busybox_upstream\", \"io.buildpacks.base.maintainer\": \"packline e2e\",
    \"io.packline.e2e.role\": \"$role\" } }"
  image "e2e-$role" "e2e/$role:busybox"
done
flush

printf '%s\n' "${out_lines[@]}"
