#!/usr/bin/env bash
# Builds the lab's one-node Kubernetes and Argo Workflows from the Go module proxy, cached by version:
#   Kubernetes v1.34.4 (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl) through
#   the wrapper module tools/kubernetes; etcd v3.6.16 through tools/etcd; Argo Workflows v4.0.5 (workflow-controller,
#   argoexec, argo); the pod sandbox tools/pause;
#   rancher/local-path-provisioner v0.0.30, the default StorageClass's provisioner.
# Each component lives in its own cache directory keyed by its own inputs (version and wrapper module), so changing
# one wrapper never rebuilds the others. Cold: about 15 minutes for Kubernetes and 5 to 12 for Argo on 2 cores.
# Edit this file by writing a new file and renaming it over this one: a build may be running it, and bash reads a
# script as it goes.
# Prints a directory on stdout that holds (symlinks to) every binary; logs go to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/common.sh"
tools="$(cd "$here/../../../tools" && pwd)"

k8s_version=v1.34.4
etcd_version=v3.6.16
argo_version=v4.0.5
# The inputs of a wrapper module: its go.mod, go.sum and Go files.
tool_key() { (cd "$1" && sha256sum go.mod $(ls go.sum *.go 2>/dev/null) | sha256sum | cut -c1-12); }

export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
root="$CACHE/cluster"
mkdir -p "$root"
t0=$SECONDS

# build_into DIR CMD...: runs CMD with $tmp as the output directory, then moves its files into DIR. A half-finished
# build never looks cached: the binaries land in DIR only when CMD succeeded.
build_into() {
  local dir=$1; shift
  tmp="$dir.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp" "$dir"
  if ! "$@"; then rm -rf "$tmp"; return 1; fi
  mv "$tmp"/* "$dir/"; rmdir "$tmp"
}

pause_dir="$root/pause-$(tool_key "$tools/pause")"
if [ ! -x "$pause_dir/pause" ]; then
  b() { (cd "$tools/pause" && go_retry build -trimpath -ldflags "-s -w" -o "$tmp/pause" .); }
  build_into "$pause_dir" b || die "building pause failed"
fi

etcd_dir="$root/etcd-$etcd_version-$(tool_key "$tools/etcd")"
if [ ! -x "$etcd_dir/etcd" ]; then
  log "etcd $etcd_version: building"
  b() { (cd "$tools/etcd" && go_retry build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3); }
  build_into "$etcd_dir" b || die "building etcd failed"
fi

k8s_dir="$root/kubernetes-$k8s_version-$(tool_key "$tools/kubernetes")"
if [ ! -x "$k8s_dir/kubectl" ]; then
  log "kubernetes $k8s_version: building 6 binaries (about 15 minutes cold)"
  # Without these the binaries call themselves v0.0.0-master, and the kubelet registers the node under that version.
  pkg=k8s.io/component-base/version
  minor=${k8s_version#v1.}; minor=${minor%%.*}
  ld="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  ld="$ld -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.buildDate=2026-01-01T00:00:00Z"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  b() {
    (cd "$tools/kubernetes" && go_retry build -trimpath -ldflags "$ld" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl)
  }
  build_into "$k8s_dir" b || die "building kubernetes failed"
fi

# The source copy's fixes are part of the key: change them and the binaries are rebuilt.
argo_fixes=2
argo_dir="$root/argo-$argo_version-fixes$argo_fixes"
if [ ! -x "$argo_dir/argo" ] || [ ! -x "$argo_dir/argoexec" ] || [ ! -x "$argo_dir/workflow-controller" ] || [ ! -f "$argo_dir/src/.ready" ]; then
  log "argo workflows $argo_version: building workflow-controller, argoexec, argo"
  # The module zip drops workflow/executor/osspecific/signal_linux.go, a symlink to signal_darwin.go in git
  # (argoexec then fails with "undefined: Setpgid"), and the argo CLI embeds ui/dist/app, which is built separately
  # upstream. So build in a copy of the module with the file restored and a placeholder UI. The copy stays beside the
  # binaries: cluster.sh installs Argo from its manifests/ (cluster-install), the same version as the binaries.
  # `go mod download` runs outside any module so that it cannot touch a wrapper's go.mod or go.sum.
  mod_dir=$(cd "$(mktemp -d)" && GOFLAGS= go_retry mod download -json "github.com/argoproj/argo-workflows/v4@$argo_version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$mod_dir" ] || die "could not download argo-workflows $argo_version"
  mkdir -p "$argo_dir"
  copy="$argo_dir/src"
  if [ ! -f "$copy/.ready" ]; then
    rm -rf "$copy"; cp -r "$mod_dir" "$copy"; chmod -R u+w "$copy"
    cp "$copy/workflow/executor/osspecific/signal_darwin.go" "$copy/workflow/executor/osspecific/signal_linux.go"
    mkdir -p "$copy/ui/dist/app"; echo '<!-- the Argo UI is not built here -->' > "$copy/ui/dist/app/index.html"
    rm -rf "$copy/dev/nix"   # large and unused
    touch "$copy/.ready"
  fi
  p=github.com/argoproj/argo-workflows/v4
  # version makes the controller's default executor image quay.io/argoproj/argoexec:v4.0.5.
  ld="-s -w -X $p.version=$argo_version -X $p.gitTag=$argo_version -X $p.gitTreeState=clean -X $p.gitCommit=0000000 -X $p.buildDate=2026-01-01T00:00:00Z"
  b() {
    (cd "$copy" && GOFLAGS="-mod=mod -buildvcs=false" go_retry build -trimpath -ldflags "$ld" -o "$tmp/" \
      ./cmd/workflow-controller ./cmd/argoexec ./cmd/argo)
  }
  build_into "$argo_dir" b || die "building argo failed"
fi

# The cluster's dynamic volume provisioner (the default StorageClass): a module with no replaces, so `go install`.
lpp_version=v0.0.30
lpp_dir="$root/local-path-provisioner-$lpp_version"
if [ ! -x "$lpp_dir/local-path-provisioner" ] || [ ! -f "$lpp_dir/local-path-storage.yaml" ]; then
  log "local-path-provisioner $lpp_version: building"
  b() {
    GOBIN="$tmp" GOFLAGS=-buildvcs=false go_retry install -trimpath -ldflags "-s -w" "github.com/rancher/local-path-provisioner@$lpp_version" &&
      # Its upstream manifest, which the cluster installs (with the lab's paths and default class patched in).
      local mod && mod=$(cd "$(mktemp -d)" && GOFLAGS= go_retry mod download -json "github.com/rancher/local-path-provisioner@$lpp_version" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') &&
      cp "$mod/deploy/local-path-storage.yaml" "$tmp/local-path-storage.yaml"
  }
  build_into "$lpp_dir" b || die "building local-path-provisioner failed"
fi

# One directory with every binary, named by the component directories it points to.
bin="$root/bin-$(printf '%s\n' "$pause_dir" "$etcd_dir" "$k8s_dir" "$argo_dir" "$lpp_dir" | sha256sum | cut -c1-12)"
if [ ! -f "$bin/.complete" ]; then
  rm -rf "$bin"; mkdir -p "$bin"
  for d in "$pause_dir" "$etcd_dir" "$k8s_dir" "$argo_dir" "$lpp_dir"; do
    for f in "$d"/*; do [ -f "$f" ] && [ -x "$f" ] && ln -s "$f" "$bin/"; done
  done
  ln -s "$argo_dir/src" "$bin/argo-src"
  ln -s "$lpp_dir/local-path-storage.yaml" "$bin/local-path-storage.yaml"
  touch "$bin/.complete"
fi
log "cluster binaries: ready in $((SECONDS - t0)) s in $bin"
echo "$bin"
