#!/usr/bin/env bash
# The images the cluster itself runs, assembled offline from binaries built here and pushed to the lab's "images"
# registry under their upstream names (the node's containerd mirrors every upstream registry to it):
#   registry.k8s.io/pause:3.10                       tools/pause (the pod sandbox), user 65535 like upstream
#   quay.io/argoproj/argoexec:v4.0.5                 the executor (init/wait containers of every workflow pod)
#   quay.io/argoproj/workflow-controller:v4.0.5      user 8737 like upstream (its Deployment says runAsNonRoot)
#   quay.io/argoproj/argocli:v4.0.5                  argo-server, user 8737, workdir /home/argo like upstream
#   docker.io/rancher/local-path-provisioner:v0.0.30 the default StorageClass's provisioner
# (The provisioner's helper pods and the tests use the lab's docker.io/library/busybox:latest.)
# Upstream bases the Argo images on distroless/static; here a layer with the same few files (passwd, group,
# nsswitch.conf, /tmp) stands in for it. Layouts are written by test/lab/oci.ts (same inputs, same digests) and cached
# under $PACKLINE_CACHE/cluster/images/<key>; a push is skipped when the registry already has that digest.
#
#   images.sh BIN_DIR CRANE
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../lib.sh"
bin=$1 crane=$2
umask 022

# What the layouts depend on: the binaries (their cache paths carry their versions and inputs) and this script.
key=$({ for b in pause argoexec workflow-controller argo local-path-provisioner; do readlink -f "$bin/$b"; done
  sha256sum "$here/images.sh" "$LAB_DIR/oci.ts"; } | sha256sum | cut -c1-12)
out="$CACHE/cluster/images/$key"

# name=upstream reference; the registry path is the reference without its registry host.
images=(
  "pause=registry.k8s.io/pause:3.10"
  "argoexec=quay.io/argoproj/argoexec:v4.0.5"
  "workflow-controller=quay.io/argoproj/workflow-controller:v4.0.5"
  "argocli=quay.io/argoproj/argocli:v4.0.5"
  "local-path-provisioner=docker.io/rancher/local-path-provisioner:v0.0.30"
)

if [ ! -f "$out/.complete" ]; then
  log "cluster images: assembling layouts in $out"
  rm -rf "$out"; mkdir -p "$out"
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  # tarball DIR NAME: a layer with fixed order and times, and the owners the files have here (root, unless chowned),
  # so it is the same bytes on every run.
  tarball() { tar -C "$1" --sort=name --mtime=@315532801 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$out/$2.tar" .; }
  s=$work/static; mkdir -p "$s/etc" "$s/tmp" "$s/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$s/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$s/etc/group"
  printf 'hosts: files dns\n' > "$s/etc/nsswitch.conf"
  chmod 1777 "$s/tmp"
  tarball "$s" static

  p=$work/pause; mkdir -p "$p"; cp "$bin/pause" "$p/pause"; tarball "$p" pause
  a=$work/argoexec; mkdir -p "$a/bin"; cp "$bin/argoexec" "$a/bin/"; tarball "$a" argoexec
  w=$work/wc; mkdir -p "$w/bin"; cp "$bin/workflow-controller" "$w/bin/"
  chown 8737:0 "$w/bin/workflow-controller"; tarball "$w" workflow-controller   # COPY --chown=8737 upstream
  c=$work/cli; mkdir -p "$c/bin" "$c/home/argo"; cp "$bin/argo" "$c/bin/"
  chown 8737:0 "$c/home/argo"; tarball "$c" argocli
  l=$work/lpp; mkdir -p "$l/usr/bin"; cp "$bin/local-path-provisioner" "$l/usr/bin/"; tarball "$l" local-path-provisioner

  path='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
  spec() { # name layers-json config-json
    printf '{"out": "%s", "layers": %s, "config": %s}' "$out/$1" "$2" "$3" > "$work/$1.json"
    "$REPO_ROOT/node_modules/.bin/tsx" "$LAB_DIR/oci.ts" "$work/$1.json" > /dev/null
  }
  layer() { printf '{"tar": "%s", "comment": "%s"}' "$out/$1.tar" "$2"; }
  st=$(layer static "passwd, group, nsswitch.conf, /tmp (distroless/static's files)")
  spec pause "[$(layer pause "tools/pause")]" '{"Entrypoint": ["/pause"], "User": "65535:65535"}'
  spec argoexec "[$st, $(layer argoexec "argoexec v4.0.5")]" "{\"Env\": [$path], \"Entrypoint\": [\"argoexec\"]}"
  spec workflow-controller "[$st, $(layer workflow-controller "workflow-controller v4.0.5")]" \
    "{\"Env\": [$path], \"Entrypoint\": [\"workflow-controller\"], \"User\": \"8737\"}"
  spec argocli "[$st, $(layer argocli "argo v4.0.5")]" \
    "{\"Env\": [$path], \"Entrypoint\": [\"argo\"], \"User\": \"8737\", \"WorkingDir\": \"/home/argo\"}"
  spec local-path-provisioner "[$st, $(layer local-path-provisioner "local-path-provisioner v0.0.30")]" \
    "{\"Env\": [$path], \"Cmd\": [\"local-path-provisioner\"]}"
  rm -f "$out"/*.tar
  touch "$out/.complete"
  # Layouts of earlier inputs are never used again: keep the cache to the current one.
  for old in "$CACHE/cluster/images"/*; do [ "$old" = "$out" ] || rm -rf "$old"; done
fi

# Push what the registry lacks (a lab's registry starts empty; a cluster restarted in the same lab finds them there).
for entry in "${images[@]}"; do
  name=${entry%%=*} ref=${entry#*=}
  target="$IMAGES_REGISTRY/${ref#*/}"
  want=$(node -e 'const fs=require("fs");console.log(JSON.parse(fs.readFileSync(process.argv[1]+"/index.json","utf8")).manifests[0].digest)' "$out/$name")
  have=$(in_lab_net "$crane" digest --insecure "$target" 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    in_lab_net "$crane" push --insecure "$out/$name" "$target" > /dev/null 2>"$out/push.err" ||
      { cat "$out/push.err" >&2; die "pushing $target failed"; }
    log "cluster images: pushed $ref as $target@$want"
  fi
done
